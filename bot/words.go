package bot

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/hr-tools/tempreport/internal/cleantext"
	"github.com/hr-tools/tempreport/yibeidiao"
)

// words is everything the bot says to a person, in one language. Texts may
// use **bold** and `code` (see [parse]); the values put into them are the
// bot's own. Every field is set in every language; a test checks it.
type words struct {
	progress           func(record string) string
	usage              func(command string) string
	rule               string // the vendor's condition for a temporary report
	denied             func(user string) string
	unconfirmed        string
	restarting         string
	interrupted        func(command, record string) string // cancelled by a shutdown
	limited            func(wait string) string            // the person's own limit
	busy               func(wait string) string            // the vendor budget everyone shares
	seconds            func(n int) string
	timeout            string
	unverifiable       string
	badResponse        string
	untrusted          string
	misconfigured      string
	accountUnavailable string // 906: the company's vendor account
	transient          string
	refused            func(record string) string // before the vendor's own words
	vendorCode         func(code string) string   // after them
	noReason           string                     // instead of vendor words that are empty, unreadable or unverified
	linkRemoved        string                     // instead of a link in the vendor's words
	checkRecord        string
	internal           string
	unreadable         string
	wrongCommand       func(command string) string
	notOneWord         string
	notDigits          string
	wrongLength        func(lo, hi, n int) string
	noRecord           string // a button without a record number
	noRecordInMessage  string // a message shortcut on a message that names none
	choose             func(n int) string
	firstOnly          func(n, shown int) string

	reportTitle func(record string) string
	openReport  string
	expiresIn   func(minutes int) string
	expiresAt   func(when time.Time) string // the fallback of the date Slack shows in the reader's own time
	onlyYou     string                      // after the expiry: who sees the message
	freshLink   string
}

// Languages are the languages the bot speaks; [Config.Language] takes
// these and what [Language] reads as them.
var Languages = []string{"en", "zh"}

// Language reads a language tag as one of [Languages]: "zh-CN", "zh_Hans"
// and "ZH" are "zh"; "en-GB" is "en". ok is false for any other language.
func Language(tag string) (lang string, ok bool) {
	tag = strings.ReplaceAll(strings.ToLower(strings.TrimSpace(tag)), "_", "-")
	base, _, _ := strings.Cut(tag, "-")
	// Traditional Chinese readers are not served Simplified by surprise.
	if _, ok := languages[base]; !ok || strings.HasPrefix(tag, "zh-tw") || strings.HasPrefix(tag, "zh-hk") || strings.HasPrefix(tag, "zh-hant") {
		return "", false
	}
	return base, true
}

var languages = map[string]*words{"en": english, "zh": chinese}

var english = &words{
	progress: func(record string) string {
		return fmt.Sprintf("Getting the temporary report for record %s…", record)
	},
	usage: func(command string) string {
		return fmt.Sprintf("**Usage:** `%[1]s <record number>`, for example `%[1]s 20190415152645093983751`.\n"+
			"You get a private link to the background check's temporary report. The link expires 1 minute after it is made; "+
			"press **Get a fresh link** for a new one.", command)
	},
	rule: "Only a background check that is **in progress** and has **at least one finished investigation item** has a temporary report.",
	denied: func(user string) string {
		return fmt.Sprintf("Sorry, you are not allowed to fetch temporary reports. Ask the bot's admin to add your Slack user ID `%s`.", user)
	},
	unconfirmed: "The bot cannot confirm your access right now. Please try again in a few minutes; if this keeps happening, tell the bot's admin.",
	restarting:  "The bot is restarting. Please try again in a few seconds.",
	interrupted: func(command, record string) string {
		return fmt.Sprintf("The bot is restarting and could not finish your request. Please run `%s %s` again in a minute.", command, record)
	},
	limited: func(wait string) string {
		return fmt.Sprintf("You have asked for several reports in quick succession. Your own limit gives you your next one in %s.", wait)
	},
	busy: func(wait string) string {
		return fmt.Sprintf("Too many report requests from everyone right now. Please try again in %s.", wait)
	},
	seconds: func(n int) string {
		if n == 1 {
			return "1 second"
		}
		return fmt.Sprintf("%d seconds", n)
	},
	timeout:            "The vendor took too long to answer. Please try again in a minute.",
	unverifiable:       "The vendor's answer could not be verified, so no link is shown. Please try again in a minute; if this keeps happening, tell the bot's admin.",
	badResponse:        "The vendor sent an answer the bot could not read, so no link is shown. Please try again in a minute; if this keeps happening, tell the bot's admin.",
	untrusted:          "The vendor's answer carried a link that is not on the vendor's own secure address, so it is not shown. Please tell the bot's admin.",
	misconfigured:      "Sorry, the bot is misconfigured and cannot get reports right now. Please ask the bot's admin to check its logs.",
	accountUnavailable: "The vendor says your company's 易背调 account is unavailable, so no reports can be fetched. Please tell the bot's admin.",
	transient:          "The vendor is having trouble right now. Please try again in a minute.",
	refused:            func(record string) string { return fmt.Sprintf("The vendor refused record %s: ", record) },
	vendorCode:         func(code string) string { return fmt.Sprintf(" (code %s).", code) },
	noReason:           "it gave no readable reason",
	linkRemoved:        "[link removed]",
	checkRecord:        "Check the record in 易背调, then try again.",
	internal:           "Sorry, something went wrong on our side. Please try again; if this keeps happening, tell the bot's admin.",
	unreadable:         "Sorry, the bot could not read that command. Please try again.",
	wrongCommand: func(command string) string {
		return fmt.Sprintf("This bot answers `%s` only. Please tell the bot's admin which command you typed.", command)
	},
	notOneWord: "Give one record number only, with nothing else around it.",
	notDigits:  "A record number has only the digits 0 to 9.",
	wrongLength: func(lo, hi, n int) string {
		return fmt.Sprintf("A record number usually has 23 digits (%d to %d are accepted); that one has %d. Please check it and try again.", lo, hi, n)
	},
	noRecord:          "This button carries no record number.",
	noRecordInMessage: "This message names no record number (10 to 32 digits).",
	choose: func(n int) string {
		return fmt.Sprintf("This message names %d record numbers. Pick one: its link is fetched only when you press its button.", n)
	},
	firstOnly: func(n, shown int) string { return fmt.Sprintf("It names %d; here are the first %d.", n, shown) },

	reportTitle: func(record string) string { return "Temporary report for record " + record },
	openReport:  "Open the report",
	expiresIn: func(minutes int) string {
		if minutes == 1 {
			return "This link expires in 1 minute"
		}
		return fmt.Sprintf("This link expires in %d minutes", minutes)
	},
	expiresAt: func(when time.Time) string { return when.UTC().Format("15:04:05 UTC") },
	onlyYou:   "Only you can see this message; don't forward the link.",
	freshLink: "Get a fresh link",
}

// freshLinkAction is the action_id of a button that fetches a record's
// report: "Get a fresh link", and each record offered by a message
// shortcut. Its value is the record number, so any replica can serve it.
const freshLinkAction = "fresh_link"

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
// when there is none (an ignored envelope).
func (w *words) message(j *job, res result, command string) *slack.WebhookMessage {
	switch res.outcome {
	case OutcomeIgnored:
		return nil
	case OutcomeLink:
		msg := w.reportMessage(j.recordNo, res.report, time.Now())
		msg.ReplaceOriginal = j.replace
		return msg
	case OutcomeChoose:
		return w.chooseMessage(res.records)
	}
	return textMessage(w.explain(j, res, command))
}

// explain says in words how a job ended without a link.
func (w *words) explain(j *job, res result, command string) []span {
	switch res.outcome {
	case OutcomeHelp:
		return parse(w.usage(command) + "\n" + w.rule)
	case OutcomeBadInput:
		switch {
		case res.wrong != nil:
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
		return parse(w.denied(j.user))
	case OutcomeUnconfirmed:
		return parse(w.unconfirmed)
	case OutcomeRestarting:
		if res.err != nil { // it was being served when the drain time ran out
			return parse(w.interrupted(command, j.recordNo))
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
		if errors.Is(res.err, yibeidiao.ErrEnterpriseDisabled) {
			return parse(w.accountUnavailable)
		}
		return parse(w.misconfigured)
	case OutcomeTransient:
		return parse(w.transient)
	case OutcomeRefused:
		return w.refusal(j.recordNo, res.err)
	case OutcomeUnreadable:
		return parse(w.unreadable)
	}
	return parse(w.internal)
}

// refusal quotes the vendor's reason for refusing a record, if it is the
// vendor's own (signed) and readable; the rule for temporary reports
// follows unless the reason is that the record does not exist.
func (w *words) refusal(record string, err error) []span {
	apiErr, _ := errors.AsType[*yibeidiao.APIError](err)
	reason, code := "", ""
	if apiErr != nil {
		reason, code = w.vendorWords(apiErr), apiErr.Code
	}
	spans := parse(w.refused(record))
	if reason == "" {
		spans = append(spans, parse(w.noReason)...)
	} else {
		spans = append(spans, literal(reason))
	}
	spans = append(spans, parse(w.vendorCode(code)+"\n"+w.checkRecord)...)
	if !saysNotFound(reason) {
		spans = append(spans, parse("\n"+w.rule)...)
	}
	return spans
}

// vendorWords is the vendor's message fit to show: "" unless it is signed
// and reads as a sentence (not empty, not JSON or HTML); links replaced by
// a word; no closing punctuation (the answer adds its own).
func (w *words) vendorWords(e *yibeidiao.APIError) string {
	if !e.Verified {
		return ""
	}
	m := strings.TrimSpace(cleantext.String(e.Message))
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

// chooseBlock is the block_id of the buttons offering a message's records.
const chooseBlock = "records"
