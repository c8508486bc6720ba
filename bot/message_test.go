package bot

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/hr-tools/tempreport/internal/recordno"
)

const (
	msgRecord  = "20190415152645093983751"
	msgRecord2 = "20190415152645093983752"
)

// slackMessage reads a message as the bot gets it: JSON from Slack,
// through slack-go's types.
func slackMessage(t testing.TB, js string) slack.Message {
	t.Helper()
	var m slack.Message
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		t.Fatalf("%v in %s", err, js)
	}
	return m
}

// TestMessageTexts: the records in messages as apps and people post them.
func TestMessageTexts(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		json string
		want []string
	}{
		{"an ATS notification: a summary as text, the record only in a section's fields, another behind a button", `{
			"type": "message", "subtype": "bot_message", "bot_id": "B0ATS", "text": "背调进度更新：张三",
			"blocks": [
				{"type": "header", "text": {"type": "plain_text", "text": "背调进度更新"}},
				{"type": "section", "text": {"type": "mrkdwn", "text": "*张三* 的背调有新的进度"},
				 "fields": [{"type": "mrkdwn", "text": "*候选人*\n张三"}, {"type": "mrkdwn", "text": "*背调号*\n` + msgRecord + `"},
				            {"type": "mrkdwn", "text": "*手机*\n13812345678"}, {"type": "mrkdwn", "text": "*更新时间*\n2024-12-02 10:30"}],
				 "accessory": {"type": "button", "text": {"type": "plain_text", "text": "查看"}, "value": "` + msgRecord2 + `", "action_id": "view"}},
				{"type": "context", "elements": [{"type": "mrkdwn", "text": "来自 <https://ats.example.com/c/42|ATS> · <!date^1733106600^{date_short}|Dec 2>"},
				                                 {"type": "image", "image_url": "https://ats.example.com/logo.png", "alt_text": "` + msgRecord2 + `"}]},
				{"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "打开"}, "value": "` + msgRecord2 + `", "action_id": "open"}]}
			]}`, []string{msgRecord}},
		{"only in a legacy attachment's fields", `{
			"type": "message", "subtype": "bot_message", "text": "",
			"attachments": [{"color": "#36a64f", "pretext": "背调状态变更", "title": "张三", "title_link": "https://ats.example.com/c/42",
				"text": "状态：进行中", "fields": [{"title": "背调号", "value": "` + msgRecord + `", "short": true}, {"title": "负责人", "value": "<@U0HR>", "short": true}],
				"footer": "ATS", "ts": 1733106600}]}`, []string{msgRecord}},
		{"attachments in order: pretext, title, text, fields, fallback", `{
			"type": "message", "text": "两份背调",
			"attachments": [{"pretext": "第一份 ` + msgRecord2 + `", "fields": [{"title": "背调号", "value": "` + msgRecord + `"}]},
			                {"fallback": "背调号 ` + msgRecord + `，` + msgRecord2 + `"}]}`, []string{msgRecord2, msgRecord}},
		{"in text, blocks and the attachment's fallback: counted once", `{
			"type": "message", "text": "背调号 ` + msgRecord + `",
			"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "背调号 ` + msgRecord + `"}}],
			"attachments": [{"fallback": "背调号：` + msgRecord + `", "text": "` + msgRecord + `"}]}`, []string{msgRecord}},
		{"a person's reply in a thread: text and rich text say the same", `{
			"type": "message", "user": "U0HR", "ts": "1733106700.000200", "thread_ts": "1733106600.000100", "parent_user_id": "U0ATS",
			"text": "<@U0BOSS> 背调号 *` + msgRecord + `* 麻烦看一下",
			"blocks": [{"type": "rich_text", "block_id": "x1", "elements": [{"type": "rich_text_section", "elements": [
				{"type": "user", "user_id": "U0BOSS"}, {"type": "text", "text": " 背调号 "},
				{"type": "text", "text": "` + msgRecord[:10] + `", "style": {"bold": true}}, {"type": "text", "text": "` + msgRecord[10:] + `", "style": {"bold": true}},
				{"type": "text", "text": " 麻烦看一下"}]}]}]}`, []string{msgRecord}},
		{"rich text: list, quote, code block; links, mentions and dates are not records", `{
			"type": "message", "text": "",
			"blocks": [{"type": "rich_text", "elements": [
				{"type": "rich_text_list", "style": "bullet", "elements": [
					{"type": "rich_text_section", "elements": [{"type": "text", "text": "张三 ` + msgRecord + `"}]},
					{"type": "rich_text_section", "elements": [{"type": "link", "url": "https://ats.example.com/r/1111111111", "text": "2222222222"}]}]},
				{"type": "rich_text_quote", "elements": [{"type": "text", "text": "背调号：` + msgRecord2 + `"}]},
				{"type": "rich_text_preformatted", "elements": [{"type": "text", "text": "3333333333"}]},
				{"type": "rich_text_section", "elements": [{"type": "user", "user_id": "U4444444444"}, {"type": "channel", "channel_id": "C5555555555"},
					{"type": "date", "timestamp": 1733106600, "format": "{date}", "fallback": "6666666666"}, {"type": "emoji", "name": "smile"},
					{"type": "text", "text": "7777777777"}]}]}]}`, []string{msgRecord, msgRecord2, "3333333333", "7777777777"}},
		{"a markdown block, a table, a header", `{
			"type": "message", "text": "",
			"blocks": [{"type": "markdown", "text": "**背调号** ` + msgRecord + `"},
				{"type": "header", "text": {"type": "plain_text", "text": "背调号 ` + msgRecord2 + `"}},
				{"type": "table", "rows": [[{"type": "raw_text", "text": "背调号"}, {"type": "raw_text", "text": "3333333333"}],
					[{"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": "4444444444"}]}]}, {"type": "raw_text", "text": "x"}]]}]}`,
			[]string{msgRecord, msgRecord2, "3333333333", "4444444444"}},
		{"a block type slack-go does not know", `{
			"type": "message", "text": "",
			"blocks": [{"type": "future_block", "title": {"type": "plain_text", "text": "背调"}, "body": {"text": "背调号 ` + msgRecord + `"},
				"link": {"url": "https://x.example/2222222222", "text": "2222222222"}}]}`, []string{msgRecord}},
		{"an image's title and a video's description", `{
			"type": "message", "text": "",
			"blocks": [{"type": "image", "image_url": "https://x.example/a.png", "alt_text": "a", "title": {"type": "plain_text", "text": "背调号 ` + msgRecord + `"}},
				{"type": "video", "video_url": "https://x.example/v", "thumbnail_url": "https://x.example/t.png", "alt_text": "v",
				 "title": {"type": "plain_text", "text": "培训"}, "description": {"type": "plain_text", "text": "背调号 ` + msgRecord2 + `"}}]}`, []string{msgRecord, msgRecord2}},
		{"blocks in an attachment", `{
			"type": "message", "text": "更新",
			"attachments": [{"blocks": [{"type": "section", "fields": [{"type": "mrkdwn", "text": "*背调号*\n` + msgRecord + `"}]}]}]}`, []string{msgRecord}},
		{"a stray bracket in one text does not hide the next", `{
			"type": "message", "text": "a < b",
			"blocks": [{"type": "section", "text": {"type": "plain_text", "text": "` + msgRecord + ` > c"}}]}`, []string{msgRecord}},
		{"nothing", `{"type": "message", "text": ""}`, nil},
	} {
		m := slackMessage(t, tt.json)
		text := messageTexts(m)
		if got := recordno.Find(text).Records; !slices.Equal(got, tt.want) {
			t.Errorf("%s: found %q, want %q in\n%s", tt.name, got, tt.want, text)
		}
	}
}

// TestMessageTextsOfTypedBlocks: blocks as the bot's own code builds them
// (values as well as pointers) read the same.
func TestMessageTextsOfTypedBlocks(t *testing.T) {
	t.Parallel()
	section := slack.NewRichTextSection(slack.NewRichTextSectionTextElement("背调号 "+msgRecord, nil))
	m := slack.Message{Msg: slack.Msg{Blocks: slack.Blocks{BlockSet: []slack.Block{
		slack.NewRichTextBlock("a", section, *slack.NewRichTextSection(slack.NewRichTextSectionTextElement(msgRecord2, nil))),
	}}}}
	if got := recordno.Find(messageTexts(m)).Records; !slices.Equal(got, []string{msgRecord, msgRecord2}) {
		t.Errorf("found %q", got)
	}
}

// hostileMessage is a message of distinct 10-digit numbers: text of
// textBytes, and blocks sections of sectionBytes each.
func hostileMessage(textBytes, blocks, sectionBytes int) slack.Message {
	numbers := func(n, from int) string {
		var b strings.Builder
		for i := from; b.Len() < n; i++ {
			fmt.Fprintf(&b, "%010d ", 1_000_000_000+i*7919)
		}
		return b.String()[:n]
	}
	m := slack.Message{Msg: slack.Msg{Text: numbers(textBytes, 0)}}
	for i := range blocks {
		m.Blocks.BlockSet = append(m.Blocks.BlockSet, slack.NewSectionBlock(
			slack.NewTextBlockObject(slack.MarkdownType, numbers(sectionBytes, (i+1)*1000), false, false), nil, nil))
	}
	return m
}

// TestMessageTextsCap: what a message can carry past the cap is not read,
// the finder says so, and the cost stays small.
func TestMessageTextsCap(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name                          string
		textBytes, blocks, blockBytes int
		cut                           bool
	}{
		{"40k characters of text", 40_000, 0, 0, false},
		{"50 blocks × 3000 characters", 0, 50, 3000, false},
		{"300k of text", 300_000, 0, 0, true},
		{"1 MB of text and 50 blocks × 3000", 1 << 20, 50, 3000, true},
	} {
		m := hostileMessage(tt.textBytes, tt.blocks, tt.blockBytes)
		start := time.Now()
		text := messageTexts(m)
		found := recordno.Find(text)
		took := time.Since(start)
		if len(text) > recordno.MaxBytes+1 || found.Cut != tt.cut || len(found.Records) == 0 {
			t.Errorf("%s: %d bytes read, cut %v, %d records", tt.name, len(text), found.Cut, len(found.Records))
		}
		t.Logf("%s: %d bytes read, %d records, cut %v, %v", tt.name, len(text), len(found.Records), found.Cut, took)
	}
}

// TestMessageTextsCutKeepsRecordsWhole: a record the cap falls in is not
// read as a shorter number.
func TestMessageTextsCutKeepsRecordsWhole(t *testing.T) {
	t.Parallel()
	pad := strings.Repeat("背", (recordno.MaxBytes-5)/3) // a text just short of the cap, no spaces
	m := slack.Message{Msg: slack.Msg{Text: pad, Attachments: []slack.Attachment{{Text: msgRecord}}}}
	text := messageTexts(m)
	if found := recordno.Find(text); !found.Cut || len(found.Records) != 0 {
		t.Errorf("a record across the cap: %+v", found)
	}
}

func BenchmarkMessageTexts(b *testing.B) {
	for _, tt := range []struct {
		name                          string
		textBytes, blocks, blockBytes int
	}{
		{"text_40k", 40_000, 0, 0},
		{"blocks_50x3000", 0, 50, 3000},
		{"text_300k", 300_000, 0, 0},
		{"text_1MB", 1 << 20, 0, 0},
	} {
		m := hostileMessage(tt.textBytes, tt.blocks, tt.blockBytes)
		b.Run(tt.name, func(b *testing.B) {
			for b.Loop() {
				recordno.Find(messageTexts(m))
			}
		})
	}
}
