package bot

import (
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

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
