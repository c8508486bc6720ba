package bot_test

import (
	"strings"
	"testing"
)

// TestPhoneOrDateTyped: through the fake Slack, in both languages, a phone
// number or a date typed after the command is answered in the ack that it
// is no record number (the finder skips them on purpose), never that it is
// not digits, with the usage after it; the vendor is not called.
func TestPhoneOrDateTyped(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ lang, want, usage, notDigits string }{
		{"en", "No record number found (phone numbers and dates don't count).", "Usage:", "only the digits"},
		{"zh", "未找到背调号（电话号码和日期不计在内），请核对后重新输入。", "用法：", "只包含数字"},
	} {
		t.Run(tt.lang, func(t *testing.T) {
			t.Parallel()
			h := start(t, func(s *setup) { s.cfg.Language = tt.lang })
			for _, text := range []string{"13812345678", "+86 138 1234 5678", "2024-01-01", "2024年1月1日"} {
				_, ack := h.command(allowedUser, text)
				m := ack.Message()
				if raw := m.Raw(); !m.Ephemeral() || !strings.Contains(raw, tt.want) || !strings.Contains(raw, tt.usage) || strings.Contains(raw, tt.notDigits) {
					t.Errorf("%q: %s", text, raw)
				}
			}
			if err := h.stop(); err != nil {
				t.Fatal(err)
			}
			if n := len(h.vendor.Calls()); n != 0 {
				t.Errorf("%d vendor calls, want none", n)
			}
		})
	}
}
