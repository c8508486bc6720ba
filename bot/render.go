package bot

import (
	"cmp"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hr-tools/tempreport/internal/cleantext"
	"github.com/hr-tools/tempreport/internal/recordno"
	"github.com/hr-tools/tempreport/yibeidiao"
)

// answerFor is who and what an answer is for, besides its result.
type answerFor struct {
	user, command string
	replace       bool  // a fresh link replaces the message it was asked from
	entry         Entry // the way the person asked: a mention's answer says who else saw the number
	contact       Contact
	surfaces      []Surface
	version       string
}

// render appends the answer to res, as the JSON Slack takes, to dst; nil
// when there is none (an ignored envelope).
func (w *words) render(dst []byte, res result, a answerFor) []byte {
	msg := w.compose(res, a)
	if msg == nil {
		return nil
	}
	if a.entry == EntryMention && (res.recordNo != "" || len(res.records) > 0) {
		// The channel saw a number: the answer says so, and points to the
		// private way.
		sw := w.surface()
		text := sw.mentionNote
		if slices.Contains(a.surfaces, SurfaceForm) {
			text += sw.mentionPrivate
		}
		note := parseMarkup(text)
		msg.rich = append(msg.rich, note)
		msg.fallback += "\n" + w.fallbackText(note)
	}
	return msg.appendJSON(dst)
}

// ProgressPrefix begins a command's ack when the answer follows on the
// command's response URL: the "getting…" note, in every language.
const ProgressPrefix = ":hourglass: "

// waitText says a wait in whole seconds, rounded up.
func (w *words) waitText(d time.Duration) string {
	return w.seconds(max(1, int(math.Ceil(d.Seconds()))))
}

// progressTemplates are, for each language, the JSON of the progress note
// a command is acked with while its report is fetched, with
// recordPlaceholder for the record number. They are made once: most acks
// carry one. A note is plain text, with no blocks, no markup and no link:
// each byte of an ack costs in a burst.
var progressTemplates = func() map[*words]string {
	t := map[*words]string{}
	for _, w := range catalogues {
		b := appendString([]byte(`{"response_type":"ephemeral","text":`), ProgressPrefix+w.progress(recordPlaceholder))
		t[w] = string(append(b, '}'))
	}
	return t
}()

// apologies are, for each language, a command's ack when deciding it
// failed (a bug): made once, so that writing it cannot fail in turn.
var apologies = func() map[*words]json.RawMessage {
	a := map[*words]json.RawMessage{}
	for _, w := range catalogues {
		a[w] = w.render(nil, result{outcome: OutcomeInternal}, answerFor{})
	}
	return a
}()

// recordPlaceholder stands for the record number in progressTemplates.
const recordPlaceholder = "RECORDNO"

// progressNote is w's progress note for a record: record numbers are
// digits, so putting one in the placeholder's place keeps the JSON valid.
func progressNote(w *words, record string) json.RawMessage {
	before, after, _ := strings.Cut(progressTemplates[w], recordPlaceholder)
	note := make(json.RawMessage, 0, len(before)+len(record)+len(after))
	return append(append(append(note, before...), record...), after...)
}

// compose is the one mapping from a result to the person's answer: nil
// when there is none (an ignored envelope). It takes only what it renders.
func (w *words) compose(res result, a answerFor) *blockMessage {
	switch res.outcome {
	case OutcomeIgnored:
		return nil
	case OutcomeLink:
		msg := w.reportMessage(res.recordNo, res.report, time.Now())
		msg.replace = a.replace
		return msg
	case OutcomeChoose:
		return w.chooseMessage(res.records, res.typed, res.cut)
	}
	spans := w.explain(res, a)
	if res.cut {
		spans = append(spans, parseMarkup("\n"+w.cut)...)
	}
	return w.textMessage(spans)
}

// explain says in words how a job ended without a link.
func (w *words) explain(res result, a answerFor) []span {
	command := a.command
	switch res.outcome {
	case OutcomeHelp:
		return parseMarkup(w.usage(command) + "\n" + w.rule)
	case OutcomeWrongCommand:
		return parseMarkup(w.wrongCommand(command))
	case OutcomeBadInput:
		switch {
		case res.input.Problem == NoRecordData:
			return parseMarkup(w.noRecord)
		case res.input.Problem == NoRecordInMessage:
			return parseMarkup(w.noRecordInMessage + "\n" + w.usage(command))
		case res.input.Problem == NotDigits:
			return parseMarkup(w.notDigits + "\n" + w.usage(command))
		case res.input.Problem == PhoneOrDate:
			return parseMarkup(w.phoneOrDate + "\n" + w.usage(command))
		}
		return parseMarkup(w.wrongLength(recordno.MinDigits, recordno.MaxDigits, res.input.Digits) + "\n" + w.usage(command))
	case OutcomeDenied:
		return w.withContact(w.denied(a.user), a.contact)
	case OutcomeUnconfirmed:
		return parseMarkup(w.unconfirmed)
	case OutcomeRestarting:
		if res.interrupted {
			return parseMarkup(w.interrupted(command, res.recordNo))
		}
		return parseMarkup(w.restarting)
	case OutcomeLimited:
		return parseMarkup(w.limited(w.waitText(res.wait)))
	case OutcomeBusy, OutcomeOverloaded:
		return parseMarkup(w.busy(w.waitText(res.wait)))
	case OutcomeTimeout:
		return parseMarkup(w.timeout)
	case OutcomeBadSignature:
		return parseMarkup(w.badSignature)
	case OutcomeBadResponse:
		return parseMarkup(w.badResponse)
	case OutcomeUntrusted:
		return parseMarkup(w.untrusted)
	case OutcomeMisconfigured:
		if res.vendor.accountUnavailable {
			return parseMarkup(w.accountUnavailable(res.vendor.code))
		}
		return parseMarkup(w.misconfigured)
	case OutcomeTransient:
		return parseMarkup(w.transient)
	case OutcomeRefused:
		return w.refusal(res.recordNo, res.vendor)
	case OutcomeUnreadable:
		return parseMarkup(w.unreadable)
	case OutcomeNoRoute:
		return parseMarkup(w.noRoute)
	}
	return parseMarkup(w.internal)
}

// refusal quotes the vendor's reason for refusing a record, if it is the
// vendor's own (signed) and readable; the rule for temporary reports
// follows unless the reason is that the record does not exist.
func (w *words) refusal(record string, v vendorFacts) []span {
	reason := w.vendorWords(v.said)
	spans := parseMarkup(w.refused(record))
	if reason == "" {
		spans = append(spans, parseMarkup(w.noReason)...)
	} else {
		spans = append(spans, literal(reason))
	}
	if saysNotFound(reason) {
		return append(spans, parseMarkup(w.vendorCode(v.code)+"\n"+w.checkNumber)...)
	}
	return append(spans, parseMarkup(w.vendorCode(v.code)+"\n"+w.checkRecord+"\n"+w.rule)...)
}

// vendorWords is the vendor's (signed) message fit to show: "" unless it
// reads as a sentence (not empty, not JSON or HTML); links replaced by a
// word; no closing punctuation (the answer adds its own).
func (w *words) vendorWords(said string) string {
	m := strings.TrimSpace(cleantext.String(said))
	if m == "" || strings.ContainsAny(m[:1], "{[<") {
		return ""
	}
	m = closeUp(cleantext.ReplaceLinks(m, w.linkRemoved), w.linkRemoved)
	return strings.TrimRight(m, "。．.！!；;，,、:： ")
}

// closeUp drops the spaces between word and its neighbours where Chinese
// sets none: word begins (or ends) with full-width punctuation, such as
// 【链接已隐藏】, and the neighbour is Chinese or full-width punctuation.
// "请登录 【链接已隐藏】 查看" becomes "请登录【链接已隐藏】查看"; "see [link removed]
// now" keeps its spaces.
func closeUp(s, word string) string {
	first, _ := utf8.DecodeRuneInString(word)
	last, _ := utf8.DecodeLastRuneInString(word)
	left, right := isFullWidth(first), isFullWidth(last)
	if !left && !right || !strings.Contains(s, word) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for {
		i := strings.Index(s, word)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		before, after := s[:i], s[i+len(word):]
		if t := strings.TrimRight(before, " \u3000"); left && t != before && closesUp(utf8.DecodeLastRuneInString(t)) {
			before = t
		}
		if t := strings.TrimLeft(after, " \u3000"); right && t != after && closesUp(utf8.DecodeRuneInString(t)) {
			after = t
		}
		b.WriteString(before)
		b.WriteString(word)
		s = after
	}
}

// isFullWidth: CJK and full-width punctuation (【】，。：…).
func isFullWidth(r rune) bool { return r >= 0x3000 && r <= 0x303F || r >= 0xFF00 && r <= 0xFFEF }

// closesUp reports whether r, beside full-width punctuation, takes no
// space: a Chinese character or full-width punctuation.
func closesUp(r rune, _ int) bool { return unicode.Is(unicode.Han, r) || isFullWidth(r) }

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
func (w *words) reportMessage(recordNo string, rep *yibeidiao.TempReport, now time.Time) *blockMessage {
	minutes := max(1, int(math.Round(rep.ExpiresAt.Sub(now).Minutes())))
	warning, at := w.expiresIn(minutes), w.expiresAt(rep.ExpiresAt)
	title := []span{{emoji: "page_facing_up"}, literal(" "), {text: w.reportTitle(recordNo), bold: true}, literal("\n"),
		{text: w.openReport, link: rep.URL}}
	note := []span{{emoji: "hourglass_flowing_sand"}, literal(" "), {text: warning, bold: true}, literal(w.partSep + w.expiresAtLabel),
		{text: at, date: rep.ExpiresAt.Unix()}, literal(w.partSep + w.onlyYou)}
	// The link ends its line: no client takes the words after it into it.
	fallback := w.fallbackText(title) + "\n" + w.fallbackText([]span{literal(warning + w.partSep + w.expiresAtLabel + at)})
	return &blockMessage{fallback: fallback, rich: [][]span{title, note},
		actions: freshLinkAction, buttons: []recordButton{{label: w.freshLink, record: recordNo}}}
}

// chooseMessage offers the records a command or a message names, one
// button each.
func (w *words) chooseMessage(records []string, typed, cut bool) *blockMessage {
	shown := records[:min(len(records), maxOffered)]
	text := w.choose(len(records), len(shown))
	if typed {
		text = w.chooseTyped(len(records), len(shown))
	}
	if cut {
		text = w.sentences(text, w.cut)
	}
	buttons := make([]recordButton, len(shown))
	for i, r := range shown {
		buttons[i] = recordButton{label: r, record: r}
	}
	spans := parseMarkup(text)
	return &blockMessage{fallback: w.sentences(w.fallbackText(spans), w.listLabel+strings.Join(shown, w.listSep)), rich: [][]span{spans},
		actions: chooseBlock, buttons: buttons}
}

// maxOffered bounds the records offered for one message.
const maxOffered = 5

// Answers are built from spans and rendered as Block Kit rich text, whose
// styles are explicit ("style": {"bold": true}), never as mrkdwn markers:
// Slack formats *bold* only at word edges, and prints the asterisks when
// they touch a Han character or full-width punctuation. The words catalog
// writes **bold** and `code` in its own texts (see [parseMarkup]); text from
// elsewhere (the vendor's message) is always a literal span.
type span struct {
	text  string
	bold  bool
	code  bool
	link  string // a link: text is its label
	emoji string // an emoji's name, text empty
	date  int64  // a date (Unix seconds) Slack shows in each reader's own time zone; text is the fallback; 0 for none
	// user and channel are a mention of a person or a channel (the
	// contact), shown by Slack with its name; text is the fallback.
	user, channel string
}

// parseMarkup reads the catalog's markup: **bold** and `code`. Values put into a
// catalog text with Sprintf are the bot's own (record numbers, user IDs,
// the command), never text from elsewhere.
func parseMarkup(s string) []span {
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

// fallbackText is the spans as the message's plain text, shown in
// notifications and by clients without blocks, which read it as mrkdwn: no
// styles, links as "label: URL", and Slack's markup characters neutralised
// so that nothing in it formats, links or mentions.
func (w *words) fallbackText(spans []span) string {
	var b strings.Builder
	for _, s := range spans {
		switch {
		case s.emoji != "":
		case s.user != "":
			b.WriteString("<@" + s.user + ">")
		case s.channel != "":
			b.WriteString("<#" + s.channel + ">")
		case s.link != "":
			b.WriteString(plainText(s.text) + w.labelSep + escape(s.link))
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
func (w *words) textMessage(spans []span) *blockMessage {
	return &blockMessage{fallback: w.fallbackText(spans), rich: [][]span{spans}}
}

// blockMessage is a private answer: only the asker sees it, with link previews
// off (Slack must not fetch a one-minute report link to unfurl it). It is
// Block Kit rich text, then at most one row of buttons.
type blockMessage struct {
	fallback string   // the plain text: notifications, clients without blocks
	rich     [][]span // one rich_text block each
	actions  string   // the buttons' block_id; "" for none
	buttons  []recordButton
	replace  bool // replace the message the asker pressed a button in
}

// recordButton asks for a record's report. Slack wants action IDs unique within
// a block, so the n-th button of a block is fresh_link, fresh_link_2, …;
// all of them fetch. A button with an action of its own (opening the
// form) carries no record.
type recordButton struct{ label, record, action string }

// appendJSON appends the message as the JSON Slack takes. It is written by
// hand, not by reflection over slack-go's block types: every answer is
// encoded once, and the encoding was most of an answer's allocations.
func (m *blockMessage) appendJSON(b []byte) []byte {
	b = append(b, `{"response_type":"ephemeral","text":`...)
	b = appendString(b, m.fallback)
	b = append(b, `,"blocks":`...)
	b = m.appendBlocks(b)
	b = append(b, `,"replace_original":`...)
	b = strconv.AppendBool(b, m.replace)
	return append(b, `,"unfurl_links":false,"unfurl_media":false}`...)
}

// appendBlocks appends the message's blocks, as a JSON array: a message's
// and a view's alike.
func (m *blockMessage) appendBlocks(b []byte) []byte {
	b = append(b, '[')
	for i, spans := range m.rich {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendRichText(b, spans)
	}
	if m.actions != "" {
		if len(m.rich) > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"type":"actions","block_id":`...)
		b = appendString(b, m.actions)
		b = append(b, `,"elements":[`...)
		for i, btn := range m.buttons {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"type":"button","text":{"type":"plain_text","text":`...)
			b = appendString(b, btn.label)
			b = append(b, `,"emoji":false},"action_id":"`...)
			b = append(b, cmp.Or(btn.action, freshLinkAction)...)
			if i > 0 {
				b = append(append(b, '_'), strconv.Itoa(i+1)...)
			}
			b = append(b, '"')
			if btn.record != "" {
				b = append(b, `,"value":`...)
				b = appendString(b, btn.record)
			}
			b = append(b, '}')
		}
		b = append(b, `]}`...)
	}
	return append(b, ']')
}

// appendRichText appends one rich_text block of spans.
func appendRichText(b []byte, spans []span) []byte {
	b = append(b, `{"type":"rich_text","elements":[{"type":"rich_text_section","elements":[`...)
	first := true
	for _, s := range spans {
		if s.emoji == "" && s.date == 0 && s.text == "" && s.user == "" && s.channel == "" {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = s.appendJSON(b)
	}
	return append(b, `]}]}`...)
}

// appendJSON appends the span as one rich_text_section element.
func (s span) appendJSON(b []byte) []byte {
	switch {
	case s.emoji != "":
		b = append(b, `{"type":"emoji","name":`...)
		return append(appendString(b, s.emoji), '}')
	case s.user != "":
		b = append(b, `{"type":"user","user_id":`...)
		return append(appendString(b, s.user), '}')
	case s.channel != "":
		b = append(b, `{"type":"channel","channel_id":`...)
		return append(appendString(b, s.channel), '}')
	case s.date != 0:
		b = append(b, `{"type":"date","timestamp":`...)
		b = strconv.AppendInt(b, s.date, 10)
		b = append(b, `,"format":"{time_secs}","fallback":`...)
		return append(appendString(b, s.text), '}')
	case s.link != "":
		b = append(b, `{"type":"link","url":`...)
		b = appendString(b, s.link)
		b = append(b, `,"text":`...)
		b = appendString(b, s.text)
	default:
		b = append(b, `{"type":"text","text":`...)
		b = appendString(b, s.text)
	}
	switch {
	case s.bold && s.code:
		b = append(b, `,"style":{"bold":true,"code":true}`...)
	case s.bold:
		b = append(b, `,"style":{"bold":true}`...)
	case s.code:
		b = append(b, `,"style":{"code":true}`...)
	}
	return append(b, '}')
}

// contactPlaceholder stands for [Config.Contact] in a catalogue text.
const contactPlaceholder = "{contact}"

// withContact reads a catalogue text, putting the contact where it says
// {contact}: a mention of a person or a channel, or words.
func (w *words) withContact(text string, c Contact) []span {
	before, after, ok := strings.Cut(text, contactPlaceholder)
	if !ok {
		return parseMarkup(text)
	}
	var who span
	switch {
	case c.User != "":
		who = span{user: c.User, text: c.User}
	case c.Channel != "":
		who = span{channel: c.Channel, text: c.Channel}
	case c.Words != "":
		who = literal(c.Words)
	default:
		who = literal(w.surface().admin)
	}
	return append(append(parseMarkup(before), who), parseMarkup(after)...)
}
