package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hr-tools/tempreport/bot"
)

// TestEachPersonInTheirOwnLanguage: with BOT_LANGUAGE=auto, two people
// whose Slack languages differ are each answered in their own, the link
// and an immediate answer alike; a users.info that fails or hangs still
// gets an answer, in the fallback language, said once in the log.
func TestEachPersonInTheirOwnLanguage(t *testing.T) {
	t.Parallel()
	h := start(t, func(s *setup) {
		s.cfg.Language, s.cfg.FallbackLanguage = bot.LanguageAuto, "en"
		s.cfg.AllowedUsers = append(s.cfg.AllowedUsers, "U0CHINESE", "U0FAILING", "U0HANGING")
	})
	h.slack.SetLocale(allowedUser, "en-US")
	h.slack.SetLocale("U0CHINESE", "zh-CN")

	for _, tt := range []struct {
		user, text, want, notWant string
	}{
		{allowedUser, readyRecord, "Temporary report for record", "临时报告"},
		{"U0CHINESE", readyRecord, "的临时报告", "Temporary report"},
		{allowedUser, "help", "Usage", "用法"},
		{"U0CHINESE", "help", "用法", "Usage"},
	} {
		env, _ := h.command(tt.user, tt.text)
		var m string
		if ack, _ := env.WaitAck(h.ctx()); strings.HasPrefix(ack.Message().Text, bot.ProgressPrefix) || ack.Message().Text == "" {
			m = h.answer(env).Raw() // the link, or an answer that waited for the person's language
		} else {
			m = ack.Message().Raw()
		}
		if !strings.Contains(m, tt.want) || strings.Contains(m, tt.notWant) {
			t.Errorf("%s typed %q: %s; want %q", tt.user, tt.text, m, tt.want)
		}
	}
	reads := h.slack.UserInfoReads()
	h.command("U0CHINESE", "help")
	if n := h.slack.UserInfoReads(); n != reads {
		t.Errorf("a known person's language was read again: %d users.info calls, want %d", n, reads)
	}

	h.slack.FailUserInfo(true)
	env, _ := h.command("U0FAILING", readyRecord)
	if m := h.answer(env).Raw(); !strings.Contains(m, "Temporary report for record") {
		t.Errorf("users.info failing: %s; want the link in the fallback language", m)
	}
	h.slack.FailUserInfo(false)
	h.slack.DelayUserInfo(time.Minute)
	env, _ = h.command("U0HANGING", "help")
	if m := h.answer(env).Raw(); !strings.Contains(m, "Usage") {
		t.Errorf("users.info hanging: %s; want help in the fallback language", m)
	}
	if err := h.logs.WaitFor(h.ctx(), "could not read a person's Slack language"); err != nil {
		t.Errorf("a failing users.info was not logged: %v", err)
	}
}
