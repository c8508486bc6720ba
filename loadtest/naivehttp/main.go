// Command naivehttp is the floor the load command measures the HTTP request
// mode against, not a model to follow: the plainest slack-go bot behind one
// net/http handler at POST /slack/events. It checks Slack's signature with
// slack-go's SecretsVerifier, caps the body at 1 MB, echoes
// url_verification, acks a command with 200 and a short JSON message at
// once, and starts one bare goroutine per vendor call. No events, no
// retries, no shutdown drain, crude errors. What it does cost is net/http's
// read, slack-go's signature check and the ack, which is what a ratio
// against it measures. (A copy of the team's naive-http yardstick, with the
// vendor signed through package yibeidiao as loadtest/naivebot does.)
//
// It reads SLACK_SIGNING_SECRET, SLACK_HTTP_ADDR (default :3000),
// YIBEIDIAO_BASE_URL, YIBEIDIAO_KEY, YIBEIDIAO_TOKEN, YIBEIDIAO_RPS,
// YIBEIDIAO_BURST and ALLOWED_USER_IDS.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/slack-go/slack"
	"golang.org/x/time/rate"

	"github.com/hr-tools/tempreport/yibeidiao"
)

var recordNo = regexp.MustCompile(`^[0-9]{10,32}$`)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	secret := os.Getenv("SLACK_SIGNING_SECRET")
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
		}
		_ = slack.PostWebhookContext(ctx, responseURL, msg)
	}

	events := func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
			return
		}
		sv, err := slack.NewSecretsVerifier(r.Header, secret)
		if err != nil {
			http.Error(w, "unsigned", http.StatusUnauthorized)
			return
		}
		_, _ = sv.Write(body)
		if sv.Ensure() != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		ack := func(text string) {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"response_type": "ephemeral", "text": text})
		}
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			var ev struct{ Type, Challenge string }
			_ = json.Unmarshal(body, &ev)
			if ev.Type == "url_verification" {
				_, _ = w.Write([]byte(ev.Challenge))
			}
			return
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		if p := form.Get("payload"); p != "" {
			var cb slack.InteractionCallback
			if json.Unmarshal([]byte(p), &cb) == nil && allowed[cb.User.ID] && len(cb.ActionCallback.BlockActions) > 0 {
				wg.Add(1)
				go reply(cb.ResponseURL, cb.ActionCallback.BlockActions[0].Value)
			}
			return
		}
		text := strings.TrimSpace(form.Get("text"))
		switch {
		case !allowed[form.Get("user_id")]:
			ack("Not allowed.")
		case !recordNo.MatchString(text):
			ack("Usage: /tempreport <record number>")
		default:
			ack("Working on it…")
			wg.Add(1)
			go reply(form.Get("response_url"), text)
		}
	}
	addr := os.Getenv("SLACK_HTTP_ADDR")
	if addr == "" {
		addr = ":3000"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /slack/events", events)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { <-ctx.Done(); _ = srv.Shutdown(context.Background()) }()
	_ = srv.ListenAndServe()
	wg.Wait()
}

var errFailed = errors.New("vendor call failed")
