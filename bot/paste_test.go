package bot_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hr-tools/tempreport/bot/slacktest"
)

// TestWhatPeoplePaste: in both languages, through the fake Slack, what HR
// people have in hand is read by one finder: a record copied with its
// label or from code formatting brings its link with one vendor call; two
// records are offered and neither fetched; an app's message whose record
// is only in its blocks or only in an attachment's fields brings the link;
// a record named in the text and the blocks, in a thread, is fetched once.
func TestWhatPeoplePaste(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{"en", "zh"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			h := start(t, func(s *setup) { s.cfg.Language = lang })
			calls := func() int { return len(h.vendor.Calls()) }
			linked := func(what string, env *slacktest.Envelope, before int) {
				t.Helper()
				if m := h.answer(env); !m.Ephemeral() || !strings.Contains(m.Raw(), "/survey-result/") || !strings.Contains(m.Raw(), readyRecord) {
					t.Errorf("%s: %s", what, m.Raw())
				}
				if n := calls() - before; n != 1 {
					t.Errorf("%s: %d vendor calls, want 1", what, n)
				}
			}

			for _, text := range []string{"背调号：" + readyRecord, "背调号: " + readyRecord, "`" + readyRecord + "`", "Record No. " + readyRecord} {
				before := calls()
				env, _ := h.command(allowedUser, text)
				linked(fmt.Sprintf("command %q", text), env, before)
			}

			two, ack := h.command(allowedUser, readyRecord+" "+notInProgress)
			m := ack.Message()
			if b := m.Buttons(); !m.Ephemeral() || len(b) != 2 || b[0].Value != readyRecord || b[1].Value != notInProgress {
				t.Errorf("two records typed: %s, buttons %+v", m.Raw(), b)
			}
			defer func() { // once everything has drained: the offer fetched neither
				if err := h.stop(); err != nil {
					t.Fatal(err)
				}
				for _, c := range h.vendor.Calls() {
					if c.RecordNo == notInProgress {
						t.Errorf("two records typed: %s was fetched before anyone picked it", notInProgress)
					}
				}
				if n := len(two.Posts()); n != 0 {
					t.Errorf("two records typed: %d posts after the offer, want none", n)
				}
			}()

			summary := "背调进度更新：张三"
			before := calls()
			inBlocks := h.shortcut(slacktest.Shortcut{UserID: allowedUser, Text: summary, Blocks: []any{
				map[string]any{"type": "header", "text": map[string]any{"type": "plain_text", "text": "背调进度更新"}},
				map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": "候选人：张三"},
					"fields": []any{map[string]any{"type": "mrkdwn", "text": "*背调号*\n" + readyRecord}, map[string]any{"type": "mrkdwn", "text": "*状态*\n进行中"}}},
			}})
			linked("a record only in a section's fields", inBlocks, before)

			before = calls()
			inAttachment := h.shortcut(slacktest.Shortcut{UserID: allowedUser, Text: summary, Attachments: []any{
				map[string]any{"fallback": summary, "pretext": "ATS", "title": "张三",
					"fields": []any{map[string]any{"title": "背调号", "value": readyRecord, "short": true}}},
			}})
			linked("a record only in an attachment's fields", inAttachment, before)

			before = calls()
			twice := h.shortcut(slacktest.Shortcut{UserID: allowedUser, Text: "背调号 " + readyRecord, ThreadTS: "1700000000.000001",
				Blocks: []any{map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": "背调号 " + readyRecord}}}})
			linked("a record in the text and the blocks, in a thread", twice, before)
		})
	}
}

// TestHostileMessageDelaysNoOneElse: a shortcut on a 1 MB message of
// distinct numbers, from a stranger (never read) and from someone allowed
// (read up to the finder's cap), does not hold up the next person's ack.
// Before the finder was linear and capped, the stranger's alone held every
// ack for about 12 s.
func TestHostileMessageDelaysNoOneElse(t *testing.T) {
	t.Parallel()
	h := start(t)
	var b strings.Builder
	for i := 0; b.Len() < 1<<20; i++ {
		fmt.Fprintf(&b, "%d ", 1_000_000_007+i*7919)
	}
	for _, user := range []string{stranger, allowedUser} {
		hostile, err := h.slack.SendShortcut(h.ctx(), slacktest.Shortcut{UserID: user, Text: b.String()})
		if err != nil {
			t.Fatal(err)
		}
		// Whatever the message costs to read, it is read after the acks
		// (TestMessagesAreReadAfterTheAck): the next person is acked and
		// answered; the figure is the load command's.
		next, _ := h.command(groupMember, readyRecord)
		if m := h.answer(hostile); !m.Ephemeral() {
			t.Errorf("%s's shortcut on a 1 MB message: %s", user, m.Raw())
		}
		h.answer(next)
	}
}
