package bot

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"github.com/slack-go/slack"

	"github.com/hr-tools/tempreport/internal/recordno"
)

// messageTexts is every text of the message a shortcut was used on, one
// per line, as a person reads them: its text (for an app's message, often
// just the notification's summary), every block's text (section text and
// fields, headers, context, rich text of every kind, markdown, tables,
// image and video titles, and the texts of block types this bot does not
// know), then each legacy attachment's pretext, title, text, fields
// (title and value), its blocks, author, footer and fallback. A record
// named in several of them is found once by [recordno.Find].
//
// What a person does not read as text is left out: buttons and their
// values, links (a rich text link's label and address, as Slack's own
// <url|label> in mrkdwn, which the finder drops), mentions, emoji, dates.
//
// The result is capped at [recordno.MaxBytes]+1 bytes: past the cap the
// walk stops, and [recordno.Find] says the text was cut. The message's
// text is never logged or kept.
func messageTexts(m slack.Message) string {
	var t messageCollector
	t.add(m.Text)
	t.blocks(m.Blocks.BlockSet)
	for _, a := range m.Attachments {
		t.add(a.Pretext)
		t.add(a.Title)
		t.add(a.Text)
		for _, f := range a.Fields {
			t.add(f.Title)
			t.add(f.Value)
		}
		t.blocks(a.Blocks.BlockSet)
		t.add(a.AuthorName)
		t.add(a.Footer)
		t.add(a.Fallback)
	}
	return t.b.String()
}

// messageCollector collects a message's texts, one per line, up to the cap.
type messageCollector struct {
	b    strings.Builder
	full bool // the cap is reached: one byte past it, so the finder knows
}

// maxMessageText is one byte more than the finder reads: a text that
// reaches it is reported cut.
const maxMessageText = recordno.MaxBytes + 1

func (t *messageCollector) add(s string) {
	if t.full || strings.TrimSpace(s) == "" {
		return
	}
	if t.b.Len() > 0 {
		t.b.WriteByte('\n')
	}
	if room := maxMessageText - t.b.Len(); len(s) >= room {
		s, t.full = s[:max(room, 0)], true
	}
	t.b.WriteString(s)
}

func (t *messageCollector) object(o *slack.TextBlockObject) {
	if o != nil {
		t.add(o.Text)
	}
}

func (t *messageCollector) blocks(blocks []slack.Block) {
	for _, b := range blocks {
		if t.full {
			return
		}
		switch b := b.(type) {
		case *slack.SectionBlock:
			t.object(b.Text)
			for _, f := range b.Fields {
				t.object(f)
			}
		case *slack.HeaderBlock:
			t.object(b.Text)
		case *slack.ContextBlock:
			for _, e := range b.ContextElements.Elements {
				if o, ok := e.(*slack.TextBlockObject); ok {
					t.object(o)
				}
			}
		case *slack.RichTextBlock:
			t.richText(b.Elements)
		case *slack.MarkdownBlock:
			t.add(b.Text)
		case *slack.TableBlock:
			for _, row := range b.Rows {
				for _, cell := range row {
					switch c := cell.(type) {
					case *slack.TableRawTextCell:
						t.add(c.Text)
					case *slack.TableRawNumberCell:
						t.add(c.Text)
					case *slack.TableRichTextCell:
						t.richText(c.Elements)
					}
				}
			}
		case *slack.ImageBlock:
			t.object(b.Title)
		case *slack.VideoBlock:
			t.object(b.Title)
			t.object(b.Description)
		case *slack.ActionBlock, *slack.DividerBlock, *slack.FileBlock, *slack.InputBlock, *slack.CallBlock:
			// Buttons, menus and inputs: controls, not text a person reads.
		default:
			t.unknown(b)
		}
	}
}

// richText reads rich text: each section, list item, quote and code block
// on a line of its own, the parts of one line run together as they show
// (a number split by styles is one number).
func (t *messageCollector) richText(elements []slack.RichTextElement) {
	for _, e := range elements {
		if t.full {
			return
		}
		switch e := e.(type) {
		case *slack.RichTextSection:
			t.inline(e.Elements)
		case *slack.RichTextList:
			t.richText(e.Elements)
		case *slack.RichTextQuote:
			t.inline(e.Elements)
		case *slack.RichTextPreformatted:
			t.inline(e.Elements)
		case slack.RichTextSection:
			t.inline(e.Elements)
		case slack.RichTextList:
			t.richText(e.Elements)
		}
	}
}

// inline is one line of rich text. Text and tags are read; what stands for
// something else (links, mentions, emoji, dates, files, canvases) is a
// space, as Slack's tokens are to the finder.
func (t *messageCollector) inline(elements []slack.RichTextSectionElement) {
	var line strings.Builder
	for _, e := range elements {
		switch e := e.(type) {
		case *slack.RichTextSectionTextElement:
			line.WriteString(e.Text)
		case *slack.RichTextSectionTagElement:
			line.WriteString(e.Text)
		default:
			line.WriteByte(' ')
		}
		if line.Len() >= maxMessageText {
			break
		}
	}
	t.add(line.String())
}

// unknown reads a block of a type this bot does not walk (alerts, cards,
// plans, blocks Slack adds later): the strings under "text", "title" and
// "description" anywhere in it, but not those of an object with a "url"
// (a link's label).
func (t *messageCollector) unknown(b slack.Block) {
	data, err := json.Marshal(b)
	if err != nil {
		return
	}
	var tree any
	if json.Unmarshal(data, &tree) != nil {
		return
	}
	var walk func(any)
	walk = func(v any) {
		if t.full {
			return
		}
		switch v := v.(type) {
		case map[string]any:
			if _, link := v["url"]; link {
				return
			}
			for _, k := range slices.Sorted(maps.Keys(v)) {
				switch s, ok := v[k].(string); {
				case ok && (k == "text" || k == "title" || k == "description"):
					t.add(s)
				case !ok:
					walk(v[k])
				}
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(tree)
}
