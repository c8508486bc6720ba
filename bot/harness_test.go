package bot_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/hr-tools/tempreport/bot"
	"github.com/hr-tools/tempreport/bot/slacktest"
	"github.com/hr-tools/tempreport/bot/socket"
	"github.com/hr-tools/tempreport/internal/fixture"
	"github.com/hr-tools/tempreport/internal/testkit"
	"github.com/hr-tools/tempreport/yibeidiao"
	"github.com/hr-tools/tempreport/yibeidiao/yibeidiaotest"
)

const (
	allowedUser = "U0ALLOWED"
	groupMember = "U0GROUPIE"
	stranger    = "U0STRANGER"
	hrGroup     = "S0HRTEAM"

	readyRecord    = fixture.ReadyRecord
	notInProgress  = fixture.NotInProgressRecord
	unknownRecord  = "20190415152645093983759"
	waitForAnswers = 10 * time.Second
)

// harness runs the real bot against a fake Slack and a fake vendor.
type harness struct {
	t      *testing.T
	slack  *slacktest.Server
	vendor *yibeidiaotest.Server
	logs   *testkit.Buffer
	bot    *bot.Bot
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

type setup struct {
	t          *testing.T
	cfg        bot.Config
	deps       bot.Deps
	vendorOpts []yibeidiao.Option
	rps        rate.Limit
	burst      int
	generator  bot.ReportGenerator // instead of a client for the fake vendor
}

// start runs a bot; change sets up the Slack config and vendor client.
func start(t *testing.T, change ...func(*setup)) *harness {
	t.Helper()
	fakes := fixture.Start()
	t.Cleanup(fakes.Close)
	h := &harness{t: t, slack: fakes.Slack, vendor: fakes.Vendor, logs: &testkit.Buffer{}, done: make(chan error, 1)}
	h.slack.SetUserGroup(hrGroup, groupMember)

	s := &setup{
		t: t,
		cfg: bot.Config{
			BotToken:      h.slack.BotToken,
			APIURL:        h.slack.APIURL,
			AllowedUsers:  []string{allowedUser},
			AllowedGroups: []string{hrGroup},
		},
		deps: bot.Deps{
			Logger: slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			Hint:   func(err error) string { return "operator hint for " + err.Error() },
		},
		rps:   50,
		burst: 10,
	}
	for _, c := range change {
		c(s)
	}
	gen := s.generator
	if gen == nil {
		opts := append([]yibeidiao.Option{
			yibeidiao.WithBaseURL(h.vendor.URL),
			yibeidiao.WithLinkHosts(h.vendor.LinkHost),
			yibeidiao.WithRateLimiter(rate.NewLimiter(s.rps, s.burst)),
		}, s.vendorOpts...)
		c, err := yibeidiao.New(h.vendor.Key, h.vendor.Token, opts...)
		if err != nil {
			t.Fatal(err)
		}
		gen = c
	}
	b, err := bot.New(gen, s.cfg, s.deps)
	if err != nil {
		t.Fatal(err)
	}
	sock, err := socket.New(socket.Config{AppToken: h.slack.AppToken, APIURL: h.slack.APIURL, Logger: s.deps.Logger})
	if err != nil {
		t.Fatal(err)
	}
	h.bot = b
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- b.Run(ctx, sock) }()
	t.Cleanup(func() { h.stop() })
	h.waitConnected()
	return h
}

func (h *harness) waitConnected() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.t.Context(), waitForAnswers)
	defer cancel()
	if err := h.slack.WaitConnected(ctx); err != nil {
		h.t.Fatalf("bot never connected: %v\nlogs:\n%s", err, h.logs)
	}
}

// stop shuts the bot down as SIGTERM would and returns Run's error.
func (h *harness) stop() error {
	h.once.Do(func() {
		h.cancel()
		select {
		case h.err = <-h.done:
		case <-time.After(15 * time.Second):
			h.err = errors.New("Run did not return within 15s of cancellation")
		}
		h.assertNoSecretsLogged()
	})
	return h.err
}

func (h *harness) ctx() context.Context {
	ctx, cancel := context.WithTimeout(h.t.Context(), waitForAnswers)
	h.t.Cleanup(cancel)
	return ctx
}

// command sends a slash command and returns it once acked.
func (h *harness) command(user, text string) (*slacktest.Envelope, slacktest.Ack) {
	h.t.Helper()
	env, err := h.slack.SendCommand(h.ctx(), slacktest.Command{UserID: user, Text: text})
	if err != nil {
		h.t.Fatalf("sending command: %v", err)
	}
	ack, err := env.WaitAck(h.ctx())
	if err != nil {
		h.t.Fatalf("command %q: %v\nlogs:\n%s", text, err, h.logs)
	}
	return env, ack
}

// click sends a button press and returns it once acked.
func (h *harness) click(c slacktest.Click) *slacktest.Envelope {
	h.t.Helper()
	env, err := h.slack.SendClick(h.ctx(), c)
	if err != nil {
		h.t.Fatalf("sending click: %v", err)
	}
	if _, err := env.WaitAck(h.ctx()); err != nil {
		h.t.Fatalf("click: %v\nlogs:\n%s", err, h.logs)
	}
	return env
}

// answer waits for the one post of an envelope.
func (h *harness) answer(env *slacktest.Envelope) slacktest.Message {
	h.t.Helper()
	posts, err := env.WaitPosts(h.ctx(), 1)
	if err != nil {
		h.t.Fatalf("no answer: %v\nlogs:\n%s", err, h.logs)
	}
	return posts[0].Message
}

// assertNoSecretsLogged checks every log line for tokens, report links and
// response URLs.
func (h *harness) assertNoSecretsLogged() {
	h.t.Helper()
	logs := h.logs.String()
	for name, secret := range map[string]string{
		"the app token": h.slack.AppToken, "the bot token": h.slack.BotToken,
		"the vendor token": h.vendor.Token, "a report link": "/survey-result/", "a response URL": "/response/",
		"the socket URL ticket": "ticket=",
	} {
		if strings.Contains(logs, secret) {
			h.t.Errorf("logs contain %s:\n%s", name, logs)
		}
	}
}

// auditLines returns the logged audit lines of one kind ("command", "click").
func (h *harness) auditLines(entry bot.Entry) []string {
	var lines []string
	for line := range strings.SplitSeq(h.logs.String(), "\n") {
		if strings.Contains(line, `"msg":"`+string(entry)+`"`) {
			lines = append(lines, line)
		}
	}
	return lines
}
