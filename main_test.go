package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hr-tools/tempreport/bot"
	"github.com/hr-tools/tempreport/bot/slacktest"
	"github.com/hr-tools/tempreport/internal/fixture"
	"github.com/hr-tools/tempreport/internal/testkit"
	"github.com/hr-tools/tempreport/replicas"
	"github.com/hr-tools/tempreport/yibeidiao"
	"github.com/hr-tools/tempreport/yibeidiao/yibeidiaotest"
)

const readyRecord = fixture.ReadyRecord

// TestMain lets a test run the real program in a child process: the test
// binary re-executed with TEMPREPORT_TEST_RUN_MAIN=1 is tempreport.
func TestMain(m *testing.M) {
	if os.Getenv("TEMPREPORT_TEST_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// env is a getenv over a map.
type env map[string]string

func (e env) get(name string) string { return e[name] }

// fakesFor starts a fake Slack and a fake vendor and returns an environment
// that points the program at them.
func fakesFor(t *testing.T, vendorOpts ...yibeidiaotest.Option) (*slacktest.Server, *yibeidiaotest.Server, env) {
	t.Helper()
	f := fixture.Start(vendorOpts...)
	t.Cleanup(f.Close)
	f.Slack.SetUserGroup("S0HRTEAM", "U0GROUPIE", "U0OTHER")
	e := env(f.Env("U0ALLOWED", "U0SECOND"))
	e["SLACK_API_URL"] = strings.TrimSuffix(e["SLACK_API_URL"], "/") // the program adds it
	e["ALLOWED_USERGROUP_IDS"] = "S0HRTEAM"
	e["YIBEIDIAO_RPS"] = "5"
	e["LOG_LEVEL"], e["LOG_FORMAT"] = "debug", "json"
	return f.Slack, f.Vendor, e
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	_, _, e := fakesFor(t)
	delete(e, "YIBEIDIAO_BASE_URL")
	delete(e, "YIBEIDIAO_RPS")
	c, err := loadConfig(e.get)
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	settings := c.bot.WithDefaults()
	if !strings.HasSuffix(settings.APIURL, "/api/") || settings.Command != "/tempreport" || c.vendor.baseURL != "http://api.yibeidiao.com/open/company" ||
		c.vendor.rps != 1 || c.vendor.burst != 3 || c.vendor.timeout != 10*time.Second || !c.vendor.verify ||
		len(c.bot.AllowedUsers) != 2 || c.bot.AllowedUsers[1] != "U0SECOND" || len(c.bot.AllowedGroups) != 1 || c.healthAddr != "" ||
		settings.Language != "en" || c.redisURL != "" || c.slack.httpMode() {
		t.Errorf("loadConfig = %+v, want the documented defaults", c)
	}
}

// TestConfigNeverEchoesASecret: a value that carries a user and password,
// or looks like a token, is never quoted back, in any shape.
func TestConfigNeverEchoesASecret(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, value string }{
		{"YIBEIDIAO_BASE_URL", "proxyuser:PROXYSECRET42@127.0.0.1:9/open/company"},
		{"YIBEIDIAO_BASE_URL", "https:/proxyuser:PROXYSECRET42@127.0.0.1/open/company"},
		{"YIBEIDIAO_BASE_URL", "http//proxyuser:PROXYSECRET42@127.0.0.1/open/company"},
		{"YIBEIDIAO_BASE_URL", "https:///proxyuser:PROXYSECRET42@127.0.0.1/open/company"},
		{"SLACK_API_URL", "proxyuser:PROXYSECRET42@slack.example/api/"},
		{"ALLOWED_USER_IDS", "xoxb-4242-PROXYSECRET42"},
		{"ALLOWED_USERGROUP_IDS", "xapp-1-A0-PROXYSECRET42"},
		{"YIBEIDIAO_LINK_HOSTS", "u:PROXYSECRET42@res.yibeidiao.com"},
		{"REDIS_URL", "redis//:PROXYSECRET42@redis:6379"},
		{"HEALTH_ADDR", "xoxp-PROXYSECRET42"},
		{"BOT_LANGUAGE", "xoxb-PROXYSECRET42"},
	} {
		_, _, e := fakesFor(t)
		e[tt.name] = tt.value
		_, err := loadConfig(e.get)
		if err == nil || !strings.Contains(err.Error(), tt.name+":") {
			t.Errorf("%s=%q: loadConfig = %v, want it refused naming %s", tt.name, tt.value, err, tt.name)
			continue
		}
		if strings.Contains(err.Error(), "PROXYSECRET42") {
			t.Errorf("%s=%q: the error echoes the secret: %v", tt.name, tt.value, err)
		}
		// And the program's own last line, as main prints it.
		var out bytes.Buffer
		fmt.Fprintln(newScrubber(&out), "tempreport:", tt.value)
		if strings.Contains(out.String(), "PROXYSECRET42") {
			t.Errorf("the scrubber lets %q through: %s", tt.value, out.String())
		}
	}
}

func TestConfigReportsEveryProblemWithoutSecrets(t *testing.T) {
	t.Parallel()
	e := env{
		"SLACK_APP_TOKEN":           "xoxb-app-SECRETVALUE1",
		"SLACK_BOT_TOKEN":           "SECRETVALUE2",
		"SLACK_API_URL":             "slack.com/api",
		"SLASH_COMMAND":             "tempreport",
		"ALLOWED_USER_IDS":          "alice",
		"YIBEIDIAO_BASE_URL":        "ftp://x",
		"YIBEIDIAO_KEY":             "SECRETVALUE3",
		"YIBEIDIAO_TOKEN":           `"SECRETVALUE4SECRETVALUE4SECRETVA"`,
		"USER_RATE_PER_MINUTE":      "Inf",
		"USER_BURST":                "-3",
		"YIBEIDIAO_RPS":             "NaN",
		"YIBEIDIAO_BURST":           "0",
		"YIBEIDIAO_TIMEOUT":         "10",
		"YIBEIDIAO_VERIFY_RESPONSE": "maybe",
		"COMMAND_TIMEOUT":           "-1s",
		"HEALTH_ADDR":               ":8080 # health",
		"METRICS_ADDR":              "9091",
		"LOG_LEVEL":                 "loud",
		"LOG_FORMAT":                "xml",
	}
	_, err := loadConfig(e.get)
	if err == nil {
		t.Fatal("loadConfig accepted a broken configuration")
	}
	msg := err.Error()
	for name := range e {
		if !strings.Contains(msg, name+":") {
			t.Errorf("the error does not name %s:\n%s", name, msg)
		}
	}
	// One problem a line, in the order of .env.example, the same every run.
	order := envExampleNames(t)
	last := -1
	for _, line := range strings.Split(msg, "\n")[1:] {
		name, _, _ := strings.Cut(line, ":")
		i := slices.Index(order, name)
		if i < last {
			t.Errorf("%s is reported after a variable .env.example lists later:\n%s", name, msg)
		}
		last = i
	}
	if strings.Contains(msg, "SECRETVALUE") {
		t.Errorf("the error shows a secret:\n%s", msg)
	}
	if _, err := loadConfig(env{}.get); err == nil || !strings.Contains(err.Error(), "no one is allowed") {
		t.Errorf("empty configuration: %v, want it to say no one is allowed", err)
	}
}

// TestConfigRefusesAbsurdSettings: each value is refused at start, naming
// its variable, rather than starting a bot that misbehaves later.
func TestConfigRefusesAbsurdSettings(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, value string }{
		{"YIBEIDIAO_RPS", "NaN"},
		{"YIBEIDIAO_RPS", "+Inf"},
		{"YIBEIDIAO_RPS", "1e-300"}, // the fourth call would wait millions of hours
		{"YIBEIDIAO_RPS", "0"},
		{"YIBEIDIAO_RPS", "-1"},
		{"YIBEIDIAO_BURST", "0"},
		{"YIBEIDIAO_BURST", "1.5"},
		{"USER_RATE_PER_MINUTE", "0.001"},
		{"USER_RATE_PER_MINUTE", "nan"},
		{"USER_BURST", "0"},
		{"YIBEIDIAO_TIMEOUT", "0s"},
		{"COMMAND_TIMEOUT", "-5s"},
		{"HEALTH_ADDR", ":8080 # health"},
		{"HEALTH_ADDR", "8080"},
		{"HEALTH_ADDR", ":http"},
		{"HEALTH_ADDR", ":99999"},
		{"HEALTH_ADDR", "local host:8080"},
		{"ALLOWED_USERGROUP_REFRESH", "500ms"},
		{"ALLOWED_USERGROUP_MAX_STALE", "1m"}, // not longer than the 5m refresh
		{"YIBEIDIAO_TIMEOUT", "1ns"},
		{"YIBEIDIAO_TIMEOUT", "2000000h"},
		{"COMMAND_TIMEOUT", "1ns"},
		{"COMMAND_TIMEOUT", "2000000h"},
		{"ALLOWED_USERGROUP_MAX_STALE", "2000000h"},
		{"YIBEIDIAO_LINK_HOSTS", "*.com"},
		{"YIBEIDIAO_LINK_HOSTS", "com"},
		{"YIBEIDIAO_BASE_URL", "http://api.yibeidiao.com/open/company # vendor"},
		{"SLACK_API_URL", "https://slack.com/api/ #"},
		{"BOT_LANGUAGE", "zh-TW"},
		{"BOT_LANGUAGE", "fr"},
		{"METRICS_ADDR", "9091"},
		{"METRICS_ADDR", ":9091 # metrics"},
	} {
		_, _, e := fakesFor(t)
		e[tt.name] = tt.value
		if _, err := loadConfig(e.get); err == nil || !strings.Contains(err.Error(), tt.name+":") {
			t.Errorf("%s=%q: loadConfig = %v, want it refused naming %s", tt.name, tt.value, err, tt.name)
		}
	}
	for _, tt := range []struct{ name, value string }{
		{"YIBEIDIAO_RPS", "0.0003"}, {"USER_RATE_PER_MINUTE", "0.02"}, {"HEALTH_ADDR", "127.0.0.1:0"},
		{"HEALTH_ADDR", "[::1]:8080"}, {"HEALTH_ADDR", "health.internal:8080"},
		{"BOT_LANGUAGE", "zh-CN"}, {"BOT_LANGUAGE", "zh-Hans"}, {"BOT_LANGUAGE", "ZH"}, {"BOT_LANGUAGE", "en-GB"},
		{"YIBEIDIAO_LINK_HOSTS", "res.yibeidiao.com:8443, *.oss.example.cn"},
		{"METRICS_ADDR", ":9091"},
	} {
		_, _, e := fakesFor(t)
		e[tt.name] = tt.value
		if _, err := loadConfig(e.get); err != nil {
			t.Errorf("%s=%q: loadConfig = %v, want it accepted", tt.name, tt.value, err)
		}
	}
}

// TestMetricsHaveAPortOfTheirOwn: METRICS_ADDR on HEALTH_ADDR's port is
// refused, naming both: scrapes would take the probes' connection slots.
func TestMetricsHaveAPortOfTheirOwn(t *testing.T) {
	t.Parallel()
	_, _, e := fakesFor(t)
	e["HEALTH_ADDR"], e["METRICS_ADDR"] = ":8080", "0.0.0.0:8080"
	if _, err := loadConfig(e.get); err == nil || !strings.Contains(err.Error(), "METRICS_ADDR: must be another port than HEALTH_ADDR's") {
		t.Errorf("METRICS_ADDR on HEALTH_ADDR's port: %v, want it refused", err)
	}
	e["METRICS_ADDR"] = ":9091"
	if c, err := loadConfig(e.get); err != nil || c.metricsAddr != ":9091" || c.healthAddr != ":8080" {
		t.Errorf("HEALTH_ADDR=:8080 METRICS_ADDR=:9091: %+v, %v", c, err)
	}
}

func TestRunReportsBadConfiguration(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), nil, env{}.get, strings.NewReader(""), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "SLACK_APP_TOKEN") || !strings.Contains(err.Error(), "YIBEIDIAO_TOKEN") {
		t.Errorf("run with no configuration = %v, want every missing variable named", err)
	}
	if err := run(t.Context(), []string{"-h"}, env{}.get, nil, &stdout, &stderr); err != nil {
		t.Errorf("run -h = %v, want nil", err)
	}
	if !strings.Contains(stderr.String(), "-demo") {
		t.Errorf("-h printed %q, want the flags", stderr.String())
	}
	if err := run(t.Context(), []string{"-bogus"}, env{}.get, nil, &stdout, &stderr); err == nil {
		t.Error("run -bogus succeeded")
	}
}

// program is the whole program, run in the background as main runs it.
type program struct {
	logs   testkit.Buffer
	wait   context.Context // 10s for what the test waits on
	cancel context.CancelFunc
	done   chan error
}

// startProgram runs the program with env and waits until it has connected
// to the fake Slack.
func startProgram(t *testing.T, e env, fakeSlack *slacktest.Server) *program {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	p := &program{cancel: cancel, done: make(chan error, 1)}
	go func() { p.done <- run(ctx, nil, e.get, nil, &bytes.Buffer{}, &p.logs) }()
	wait, stop := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(stop)
	p.wait = wait
	if err := fakeSlack.WaitConnected(wait); err != nil {
		t.Fatalf("never connected: %v\n%s", err, p.logs.String())
	}
	return p
}

// stop cancels the program as SIGTERM would and returns run's error.
func (p *program) stop() error {
	p.cancel()
	select {
	case err := <-p.done:
		return err
	case <-time.After(10 * time.Second):
		return errors.New("run did not return within 10s of cancellation")
	}
}

func TestRunServesUntilCancelled(t *testing.T) {
	t.Parallel()
	fakeSlack, vendor, e := fakesFor(t)
	e["HEALTH_ADDR"], e["METRICS_ADDR"] = testkit.DeadAddr(t), testkit.DeadAddr(t)
	p := startProgram(t, e, fakeSlack)
	logs, wait := &p.logs, p.wait
	cmd, err := fakeSlack.SendCommand(wait, slacktest.Command{UserID: "U0GROUPIE", Text: readyRecord})
	if err != nil {
		t.Fatal(err)
	}
	posts, err := cmd.WaitPosts(wait, 1)
	if err != nil || !strings.Contains(posts[0].Message.Raw(), "/survey-result/") {
		t.Fatalf("answer: %v, %v\n%s", posts, err, logs.String())
	}
	if _, err := cmd.WaitAck(wait); err != nil { // the ack was timed before it was written
		t.Fatal(err)
	}
	if err := logs.WaitFor(wait, `"msg":"command"`); err != nil { // the answer was counted before it was logged
		t.Fatal(err)
	}
	// Health is set before "connected to Slack" is logged.
	if err := logs.WaitFor(wait, "connected to Slack"); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err = run(t.Context(), []string{"-healthcheck"}, e.get, nil, &out, &bytes.Buffer{}); err != nil || !strings.Contains(out.String(), `"connected":true`) {
		t.Errorf("-healthcheck = %v, %q; want healthy", err, out.String())
	}

	// Metrics: what happened, with no user, channel, record or URL in a
	// label, on their own port; the probe port does not serve them.
	if resp, err := http.Get("http://" + e["HEALTH_ADDR"] + "/metrics"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /metrics on HEALTH_ADDR = %v, %v; want 404: scrapes have a port of their own", resp, err)
	} else {
		resp.Body.Close()
	}
	resp, err := http.Get("http://" + e["METRICS_ADDR"] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`tempreport_commands_total{kind="command",outcome="link"} 1`,
		`tempreport_commands_total{kind="click",outcome="denied"} 0`,
		`tempreport_vendor_requests_total{code="000"} 1`,
		"tempreport_vendor_request_duration_seconds_count 1",
		"tempreport_vendor_limiter_wait_seconds_count 1",
		"tempreport_ack_duration_seconds_count 1",
		"tempreport_slack_connected 1",
		"tempreport_commands_in_flight ",
		"go_goroutines", "process_resident_memory_bytes",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	for _, leak := range []string{"U0GROUPIE", "C0FAKECHAN", readyRecord, "http://", "https://"} {
		if strings.Contains(string(body), leak) {
			t.Errorf("/metrics shows %q", leak)
		}
	}
	if calls := vendor.Calls(); len(calls) != 1 || !strings.HasPrefix(calls[0].UserAgent, "tempreport/") {
		t.Errorf("vendor calls %+v, want one with User-Agent tempreport/<version>", calls)
	}

	if err := p.stop(); err != nil {
		t.Errorf("run after cancellation = %v, want nil", err)
	}
	for _, secret := range []string{e["SLACK_APP_TOKEN"], e["SLACK_BOT_TOKEN"], e["YIBEIDIAO_TOKEN"], "/survey-result/", "/response/"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("logs contain %q", secret)
		}
	}
	if !strings.Contains(logs.String(), `"msg":"command"`) {
		t.Errorf("no audit line in the logs:\n%s", logs.String())
	}
	// Durations read the same in JSON as in text: "10s", not nanoseconds.
	for _, want := range []string{`"vendor_timeout":"10s"`, `"command_timeout":"30s"`, `"version":"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the start line lacks %s:\n%s", want, logs.String())
		}
	}
	if regexp.MustCompile(`"duration":[0-9]`).MatchString(logs.String()) {
		t.Errorf("a duration is logged as a number of nanoseconds:\n%s", logs.String())
	}
	// LOG_LEVEL=debug follows one command: the decision, each vendor
	// attempt, the post.
	for _, want := range []string{`"msg":"decided"`, `"msg":"vendor attempt","result":"000","try":1`, `"msg":"vendor call ended"`, `"msg":"answer posted"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the debug log lacks %s:\n%s", want, logs.String())
		}
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := run(t.Context(), []string{"-version"}, env{}.get, nil, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^tempreport \S+ \(\S+, go1\.[0-9.]+\)\n$`).MatchString(out.String()) {
		t.Errorf("-version printed %q, want tempreport <version> (<commit>, <go version>)", out.String())
	}
}

func TestRunExitsWhenSlackRefusesTheAppToken(t *testing.T) {
	t.Parallel()
	fakeSlack, _, e := fakesFor(t)
	fakeSlack.FailConnectionsOpen(-1, 0, "invalid_auth")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	err := run(ctx, nil, e.get, nil, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "SLACK_APP_TOKEN") || ctx.Err() != nil {
		t.Errorf("run with a refused app token = %v, want an error naming SLACK_APP_TOKEN before the timeout", err)
	}
}

// TestSIGTERMDuringABurst stops the real process the way docker stop does,
// while commands wait on a slow vendor: each acked command still gets its
// answer, and the process exits 0 by itself. How long it took is logged
// (the README's "about 9 s at worst" is the shutdown's own bounds, 5 s for
// commands in flight and their answers' delivery).
func TestSIGTERMDuringABurst(t *testing.T) {
	t.Parallel()
	fakeSlack, vendor, e := fakesFor(t)
	const n = 20
	users, cmds := slacktest.Crowd(n, readyRecord)
	e["ALLOWED_USER_IDS"] = strings.Join(users, ",")
	e["YIBEIDIAO_RPS"], e["YIBEIDIAO_BURST"] = "50", "20"
	vendor.SetFault(yibeidiaotest.Fault{Delay: time.Second})

	cmd := exec.Command(os.Args[0]) // TestMain runs main, with no arguments
	cmd.Env = append(os.Environ(), "TEMPREPORT_TEST_RUN_MAIN=1")
	for k, v := range e {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var logs testkit.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := fakeSlack.WaitConnected(ctx); err != nil {
		t.Fatalf("child never connected: %v\n%s", err, logs.String())
	}
	envs, err := fakeSlack.SendCommands(ctx, cmds)
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range envs {
		if _, err := env.WaitAck(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err = <-exited:
	case <-time.After(time.Minute): // a guard against a hang: how long it took is the log's figure
		t.Fatalf("no exit a minute after SIGTERM\n%s", logs.String())
	}
	took := time.Since(begin)
	if err != nil {
		t.Errorf("exit after SIGTERM: %v, want status 0\n%s", err, logs.String())
	}

	for _, env := range envs {
		posts := env.Posts()
		if len(posts) != 1 || !strings.Contains(posts[0].Message.Raw(), "/survey-result/") {
			t.Errorf("%s after SIGTERM: %d posts, want its link", env.ID, len(posts))
		}
	}
	t.Logf("SIGTERM with %d commands in flight: exited in %v", n, took.Round(time.Millisecond))
}

func TestCheck(t *testing.T) {
	t.Parallel()
	htmlPage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><body>Please log in to the proxy</body></html>"))
	}))
	t.Cleanup(htmlPage.Close)
	type fakes struct {
		slack  *slacktest.Server
		vendor *yibeidiaotest.Server
	}
	for _, tt := range []struct {
		name      string
		change    func(env, fakes)
		vendor    []yibeidiaotest.Option
		wantOK    bool
		wantLines []string
		notWant   []string
	}{
		{name: "all good", wantOK: true, wantLines: []string{"… Slack bot token (auth.test)", "✓ Slack bot token", "workspace", "✓ Slack app-level token",
			"✓ vendor credentials", "✓ allowed user group S0HRTEAM", "2 members", "All 4 required checks passed", "2 allowed users, 1 allowed group"}},
		{name: "each person's language", change: func(e env, f fakes) {
			e["BOT_LANGUAGE"] = "auto"
			f.slack.SetLocale("U0ALLOWED", "zh-CN")
		}, wantOK: true, wantLines: []string{"✓ each person's language", `U0ALLOWED's Slack language is "zh-CN": answered in zh`, "All 5 required checks passed"}},
		{name: "each person's language unreadable", change: func(e env, f fakes) {
			e["BOT_LANGUAGE"] = "auto"
			f.slack.FailUserInfo(true)
		}, wantLines: []string{"✗ each person's language", "users:read", "1 of 5 required checks failed"}},
		{name: "one of each", change: func(e env, f fakes) {
			f.slack.SetUserGroup("S0HRTEAM", "U0GROUPIE")
			e["ALLOWED_USER_IDS"] = "U0ALLOWED"
		}, wantOK: true, wantLines: []string{"1 member\n", "1 allowed user, 1 allowed group"}},
		{name: "wrong bot token", change: func(e env, _ fakes) { e["SLACK_BOT_TOKEN"] = "xoxb-wrong" },
			wantLines: []string{"✗ Slack bot token", "SLACK_BOT_TOKEN was refused by Slack (invalid_auth)", "✓ vendor credentials", "✗ allowed user group S0HRTEAM"},
			notWant:   []string{"ALLOWED_USERGROUP_IDS"}},
		{name: "wrong app token", change: func(e env, _ fakes) { e["SLACK_APP_TOKEN"] = "xapp-wrong" },
			wantLines: []string{"✗ Slack app-level token", "SLACK_APP_TOKEN was refused", "1 of 4 required checks failed"}},
		{name: "Slack API URL is a web page", change: func(e env, _ fakes) { e["SLACK_API_URL"] = htmlPage.URL + "/api/" },
			wantLines: []string{"✗ Slack bot token", "the Slack API was reached but answered with something that is not Slack's JSON", "check SLACK_API_URL"},
			notWant:   []string{"could not reach"}},
		{name: "wrong vendor token", change: func(e env, _ fakes) { e["YIBEIDIAO_TOKEN"] = strings.Repeat("A", 32) },
			wantLines: []string{"✗ vendor credentials", "check YIBEIDIAO_TOKEN", "901"}},
		{name: "wrong vendor key", change: func(e env, _ fakes) { e["YIBEIDIAO_KEY"] = strings.Repeat("B", 32) },
			wantLines: []string{"✗ vendor credentials", "does not know this enterprise", "YIBEIDIAO_KEY"}},
		{name: "clock off", vendor: []yibeidiaotest.Option{yibeidiaotest.WithClock(func() time.Time { return time.Now().Add(time.Hour) })},
			wantLines: []string{"✗ vendor credentials", "clock is off"}},
		{name: "vendor unreachable", change: func(e env, _ fakes) { e["YIBEIDIAO_BASE_URL"] = "http://" + testkit.DeadAddr(t) + "/open/company" },
			wantLines: []string{"✗ vendor credentials", "could not connect to the vendor (nothing accepts connections at 127.0.0.1:", "connection refused", "YIBEIDIAO_BASE_URL",
				"– vendor over https", "could not connect to the vendor over https"},
			notWant: []string{"YIBEIDIAO_TOKEN", "YIBEIDIAO_KEY", "does not serve this call"}},
		{name: "Slack unreachable", change: func(e env, _ fakes) { e["SLACK_API_URL"] = "http://" + testkit.DeadAddr(t) + "/api/" },
			wantLines: []string{"✗ Slack bot token", "✗ Slack app-level token", "✗ allowed user group", "could not connect to Slack's API (nothing accepts connections at 127.0.0.1:",
				"check SLACK_API_URL", "3 of 4 required checks failed"},
			notWant: []string{"SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "Slack refused"}},
		{name: "Slack host not found", change: func(e env, _ fakes) { e["SLACK_API_URL"] = "http://no-such-host.invalid/api/" },
			wantLines: []string{"✗ Slack app-level token", "the host name no-such-host.invalid was not found", "check SLACK_API_URL"},
			notWant:   []string{"SLACK_APP_TOKEN", "SLACK_BOT_TOKEN"}},
		{name: "vendor over TLS with an unknown certificate", change: func(e env, f fakes) {
			e["YIBEIDIAO_BASE_URL"] = strings.Replace(f.vendor.URL, "http://", "https://", 1)
		},
			wantLines: []string{"✗ vendor credentials", "its TLS certificate could not be verified", "YIBEIDIAO_BASE_URL"},
			notWant:   []string{"YIBEIDIAO_TOKEN"}},
		{name: "vendor URL is a web page", change: func(_ env, f fakes) { f.vendor.SetFault(yibeidiaotest.Fault{Body: "<html>captive portal</html>"}) },
			wantLines: []string{"✗ vendor credentials", "not the vendor's JSON: check that YIBEIDIAO_BASE_URL points at the vendor's API"}},
		{name: "vendor message with terminal codes", change: func(_ env, f fakes) {
			f.vendor.SetFault(yibeidiaotest.Fault{Code: "1009", Msg: "\x1b[2J\x1b[32m✓ all good\u202e"})
		}, wantLines: []string{"✗ vendor credentials"}, notWant: []string{"\x1b", "\u202e"}},
		{name: "unknown group", change: func(e env, _ fakes) { e["ALLOWED_USERGROUP_IDS"] = "S0NOSUCH" },
			wantLines: []string{"✗ allowed user group S0NOSUCH", "no such user group: check ALLOWED_USERGROUP_IDS"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, v, e := fakesFor(t, tt.vendor...)
			if tt.change != nil {
				tt.change(e, fakes{s, v})
			}
			var out bytes.Buffer
			err := run(t.Context(), []string{"-check"}, e.get, nil, &out, &bytes.Buffer{})
			if (err == nil) != tt.wantOK {
				t.Errorf("-check = %v, want ok=%v\n%s", err, tt.wantOK, out.String())
			}
			for _, want := range tt.wantLines {
				if !strings.Contains(out.String(), want) && (err == nil || !strings.Contains(err.Error(), want)) {
					t.Errorf("-check output lacks %q:\n%s%v", want, out.String(), err)
				}
			}
			for _, bad := range append(tt.notWant, e["YIBEIDIAO_TOKEN"], e["SLACK_BOT_TOKEN"], e["SLACK_APP_TOKEN"]) {
				if strings.Contains(out.String(), bad) || (err != nil && strings.Contains(err.Error(), bad)) {
					t.Errorf("-check shows %q:\n%s", bad, out.String())
				}
			}
		})
	}
}

// TestCheckEndsInTimeWhateverTheNetwork: with Slack and the vendor both
// accepting connections and never answering, -check says what it is doing
// at once and ends by its own time limit (nothing else ends it here),
// naming what did not answer.
func TestCheckEndsInTimeWhateverTheNetwork(t *testing.T) {
	t.Parallel()
	_, _, e := fakesFor(t)
	silent := silentAddr(t)
	e["SLACK_API_URL"] = "http://" + silent + "/api/"
	e["YIBEIDIAO_BASE_URL"] = "http://" + silent + "/open/company"
	cfg, err := loadConfig(e.get)
	if err != nil {
		t.Fatal(err)
	}
	var out testkit.Buffer
	c := &checker{cfg: cfg, out: &out, timeout: time.Second}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	err = c.run(ctx)
	if err == nil || ctx.Err() != nil {
		t.Fatalf("-check against a silent network = %v (our context: %v); want it to fail by its own time limit", err, ctx.Err())
	}
	for _, want := range []string{"… Slack bot token", "… vendor credentials", "… allowed user group S0HRTEAM", "✗ Slack bot token", "✗ vendor credentials", "4 of 4 required checks failed"} {
		if !strings.Contains(out.String(), want) && !strings.Contains(err.Error(), want) {
			t.Errorf("output lacks %q:\n%s\n%v", want, out.String(), err)
		}
	}
}

// silentAddr is a loopback address that accepts connections and never
// answers.
func silentAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// TestCheckFindsHTTPS: when the vendor's host answers the same signed call
// over https, -check says so and prints the line to use.
func TestCheckFindsHTTPS(t *testing.T) {
	t.Parallel()
	_, vendor, e := fakesFor(t)
	cfg, err := loadConfig(e.get)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c := &checker{cfg: cfg, out: &out, timeout: 10 * time.Second,
		vendorHTTP: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: vendor.CertPool}}}}
	if err := c.run(t.Context()); err != nil {
		t.Fatalf("-check: %v\n%s", err, out.String())
	}
	if want := "✓ vendor over https"; !strings.Contains(out.String(), want) || !strings.Contains(out.String(), "\n    YIBEIDIAO_BASE_URL="+vendor.HTTPSURL+"\n") {
		t.Errorf("-check output lacks the https line %s:\n%s", vendor.HTTPSURL, out.String())
	}
	// Where https fails, -check says so without failing.
	out.Reset()
	c = &checker{cfg: cfg, out: &out, timeout: 10 * time.Second} // does not trust the fake's certificate
	if err := c.run(t.Context()); err != nil || !strings.Contains(out.String(), "– vendor over https") || !strings.Contains(out.String(), "keep the http address") {
		t.Errorf("-check where https fails = %v:\n%s", err, out.String())
	}
}

func TestDemo(t *testing.T) {
	t.Parallel()
	script := "/tempreport " + readyRecord + "\nclick\n/tempreport 20190415152645093983752\n/tempreport 20190415152645093983753\nhelp\nquit\n"
	var out bytes.Buffer
	if err := run(t.Context(), []string{"-demo"}, env{}.get, strings.NewReader(script), &out, &bytes.Buffer{}); err != nil {
		t.Fatalf("-demo: %v", err)
	}
	for _, want := range []string{
		"This is a DEMO",
		"Open the report: https://127.0.0.1:", "/survey-result/", "This link expires in 1 minute", "[ Get a fresh link ]",
		"replacing its last message",
		"refused record 20190415152645093983752",
		"The vendor is having trouble right now",
		"Usage:",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}

type stubHealth bot.Health

func (s stubHealth) Health() bot.Health { return bot.Health(s) }

func TestHealthEndpoint(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		health     stubHealth
		wantStatus int
		wantAccess string
	}{
		{stubHealth{Ready: true, Status: "connected"}, http.StatusOK, "ok"},
		{stubHealth{Status: "connection error: dial tcp: refused"}, http.StatusServiceUnavailable, "ok"},
		{stubHealth{Ready: true, Status: "connected", StaleGroups: []string{"S0HRTEAM"}}, http.StatusOK, "user groups S0HRTEAM cannot be read"},
	} {
		rec := httptest.NewRecorder()
		probeHandler(tt.health, nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		var body healthBody
		if rec.Code != tt.wantStatus || json.Unmarshal(rec.Body.Bytes(), &body) != nil || body.Connected != tt.health.Ready ||
			body.Status != tt.health.Status || !strings.HasPrefix(body.Access, tt.wantAccess) {
			t.Errorf("healthz with %+v = %d %s, want %d and access %q", tt.health, rec.Code, rec.Body, tt.wantStatus, tt.wantAccess)
		}
	}
	// A status that quotes a socket URL does not show its ticket; /livez
	// answers whatever the socket does; Redis's state is in the body.
	rec := httptest.NewRecorder()
	leaky := stubHealth{Status: `connection error: parse "wss://wss-primary.slack.com/link/?ticket=SECRETTICKET42&app_id=A1": bad`}
	probeHandler(leaky, func() string { return "unreachable" }).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if strings.Contains(rec.Body.String(), "SECRETTICKET42") || !strings.Contains(rec.Body.String(), `"redis":"unreachable"`) {
		t.Errorf("healthz = %s, want no ticket and the Redis state", rec.Body)
	}
	rec = httptest.NewRecorder()
	probeHandler(leaky, nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/livez", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("livez while disconnected = %d, want 200", rec.Code)
	}
	if err := probeHealth(t.Context(), "", &bytes.Buffer{}); err == nil {
		t.Error("-healthcheck without HEALTH_ADDR succeeded")
	}
	if err := probeHealth(t.Context(), testkit.DeadAddr(t), &bytes.Buffer{}); err == nil {
		t.Error("-healthcheck with nothing listening succeeded")
	}
}

func TestLoggerScrubsCredentials(t *testing.T) {
	t.Parallel()
	proxy, _ := url.Parse("http://proxyuser:pa%22ss%3Cword@proxy.internal:3128/open/company")
	for _, format := range []string{"json", "text"} {
		var out bytes.Buffer
		log := newLogger(&out, 0, format, "VENDORSECRET", `pa"ss<word`, "proxyuser")
		log.Info("oops VENDORSECRET", "token", "xoxb-123-456-abc", "app", "xapp-1-A1-2-abc",
			"err", errTest("posting to https://hooks.slack.com/actions/T1/2/abc failed"),
			"link", "see https://res.yibeidiao.com/a.pdf?Expires=1&OSSAccessKeyId=k&Signature=s",
			"slice", []string{"VENDORSECRET", "xoxb-9-9-slice"},
			"map", map[string]any{"k": "xapp-1-map", "u": proxy},
			"url", proxy,
			slog.Group("group", "deep", []any{errTest("VENDORSECRET")}),
			"anyurl", "https://someone:hunter2@example.com/x")
		for _, leak := range []string{"VENDORSECRET", "xoxb-", "xapp-", "hooks.slack.com", "Signature=", "proxyuser", "ss<word", "ss\\u003cword", "ss%3Cword", "hunter2"} {
			if strings.Contains(out.String(), leak) {
				t.Errorf("%s log line shows %q: %s", format, leak, out.String())
			}
		}
		for _, kept := range []string{"proxy.internal:3128", "example.com/x", `"k":`, "group.deep"} {
			if !strings.Contains(out.String(), kept) && (format == "json" || kept != `"k":`) && (format == "text" || kept != "group.deep") {
				t.Errorf("%s log line lost %q along with the secrets: %s", format, kept, out.String())
			}
		}
	}
}

// TestBaseURLPasswordIsNeverPrinted: a reverse proxy may need a user and
// password in YIBEIDIAO_BASE_URL. They work, and appear in no output: not
// the logs, not -check, not an error.
func TestBaseURLPasswordIsNeverPrinted(t *testing.T) {
	t.Parallel()
	fakeSlack, vendor, e := fakesFor(t)
	e["YIBEIDIAO_BASE_URL"] = strings.Replace(vendor.URL, "http://", "http://proxyuser:Pr0xy%2FPa55@", 1)
	leaks := []string{"proxyuser", "Pr0xy", "Pa55"}
	assertClean := func(what, output string) {
		t.Helper()
		for _, leak := range leaks {
			if strings.Contains(output, leak) {
				t.Errorf("%s shows %q:\n%s", what, leak, output)
			}
		}
	}

	var checkOut bytes.Buffer
	err := run(t.Context(), []string{"-check"}, e.get, nil, &checkOut, &bytes.Buffer{})
	if err != nil || !strings.Contains(checkOut.String(), "✓ vendor credentials") {
		t.Errorf("-check with a password in the base URL = %v:\n%s", err, checkOut.String())
	}
	assertClean("-check", checkOut.String())

	bad := maps.Clone(e)
	bad["YIBEIDIAO_BASE_URL"] = "ftp://proxyuser:Pr0xy%2FPa55@proxy.internal/"
	_, err = loadConfig(bad.get)
	if err == nil {
		t.Fatal("an ftp base URL was accepted")
	}
	assertClean("a configuration error", err.Error())

	p := startProgram(t, e, fakeSlack)
	logs, wait := &p.logs, p.wait
	vendor.Script(yibeidiaotest.Fault{Code: "901"})
	for range 2 { // a failure logged with its error and hint, then a link
		cmd, err := fakeSlack.SendCommand(wait, slacktest.Command{UserID: "U0ALLOWED", Text: readyRecord})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cmd.WaitPosts(wait, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), `"outcome":"link"`) || !strings.Contains(logs.String(), `"vendor":"http://127.0.0.1`) {
		t.Errorf("logs lack the link or the vendor's address:\n%s", logs.String())
	}
	assertClean("the logs", logs.String())
}

type errTest string

func (e errTest) Error() string { return string(e) }

// envExampleNames lists the variables in .env.example, in order.
func envExampleNames(t *testing.T) []string {
	t.Helper()
	example, err := os.ReadFile(".env.example")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for line := range strings.SplitSeq(string(example), "\n") {
		if name, _, ok := strings.Cut(strings.TrimPrefix(line, "#"), "="); ok && !strings.Contains(name, " ") {
			names = append(names, name)
		}
	}
	return names
}

func TestEnvExampleListsEveryVariable(t *testing.T) {
	t.Parallel()
	read := map[string]bool{}
	_, _ = loadConfig(func(name string) string { read[name] = true; return "" })
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, name := range envExampleNames(t) {
		listed[name] = true
	}
	for name := range read {
		if !listed[name] {
			t.Errorf(".env.example does not list %s", name)
		}
		if !strings.Contains(string(readme), "| `"+name+"` |") {
			t.Errorf("the README's configuration table does not list %s", name)
		}
	}
	for name := range listed {
		if !read[name] {
			t.Errorf(".env.example lists %s, which the program does not read", name)
		}
	}
}

// TestPackagesNameNoSetting: which variable to fix is main's knowledge; the
// packages return typed errors and never name one.
func TestPackagesNameNoSetting(t *testing.T) {
	t.Parallel()
	names := envExampleNames(t)
	for _, dir := range []string{"bot", "yibeidiao"} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, name := range names {
				if strings.Contains(string(src), name) {
					t.Errorf("%s names %s", path, name)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestREADMEKnowsEveryVendorCode keeps the troubleshooting table, the
// operator's hints and the vendor's documented codes in step.
func TestREADMEKnowsEveryVendorCode(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range yibeidiao.DocumentedCodes() {
		if !strings.Contains(string(readme), "| `"+code+"` |") {
			t.Errorf("the README's troubleshooting table has no row for vendor code %s", code)
		}
		if hint(&yibeidiao.APIError{Code: code, HTTPStatus: 200}) == "" {
			t.Errorf("no hint for vendor code %s", code)
		}
	}
}

// TestREADMECountsTheVendorCodeLabel keeps the README's promise about the
// vendor-code label's size in step with what the client reports.
func TestREADMECountsTheVendorCodeLabel(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`vendor-code metric label has (\d+)\s+possible values`).FindSubmatch(readme)
	if m == nil {
		t.Fatal("the README no longer says how many values the vendor-code label has")
	}
	if n, _ := strconv.Atoi(string(m[1])); n != len(yibeidiao.AttemptResults) {
		t.Errorf("the README says the vendor-code label has %d values; it has %d", n, len(yibeidiao.AttemptResults))
	}
}

// TestREADMEListsEveryMetric keeps the README's metrics section and what
// /metrics serves in step: every tempreport_ metric, every kind and
// every outcome.
func TestREADMEListsEveryMetric(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	b, err := bot.New(nothingVendor{}, bot.Config{BotToken: "xoxb-1"}, bot.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	m := newMetrics("socket")
	m.watch(b)
	m.watchRedis(func() bool { return true })
	m.watchRedisState(func() replicas.State { return replicas.StateOK })
	served := map[string]bool{}
	for _, name := range m.set.ListMetricNames() {
		name, _, _ = strings.Cut(name, "{")
		name = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")
		served[name] = true
		if !strings.Contains(string(readme), "`"+name) {
			t.Errorf("README does not list metric %s", name)
		}
	}
	for _, name := range regexp.MustCompile("`(tempreport_[a-z_]+)").FindAllStringSubmatch(string(readme), -1) {
		if !served[name[1]] && name[1] != bot.ShortcutCallbackID {
			t.Errorf("README lists %s, which /metrics does not serve", name[1])
		}
	}
	for _, word := range append(entryNames(), outcomeNames()...) {
		if !strings.Contains(string(readme), "`"+word+"`") {
			t.Errorf("README's metrics and audit sections do not name %q", word)
		}
	}
}

func entryNames() []string {
	var names []string
	for _, e := range bot.Entries {
		names = append(names, string(e))
	}
	return names
}

func outcomeNames() []string {
	var names []string
	for _, o := range bot.Outcomes {
		names = append(names, string(o))
	}
	return names
}

type nothingVendor struct{}

func (nothingVendor) GenerateTempReport(context.Context, string) (*yibeidiao.TempReport, error) {
	return nil, errors.New("not called")
}

// TestManifestsInStep: the Chinese manifest is the English one with other
// words: the same command, shortcut, scopes and settings.
func TestManifestsInStep(t *testing.T) {
	t.Parallel()
	words := regexp.MustCompile(`^(\s*(?:- )?(?:name|description|usage_hint): ).*$`)
	shape := func(file string) []string {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for line := range strings.SplitSeq(string(data), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "#") || strings.TrimSpace(line) == "" {
				continue
			}
			lines = append(lines, words.ReplaceAllString(line, "${1}…"))
		}
		return lines
	}
	en, zh := shape("slack-app-manifest.yml"), shape("slack-app-manifest.zh.yml")
	if !slices.Equal(en, zh) {
		t.Errorf("the manifests differ beyond their words:\nen: %q\nzh: %q", en, zh)
	}
	for _, want := range []string{"    - command: " + bot.DefaultCommand, "      callback_id: " + bot.ShortcutCallbackID, "      type: message"} {
		if !slices.Contains(en, want) {
			t.Errorf("the manifest lacks %q", want)
		}
	}
}
