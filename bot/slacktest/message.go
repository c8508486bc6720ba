package slacktest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Message is a message the bot sent: an ack payload or a response URL post.
type Message struct {
	Text            string  `json:"text"`
	ResponseType    string  `json:"response_type"`
	ReplaceOriginal bool    `json:"replace_original"`
	UnfurlLinks     *bool   `json:"unfurl_links"`
	UnfurlMedia     *bool   `json:"unfurl_media"`
	Blocks          []Block `json:"blocks"`
}

// Block is a Block Kit block, with the fields the bot uses.
type Block struct {
	Type     string     `json:"type"`
	BlockID  string     `json:"block_id"`
	Text     *TextBlock `json:"text"`
	Elements []Element  `json:"elements"`
}

// TextBlock is a Block Kit text object.
type TextBlock struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// Element is a context text, an actions button, or a part of rich text:
// a section (of Elements), text with its Style, a link, an emoji or a date.
type Element struct {
	Type      string          `json:"type"`
	Text      json.RawMessage `json:"text"` // a string in context blocks and rich text, a text object in buttons
	ActionID  string          `json:"action_id"`
	Value     string          `json:"value"`
	Elements  []Element       `json:"elements"`
	Style     *Style          `json:"style"`
	URL       string          `json:"url"`
	Name      string          `json:"name"`
	Timestamp int64           `json:"timestamp"`
	Format    string          `json:"format"`
	Fallback  string          `json:"fallback"`
}

// Style is a rich text element's style.
type Style struct {
	Bold bool `json:"bold"`
	Code bool `json:"code"`
}

func (el Element) text() string {
	var s string
	if json.Unmarshal(el.Text, &s) == nil {
		return s
	}
	var t TextBlock
	_ = json.Unmarshal(el.Text, &t)
	return t.Text
}

// Button is a button in a message.
type Button struct {
	ActionID, BlockID, Value, Label string
}

// Ephemeral reports whether only the person who asked sees the message.
// Slack's default for response URLs and acks is ephemeral.
func (m Message) Ephemeral() bool { return m.ResponseType == "" || m.ResponseType == "ephemeral" }

// NoUnfurl reports whether the message forbids link and media previews.
func (m Message) NoUnfurl() bool {
	return m.UnfurlLinks != nil && !*m.UnfurlLinks && m.UnfurlMedia != nil && !*m.UnfurlMedia
}

// Buttons lists the message's buttons.
func (m Message) Buttons() []Button {
	var bs []Button
	for _, b := range m.Blocks {
		for _, el := range b.Elements {
			if el.Type == "button" {
				bs = append(bs, Button{ActionID: el.ActionID, BlockID: b.BlockID, Value: el.Value, Label: el.text()})
			}
		}
	}
	return bs
}

// Raw is all the message's text, blocks first and the fallback last, in
// Slack's markup.
func (m Message) Raw() string { return strings.Join(append(m.blockLines(), m.Text), "\n") }

func (m Message) blockLines() []string {
	var lines []string
	for _, b := range m.Blocks {
		if b.Text != nil {
			lines = append(lines, b.Text.Text)
		}
		for _, el := range b.Elements {
			switch el.Type {
			case "button":
				lines = append(lines, "[ "+el.text()+" ]")
			case "rich_text_section":
				lines = append(lines, richLine(el.Elements))
			default:
				lines = append(lines, el.text())
			}
		}
	}
	return lines
}

// richLine writes rich text the way Slack's markup would say it: links as
// <url|label>, emoji as :name:, dates as <!date^…|fallback>, code in
// backticks; bold is not shown (Bold lists the bold runs).
func richLine(elements []Element) string {
	var b strings.Builder
	for _, el := range elements {
		switch el.Type {
		case "link":
			fmt.Fprintf(&b, "<%s|%s>", el.URL, el.text())
		case "emoji":
			b.WriteString(":" + el.Name + ":")
		case "date":
			fmt.Fprintf(&b, "<!date^%d^%s|%s>", el.Timestamp, el.Format, el.Fallback)
		default:
			if el.Style != nil && el.Style.Code {
				b.WriteString("`" + el.text() + "`")
			} else {
				b.WriteString(el.text())
			}
		}
	}
	return b.String()
}

// validBlocks checks what Slack checks of the blocks the bot uses: block
// IDs unique in the message, action IDs unique in their block, at most 25
// elements in an actions block.
func (m Message) validBlocks() bool {
	blockIDs := map[string]bool{}
	for _, b := range m.Blocks {
		if b.BlockID != "" {
			if blockIDs[b.BlockID] {
				return false
			}
			blockIDs[b.BlockID] = true
		}
		if b.Type != "actions" {
			continue
		}
		actionIDs := map[string]bool{}
		for _, el := range b.Elements {
			if actionIDs[el.ActionID] {
				return false
			}
			actionIDs[el.ActionID] = true
		}
		if len(b.Elements) > 25 {
			return false
		}
	}
	return true
}

// Bold lists the runs of rich text the message shows in bold.
func (m Message) Bold() []string {
	var runs []string
	for _, b := range m.Blocks {
		for _, sec := range b.Elements {
			for _, el := range sec.Elements {
				if el.Style != nil && el.Style.Bold {
					runs = append(runs, el.text())
				}
			}
		}
	}
	return runs
}

var (
	dateToken = regexp.MustCompile(`<!date\^[0-9]+\^[^|>]*\|([^>]*)>`)
	linkToken = regexp.MustCompile(`<([a-z]+://[^|>]+)\|([^>]*)>`)
	emphasis  = regexp.MustCompile(`\*([^*\n]+)\*`)
	emoji     = regexp.MustCompile(`:[a-z][a-z0-9_+-]*: ?`)
)

// emojis are the shortcodes the bot uses, as Slack shows them.
var emojis = map[string]string{":hourglass:": "⌛", ":hourglass_flowing_sand:": "⏳", ":page_facing_up:": "📄"}

// Plain renders the message's blocks as a person reads them in a terminal
// (the fallback text when it has no blocks): dates as their fallback,
// links as "label: URL", emoji as Slack shows them, buttons in brackets.
func (m Message) Plain() string {
	lines := m.blockLines()
	if len(lines) == 0 {
		lines = []string{m.Text}
	}
	s := strings.Join(lines, "\n")
	s = dateToken.ReplaceAllString(s, "$1")
	s = linkToken.ReplaceAllString(s, "$2: $1")
	s = emphasis.ReplaceAllString(s, "$1")
	s = emoji.ReplaceAllStringFunc(s, func(code string) string {
		if e, ok := emojis[strings.TrimSpace(code)]; ok {
			return e + code[len(strings.TrimSpace(code)):]
		}
		return ""
	})
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}
