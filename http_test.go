package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hr-tools/tempreport/internal/testkit"
)

const testSigningSecret = "8f742231b10e8888abcd9912ab3485a5"

// httpProgram is the program in HTTP request mode, with a way to send it
// what Slack would.
type httpProgram struct {
	*program
	url string
}

func startHTTPProgram(t *testing.T, e env) *httpProgram {
	t.Helper()
	e["SLACK_APP_TOKEN"] = ""
	e["SLACK_SIGNING_SECRET"] = testSigningSecret
	e["SLACK_HTTP_ADDR"] = testkit.DeadAddr(t)
	ctx, cancel := context.WithCancel(t.Context())
	p := &program{cancel: cancel, done: make(chan error, 1)}
	go func() { p.done <- run(ctx, nil, e.get, nil, &bytes.Buffer{}, &p.logs) }()
	wait, stop := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(stop)
	p.wait = wait
	h := &httpProgram{program: p, url: "http://" + e["SLACK_HTTP_ADDR"] + "/slack/events"}
	for {
		resp, err := h.post(`{"type":"url_verification","challenge":"ready?"}`, "application/json", nil)
		if err == nil && resp.StatusCode == http.StatusOK {
			break
		}
		select {
		case <-wait.Done():
			t.Fatalf("the HTTP endpoint never answered: %v\n%s", err, p.logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return h
}

// post sends body as Slack would, signed now with the signing secret;
// change may alter the request before it goes.
func (h *httpProgram) post(body, contentType string, change func(*http.Request)) (*http.Response, error) {
	req, err := http.NewRequestWithContext(h.wait, http.MethodPost, h.url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	signSlackRequest(req, []byte(body), time.Now())
	if change != nil {
		change(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	return resp, nil
}

func signSlackRequest(req *http.Request, body []byte, at time.Time) {
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(testSigningSecret))
	fmt.Fprintf(mac, "v0:%s:%s", ts, body)
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
}

func readBody(resp *http.Response) string { b, _ := io.ReadAll(resp.Body); return string(b) }

// TestHTTPModeServesWhatSocketModeServes: with a signing secret and no
// app-level token, the program serves POST /slack/events: a signed command
// is acked and answered on its response URL with the link, a click brings
// a fresh link, url_verification is echoed, and nothing that is not
// Slack's (no signature, an old timestamp, a body too large) reaches the
// vendor. No socket is ever opened.
func TestHTTPModeServesWhatSocketModeServes(t *testing.T) {
	t.Parallel()
	fakeSlack, vendor, e := fakesFor(t)
	h := startHTTPProgram(t, e)

	// A command.
	answerTo := fakeSlack.NewResponseURL("slash_commands")
	form := url.Values{"command": {"/tempreport"}, "text": {readyRecord}, "user_id": {"U0ALLOWED"}, "team_id": {"T0FAKETEAM"},
		"channel_id": {"C0FAKECHAN"}, "response_url": {answerTo.ResponseURL}, "trigger_id": {"1.2.3"}}
	resp, err := h.post(form.Encode(), "application/x-www-form-urlencoded", nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("a signed command: %v, %v", resp, err)
	}
	if ack := readBody(resp); !strings.Contains(ack, readyRecord) {
		t.Errorf("the command's ack = %q, want the progress note", ack)
	}
	posts, err := answerTo.WaitPosts(h.wait, 1)
	if err != nil || !strings.Contains(posts[0].Message.Raw(), "/survey-result/") || !strings.Contains(posts[0].Message.Raw(), "expires in 1 minute") {
		t.Fatalf("the command's answer: %v, %v\n%s", posts, err, h.logs.String())
	}

	// A click on "Get a fresh link".
	clickTo := fakeSlack.NewResponseURL("interactive")
	click, _ := json.Marshal(map[string]any{"type": "block_actions", "user": map[string]any{"id": "U0ALLOWED"}, "team": map[string]any{"id": "T0FAKETEAM"},
		"channel": map[string]any{"id": "C0FAKECHAN"}, "response_url": clickTo.ResponseURL, "container": map[string]any{"type": "message"},
		"actions": []map[string]any{{"action_id": "fresh_link", "block_id": "fresh_link", "value": readyRecord, "type": "button"}}})
	if resp, err := h.post(url.Values{"payload": {string(click)}}.Encode(), "application/x-www-form-urlencoded", nil); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("a signed click: %v, %v", resp, err)
	}
	if posts, err := clickTo.WaitPosts(h.wait, 1); err != nil || !strings.Contains(posts[0].Message.Raw(), "/survey-result/") {
		t.Fatalf("the click's answer: %v, %v", posts, err)
	}

	// A replay of a signed command (the same request, byte for byte) is
	// acked and not served again.
	replayTo := fakeSlack.NewResponseURL("slash_commands")
	form.Set("response_url", replayTo.ResponseURL)
	signedAt := time.Now()
	for range 3 {
		resp, err := h.post(form.Encode(), "application/x-www-form-urlencoded", func(r *http.Request) { signSlackRequest(r, []byte(form.Encode()), signedAt) })
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("a replayed command: %v, %v", resp, err)
		}
	}
	if _, err := replayTo.WaitPosts(h.wait, 1); err != nil {
		t.Fatalf("the replayed command's answer: %v", err)
	}

	// url_verification.
	if resp, err := h.post(`{"type":"url_verification","challenge":"c-123"}`, "application/json", nil); err != nil || !strings.Contains(readBody(resp), "c-123") {
		t.Errorf("url_verification: %v, %v", resp, err)
	}

	// What is not Slack's is refused before it is read.
	calls := len(vendor.Calls())
	if calls != 3 {
		t.Errorf("%d vendor calls for a command, a click and a command replayed twice, want 3", calls)
	}
	for name, change := range map[string]func(*http.Request){
		"a wrong signature":         func(r *http.Request) { r.Header.Set("X-Slack-Signature", "v0="+strings.Repeat("0", 64)) },
		"a timestamp 6 minutes old": func(r *http.Request) { signSlackRequest(r, []byte(form.Encode()), time.Now().Add(-6*time.Minute)) },
		"no signature":              func(r *http.Request) { r.Header.Del("X-Slack-Signature"); r.Header.Del("X-Slack-Request-Timestamp") },
	} {
		if resp, err := h.post(form.Encode(), "application/x-www-form-urlencoded", change); err != nil || resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: %v, %v; want 401", name, resp, err)
		}
	}
	huge := strings.Repeat("x", 2<<20)
	if resp, err := h.post(huge, "application/x-www-form-urlencoded", nil); err == nil && resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a 2 MB body: %d, want 413", resp.StatusCode)
	}
	if n := len(vendor.Calls()); n != calls {
		t.Errorf("refused requests made %d vendor calls", n-calls)
	}
	// The next good request is served.
	again := fakeSlack.NewResponseURL("slash_commands")
	form.Set("response_url", again.ResponseURL)
	if resp, err := h.post(form.Encode(), "application/x-www-form-urlencoded", nil); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("a command after the refusals: %v, %v", resp, err)
	}
	if _, err := again.WaitPosts(h.wait, 1); err != nil {
		t.Errorf("a command after the refusals: %v", err)
	}

	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if n := len(replayTo.Posts()); n != 1 {
		t.Errorf("a command sent three times with one signature was answered %d times, want once", n)
	}
	if n := fakeSlack.ConnectionsOpened(); n != 0 {
		t.Errorf("apps.connections.open was called %d times in HTTP mode", n)
	}
	logs := h.logs.String()
	for _, secret := range []string{testSigningSecret, "/survey-result/", "/response/", huge[:100]} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log carries %.40q", secret)
		}
	}
	if !strings.Contains(logs, `"mode":"http"`) {
		t.Errorf("the start line does not say the mode:\n%s", logs)
	}
}

// TestHTTPModeEventsAreServedOnce: over HTTP, an @mention is answered
// privately in its thread, and Slack's retry of it (the same event_id,
// X-Slack-Retry-Num) is acked and not served again; the App Home and the
// form work the same way.
func TestHTTPModeEventsAreServedOnce(t *testing.T) {
	t.Parallel()
	fakeSlack, vendor, e := fakesFor(t)
	h := startHTTPProgram(t, e)
	mention := `{"type":"event_callback","team_id":"T0FAKETEAM","api_app_id":"A0FAKEAPP","event_id":"Ev0HTTP","event_time":1,` +
		`"event":{"type":"app_mention","user":"U0ALLOWED","text":"<@U0FAKEBOT> ` + readyRecord + `","channel":"C0HR","ts":"2.2","thread_ts":"1.1","event_ts":"2.2"}}`
	for retry := range 3 {
		resp, err := h.post(mention, "application/json", func(r *http.Request) {
			if retry > 0 {
				r.Header.Set("X-Slack-Retry-Num", strconv.Itoa(retry))
				r.Header.Set("X-Slack-Retry-Reason", "http_timeout")
			}
		})
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("event, try %d: %v, %v", retry, resp, err)
		}
	}
	posts, err := fakeSlack.WaitCalls(h.wait, "chat.postEphemeral", 1)
	if err != nil || posts[0].Body["thread_ts"] != "1.1" || !strings.Contains(posts[0].Message().Raw(), "/survey-result/") {
		t.Fatalf("the mention's answer: %v, %v\n%s", posts, err, h.logs.String())
	}
	home := `{"type":"event_callback","team_id":"T0FAKETEAM","event_id":"Ev0HOME","event":{"type":"app_home_opened","user":"U0ALLOWED","tab":"home","channel":"D0FAKE"}}`
	if resp, err := h.post(home, "application/json", nil); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("app_home_opened: %v, %v", resp, err)
	}
	if _, err := fakeSlack.WaitCalls(h.wait, "views.publish", 1); err != nil {
		t.Errorf("the App Home over HTTP: %v", err)
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if n := len(fakeSlack.Calls("chat.postEphemeral")); n != 1 {
		t.Errorf("%d answers to one mention sent three times, want 1", n)
	}
	if n := len(vendor.Calls()); n != 1 {
		t.Errorf("%d vendor calls, want 1", n)
	}
}

// TestBothTransportsConfiguredIsAnError: a signing secret beside an
// app-level token is a configuration error naming both.
func TestBothTransportsConfiguredIsAnError(t *testing.T) {
	t.Parallel()
	_, _, e := fakesFor(t)
	e["SLACK_SIGNING_SECRET"] = testSigningSecret
	_, err := loadConfig(e.get)
	if err == nil || !strings.Contains(err.Error(), "SLACK_APP_TOKEN") || !strings.Contains(err.Error(), "SLACK_SIGNING_SECRET") {
		t.Errorf("both set: %v, want an error naming both", err)
	}
	e["SLACK_APP_TOKEN"] = ""
	c, err := loadConfig(e.get)
	if err != nil || !c.slack.httpMode() || c.slack.httpAddr != ":3000" {
		t.Errorf("a secret and an empty app token: %+v, %v; want HTTP mode on :3000", c.slack, err)
	}
	e["SLACK_SIGNING_SECRET"] = `"` + testSigningSecret + `"`
	if _, err := loadConfig(e.get); err == nil || !strings.Contains(err.Error(), "quotes") || strings.Contains(err.Error(), testSigningSecret) {
		t.Errorf("a quoted secret: %v, want a hint about quotes, without the secret", err)
	}
}
