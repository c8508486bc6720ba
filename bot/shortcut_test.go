package bot_test

import (
	"strings"
	"testing"

	"github.com/hr-tools/tempreport/bot"
	"github.com/hr-tools/tempreport/bot/slacktest"
)

// shortcut uses the message shortcut on a message and returns it once acked.
func (h *harness) shortcut(sc slacktest.Shortcut) *slacktest.Envelope {
	h.t.Helper()
	env, err := h.slack.SendShortcut(h.ctx(), sc)
	if err != nil {
		h.t.Fatalf("sending shortcut: %v", err)
	}
	if _, err := env.WaitAck(h.ctx()); err != nil {
		h.t.Fatalf("shortcut: %v\nlogs:\n%s", err, h.logs)
	}
	return env
}

func TestShortcut(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{"en", "zh"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			h := start(t, func(s *setup) { s.cfg.Language = lang })
			words := map[string]map[string]string{
				"en": {"none": "names no record number", "choose": "names 2 record numbers", "denied": "not allowed", "fresh": "Get a fresh link"},
				"zh": {"none": "没有背调号", "choose": "有 2 个背调号", "denied": "暂无获取临时报告的权限", "fresh": "获取新链接"},
			}[lang]

			// One record: one private link, one vendor call.
			one := h.shortcut(slacktest.Shortcut{UserID: allowedUser, Text: "候选人张三，背调号 " + readyRecord + "，请看一下，电话 13812345678"})
			m := h.answer(one)
			if !m.Ephemeral() || !strings.Contains(m.Raw(), "/survey-result/") || len(m.Buttons()) != 1 || m.Buttons()[0].Label != words["fresh"] {
				t.Errorf("one record: %s", m.Raw())
			}
			if n := len(h.vendor.Calls()); n != 1 {
				t.Errorf("one record: %d vendor calls, want 1", n)
			}

			// A stranger: refused, no vendor call.
			m = h.answer(h.shortcut(slacktest.Shortcut{UserID: stranger, Text: "背调号 " + readyRecord}))
			if !strings.Contains(m.Raw(), words["denied"]) || strings.Contains(m.Raw(), "/survey-result/") {
				t.Errorf("stranger: %s", m.Raw())
			}

			// No record: a private explanation with how to use the command.
			m = h.answer(h.shortcut(slacktest.Shortcut{UserID: allowedUser, Text: "see you at 10:30, call 13812345678"}))
			if !m.Ephemeral() || !strings.Contains(m.Raw(), words["none"]) || !strings.Contains(m.Raw(), "/tempreport") {
				t.Errorf("no record: %s", m.Raw())
			}

			// Text only in the blocks.
			blocks := []any{map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": "背调号 " + readyRecord}}}
			m = h.answer(h.shortcut(slacktest.Shortcut{UserID: allowedUser, Blocks: blocks}))
			if !strings.Contains(m.Raw(), "/survey-result/") {
				t.Errorf("record in the blocks: %s", m.Raw())
			}
			calls := len(h.vendor.Calls())

			// Two records: both offered, nothing fetched until one is picked.
			two := h.shortcut(slacktest.Shortcut{UserID: allowedUser, Text: readyRecord + " / " + notInProgress})
			m = h.answer(two)
			buttons := m.Buttons()
			if !m.Ephemeral() || !strings.Contains(m.Raw(), words["choose"]) || len(buttons) != 2 ||
				buttons[0].Value != readyRecord || buttons[1].Value != notInProgress {
				t.Errorf("two records: %s, buttons %+v", m.Raw(), buttons)
			}
			if n := len(h.vendor.Calls()); n != calls {
				t.Errorf("two records offered: %d vendor calls before a click, want none", n-calls)
			}
			click := h.click(slacktest.Click{UserID: allowedUser, ActionID: buttons[0].ActionID, BlockID: buttons[0].BlockID, Value: buttons[0].Value})
			if m := h.answer(click); !strings.Contains(m.Raw(), "/survey-result/") || !strings.Contains(m.Raw(), readyRecord) || m.ReplaceOriginal {
				t.Errorf("the picked record (a new message, the list stays for the other): %s, replace %v", m.Raw(), m.ReplaceOriginal)
			}
			if n := len(h.vendor.Calls()); n != calls+1 {
				t.Errorf("a pick: %d vendor calls, want 1", n-calls)
			}

			// Redelivered: acked again, served once.
			if err := h.slack.Redeliver(h.ctx(), one); err != nil {
				t.Fatal(err)
			}
			if _, err := one.WaitAcks(h.ctx(), 2); err != nil {
				t.Fatal(err)
			}
			if err := h.stop(); err != nil {
				t.Fatal(err)
			}
			if n := len(one.Posts()); n != 1 {
				t.Errorf("a redelivered shortcut got %d answers, want 1", n)
			}
			lines := h.auditLines(bot.EntryShortcut)
			if len(lines) != 5 {
				t.Errorf("%d shortcut audit lines, want 5: %q", len(lines), lines)
			}
			for _, l := range lines {
				if strings.Contains(l, "候选人") || strings.Contains(l, "13812345678") || !strings.Contains(l, `"channel":"C0FAKECHAN"`) {
					t.Errorf("a shortcut's audit line: %s; want the records found, user and channel, never the message's text", l)
				}
			}
			if !strings.Contains(strings.Join(lines, "\n"), `"records_found":["`+readyRecord+`","`+notInProgress+`"]`) {
				t.Errorf("audit lines lack the records found: %q", lines)
			}
		})
	}
}

// TestManyRecordsOfferTheFirstFive: more than five records in a message:
// the answer says so and offers the first five.
func TestManyRecordsOfferTheFirstFive(t *testing.T) {
	t.Parallel()
	h := start(t)
	var text []string
	for i := range 7 {
		text = append(text, strings.Repeat(string(rune('1'+i)), 12))
	}
	m := h.answer(h.shortcut(slacktest.Shortcut{UserID: allowedUser, Text: strings.Join(text, ", ")}))
	if b := m.Buttons(); len(b) != 5 || b[0].Value != text[0] || b[4].Value != text[4] || !strings.Contains(m.Raw(), "names 7") || !strings.Contains(m.Raw(), "first 5") {
		t.Errorf("seven records: %s, buttons %+v", m.Raw(), b)
	}
}
