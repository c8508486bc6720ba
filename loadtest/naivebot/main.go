// Command naivebot is the floor the load command measures tempreport against,
// not a model to follow: the plainest slack-go Socket Mode bot that does the
// same job. It decides and acks inline in slack-go's event loop and starts one
// bare goroutine per vendor call; it has no per-person limit, no redelivery
// memory, no link pinning, no shutdown drain and crude errors. What it does
// cost is slack-go's own read, decode and ack pipeline with almost nothing
// added, which is what a ratio against it measures.
//
// It reads the same environment as tempreport (SLACK_APP_TOKEN,
// SLACK_BOT_TOKEN, SLACK_API_URL, YIBEIDIAO_BASE_URL, YIBEIDIAO_KEY,
// YIBEIDIAO_TOKEN, YIBEIDIAO_RPS, YIBEIDIAO_BURST, ALLOWED_USER_IDS), so the
// same fakes and load drive either binary.
package main

import (
	"context"
	"encoding/json"
	"errors"
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
	"github.com/slack-go/slack/socketmode"
	"golang.org/x/time/rate"

	"github.com/hr-tools/tempreport/yibeidiao"
)

var recordNo = regexp.MustCompile(`^[0-9]{10,32}$`)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	api := slack.New(os.Getenv("SLACK_BOT_TOKEN"),
		slack.OptionAppLevelToken(os.Getenv("SLACK_APP_TOKEN")), slack.OptionAPIURL(os.Getenv("SLACK_API_URL")))
	sm := socketmode.New(api)
	allowed := map[string]bool{}
	for _, u := range strings.Split(os.Getenv("ALLOWED_USER_IDS"), ",") {
		allowed[u] = true
	}
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
	var wg sync.WaitGroup
	reply := func(responseURL, record string) {
		defer wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		msg := &slack.WebhookMessage{ResponseType: slack.ResponseTypeEphemeral, Text: "Failed: ask again later."}
		if link, err := fetch(ctx, record); err == nil {
			msg.Text = "<" + link + "|Open the report>: this link expires in 1 minute."
			button := slack.NewButtonBlockElement("again", record, slack.NewTextBlockObject(slack.PlainTextType, "New link", false, false))
			msg.Blocks = &slack.Blocks{BlockSet: []slack.Block{
				slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, msg.Text, false, false), nil, nil),
				slack.NewActionBlock("actions", button),
			}}
		}
		_ = slack.PostWebhookContext(ctx, responseURL, msg)
	}

	go func() {
		for ev := range sm.Events {
			switch ev.Type {
			case socketmode.EventTypeSlashCommand:
				cmd := ev.Data.(slack.SlashCommand)
				text := strings.TrimSpace(cmd.Text)
				switch {
				case !allowed[cmd.UserID]:
					sm.Ack(*ev.Request, map[string]any{"text": "Not allowed."})
				case !recordNo.MatchString(text):
					sm.Ack(*ev.Request, map[string]any{"text": "Usage: /tempreport <record number>"})
				default:
					sm.Ack(*ev.Request, map[string]any{"text": "Working on it…"})
					wg.Add(1)
					go reply(cmd.ResponseURL, text)
				}
			case socketmode.EventTypeInteractive:
				cb := ev.Data.(slack.InteractionCallback)
				sm.Ack(*ev.Request)
				if allowed[cb.User.ID] && len(cb.ActionCallback.BlockActions) > 0 {
					wg.Add(1)
					go reply(cb.ResponseURL, cb.ActionCallback.BlockActions[0].Value)
				}
			}
		}
	}()
	_ = sm.RunContext(ctx)
	wg.Wait()
}

var errFailed = errors.New("vendor call failed")
