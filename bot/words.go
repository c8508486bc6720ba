package bot

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/hr-tools/tempreport/yibeidiao"
)

// words is everything the bot says to a person, in one language. Every
// field is set in every language; a test checks it.
type words struct {
	progress      func(record string) string
	usage         func(command string) string
	rule          string // the vendor's condition for a temporary report
	denied        func(user string) string
	unconfirmed   string
	restarting    string
	interrupted   func(command, record string) string // cancelled by a shutdown
	limited       func(wait string) string            // the person's own limit
	busy          func(wait string) string            // the vendor budget everyone shares
	seconds       func(n int) string
	timeout       string
	unverifiable  string
	badResponse   string
	untrusted     string
	misconfigured string
	transient     string
	refused       func(record, message, code string) string
	internal      string
	unreadable    string
	wrongCommand  func(command string) string
	notOneWord    string
	notDigits     string
	wrongLength   func(lo, hi, n int) string
	noRecord      string

	reportTitle func(record string) string
	openReport  string
	expiresIn   func(minutes int) string
	expiresAt   func(when time.Time) string // the fallback of Slack's date token
	// expiryNote is the line under the link: the warning, when (Slack's
	// date token), and that only the asker sees it.
	expiryNote func(warning, when string) string
	// fallback is the message's plain text, for notifications and clients
	// without blocks.
	fallback  func(title, link, warning, when string) string
	freshLink string
}

// Languages are the values [Config.Language] takes.
var Languages = []string{"en", "zh"}

var languages = map[string]*words{"en": english, "zh": chinese}

var english = &words{
	progress: func(record string) string {
		return fmt.Sprintf("Getting a temporary report for record %s…", record)
	},
	usage: func(command string) string {
		return fmt.Sprintf("*Usage:* `%[1]s <record number>`, for example `%[1]s 20190415152645093983751`.\n"+
			"You get a private link to the background check's temporary report. The link expires 1 minute after it is made; "+
			"press *Get a fresh link* for a new one.", command)
	},
	rule: "Only a background check that is *in progress* and has *at least one finished investigation item* has a temporary report.",
	denied: func(user string) string {
		return fmt.Sprintf("Sorry, you are not allowed to fetch background-check reports. Ask the bot's admin to add your Slack user ID `%s`.", user)
	},
	unconfirmed: "Your access comes from a Slack user group the bot cannot read right now, so it cannot confirm it. " +
		"Please try again in a few minutes; if it keeps happening, tell the bot's admin.",
	restarting: "The bot is restarting. Please try again in a few seconds.",
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
	timeout:       "The vendor took too long to answer. Please try again in a minute.",
	unverifiable:  "The vendor's answer could not be verified, so no link is shown. Please try again in a minute; if it keeps happening, tell the bot's admin.",
	badResponse:   "The vendor sent an answer the bot could not read, so no link is shown. Please try again in a minute; if it keeps happening, tell the bot's admin.",
	untrusted:     "The vendor's answer could not be trusted (its link is not on the vendor's own secure address), so no link is shown. Please tell the bot's admin.",
	misconfigured: "Sorry, the bot is misconfigured and cannot get reports right now. Please ask the bot's admin to check its logs.",
	transient:     "The vendor is having trouble right now. Please try again in a minute.",
	refused: func(record, message, code string) string {
		return fmt.Sprintf("The vendor refused record %s: %s (code %s).\nCheck the record in 易背调, then try again.", record, message, code)
	},
	internal:   "Sorry, something went wrong on our side. Please try again; if it keeps happening, tell the bot's admin.",
	unreadable: "Sorry, the bot could not read that command. Please try again.",
	wrongCommand: func(command string) string {
		return fmt.Sprintf("This bot answers `%s` only. Please tell the bot's admin which command you typed.", command)
	},
	notOneWord: "Give one record number only, with nothing else around it.",
	notDigits:  "A record number has only the digits 0–9.",
	wrongLength: func(lo, hi, n int) string {
		return fmt.Sprintf("A record number has %d to %d digits (usually 23); that one has %d.", lo, hi, n)
	},
	noRecord: "The button carries no record number.",

	reportTitle: func(record string) string { return "Temporary report for record " + record },
	openReport:  "Open the report",
	expiresIn: func(minutes int) string {
		if minutes == 1 {
			return "This link expires in 1 minute"
		}
		return fmt.Sprintf("This link expires in %d minutes", minutes)
	},
	expiresAt: func(when time.Time) string { return when.UTC().Format("15:04:05 UTC") },
	expiryNote: func(warning, when string) string {
		return fmt.Sprintf(":hourglass_flowing_sand: *%s* (at %s). Only you can see this message; don't forward the link.", warning, when)
	},
	fallback: func(title, link, warning, when string) string {
		return fmt.Sprintf("%s: %s — %s (at %s).", title, link, warning, when)
	},
	freshLink: "Get a fresh link",
}

// freshLinkAction is the action_id of the "Get a fresh link" button. Its
// value is the record number, so any replica can serve a click.
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
// with no blocks and no link: each byte of an ack costs in a burst.
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

// helpMessage answers an empty command or "help".
func (w *words) helpMessage(command string) *slack.WebhookMessage {
	return textMessage(w.usage(command) + "\n" + w.rule)
}

// reportMessage is the private answer that carries a report link.
func (w *words) reportMessage(recordNo string, rep *yibeidiao.TempReport, now time.Time) *slack.WebhookMessage {
	minutes := max(1, int(math.Round(rep.ExpiresAt.Sub(now).Minutes())))
	warning, at := w.expiresIn(minutes), w.expiresAt(rep.ExpiresAt)
	link := strings.NewReplacer("<", "%3C", ">", "%3E", "|", "%7C").Replace(rep.URL)
	exact := fmt.Sprintf("<!date^%d^{time_secs}|%s>", rep.ExpiresAt.Unix(), at)
	blocks := []slack.Block{
		slack.NewSectionBlock(markdown(fmt.Sprintf(":page_facing_up: *%s*\n<%s|%s>", w.reportTitle(recordNo), link, w.openReport)), nil, nil),
		slack.NewContextBlock("", markdown(w.expiryNote(warning, exact))),
		slack.NewActionBlock(freshLinkAction, slack.NewButtonBlockElement(freshLinkAction, recordNo, plain(w.freshLink))),
	}
	return private(w.fallback(w.reportTitle(recordNo), rep.URL, warning, at), blocks...)
}

// inputText explains an [*InputError] to the person who typed it.
func (w *words) inputText(e *InputError, command string) string {
	var reason string
	switch e.Problem {
	case NotOneWord:
		reason = w.notOneWord
	case NotDigits:
		reason = w.notDigits
	case WrongLength:
		reason = w.wrongLength(minRecordDigits, maxRecordDigits, e.Digits)
	default:
		reason = w.noRecord
	}
	return reason + "\n" + w.usage(command)
}

// textMessage is a private answer of one paragraph.
func textMessage(text string) *slack.WebhookMessage {
	return private(text, slack.NewSectionBlock(markdown(text), nil, nil))
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

func markdown(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

// escape neutralizes Slack markup in text from elsewhere (the vendor), so it
// cannot make links or mentions.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
