// Command httpstandin serves Slack's HTTP request mode through package
// bot/httpmode, with a stand-in for the bot's core behind it: what the
// load command measures as "httpmode" until the transport-neutral core
// can run behind this transport (then the load command runs tempreport
// itself). The stand-in does what loadtest/naivehttp does after its
// signature check, and in the way the core will: its Handler methods only
// queue the delivery; one goroutine decides, acks with a short JSON
// message (encoded once) and starts one goroutine per vendor call, which
// posts the link to the response URL. So a ratio against naivehttp
// measures the transport: its read, signature check, nesting scan, decode
// and the hand-over of the ack.
//
// It reads the environment naivehttp reads.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"golang.org/x/time/rate"

	"github.com/hr-tools/tempreport/bot"
	"github.com/hr-tools/tempreport/bot/httpmode"
	"github.com/hr-tools/tempreport/yibeidiao"
)

var recordNo = regexp.MustCompile(`^[0-9]{10,32}$`)

// Acks, encoded once.
var (
	working    = json.RawMessage(`{"response_type":"ephemeral","text":"Working on it…"}`)
	notAllowed = json.RawMessage(`{"response_type":"ephemeral","text":"Not allowed."}`)
	usage      = json.RawMessage(`{"response_type":"ephemeral","text":"Usage: /tempreport <record number>"}`)
)

// delivery is one queued call of the Handler.
type delivery struct {
	d   bot.Delivery
	cmd *slack.SlashCommand
	cb  *slack.InteractionCallback
}

// core is the stand-in: its Handler methods queue, run decides and acks.
type core struct {
	queue   chan delivery
	allowed map[string]bool
	reply   func(responseURL, record string)
	wg      sync.WaitGroup
}

func (c *core) HandleCommand(d bot.Delivery, cmd slack.SlashCommand) {
	c.queue <- delivery{d: d, cmd: &cmd}
}

func (c *core) HandleInteraction(d bot.Delivery, cb slack.InteractionCallback) {
	c.queue <- delivery{d: d, cb: &cb}
}

func (c *core) HandleEvent(d bot.Delivery, _ slackevents.EventsAPIEvent) { c.queue <- delivery{d: d} }

func (c *core) HandleUnreadable(d bot.Delivery, _ string, _ error) { c.queue <- delivery{d: d} }

func (c *core) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case q := <-c.queue:
			c.decide(ctx, q)
		}
	}
}

func (c *core) decide(ctx context.Context, q delivery) {
	var ack json.RawMessage
	var responseURL, record string
	switch {
	case q.cmd != nil:
		text := strings.TrimSpace(q.cmd.Text)
		switch {
		case !c.allowed[q.cmd.UserID]:
			ack = notAllowed
		case !recordNo.MatchString(text):
			ack = usage
		default:
			ack, responseURL, record = working, q.cmd.ResponseURL, text
		}
	case q.cb != nil:
		if c.allowed[q.cb.User.ID] && len(q.cb.ActionCallback.BlockActions) > 0 {
			responseURL, record = q.cb.ResponseURL, q.cb.ActionCallback.BlockActions[0].Value
		}
	}
	if err := q.d.Ack.Ack(ctx, "", ack); err != nil {
		fmt.Fprintln(os.Stderr, "httpstandin: ack:", err)
	}
	if record != "" {
		c.wg.Go(func() { c.reply(responseURL, record) })
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	rps, _ := strconv.ParseFloat(os.Getenv("YIBEIDIAO_RPS"), 64)
	burst, _ := strconv.Atoi(os.Getenv("YIBEIDIAO_BURST"))
	limiter := rate.NewLimiter(rate.Limit(rps), burst)
	base, key, token := os.Getenv("YIBEIDIAO_BASE_URL"), os.Getenv("YIBEIDIAO_KEY"), os.Getenv("YIBEIDIAO_TOKEN")
	hc := &http.Client{Timeout: 10 * time.Second}

	fetch := func(ctx context.Context, record string) (string, error) {
		if err := limiter.Wait(ctx); err != nil {
			return "", err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/record/generate-temp-report?recordNo="+record, nil)
		if err != nil {
			return "", err
		}
		seq, ts := yibeidiao.NewSeq(), yibeidiao.FormatTimestamp(time.Now())
		req.Header["key"] = []string{key}
		req.Header["ts"] = []string{ts}
		req.Header["seq"] = []string{seq}
		req.Header["sign"] = []string{yibeidiao.Sign(key, ts, seq, token)}
		resp, err := hc.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		var env struct {
			Code, Key, Seq, TS, Sign string
			Msg                      string
		}
		if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || env.Code != "000" {
			return "", errFailed
		}
		if !strings.EqualFold(env.Sign, yibeidiao.Sign(env.Key, env.TS, env.Seq, token)) {
			return "", errFailed
		}
		return env.Msg, nil
	}
	c := &core{queue: make(chan delivery, 1024), allowed: map[string]bool{}}
	for _, u := range strings.Split(os.Getenv("ALLOWED_USER_IDS"), ",") {
		c.allowed[u] = true
	}
	c.reply = func(responseURL, record string) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		msg := &slack.WebhookMessage{ResponseType: slack.ResponseTypeEphemeral, Text: "Failed: ask again later."}
		if link, err := fetch(ctx, record); err == nil {
			msg.Text = "<" + link + "|Open the report>: this link expires in 1 minute."
		}
		_ = slack.PostWebhookContext(ctx, responseURL, msg)
	}

	tr, err := httpmode.New(httpmode.Config{Addr: os.Getenv("SLACK_HTTP_ADDR"), SigningSecret: os.Getenv("SLACK_SIGNING_SECRET")})
	if err != nil {
		fmt.Fprintln(os.Stderr, "httpstandin:", err)
		os.Exit(1)
	}
	// The core outlives the transport: requests in flight at shutdown
	// still get their acks.
	deciding, stopDeciding := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { defer close(done); c.run(deciding) }()
	err = tr.Serve(ctx, c)
	stopDeciding()
	<-done
	c.wg.Wait()
	if err != nil {
		fmt.Fprintln(os.Stderr, "httpstandin:", err)
		os.Exit(1)
	}
}

var errFailed = errors.New("vendor call failed")
