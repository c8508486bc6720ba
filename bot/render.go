package bot

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/hr-tools/tempreport/internal/cleantext"
	"github.com/hr-tools/tempreport/yibeidiao"
)

// answerFor is who and what an answer is for, besides its result.
type answerFor struct {
	user, recordNo, command string
	replace                 bool // a fresh link replaces the message it was asked from
}

// render is the answer to res as the JSON Slack takes: nil when there is
// none (an ignored envelope).
func (w *words) render(res result, a answerFor) (json.RawMessage, error) {
	msg := w.message(res, a)
	if msg == nil {
		return nil, nil
	}
	return json.Marshal(msg)
}

// ProgressPrefix begins a command's ack when the answer follows on the
// command's response URL: the "getting…" note, in every language.
const ProgressPrefix = ":hourglass: "

// waitText says a wait in whole seconds, rounded up.
func (w *words) waitText(d time.Duration) string {
	return w.seconds(max(1, int(math.Ceil(d.Seconds()))))
}

// progressTemplate is the JSON of the progress note a command is acked
// with while its report is fetched, with recordPlaceholder for the record
// number. It is made once per bot: most acks carry it. It is plain text,
// with no blocks, no markup and no link: each byte of an ack costs in a
// burst.
func (w *words) progressTemplate() string {
	b, err := json.Marshal(struct {
		ResponseType string `json:"response_type"`
		Text         string `json:"text"`
	}{slack.ResponseTypeEphemeral, ProgressPrefix + w.progress(recordPlaceholder)})
	if err != nil {
		panic(err) // two strings always encode
	}
	return string(b)
}

// recordPlaceholder stands for the record number in progressTemplate.
const recordPlaceholder = "RECORDNO"

// progressNote is the progress note for a record: record numbers are
// digits, so putting one in the placeholder's place keeps the JSON valid.
func progressNote(template, record string) json.RawMessage {
	before, after, _ := strings.Cut(template, recordPlaceholder)
	note := make(json.RawMessage, 0, len(before)+len(record)+len(after))
	return append(append(append(note, before...), record...), after...)
}

// message is the one mapping from a result to the person's answer: nil
// when there is none (an ignored envelope). It takes only what it renders.
func (w *words) message(res result, a answerFor) *slack.WebhookMessage {
	switch res.outcome {
	case OutcomeIgnored:
		return nil
	case OutcomeLink:
		msg := w.reportMessage(a.recordNo, res.report, time.Now())
		msg.ReplaceOriginal = a.replace
		return msg
	case OutcomeChoose:
		return w.chooseMessage(res.records)
	}
	return textMessage(w.explain(res, a))
}

// explain says in words how a job ended without a link.
func (w *words) explain(res result, a answerFor) []span {
	command := a.command
	switch res.outcome {
	case OutcomeHelp:
		return parse(w.usage(command) + "\n" + w.rule)
	case OutcomeBadInput:
		switch {
		case res.wrongCommand:
			return parse(w.wrongCommand(command))
		case res.input.Problem == NoRecordData:
			return parse(w.noRecord)
		case res.input.Problem == NoRecordInMessage:
			return parse(w.noRecordInMessage + "\n" + w.usage(command))
		case res.input.Problem == NotOneWord:
			return parse(w.notOneWord + "\n" + w.usage(command))
		case res.input.Problem == NotDigits:
			return parse(w.notDigits + "\n" + w.usage(command))
		}
		return parse(w.wrongLength(minRecordDigits, maxRecordDigits, res.input.Digits) + "\n" + w.usage(command))
	case OutcomeDenied:
		return parse(w.denied(a.user))
	case OutcomeUnconfirmed:
		return parse(w.unconfirmed)
	case OutcomeRestarting:
		if res.interrupted {
			return parse(w.interrupted(command, a.recordNo))
		}
		return parse(w.restarting)
	case OutcomeLimited:
		return parse(w.limited(w.waitText(res.wait)))
	case OutcomeBusy:
		return parse(w.busy(w.waitText(res.wait)))
	case OutcomeTimeout:
		return parse(w.timeout)
	case OutcomeUnverifiable:
		return parse(w.unverifiable)
	case OutcomeBadResponse:
		return parse(w.badResponse)
	case OutcomeUntrusted:
		return parse(w.untrusted)
	case OutcomeMisconfigured:
		if res.vendor.accountUnavailable {
			return parse(w.accountUnavailable)
		}
		return parse(w.misconfigured)
	case OutcomeTransient:
		return parse(w.transient)
	case OutcomeRefused:
		return w.refusal(a.recordNo, res.vendor)
	case OutcomeUnreadable:
		return parse(w.unreadable)
	}
	return parse(w.internal)
}

// refusal quotes the vendor's reason for refusing a record, if it is the
// vendor's own (signed) and readable; the rule for temporary reports
// follows unless the reason is that the record does not exist.
func (w *words) refusal(record string, v vendorFacts) []span {
	reason := w.vendorWords(v.said)
	spans := parse(w.refused(record))
	if reason == "" {
		spans = append(spans, parse(w.noReason)...)
	} else {
		spans = append(spans, literal(reason))
	}
	spans = append(spans, parse(w.vendorCode(v.code)+"\n"+w.checkRecord)...)
	if !saysNotFound(reason) {
		spans = append(spans, parse("\n"+w.rule)...)
	}
	return spans
}

// vendorWords is the vendor's (signed) message fit to show: "" unless it
// reads as a sentence (not empty, not JSON or HTML); links replaced by a
// word; no closing punctuation (the answer adds its own).
func (w *words) vendorWords(said string) string {
	m := strings.TrimSpace(cleantext.String(said))
	if m == "" || strings.ContainsAny(m[:1], "{[<") {
		return ""
	}
	m = cleantext.ReplaceLinks(m, w.linkRemoved)
	return strings.TrimRight(m, "。．.！!；;，,、:： ")
}

// saysNotFound reports whether the vendor's reason is that the record does
// not exist: then the in-progress rule explains nothing.
func saysNotFound(reason string) bool {
	r := strings.ToLower(reason)
	for _, s := range []string{"不存在", "找不到", "未找到", "查无", "not found", "not exist", "no such"} {
		if strings.Contains(r, s) {
			return true
		}
	}
	return false
}

// reportMessage is the private answer that carries a report link.
func (w *words) reportMessage(recordNo string, rep *yibeidiao.TempReport, now time.Time) *slack.WebhookMessage {
	minutes := max(1, int(math.Round(rep.ExpiresAt.Sub(now).Minutes())))
	warning, at := w.expiresIn(minutes), w.expiresAt(rep.ExpiresAt)
	title := []span{{emoji: "page_facing_up"}, literal(" "), {text: w.reportTitle(recordNo), bold: true}, literal("\n"),
		{text: w.openReport, link: rep.URL}}
	note := []span{{emoji: "hourglass_flowing_sand"}, literal(" "), {text: warning, bold: true}, literal(" · "),
		{text: at, date: rep.ExpiresAt}, literal(" · " + w.onlyYou)}
	fallback := fallbackText(title) + " · " + fallbackText([]span{literal(warning + " · " + at)})
	return private(fallback,
		richText(title),
		richText(note),
		slack.NewActionBlock(freshLinkAction, button(1, w.freshLink, recordNo)),
	)
}

// chooseMessage offers the records a message names, one button each.
func (w *words) chooseMessage(records []string) *slack.WebhookMessage {
	text := w.choose(len(records))
	shown := records[:min(len(records), maxOffered)]
	if len(records) > maxOffered {
		text += " " + w.firstOnly(len(records), maxOffered)
	}
	buttons := make([]slack.BlockElement, len(shown))
	for i, r := range shown {
		buttons[i] = button(i+1, r, r)
	}
	spans := parse(text)
	return private(fallbackText(spans)+" "+strings.Join(shown, ", "), richText(spans), slack.NewActionBlock(chooseBlock, buttons...))
}

// maxOffered bounds the records offered for one message.
const maxOffered = 5

// Answers are built from spans and rendered as Block Kit rich text, whose
// styles are explicit ("style": {"bold": true}), never as mrkdwn markers:
// Slack formats *bold* only at word edges, and prints the asterisks when
// they touch a Han character or full-width punctuation. The words catalog
// writes **bold** and `code` in its own texts (see [parse]); text from
// elsewhere (the vendor's message) is always a literal span.
type span struct {
	text  string
	bold  bool
	code  bool
	link  string    // a link: text is its label
	emoji string    // an emoji's name, text empty
	date  time.Time // a date Slack shows in each reader's own time zone; text is the fallback
}

// parse reads the catalog's markup: **bold** and `code`. Values put into a
// catalog text with Sprintf are the bot's own (record numbers, user IDs,
// the command), never text from elsewhere.
func parse(s string) []span {
	var out []span
	bold, code := false, false
	for s != "" {
		i := indexMarker(s, 0)
		if i < 0 {
			out = append(out, span{text: s, bold: bold, code: code})
			break
		}
		if i > 0 {
			out = append(out, span{text: s[:i], bold: bold, code: code})
		}
		if s[i] == '`' {
			code, s = !code, s[i+1:]
		} else {
			bold, s = !bold, s[i+2:]
		}
	}
	return out
}

// indexMarker finds the next ** or ` at or after i; -1 if none.
func indexMarker(s string, i int) int {
	for ; i < len(s); i++ {
		if s[i] == '`' || strings.HasPrefix(s[i:], "**") {
			return i
		}
	}
	return -1
}

func literal(s string) span { return span{text: s} }

// richText is the spans as one rich_text block.
func richText(spans []span) slack.Block {
	elements := make([]slack.RichTextSectionElement, 0, len(spans))
	for _, s := range spans {
		var style *slack.RichTextSectionTextStyle
		if s.bold || s.code {
			style = &slack.RichTextSectionTextStyle{Bold: s.bold, Code: s.code}
		}
		switch {
		case s.emoji != "":
			elements = append(elements, slack.NewRichTextSectionEmojiElement(s.emoji, 0, nil))
		case !s.date.IsZero():
			fallback := s.text
			elements = append(elements, slack.NewRichTextSectionDateElement(s.date.Unix(), "{time_secs}", nil, &fallback))
		case s.link != "":
			elements = append(elements, slack.NewRichTextSectionLinkElement(s.link, s.text, style))
		case s.text != "":
			elements = append(elements, slack.NewRichTextSectionTextElement(s.text, style))
		}
	}
	return slack.NewRichTextBlock("", slack.NewRichTextSection(elements...))
}

// fallbackText is the spans as the message's plain text, shown in
// notifications and by clients without blocks, which read it as mrkdwn: no
// styles, links as "label: URL", and Slack's markup characters neutralised
// so that nothing in it formats, links or mentions.
func fallbackText(spans []span) string {
	var b strings.Builder
	for _, s := range spans {
		switch {
		case s.emoji != "":
		case s.link != "":
			b.WriteString(plainText(s.text) + ": " + escape(s.link))
		default:
			b.WriteString(plainText(s.text))
		}
	}
	return strings.TrimSpace(b.String())
}

// plainText makes text safe to show as mrkdwn: escaped, with the markers
// Slack formats turned into look-alikes that it does not.
func plainText(s string) string { return markerLookalikes.Replace(escape(s)) }

var markerLookalikes = strings.NewReplacer("*", "∗", "_", "＿", "~", "～", "`", "ˋ")

// escape neutralizes Slack markup: <…> links and mentions, and entities.
func escape(s string) string { return entities.Replace(s) }

var entities = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// textMessage is a private answer of text.
func textMessage(spans []span) *slack.WebhookMessage {
	return private(fallbackText(spans), richText(spans))
}

// private makes a message only the asker sees, with link previews off: Slack
// must not fetch a one-minute report link to unfurl it.
func private(fallback string, blocks ...slack.Block) *slack.WebhookMessage {
	no := false
	return &slack.WebhookMessage{
		ResponseType: slack.ResponseTypeEphemeral,
		Text:         fallback,
		Blocks:       &slack.Blocks{BlockSet: blocks},
		UnfurlLinks:  &no,
		UnfurlMedia:  &no,
	}
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

// button is a button that asks for a record's report. Slack wants action
// IDs unique within a block, so the n-th button of a block is
// fresh_link, fresh_link_2, …; all of them fetch.
func button(n int, label, record string) slack.BlockElement {
	id := freshLinkAction
	if n > 1 {
		id += "_" + strconv.Itoa(n)
	}
	return slack.NewButtonBlockElement(id, record, plain(label))
}
