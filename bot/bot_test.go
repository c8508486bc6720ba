package bot_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hr-tools/tempreport/bot"
	"github.com/hr-tools/tempreport/bot/slacktest"
	"github.com/hr-tools/tempreport/internal/testkit"
	"github.com/hr-tools/tempreport/yibeidiao"
	"github.com/hr-tools/tempreport/yibeidiao/yibeidiaotest"
)

func TestCommandGetsAPrivateLink(t *testing.T) {
	t.Parallel()
	h := start(t)
	env, ack := h.command(allowedUser, "  "+readyRecord+" \t")

	if m := ack.Message(); m.ResponseType != "ephemeral" || m.Text != bot.ProgressPrefix+"Getting the temporary report for record "+readyRecord+"…" {
		t.Errorf("ack = %s, want a private 'getting…' note", ack.Payload)
	}
	m := h.answer(env)
	raw := m.Raw()
	if !m.Ephemeral() || !m.NoUnfurl() {
		t.Errorf("answer is not private with previews off: response_type %q, unfurl %v/%v", m.ResponseType, m.UnfurlLinks, m.UnfurlMedia)
	}
	for _, want := range []string{"https://" + strings.TrimPrefix(h.vendor.URL[:strings.Index(h.vendor.URL, "/open")], "http://") + "/survey-result/", readyRecord, "This link expires in 1 minute", "<!date^"} {
		if !strings.Contains(raw, want) {
			t.Errorf("answer does not contain %q:\n%s", want, raw)
		}
	}
	if !strings.Contains(m.Text, "This link expires in 1 minute") || !strings.Contains(m.Text, "/survey-result/") {
		t.Errorf("fallback text %q lacks the link or the warning", m.Text)
	}
	if b := m.Buttons(); len(b) != 1 || b[0].Label != "Get a fresh link" || b[0].Value != readyRecord {
		t.Errorf("buttons = %+v, want one 'Get a fresh link' carrying the record number", b)
	}
	if err := h.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if n, p := env.Acks(), len(env.Posts()); n != 1 || p != 1 {
		t.Errorf("command got %d acks and %d posts, want exactly 1 and 1", n, p)
	}
	lines := h.auditLines("command")
	if len(lines) != 1 || !strings.Contains(lines[0], `"outcome":"link"`) || !strings.Contains(lines[0], `"seq":"`) ||
		!strings.Contains(lines[0], `"user":"`+allowedUser+`"`) || !strings.Contains(lines[0], `"record":"`+readyRecord+`"`) {
		t.Errorf("audit log = %q, want one line with user, record, outcome and seq", lines)
	}
}

// TestChineseAnswers: with Language zh, the whole answer a person sees is
// in Chinese, the button too, and full-width digits work.
func TestChineseAnswers(t *testing.T) {
	t.Parallel()
	h := start(t, func(s *setup) { s.cfg.Language = "zh" })
	env, ack := h.command(allowedUser, "\u3000２０１９０４１５１５２６４５０９３９８３７５１\u3000")
	if !strings.Contains(ack.Message().Raw(), "正在获取背调号 "+readyRecord+" 的临时报告") {
		t.Errorf("ack = %s", ack.Message().Raw())
	}
	m := h.answer(env)
	for _, want := range []string{"背调号 " + readyRecord + " 的临时报告", "打开报告", "链接 1 分钟后失效", "北京时间", "此消息仅你本人可见"} {
		if !strings.Contains(m.Raw(), want) {
			t.Errorf("answer lacks %q:\n%s", want, m.Raw())
		}
	}
	if b := m.Buttons(); len(b) != 1 || b[0].Label != "获取新链接" {
		t.Errorf("buttons = %+v, want 获取新链接", b)
	}
	if _, ack := h.command(stranger, readyRecord); !strings.Contains(ack.Message().Raw(), "暂无获取临时报告的权限") || !strings.Contains(ack.Message().Raw(), stranger) {
		t.Errorf("stranger in zh: %s", ack.Message().Raw())
	}
	env, _ = h.command(allowedUser, notInProgress)
	if m := h.answer(env); !strings.Contains(m.Raw(), "背调未在进行中") || !strings.Contains(m.Raw(), "错误码 "+yibeidiaotest.CodeNotInProgress) {
		t.Errorf("refusal in zh, with the vendor's words as they are: %s", m.Raw())
	}
}

func TestGroupMemberIsAllowed(t *testing.T) {
	t.Parallel()
	h := start(t)
	env, _ := h.command(groupMember, readyRecord)
	if m := h.answer(env); !strings.Contains(m.Raw(), "/survey-result/") {
		t.Errorf("group member's answer has no link:\n%s", m.Raw())
	}
}

// TestImmediateAnswers covers what is answered in the ack itself and never
// reaches the vendor.
func TestImmediateAnswers(t *testing.T) {
	t.Parallel()
	h := start(t)
	for _, tt := range []struct {
		name, user, text string
		want             []string
	}{
		{"empty", allowedUser, "", []string{"Usage", "/tempreport 20190415152645093983751", "1 minute", "in progress", "at least one finished investigation item"}},
		{"help", allowedUser, " HELP ", []string{"Usage"}},
		{"stranger", stranger, readyRecord, []string{"not allowed", "`" + stranger + "`"}},
		{"stranger asking help", stranger, "help", []string{"not allowed"}},
		{"letters", allowedUser, "2019041515264509398375a", []string{"only the digits", "Usage"}},
		{"inner space", allowedUser, "20190415152645 093983751", []string{"that one has 9", "Usage"}}, // the first part reads as a date and time
		{"label only", allowedUser, "背调号：", []string{"only the digits", "Usage"}},
		{"arabic-indic digits", allowedUser, "٢٠١٩٠٤١٥١٥٢٦٤٥٠٩٣٩٨٣٧٥١", []string{"only the digits", "Usage"}},
		{"mention", allowedUser, "<@U0ALLOWED>", []string{"only the digits", "Usage"}},
		{"channel mention", allowedUser, "<!channel>", []string{"only the digits", "Usage"}},
		{"query trick", allowedUser, readyRecord + "&recordNo=1", []string{"only the digits", "Usage"}},
		{"path", allowedUser, "../../balance", []string{"only the digits", "Usage"}},
		{"negative", allowedUser, "-20190415152645093983751", []string{"only the digits", "Usage"}},
		{"too short", allowedUser, "123456789", []string{"10 to 32 are accepted", "Usage"}},
		{"too long", allowedUser, strings.Repeat("1", 33), []string{"10 to 32 are accepted", "Usage"}},
		{"very long", allowedUser, strings.Repeat("9", 3000), []string{"10 to 32 are accepted", "Usage"}},
		{"newline inside", allowedUser, "2019041515264\n5093983751", []string{"You gave 2 record numbers", "2019041515264", "5093983751"}}, // offered, not fetched
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, ack := h.command(tt.user, tt.text)
			m := ack.Message()
			if !m.Ephemeral() {
				t.Errorf("ack for %q is not private", tt.text)
			}
			for _, want := range tt.want {
				if !strings.Contains(m.Raw(), want) {
					t.Errorf("answer to %q does not contain %q:\n%s", tt.text, want, m.Raw())
				}
			}
			if strings.Contains(m.Raw(), "<@U0ALLOWED>") || strings.Contains(m.Raw(), "<!channel>") {
				t.Errorf("answer echoes markup from the input:\n%s", m.Raw())
			}
		})
	}
	// A command the bot was not configured for is refused, naming the setting.
	env, err := h.slack.SendCommand(h.ctx(), slacktest.Command{UserID: allowedUser, Command: "/otherreport", Text: readyRecord})
	if err != nil {
		t.Fatal(err)
	}
	if ack, err := env.WaitAck(h.ctx()); err != nil || !strings.Contains(ack.Message().Raw(), "answers `/tempreport` only") {
		t.Errorf("unknown command: ack %s, %v", ack.Payload, err)
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if lines := h.auditLines("command"); !strings.Contains(lines[len(lines)-1], `"hint":"operator hint for`) {
		t.Errorf("unknown command's audit line has no hint for the operator: %s", lines[len(lines)-1])
	}
	if calls := h.vendor.Calls(); len(calls) != 0 {
		t.Errorf("vendor saw %d calls, want none", len(calls))
	}
}

// TestVendorFailures checks each kind of failure ends in its own private
// answer with a next step, and the admin's hint goes to the log.
func TestVendorFailures(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		record  string
		change  func(*setup)
		fault   yibeidiaotest.Fault
		want    []string
		outcome bot.Outcome
		logWant string
	}{
		{name: "not in progress", record: notInProgress, want: []string{"refused record " + notInProgress, yibeidiaotest.CodeNotInProgress, "in progress", "at least one finished"}, outcome: bot.OutcomeRefused, logWant: `"vendor_code":"` + yibeidiaotest.CodeNotInProgress + `"`},
		{name: "unknown record", record: unknownRecord, want: []string{"refused", yibeidiaotest.CodeRecordNotFound}, outcome: bot.OutcomeRefused, logWant: `"vendor_code":"` + yibeidiaotest.CodeRecordNotFound + `"`},
		{name: "wrong token", fault: yibeidiaotest.Fault{Code: "901"}, want: []string{"misconfigured", "admin"}, outcome: bot.OutcomeMisconfigured, logWant: `"hint":"operator hint for yibeidiao: vendor code 901`},
		{name: "clock", fault: yibeidiaotest.Fault{Code: "903"}, want: []string{"misconfigured"}, outcome: bot.OutcomeMisconfigured, logWant: `"vendor_code":"903"`},
		{name: "disabled", fault: yibeidiaotest.Fault{Code: "906"}, want: []string{"account is unavailable", "admin"}, outcome: bot.OutcomeMisconfigured, logWant: `"vendor_code":"906"`},
		{name: "vendor internal error", fault: yibeidiaotest.Fault{Code: "900"}, want: []string{"try again in a minute"}, outcome: bot.OutcomeTransient, logWant: `"vendor_code":"900"`},
		{name: "http 502", fault: yibeidiaotest.Fault{Status: 502, Body: "bad gateway"}, want: []string{"try again in a minute"}, outcome: bot.OutcomeTransient, logWant: "http status 502"},
		{name: "slow vendor", change: func(s *setup) { s.cfg.CommandTimeout = 300 * time.Millisecond },
			fault: yibeidiaotest.Fault{Hang: true}, want: []string{"took too long", "try again in a minute"}, outcome: bot.OutcomeTimeout, logWant: "request took too long"},
		{name: "bad response signature", fault: yibeidiaotest.Fault{BadSign: true}, want: []string{"could not be verified", "no link"}, outcome: bot.OutcomeBadSignature, logWant: "signature does not verify"},
		{name: "garbage", fault: yibeidiaotest.Fault{Body: "<html>captive portal</html>"}, want: []string{"could not read"}, outcome: bot.OutcomeBadResponse, logWant: "not the vendor's JSON envelope"},
		{name: "truncated body", fault: yibeidiaotest.Fault{Body: `{"code":"000","key":"K","seq":"S","ts":"2019`}, want: []string{"could not read"}, outcome: bot.OutcomeBadResponse, logWant: "not the vendor's JSON envelope"},
		{name: "seq reused", fault: yibeidiaotest.Fault{Code: "902"}, want: []string{"try again in a minute"}, outcome: bot.OutcomeTransient, logWant: `"vendor_code":"902"`},
		{name: "link on another host", fault: yibeidiaotest.Fault{Code: "000", Msg: "https://evil.example/survey-result/x.pdf?Expires=1"},
			want: []string{"not on the vendor's own secure address", "tell the bot's admin"}, outcome: bot.OutcomeUntrusted, logWant: `"link_host":"evil.example"`},
		{name: "plain http link", fault: yibeidiaotest.Fault{Code: "000", Msg: "http://127.0.0.1/survey-result/x.pdf?Expires=1"},
			want: []string{"not on the vendor's own secure address"}, outcome: bot.OutcomeUntrusted, logWant: "not https"},
		{name: "redirect", fault: yibeidiaotest.Fault{Redirect: "http://127.0.0.1:1/open/company/record/generate-temp-report"},
			want: []string{"misconfigured"}, outcome: bot.OutcomeMisconfigured, logWant: "redirect to http://127.0.0.1:1 not followed"},
		{name: "connection refused", change: func(s *setup) {
			s.vendorOpts = append(s.vendorOpts, yibeidiao.WithBaseURL("http://"+testkit.DeadAddr(s.t)+"/open/company"))
		}, want: []string{"having trouble", "try again in a minute"}, outcome: bot.OutcomeTransient, logWant: "connection refused"},
		{name: "slower than YIBEIDIAO_TIMEOUT", change: func(s *setup) {
			s.vendorOpts = append(s.vendorOpts, yibeidiao.WithHTTPClient(&http.Client{Timeout: 100 * time.Millisecond}))
		}, fault: yibeidiaotest.Fault{Delay: time.Second}, want: []string{"took too long", "try again in a minute"}, outcome: bot.OutcomeTimeout, logWant: "Client.Timeout"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var changes []func(*setup)
			if tt.change != nil {
				changes = append(changes, tt.change)
			}
			h := start(t, changes...)
			h.vendor.SetFault(tt.fault)
			env, _ := h.command(allowedUser, cmp.Or(tt.record, readyRecord))
			m := h.answer(env)
			for _, want := range tt.want {
				if !strings.Contains(m.Raw(), want) {
					t.Errorf("answer does not contain %q:\n%s", want, m.Raw())
				}
			}
			if !m.Ephemeral() || strings.Contains(m.Raw(), "/survey-result/") || len(m.Buttons()) != 0 {
				t.Errorf("failure answer must be private, without a link or button:\n%+v", m)
			}
			if err := h.stop(); err != nil {
				t.Fatal(err)
			}
			if p := len(env.Posts()); p != 1 {
				t.Errorf("%d posts, want exactly 1", p)
			}
			lines := h.auditLines("command")
			if len(lines) != 1 || !strings.Contains(lines[0], `"outcome":"`+string(tt.outcome)+`"`) || !strings.Contains(lines[0], `"delivery":"delivered"`) ||
				tt.logWant == "" || !strings.Contains(lines[0], tt.logWant) {
				t.Errorf("audit = %q, want one line with outcome %s mentioning %q", lines, tt.outcome, tt.logWant)
			}
		})
	}
}

func TestBusyWhenVendorBudgetIsUsedUp(t *testing.T) {
	t.Parallel()
	h := start(t, func(s *setup) {
		s.rps, s.burst = 0.05, 1 // one call, then one every 20s
		s.cfg.UserRate, s.cfg.UserBurst = 1.0/3600, 1
		s.cfg.CommandTimeout = time.Second
		s.cfg.AllowedUsers = append(s.cfg.AllowedUsers, "U0OTHER")
	})
	first, _ := h.command(allowedUser, readyRecord)
	if m := h.answer(first); !strings.Contains(m.Raw(), "/survey-result/") {
		t.Fatalf("first command: no link:\n%s", m.Raw())
	}
	second, _ := h.command("U0OTHER", readyRecord)
	m := h.answer(second)
	if !strings.Contains(m.Raw(), "Too many report requests from everyone") || !strings.Contains(m.Raw(), "try again in 20 seconds") {
		t.Errorf("answer = %s, want busy with 'try again in 20 seconds'", m.Raw())
	}
	if n := len(h.vendor.Calls()); n != 1 {
		t.Errorf("vendor saw %d calls, want 1", n)
	}
	// The vendor was never reached: the person got their turn back.
	h.vendor.SetFault(yibeidiaotest.Fault{})
	third, ack := h.command("U0OTHER", readyRecord)
	if strings.Contains(ack.Message().Raw(), "Your own limit") {
		t.Errorf("after busy, a turn of their own: %s", ack.Message().Raw())
	}
	h.answer(third)
}

func TestPerPersonLimit(t *testing.T) {
	t.Parallel()
	h := start(t, func(s *setup) { s.cfg.UserRate, s.cfg.UserBurst = 1.0/60, 2 })
	for range 2 {
		env, _ := h.command(allowedUser, readyRecord)
		h.answer(env)
	}
	_, ack := h.command(allowedUser, readyRecord)
	if raw := ack.Message().Raw(); !strings.Contains(raw, "Your own limit") || !strings.Contains(raw, "60 seconds") {
		t.Errorf("third command in a minute: ack = %s, want their own limit, next turn in 60 seconds", raw)
	}
	// Another person is not held up by the first.
	env, _ := h.command(groupMember, readyRecord)
	if m := h.answer(env); !strings.Contains(m.Raw(), "/survey-result/") {
		t.Errorf("other person's answer has no link:\n%s", m.Raw())
	}
	if n := len(h.vendor.Calls()); n != 3 {
		t.Errorf("vendor saw %d calls, want 3", n)
	}
}

func TestAckIsImmediateWhileVendorIsSlow(t *testing.T) {
	t.Parallel()
	h := start(t)
	h.vendor.SetFault(yibeidiaotest.Fault{Delay: 2 * time.Second})
	env, err := h.slack.SendCommand(h.ctx(), slacktest.Command{UserID: allowedUser, Text: readyRecord})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	if _, err := env.WaitAck(ctx); err != nil {
		t.Fatalf("no ack within 1s while the vendor takes 2s: %v", err)
	}
	if len(env.Posts()) != 0 {
		t.Error("answer came before the vendor did")
	}
	if m := h.answer(env); !strings.Contains(m.Raw(), "/survey-result/") {
		t.Errorf("slow vendor: answer has no link:\n%s", m.Raw())
	}
	t.Logf("ack latency with a 2s vendor: %v", env.AckLatency())
}

func TestFreshLinkButton(t *testing.T) {
	t.Parallel()
	h := start(t)
	env, _ := h.command(allowedUser, readyRecord)
	first := h.answer(env)
	button := first.Buttons()[0]

	click := h.click(slacktest.Click{UserID: allowedUser, ActionID: button.ActionID, BlockID: button.BlockID, Value: button.Value})
	fresh := h.answer(click)
	if !fresh.ReplaceOriginal || !fresh.Ephemeral() || !fresh.NoUnfurl() {
		t.Errorf("fresh link must replace the message privately, previews off: %+v", fresh)
	}
	if !strings.Contains(fresh.Raw(), "/survey-result/") || fresh.Raw() == first.Raw() || len(fresh.Buttons()) != 1 {
		t.Errorf("fresh message should carry a new link and the button again:\n%s", fresh.Raw())
	}

	// A stranger's press (say, someone removed from the allowlist) is refused
	// privately, without a vendor call.
	calls := len(h.vendor.Calls())
	other := h.click(slacktest.Click{UserID: stranger, ActionID: button.ActionID, BlockID: button.BlockID, Value: button.Value})
	refusal := h.answer(other)
	if refusal.ReplaceOriginal || !strings.Contains(refusal.Raw(), "not allowed") || !refusal.Ephemeral() {
		t.Errorf("stranger's click: %+v, want a private refusal that replaces nothing", refusal)
	}
	// A forged value never reaches the vendor either.
	forged := h.click(slacktest.Click{UserID: allowedUser, ActionID: button.ActionID, Value: "../balance"})
	if m := h.answer(forged); !strings.Contains(m.Raw(), "carries no record number") {
		t.Errorf("forged click value: %s", m.Raw())
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if n := len(h.vendor.Calls()); n != calls {
		t.Errorf("vendor calls went from %d to %d after refused clicks", calls, n)
	}
	for _, e := range []*slacktest.Envelope{click, other, forged} {
		if e.Acks() != 1 || len(e.Posts()) != 1 {
			t.Errorf("click %s: %d acks, %d posts; want 1 and 1", e.ID, e.Acks(), len(e.Posts()))
		}
	}
	if lines := h.auditLines("click"); len(lines) != 3 {
		t.Errorf("%d click audit lines, want 3", len(lines))
	}
}

func TestOtherEnvelopesAreAcked(t *testing.T) {
	t.Parallel()
	h := start(t)
	ev, err := h.slack.SendEvent(h.ctx())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ev.WaitAck(h.ctx()); err != nil {
		t.Errorf("events_api envelope: %v", err)
	}
	// A slash command slack-go cannot parse still gets an apology, not
	// dispatch_failed.
	bad, err := h.slack.SendRaw(h.ctx(), "slash_commands", json.RawMessage(`{"user_id":42,"text":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	ack, err := bad.WaitAck(h.ctx())
	if err != nil {
		t.Fatalf("unparseable command: %v", err)
	}
	if !strings.Contains(ack.Message().Raw(), "could not read") {
		t.Errorf("unparseable command ack = %s", ack.Payload)
	}
	// A click on something other than our button is acked and ignored.
	other := h.click(slacktest.Click{UserID: allowedUser, ActionID: "something_else", Value: "x"})
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if len(other.Posts()) != 0 {
		t.Errorf("foreign click got %d posts, want none", len(other.Posts()))
	}
	if lines := h.auditLines("unreadable"); len(lines) != 1 || !strings.Contains(lines[0], `"delivery_id":"`+bad.ID+`"`) {
		t.Errorf("unreadable command's audit lines: %q", lines)
	}
}

type panicking struct{}

func (panicking) GenerateTempReport(context.Context, string) (*yibeidiao.TempReport, error) {
	panic("bug in the vendor client")
}

func TestPanicIsAnsweredWithAnApology(t *testing.T) {
	t.Parallel()
	h := start(t, func(s *setup) { s.generator = panicking{} })
	env, _ := h.command(allowedUser, readyRecord)
	if m := h.answer(env); !strings.Contains(m.Raw(), "something went wrong") {
		t.Errorf("answer after a panic: %s", m.Raw())
	}
	// The bot still serves.
	_, ack := h.command(allowedUser, "help")
	if !strings.Contains(ack.Message().Raw(), "Usage") {
		t.Errorf("after a panic, help = %s", ack.Payload)
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.logs.String(), "bug in the vendor client") {
		t.Error("the panic was not logged")
	}
	if n := len(env.Posts()); n != 1 {
		t.Errorf("the panicking command got %d posts, want 1", n)
	}
}

// TestSimultaneousCommands sends 60 commands at once from 60 people with a
// slow vendor: every one is acked and answered exactly once, and the vendor
// never sees more than its limit.
func TestSimultaneousCommands(t *testing.T) {
	t.Parallel()
	const n, rps, burst = 60, 20, 5
	users, cmds := slacktest.Crowd(n, readyRecord)
	h := start(t, func(s *setup) {
		s.cfg.AllowedUsers = users
		s.rps, s.burst = rps, burst
	})
	h.vendor.SetFault(yibeidiaotest.Fault{Delay: 200 * time.Millisecond})
	envs, err := h.slack.SendCommands(h.ctx(), cmds)
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range envs {
		if _, err := env.WaitAck(h.ctx()); err != nil {
			t.Fatal(err)
		}
		if m := h.answer(env); !strings.Contains(m.Raw(), "/survey-result/") {
			t.Errorf("an answer has no link:\n%s", m.Raw())
		}
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	for _, env := range envs {
		if env.Acks() != 1 || len(env.Posts()) != 1 {
			t.Errorf("envelope %s: %d acks and %d posts, want 1 and 1", env.ID, env.Acks(), len(env.Posts()))
		}
	}
	calls := h.vendor.Calls()
	if len(calls) != n {
		t.Errorf("vendor saw %d calls, want %d", len(calls), n)
	}
	assertLimitHeld(t, calls, rps, burst)
	if lines := h.auditLines("command"); len(lines) != n {
		t.Errorf("%d audit lines for %d commands", len(lines), n)
	}
}

// assertLimitHeld checks what the vendor saw against a token bucket of rate
// rps and size burst. Such a bucket grants at most burst + rps·T turns in any
// window of T, and needs at least (len(calls)-burst)/rps to grant them all.
// The vendor sees a call a little after its turn, later under load (timer
// and scheduler lateness, the race detector); lateness packs calls granted
// over (1s + lateness) into one second and shortens the whole span by at
// most the lateness. Allowing 1s of it fails no correct run on a busy
// 2-core machine, and still fails a limiter that lets calls through early.
func assertLimitHeld(t *testing.T, calls []yibeidiaotest.Call, rps, burst int) {
	t.Helper()
	const lateness = time.Second
	if most, allowed := yibeidiaotest.BusiestSecond(calls), burst+int(float64(rps)*(1+lateness.Seconds())); most > allowed {
		t.Errorf("vendor saw %d calls in one second; a bucket of %d/s, burst %d, allows %d with %v of lateness", most, rps, burst, allowed, lateness)
	}
	if len(calls) <= burst {
		return
	}
	span := calls[len(calls)-1].Time.Sub(calls[0].Time)
	if least := time.Duration(float64(len(calls)-burst)/float64(rps)*float64(time.Second)) - lateness; span < least {
		t.Errorf("vendor saw %d calls within %v; a bucket of %d/s, burst %d, needs at least %v (less %v of lateness)", len(calls), span, rps, burst, least+lateness, lateness)
	}
}

// TestBurstFromOnePersonIsServedInArrivalOrder: a person's commands are
// decided in the order Slack sent them, so when their own limit runs out,
// the earliest get links and the latest are refused.
func TestBurstFromOnePersonIsServedInArrivalOrder(t *testing.T) {
	t.Parallel()
	h := start(t)
	cmds := make([]slacktest.Command, 30)
	for i := range cmds {
		cmds[i] = slacktest.Command{UserID: allowedUser, Text: readyRecord}
	}
	envs, err := h.slack.SendCommands(h.ctx(), cmds)
	if err != nil {
		t.Fatal(err)
	}
	var order strings.Builder
	for _, env := range envs {
		ack, err := env.WaitAck(h.ctx())
		if err != nil {
			t.Fatal(err)
		}
		switch raw := ack.Message().Raw(); {
		case strings.Contains(raw, "Getting the temporary report"):
			if m := h.answer(env); !strings.Contains(m.Raw(), "/survey-result/") {
				t.Errorf("a command that was let through got no link:\n%s", m.Raw())
			}
			order.WriteByte('L')
		case strings.Contains(raw, "Your own limit"):
			order.WriteByte('r')
		default:
			t.Fatalf("unexpected ack: %s", raw)
		}
	}
	// Turns come back at 20 a minute: a slow run may earn one or two more.
	got := order.String()
	links := strings.Count(got, "L")
	if want := strings.Repeat("L", links) + strings.Repeat("r", len(got)-links); got != want || links < bot.DefaultUserBurst || links > bot.DefaultUserBurst+2 {
		t.Errorf("by arrival order: %s; want the first %d (or a turn or two more) to get links, the rest refused", got, bot.DefaultUserBurst)
	}
}

// TestTenInARow: a person checking a batch of candidates, one record after
// another, is served every time with the default limit.
func TestTenInARow(t *testing.T) {
	t.Parallel()
	h := start(t)
	for i := range 10 {
		env, ack := h.command(allowedUser, readyRecord)
		if !strings.Contains(ack.Message().Raw(), "Getting the temporary report") {
			t.Fatalf("command %d of 10 refused: %s", i+1, ack.Message().Raw())
		}
		if m := h.answer(env); !strings.Contains(m.Raw(), "/survey-result/") {
			t.Fatalf("command %d of 10: no link:\n%s", i+1, m.Raw())
		}
	}
}

// TestRedeliveryIsAckedAgainNotServedTwice: Slack resends an envelope when
// it thinks the ack was lost. The bot acks it again with the same payload
// and neither calls the vendor nor answers a second time.
func TestRedeliveryIsAckedAgainNotServedTwice(t *testing.T) {
	t.Parallel()
	h := start(t)
	env, first := h.command(allowedUser, readyRecord)
	h.answer(env)
	refused, refusal := h.command(stranger, readyRecord)
	click := h.click(slacktest.Click{UserID: allowedUser, ActionID: "fresh_link", Value: readyRecord})
	h.answer(click)
	unreadable, err := h.slack.SendRaw(h.ctx(), "slash_commands", json.RawMessage(`{"user_id":42}`))
	if err != nil {
		t.Fatal(err)
	}
	apology, err := unreadable.WaitAck(h.ctx())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []*slacktest.Envelope{env, refused, click, unreadable} {
		if err := h.slack.Redeliver(h.ctx(), e); err != nil {
			t.Fatal(err)
		}
		if _, err := e.WaitAcks(h.ctx(), 2); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	for e, want := range map[*slacktest.Envelope]slacktest.Ack{env: first, refused: refusal, unreadable: apology} {
		if acks := e.Acks(); acks != 2 {
			t.Errorf("%s: %d acks, want 2", e.ID, acks)
		}
		if again := e.AcksSoFar()[1]; string(again.Payload) != string(want.Payload) {
			t.Errorf("%s: second ack %s, want the first one again: %s", e.ID, again.Payload, want.Payload)
		}
	}
	if n := len(h.vendor.Calls()); n != 2 {
		t.Errorf("vendor saw %d calls, want 2 (the command and the click, once each)", n)
	}
	for _, e := range []*slacktest.Envelope{env, click} {
		if n := len(e.Posts()); n != 1 {
			t.Errorf("%s: %d answers, want 1", e.ID, n)
		}
	}
	if n := len(h.auditLines("command")) + len(h.auditLines("click")) + len(h.auditLines("unreadable")); n != 4 {
		t.Errorf("%d audit lines for 4 envelopes delivered twice each, want 4", n)
	}
}

// TestAuditTellsHowEachAnswerLeft: an answer in an ack is only queued; a
// post is delivered when Slack accepted it, failed when not.
func TestAuditTellsHowEachAnswerLeft(t *testing.T) {
	t.Parallel()
	h := start(t)
	helped, _ := h.command(allowedUser, "help")
	linked, _ := h.command(allowedUser, readyRecord)
	h.answer(linked)
	h.slack.FailResponsePosts(http.StatusNotFound, http.StatusInternalServerError)
	lost, _ := h.command(groupMember, readyRecord)
	if _, err := lost.WaitTries(h.ctx(), 2); err != nil {
		t.Fatal(err)
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	lines := h.auditLines("command")
	if len(lines) != 3 {
		t.Fatalf("%d audit lines for 3 commands: %q", len(lines), lines)
	}
	for _, tt := range []struct {
		env  *slacktest.Envelope
		want []string
	}{
		{helped, []string{`"outcome":"help"`, `"delivery":"ack_queued"`, `"level":"INFO"`}},
		{linked, []string{`"outcome":"link"`, `"delivery":"delivered"`, `"level":"INFO"`}},
		{lost, []string{`"outcome":"link"`, `"delivery":"failed"`, `"level":"ERROR"`, `"user":"` + groupMember + `"`, `"delivery_error":"bot: posting answer failed twice`}},
	} {
		line := auditLineOf(lines, tt.env)
		for _, want := range tt.want {
			if !strings.Contains(line, want) {
				t.Errorf("audit line of %s lacks %s: %s", tt.env.ID, want, line)
			}
		}
	}
}

func auditLineOf(lines []string, env *slacktest.Envelope) string {
	for _, l := range lines {
		if strings.Contains(l, `"delivery_id":"`+env.ID+`"`) {
			return l
		}
	}
	return ""
}

// TestVendorFailuresDoNotGiveTurnsBack: a person's limit holds whatever
// the vendor does: turns spent on a failing or hanging vendor are not given
// back (only a vendor never reached gives a turn back, see
// TestBusyWhenVendorBudgetIsUsedUp).
func TestVendorFailuresDoNotGiveTurnsBack(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		fault   yibeidiaotest.Fault
		timeout time.Duration
		want    string
	}{
		{"failing", yibeidiaotest.Fault{Code: "900"}, 5 * time.Second, "having trouble"},
		{"hanging", yibeidiaotest.Fault{Hang: true}, 300 * time.Millisecond, "took too long"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, func(s *setup) {
				s.cfg.UserRate, s.cfg.UserBurst = 1.0/60, 2
				s.cfg.CommandTimeout = tt.timeout
			})
			h.vendor.SetFault(tt.fault)
			for i := range 2 {
				env, _ := h.command(allowedUser, readyRecord)
				if m := h.answer(env); !strings.Contains(m.Raw(), tt.want) {
					t.Fatalf("command %d: %s", i+1, m.Raw())
				}
			}
			calls := len(h.vendor.Calls())
			for range 5 {
				if _, ack := h.command(allowedUser, readyRecord); !strings.Contains(ack.Message().Raw(), "Your own limit") {
					t.Errorf("after 2 turns on a %s vendor: %s; want their own limit", tt.name, ack.Message().Raw())
				}
			}
			if more := len(h.vendor.Calls()) - calls; more != 0 {
				t.Errorf("a person over their limit cost %d more vendor calls", more)
			}
		})
	}
}

func TestReconnectAfterDisconnect(t *testing.T) {
	t.Parallel()
	h := start(t)
	for _, reason := range []string{"warning", "refresh_requested", "link_disabled"} {
		opened := h.slack.ConnectionsOpened()
		if err := h.slack.Disconnect(h.ctx(), reason); err != nil {
			t.Fatal(err)
		}
		if err := h.slack.WaitReconnected(h.ctx(), opened); err != nil {
			t.Fatal(err)
		}
		env, _ := h.command(allowedUser, readyRecord)
		if m := h.answer(env); !strings.Contains(m.Raw(), "/survey-result/") {
			t.Errorf("after disconnect %q: no link:\n%s", reason, m.Raw())
		}
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.logs.String(), "reconnecting to Slack") {
		t.Error("the reconnects were not logged")
	}
}

func TestShutdownDeliversAnswersInFlight(t *testing.T) {
	t.Parallel()
	h := start(t)
	h.vendor.SetFault(yibeidiaotest.Fault{Delay: time.Second})
	env, _ := h.command(allowedUser, readyRecord)
	if err := h.stop(); err != nil {
		t.Fatalf("Run after cancel: %v, want nil", err)
	}
	posts := env.Posts()
	if len(posts) != 1 || !strings.Contains(posts[0].Message.Raw(), "/survey-result/") {
		t.Errorf("in-flight command's posts after shutdown: %+v, want its link", posts)
	}
}

func TestShutdownCancelsWorkPastTheDrainTime(t *testing.T) {
	t.Parallel()
	h := start(t, func(s *setup) { s.cfg.DrainTimeout = 200 * time.Millisecond })
	h.vendor.SetFault(yibeidiaotest.Fault{Hang: true})
	env, _ := h.command(allowedUser, readyRecord)
	if err := h.stop(); err != nil { // it returns, though the vendor never answers
		t.Fatal(err)
	}
	posts := env.Posts()
	if len(posts) != 1 || !strings.Contains(posts[0].Message.Raw(), "restarting") {
		t.Errorf("posts = %+v, want one 'restarting, run it again' answer", posts)
	}
}

func TestAnswerPostIsRetriedOnce(t *testing.T) {
	t.Parallel()
	h := start(t)
	for _, status := range []int{http.StatusNotFound, http.StatusInternalServerError} {
		h.slack.FailResponsePosts(status)
		env, _ := h.command(allowedUser, readyRecord)
		if m := h.answer(env); !strings.Contains(m.Raw(), "/survey-result/") {
			t.Errorf("after a first post answered %d: %s", status, m.Raw())
		}
		if n := len(env.Posts()); n != 2 {
			t.Errorf("after a first post answered %d: %d tries, want 2", status, n)
		}
	}
}

func TestUserGroupsAreRefreshed(t *testing.T) {
	t.Parallel()
	h := start(t, func(s *setup) { s.cfg.GroupRefresh = 20 * time.Millisecond })
	h.slack.SetUserGroup(hrGroup, groupMember, "U0NEWHIRE")
	// A read that begins after the change, then one more: the first one's
	// members are in use.
	if err := h.slack.WaitUserGroupReads(h.ctx(), h.slack.UserGroupReads()+2); err != nil {
		t.Fatal(err)
	}
	if _, ack := h.command("U0NEWHIRE", "help"); !strings.Contains(ack.Message().Raw(), "Usage") {
		t.Errorf("a new group member after a refresh: %s", ack.Message().Raw())
	}
	h.slack.SetUserGroup(hrGroup, "U0NEWHIRE")
	if err := h.slack.WaitUserGroupReads(h.ctx(), h.slack.UserGroupReads()+2); err != nil {
		t.Fatal(err)
	}
	if _, ack := h.command(groupMember, readyRecord); !strings.Contains(ack.Message().Raw(), "not allowed") {
		t.Errorf("a member removed from the group: %s", ack.Message().Raw())
	}
}

// TestUnreadableGroupFailsClosed: while Slack cannot say who is in a group,
// its last known members keep access for GroupMaxStale, then are told their
// access cannot be confirmed, until a read succeeds. Each change is logged
// once, however many refreshes fail.
func TestUnreadableGroupFailsClosed(t *testing.T) {
	t.Parallel()
	h := start(t, func(s *setup) {
		s.cfg.GroupRefresh = 20 * time.Millisecond
		s.cfg.GroupMaxStale = 300 * time.Millisecond
	})
	h.slack.FailUserGroups(true)
	if err := h.logs.WaitFor(h.ctx(), "keeping its last known members"); err != nil {
		t.Fatal(err)
	}
	if _, ack := h.command(groupMember, "help"); !strings.Contains(ack.Message().Raw(), "Usage") {
		t.Errorf("a group member while the group has failed briefly: %s", ack.Message().Raw())
	}
	if err := h.logs.WaitFor(h.ctx(), "its members are denied until it can be read"); err != nil {
		t.Fatal(err)
	}
	reads := h.slack.UserGroupReads()
	if err := h.slack.WaitUserGroupReads(h.ctx(), reads+5); err != nil {
		t.Fatal(err)
	}
	refused, ack := h.command(groupMember, readyRecord)
	if raw := ack.Message().Raw(); !strings.Contains(raw, "cannot confirm") || strings.Contains(raw, "not allowed") {
		t.Errorf("a group member while the group is unreadable: %s; want 'cannot confirm', not 'not allowed'", raw)
	}
	if env, _ := h.command(allowedUser, readyRecord); !strings.Contains(h.answer(env).Raw(), "/survey-result/") {
		t.Error("a person in the allowed user IDs was refused while a group is unreadable")
	}
	if health := h.bot.Health(); len(health.StaleGroups) != 1 || health.StaleGroups[0] != hrGroup {
		t.Errorf("health = %+v, want %s stale", health, hrGroup)
	}

	h.slack.FailUserGroups(false)
	if err := h.logs.WaitFor(h.ctx(), "can be read again"); err != nil {
		t.Fatal(err)
	}
	if env, _ := h.command(groupMember, readyRecord); !strings.Contains(h.answer(env).Raw(), "/survey-result/") {
		t.Error("a group member after the group can be read again got no link")
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	logs := h.logs.String()
	for _, line := range []string{"keeping its last known members", "its members are denied until it can be read", "can be read again"} {
		if n := strings.Count(logs, line); n != 1 {
			t.Errorf("%q logged %d times, want once", line, n)
		}
	}
	if lines := h.auditLines("command"); !strings.Contains(auditLineOf(lines, refused), `"outcome":"unconfirmed"`) {
		t.Errorf("audit lines: %q", lines)
	}
}

// TestConnectionsOpenFailsThenRecovers: Slack's apps.connections.open fails
// a few times; the bot keeps trying, logs it, reports unhealthy meanwhile,
// and serves again once Slack recovers.
func TestConnectionsOpenFailsThenRecovers(t *testing.T) {
	t.Parallel()
	h := start(t)
	h.slack.FailConnectionsOpen(-1, http.StatusInternalServerError, "")
	opened := h.slack.ConnectionsOpened()
	if err := h.slack.DropConnection(h.ctx()); err != nil {
		t.Fatal(err)
	}
	if err := h.logs.WaitFor(h.ctx(), "could not connect to Slack; retrying"); err != nil {
		t.Fatal(err)
	}
	if health := h.bot.Health(); health.Ready || !strings.Contains(health.Status, "connect") {
		t.Errorf("health while Slack fails = %+v; want unhealthy, saying why", health)
	}
	h.slack.FailConnectionsOpen(0, 0, "")
	if err := h.slack.WaitReconnected(h.ctx(), opened); err != nil {
		t.Fatal(err)
	}
	env, _ := h.command(allowedUser, readyRecord)
	if m := h.answer(env); !strings.Contains(m.Raw(), "/survey-result/") {
		t.Errorf("after recovery: %s", m.Raw())
	}
	if health := h.bot.Health(); !health.Ready {
		t.Errorf("health after recovery and a served command = %+v", health)
	}
}

// TestVendorHangsDuringABurst: every command still gets exactly one answer,
// in its own time budget.
func TestVendorHangsDuringABurst(t *testing.T) {
	t.Parallel()
	const n = 30
	users, cmds := slacktest.Crowd(n, readyRecord)
	h := start(t, func(s *setup) {
		s.cfg.AllowedUsers = users
		s.cfg.CommandTimeout = 500 * time.Millisecond
	})
	h.vendor.SetFault(yibeidiaotest.Fault{Hang: true})
	envs, err := h.slack.SendCommands(h.ctx(), cmds)
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range envs {
		if m := h.answer(env); !strings.Contains(m.Raw(), "took too long") {
			t.Errorf("hung vendor: answer %s", m.Raw())
		}
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	for _, env := range envs {
		if env.Acks() != 1 || len(env.Posts()) != 1 {
			t.Errorf("%s: %d acks, %d posts; want 1 and 1", env.ID, env.Acks(), len(env.Posts()))
		}
	}
}

// TestSocketDroppedMidBurst: the socket dies without a disconnect message
// while commands are in flight. Acked commands still get their answers (they
// go over HTTP), and commands after the reconnect are served.
func TestSocketDroppedMidBurst(t *testing.T) {
	t.Parallel()
	const n = 30
	users, cmds := slacktest.Crowd(n, readyRecord)
	h := start(t, func(s *setup) { s.cfg.AllowedUsers = users })
	h.vendor.SetFault(yibeidiaotest.Fault{Delay: 300 * time.Millisecond})
	before, err := h.slack.SendCommands(h.ctx(), cmds)
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range before {
		if _, err := env.WaitAck(h.ctx()); err != nil {
			t.Fatal(err)
		}
	}
	opened := h.slack.ConnectionsOpened()
	if err := h.slack.DropConnection(h.ctx()); err != nil {
		t.Fatal(err)
	}
	if err := h.slack.WaitReconnected(h.ctx(), opened); err != nil {
		t.Fatal(err)
	}
	after, err := h.slack.SendCommands(h.ctx(), cmds[:10])
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range append(before, after...) {
		if m := h.answer(env); !strings.Contains(m.Raw(), "/survey-result/") {
			t.Errorf("%s: %s", env.ID, m.Raw())
		}
		if _, err := env.WaitAck(h.ctx()); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	for _, env := range append(before, after...) {
		if env.Acks() != 1 || len(env.Posts()) != 1 {
			t.Errorf("%s: %d acks, %d posts; want 1 and 1", env.ID, env.Acks(), len(env.Posts()))
		}
	}
}

// TestUnsignedVendorWordsAreNotShown: a failure envelope without the
// vendor's signature (anyone on a plain-http path could write it) is
// answered with fixed words and its code, never its text; a signed one
// is shown with its links neutralised. Invisible characters never reach
// the log.
func TestUnsignedVendorWordsAreNotShown(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{"en", "zh"} {
		h := start(t, func(s *setup) { s.cfg.Language = lang })
		h.vendor.SetFault(yibeidiaotest.Fault{Body: `{"code":"1001","msg":"记录异常\u200b，请登录 www.yibeidiao-report.com/login 重新验证\u202e"}`})
		env, _ := h.command(allowedUser, readyRecord)
		m := h.answer(env)
		raw := m.Raw() + m.Text
		if strings.Contains(raw, "yibeidiao-report") || strings.Contains(raw, "请登录") || !strings.Contains(raw, "1001") {
			t.Errorf("%s: an unsigned refusal shows %s", lang, raw)
		}
		h.vendor.SetFault(yibeidiaotest.Fault{Code: "1001", Msg: "请登录 www.yibeidiao-report.com/login 重新验证"})
		env, _ = h.command(allowedUser, readyRecord)
		m = h.answer(env)
		raw = m.Raw() + m.Text
		if strings.Contains(raw, "yibeidiao-report") || !strings.Contains(raw, "请登录") {
			t.Errorf("%s: a signed refusal with a link shows %s", lang, raw)
		}
		if err := h.stop(); err != nil {
			t.Fatal(err)
		}
		if logs := h.logs.String(); strings.Contains(logs, "\u200b") || strings.Contains(logs, "\u202e") || strings.Contains(logs, "yibeidiao-report") {
			t.Errorf("%s: the log carries invisible characters or the vendor's link:\n%s", lang, logs)
		}
	}
}

// TestVendorWordsThroughSlack: what a person reads of the vendor's own
// message, through the fake Slack, in both languages.
func TestVendorWordsThroughSlack(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		lang    string
		msg     any
		want    []string
		notWant []string
	}{
		{"zh", "背调未在进行中。", []string{"临时报告：背调未在进行中（错误码 1099）。", "只有进行中"}, []string{"。（"}},
		{"zh", "", []string{"临时报告：未返回可显示的原因（错误码 1099）。"}, []string{"：（"}},
		{"zh", map[string]any{"reason": "x"}, []string{"未返回可显示的原因"}, []string{"reason"}},
		{"zh", "请访问 https://evil.example/x 登录", []string{"请访问【链接已隐藏】登录"}, []string{"evil.example", "link removed", " 【", "】 "}},
		{"en", "log in at https://evil.example/x first", []string{"log in at [link removed] first"}, []string{"evil.example"}},
		{"zh", "背调记录不存在", []string{"背调记录不存在（错误码 1099）"}, []string{"只有进行中"}},
		{"en", "record *not* _ready_", []string{"record *not* _ready_"}, nil},
	} {
		h := start(t, func(s *setup) { s.cfg.Language = tt.lang })
		h.vendor.SetFault(yibeidiaotest.Fault{Code: "1099", Msg: tt.msg})
		env, _ := h.command(allowedUser, readyRecord)
		m := h.answer(env)
		for _, want := range tt.want {
			if !strings.Contains(m.Raw(), want) {
				t.Errorf("%s %v: %s lacks %q", tt.lang, tt.msg, m.Raw(), want)
			}
		}
		for _, bad := range tt.notWant {
			if strings.Contains(m.Raw()+m.Text, bad) {
				t.Errorf("%s %v: %s shows %q", tt.lang, tt.msg, m.Raw(), bad)
			}
		}
		if strings.Contains(m.Text, "*not*") {
			t.Errorf("the fallback keeps markers Slack would format: %q", m.Text)
		}
	}
}

// TestFallbackTextIsEscaped: a link on the trusted host whose query
// carries Slack markup does not make a mention or a link of its own in the
// message's plain fallback.
func TestFallbackTextIsEscaped(t *testing.T) {
	t.Parallel()
	h := start(t)
	link := "https://" + h.vendor.LinkHost + "/survey-result/x.pdf?Expires=1&a=<!channel>&b=<@U0ALLOWED>&c=<https://evil.example|x>"
	h.vendor.SetFault(yibeidiaotest.Fault{Code: "000", Msg: link})
	env, _ := h.command(allowedUser, readyRecord)
	m := h.answer(env)
	if !strings.Contains(m.Text, "/survey-result/") {
		t.Fatalf("no link in the fallback: %q", m.Text)
	}
	for _, bad := range []string{"<!channel>", "<@U0ALLOWED>", "<https://evil.example"} {
		if strings.Contains(m.Text, bad) {
			t.Errorf("the fallback text carries %q unescaped: %q", bad, m.Text)
		}
	}
}

// TestNoVendorTurnWithoutAResponseURL: a command or click that has no
// usable response URL cannot receive a link, so no vendor call is made; a
// command is told in its ack.
func TestNoVendorTurnWithoutAResponseURL(t *testing.T) {
	t.Parallel()
	h := start(t)
	payload := fmt.Sprintf(`{"command":"/tempreport","text":%q,"user_id":%q,"team_id":"T1","channel_id":"C1","response_url":"not a url"}`, readyRecord, allowedUser)
	env, err := h.slack.SendRaw(h.ctx(), "slash_commands", json.RawMessage(payload))
	if err != nil {
		t.Fatal(err)
	}
	ack, err := env.WaitAck(h.ctx())
	if err != nil || !strings.Contains(ack.Message().Raw(), "without a reply address from Slack") {
		t.Errorf("a command without a response URL: ack %s, %v", ack.Payload, err)
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if n := len(h.vendor.Calls()); n != 0 {
		t.Errorf("%d vendor calls for a command whose answer could not be delivered", n)
	}
}

// TestButtonWithoutARecord: a fresh-link button whose value is "help" or
// empty says the button carries no record number, not the usage text.
func TestButtonWithoutARecord(t *testing.T) {
	t.Parallel()
	h := start(t)
	for _, value := range []string{"help", "", "帮助"} {
		m := h.answer(h.click(slacktest.Click{UserID: allowedUser, ActionID: "fresh_link", Value: value}))
		if !strings.Contains(m.Raw(), "carries no record number") || strings.Contains(m.Raw(), "Usage") {
			t.Errorf("a button with %q: %s", value, m.Raw())
		}
	}
}
