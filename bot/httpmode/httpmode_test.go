package httpmode

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/hr-tools/tempreport/bot"
)

const testSecret = "8f742231b10e8888abcd99yyyzzz85a5"

// delivered is one call the fake handler got.
type delivered struct {
	method      string // "command", "interaction", "event", "unreadable"
	d           bot.Delivery
	cmd         slack.SlashCommand
	cb          slack.InteractionCallback
	ev          slackevents.EventsAPIEvent
	payloadType string
	err         error
}

// fakeHandler records every call, then acks from its own goroutine, as the
// bot does, with what ack returns; with ack nil it never acks.
type fakeHandler struct {
	ack  func(delivered) json.RawMessage
	got  chan delivered
	acks chan error // what each Ack returned
}

func newFakeHandler(ack func(delivered) json.RawMessage) *fakeHandler {
	return &fakeHandler{ack: ack, got: make(chan delivered, 100), acks: make(chan error, 100)}
}

func (h *fakeHandler) record(c delivered) {
	h.got <- c
	if h.ack == nil {
		return
	}
	go func() { h.acks <- c.d.Ack.Ack(context.Background(), "", h.ack(c)) }()
}

func (h *fakeHandler) HandleCommand(d bot.Delivery, cmd slack.SlashCommand) {
	h.record(delivered{method: "command", d: d, cmd: cmd})
}

func (h *fakeHandler) HandleInteraction(d bot.Delivery, cb slack.InteractionCallback) {
	h.record(delivered{method: "interaction", d: d, cb: cb})
}

func (h *fakeHandler) HandleEvent(d bot.Delivery, ev slackevents.EventsAPIEvent) {
	h.record(delivered{method: "event", d: d, ev: ev})
}

func (h *fakeHandler) HandleUnreadable(d bot.Delivery, payloadType string, err error) {
	h.record(delivered{method: "unreadable", d: d, payloadType: payloadType, err: err})
}

// next returns the next call; the response that follows it has been
// read, so a missing call is a failure, not a wait.
func (h *fakeHandler) next(t *testing.T) delivered {
	t.Helper()
	select {
	case c := <-h.got:
		return c
	default:
		t.Fatal("the handler was not called")
		return delivered{}
	}
}

func (h *fakeHandler) none(t *testing.T) {
	t.Helper()
	select {
	case c := <-h.got:
		t.Fatalf("the handler got a %s call, want none", c.method)
	default:
	}
}

func bareAck(delivered) json.RawMessage { return nil }

type counter struct{ badSignature, tooLarge atomic.Int64 }

func (c *counter) BadSignature()    { c.badSignature.Add(1) }
func (c *counter) RequestTooLarge() { c.tooLarge.Add(1) }

// syncBuffer is a log the server and the test share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// rig is a transport serving on 127.0.0.1 with a fixed clock.
type rig struct {
	tr    *Transport
	url   string
	h     *fakeHandler
	obs   *counter
	logs  *syncBuffer
	clock *atomic.Int64 // unix seconds
}

func (r *rig) now() time.Time { return time.Unix(r.clock.Load(), 0) }

func start(t *testing.T, h *fakeHandler, tweak ...func(*Transport)) *rig {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{h: h, obs: &counter{}, logs: &syncBuffer{}, clock: &atomic.Int64{}}
	r.clock.Store(1_700_000_000)
	r.tr, err = New(Config{
		SigningSecret: testSecret,
		Logger:        slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Observer:      r.obs,
		Clock:         r.now,
		Listener:      ln,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range tweak {
		f(r.tr)
	}
	r.url = "http://" + ln.Addr().String() + Path
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.tr.Serve(ctx, h) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve = %v, want nil", err)
		}
		if strings.Contains(r.logs.String(), testSecret) {
			t.Errorf("the log carries the signing secret:\n%s", r.logs)
		}
	})
	return r
}

// post sends body signed as Slack signs it now, with extra headers.
func (r *rig) post(t *testing.T, contentType, body string, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, r.url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	ts := strconv.FormatInt(r.clock.Load(), 10)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", sign([]byte(testSecret), ts, []byte(body)))
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const form = "application/x-www-form-urlencoded"

var commandForm = url.Values{
	"token": {"deprecated"}, "team_id": {"T1"}, "team_domain": {"acme"},
	"enterprise_id": {"E1"}, "enterprise_name": {"Acme Group"}, "is_enterprise_install": {"true"},
	"channel_id": {"C1"}, "channel_name": {"hr"}, "user_id": {"U1"}, "user_name": {"ana"},
	"command": {"/tempreport"}, "text": {"20190415152645093983751"},
	"response_url": {"https://hooks.slack.com/commands/T1/1/x"}, "trigger_id": {"1.2.3"}, "api_app_id": {"A1"},
}.Encode()

func TestCommandAckIsTheResponse(t *testing.T) {
	t.Parallel()
	ack := json.RawMessage(`{"text":"Working on it…"}`)
	r := start(t, newFakeHandler(func(delivered) json.RawMessage { return ack }))
	resp := r.post(t, form, commandForm)
	if got := readBody(t, resp); resp.StatusCode != http.StatusOK || got != string(ack) {
		t.Errorf("command answered %d %q, want 200 %q", resp.StatusCode, got, ack)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	c := r.h.next(t)
	want := slack.SlashCommand{
		Token: "deprecated", TeamID: "T1", TeamDomain: "acme", EnterpriseID: "E1", EnterpriseName: "Acme Group",
		IsEnterpriseInstall: true, ChannelID: "C1", ChannelName: "hr", UserID: "U1", UserName: "ana",
		Command: "/tempreport", Text: "20190415152645093983751", ResponseURL: "https://hooks.slack.com/commands/T1/1/x",
		TriggerID: "1.2.3", APIAppID: "A1",
	}
	if c.method != "command" || c.cmd != want {
		t.Errorf("handler got %s %+v, want command %+v", c.method, c.cmd, want)
	}
	// A command is named by its signature: a replay of it is the same delivery.
	if !strings.HasPrefix(c.d.ID, "sig:v0=") || !c.d.Received.Equal(r.now()) {
		t.Errorf("delivery ID %q received %v, want its signature and %v", c.d.ID, c.d.Received, r.now())
	}
	if err := <-r.h.acks; err != nil {
		t.Errorf("Ack = %v, want nil", err)
	}
}

func TestRefusedBeforeParsing(t *testing.T) {
	t.Parallel()
	sixMinutesAgo := strconv.FormatInt(1_700_000_000-360, 10)
	tests := []struct {
		name   string
		header []string
	}{
		{"another secret's signature", []string{"X-Slack-Signature", sign([]byte("not the secret"), "1700000000", []byte(commandForm))}},
		{"a signature of another body", []string{"X-Slack-Signature", sign([]byte(testSecret), "1700000000", []byte("text=other"))}},
		{"6 minutes old", []string{"X-Slack-Request-Timestamp", sixMinutesAgo, "X-Slack-Signature", sign([]byte(testSecret), sixMinutesAgo, []byte(commandForm))}},
		{"no signature", []string{"X-Slack-Signature", ""}},
		{"no timestamp", []string{"X-Slack-Request-Timestamp", ""}},
		{"no headers", []string{"X-Slack-Signature", "", "X-Slack-Request-Timestamp", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := start(t, newFakeHandler(bareAck))
			resp := r.post(t, form, commandForm, tt.header...)
			readBody(t, resp)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("status %d, want 401", resp.StatusCode)
			}
			r.h.none(t)
			if n := r.obs.badSignature.Load(); n != 1 {
				t.Errorf("BadSignature called %d times, want 1", n)
			}
			logs := r.logs.String()
			if !strings.Contains(logs, "refused=1") {
				t.Errorf("no warning counting the refusal in the log:\n%s", logs)
			}
			for _, leak := range []string{"20190415152645093983751", "tempreport", "hooks.slack.com", "v0="} {
				if strings.Contains(logs, leak) {
					t.Errorf("the log carries %q from the body or a signature:\n%s", leak, logs)
				}
			}
		})
	}
}

func TestRefusalsAreLoggedOncePerMinuteWithACount(t *testing.T) {
	t.Parallel()
	r := start(t, newFakeHandler(bareAck))
	refuse := func() {
		resp := r.post(t, form, commandForm, "X-Slack-Signature", "v0=00")
		readBody(t, resp)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", resp.StatusCode)
		}
	}
	lines := func() []string {
		var ls []string
		for l := range strings.Lines(r.logs.String()) {
			if strings.Contains(l, "signature does not hold") {
				ls = append(ls, l)
			}
		}
		return ls
	}
	for range 3 {
		refuse()
	}
	if ls := lines(); len(ls) != 1 || !strings.Contains(ls[0], "refused=1") {
		t.Fatalf("after 3 refusals in a second the log has %q, want one line with refused=1", ls)
	}
	r.clock.Add(61)
	refuse()
	if ls := lines(); len(ls) != 2 || !strings.Contains(ls[1], "refused=3") {
		t.Errorf("a minute later the log has %q, want a second line with refused=3", ls)
	}
	if n := r.obs.badSignature.Load(); n != 4 {
		t.Errorf("BadSignature called %d times, want 4", n)
	}
}

// rawPost writes a request's head (and, with chunks, a chunked body) on a
// connection of its own and returns the response and whether the server
// then closed the connection.
func rawPost(t *testing.T, r *rig, head string, chunks int) (resp *http.Response, closed bool) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(strings.TrimSuffix(r.url, Path), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	if chunks > 0 {
		go func() { // the server stops reading: write errors are expected
			chunk := fmt.Sprintf("%x\r\n%s\r\n", 64<<10, strings.Repeat("a", 64<<10))
			for range chunks {
				if _, err := io.WriteString(conn, chunk); err != nil {
					return
				}
			}
			_, _ = io.WriteString(conn, "0\r\n\r\n")
		}()
	}
	br := bufio.NewReader(conn)
	resp, err = http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Fatal(err)
	}
	_, err = br.ReadByte() // the server closes: EOF (or a reset), never another response
	return resp, err != nil
}

func TestTooLargeIsRefusedAndTheNextRequestAnswered(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		head   string
		chunks int
	}{
		{"Content-Length says 2 MB", "POST " + Path + " HTTP/1.1\r\nHost: x\r\nContent-Type: " + form + "\r\nContent-Length: 2000000\r\n\r\n", 0},
		{"2 MB chunked", "POST " + Path + " HTTP/1.1\r\nHost: x\r\nContent-Type: " + form + "\r\nTransfer-Encoding: chunked\r\n\r\n", 32},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := start(t, newFakeHandler(func(delivered) json.RawMessage { return json.RawMessage(`{"text":"ok"}`) }))
			resp, closed := rawPost(t, r, tt.head, tt.chunks)
			if resp.StatusCode != http.StatusRequestEntityTooLarge || !resp.Close || !closed {
				t.Errorf("answered %d, Connection: close %v, closed %v; want 413, true, true", resp.StatusCode, resp.Close, closed)
			}
			r.h.none(t)
			if n := r.obs.tooLarge.Load(); n != 1 {
				t.Errorf("RequestTooLarge called %d times, want 1", n)
			}
			next := r.post(t, form, commandForm)
			if got := readBody(t, next); next.StatusCode != http.StatusOK || got != `{"text":"ok"}` {
				t.Errorf("the next command was answered %d %q, want 200 with its ack", next.StatusCode, got)
			}
			if c := r.h.next(t); c.method != "command" {
				t.Errorf("handler got %s, want command", c.method)
			}
		})
	}
}

func TestURLVerificationIsEchoed(t *testing.T) {
	t.Parallel()
	r := start(t, newFakeHandler(bareAck))
	resp := r.post(t, "application/json", `{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`)
	if got := readBody(t, resp); resp.StatusCode != http.StatusOK || got != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Errorf("url_verification answered %d %q, want 200 and the challenge", resp.StatusCode, got)
	}
	r.h.none(t)
}

// richTextPayload is a block_actions payload whose message holds levels
// rich_text lists nested in one another: deeper than Slack ever sends.
func richTextPayload(levels int) string {
	var b strings.Builder
	b.WriteString(`{"type":"block_actions","user":{"id":"U1"},"response_url":"https://hooks.slack.com/actions/T1/1/x","actions":[{"action_id":"again","block_id":"b","type":"button","value":"v"}],"message":{"type":"message","blocks":[{"type":"rich_text","block_id":"r","elements":[`)
	for range levels {
		b.WriteString(`{"type":"rich_text_list","style":"bullet","elements":[`)
	}
	b.WriteString(`{"type":"rich_text_section","elements":[{"type":"text","text":"x"}]}`)
	for range levels {
		b.WriteString(`]}`)
	}
	b.WriteString(`]}]}}`)
	return b.String()
}

func TestInteractionReachesTheHandler(t *testing.T) {
	t.Parallel()
	r := start(t, newFakeHandler(bareAck))
	resp := r.post(t, form, url.Values{"payload": {richTextPayload(1)}}.Encode())
	if got := readBody(t, resp); resp.StatusCode != http.StatusOK || got != "" || resp.Header.Get("Content-Type") != "" {
		t.Errorf("a bare ack was answered %d %q (Content-Type %q), want an empty 200", resp.StatusCode, got, resp.Header.Get("Content-Type"))
	}
	c := r.h.next(t)
	if c.method != "interaction" || !strings.HasPrefix(c.d.ID, "sig:v0=") || c.cb.Type != slack.InteractionTypeBlockActions ||
		len(c.cb.ActionCallback.BlockActions) != 1 || c.cb.ActionCallback.BlockActions[0].Value != "v" || c.cb.User.ID != "U1" {
		t.Errorf("handler got %s %q %+v, want the block_actions interaction", c.method, c.d.ID, c.cb)
	}
}

func TestDeepNestingIsNeverDecoded(t *testing.T) {
	t.Parallel()
	deepEvent := `{"type":"event_callback","event_id":"Ev1","event":{"type":"message","blocks":[{"type":"rich_text","elements":` +
		strings.Repeat(`[`, 1500) + strings.Repeat(`]`, 1500) + `}]}}`
	tests := []struct {
		name, contentType, body, wantMethod, wantType string
		tooDeep                                       bool
	}{
		{"1,500 rich_text lists in a click", form, url.Values{"payload": {richTextPayload(1500)}}.Encode(), "unreadable", typeInteraction, true},
		{"4,900 rich_text lists in a click", form, url.Values{"payload": {richTextPayload(4900)}}.Encode(), "unreadable", typeInteraction, true},
		{"1,500 levels in an event", "application/json", deepEvent, "unreadable", typeEvent, true},
		{"a click as deep as allowed", form, url.Values{"payload": {richTextPayload((maxDepth - 8) / 2)}}.Encode(), "interaction", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := start(t, newFakeHandler(bareAck))
			resp := r.post(t, tt.contentType, tt.body)
			readBody(t, resp)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("status %d, want 200", resp.StatusCode)
			}
			c := r.h.next(t)
			if c.method != tt.wantMethod || c.payloadType != tt.wantType || errors.Is(c.err, ErrTooDeep) != tt.tooDeep {
				t.Errorf("handler got %s(%q, %v), want %s(%q) too deep %v", c.method, c.payloadType, c.err, tt.wantMethod, tt.wantType, tt.tooDeep)
			}
		})
	}
}

const appMention = `{"token":"x","team_id":"T1","api_app_id":"A1","type":"event_callback","event_id":"Ev08MFMKH6","event_time":1700000000,
"event":{"type":"app_mention","user":"U1","text":"<@U0BOT> 20190415152645093983751","ts":"1700000000.000100","channel":"C1","event_ts":"1700000000.000100"}}`

func TestRetriedEventCarriesTheSameID(t *testing.T) {
	t.Parallel()
	r := start(t, newFakeHandler(bareAck))
	for _, retry := range []string{"", "1", "2"} {
		resp := r.post(t, "application/json", appMention, "X-Slack-Retry-Num", retry, "X-Slack-Retry-Reason", map[bool]string{true: "http_timeout"}[retry != ""])
		readBody(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("retry %q: status %d, want 200", retry, resp.StatusCode)
		}
		c := r.h.next(t)
		mention, ok := c.ev.InnerEvent.Data.(*slackevents.AppMentionEvent)
		if c.method != "event" || c.d.ID != "Ev08MFMKH6" || !ok || mention.User != "U1" {
			t.Errorf("retry %q: handler got %s ID %q %+v, want the app_mention with ID Ev08MFMKH6", retry, c.method, c.d.ID, c.ev.InnerEvent)
		}
	}
}

func TestUnreadablePayloads(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, contentType, body, wantType, wantID string
	}{
		{"a form that is not one", form, "text=%zz", "", "sig:"},
		{"a payload that is not JSON", form, "payload=%7Bnope", typeInteraction, "sig:"},
		{"an event that is not JSON", "application/json", `{"type":`, typeEvent, ""},
		{"an unknown Events API type", "application/json", `{"type":"something_new","event_id":"Ev2"}`, typeEvent, "Ev2"},
		{"an unknown inner event", "application/json", `{"type":"event_callback","event_id":"Ev3","event":{"type":"not_an_event"}}`, typeEvent, "Ev3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := start(t, newFakeHandler(bareAck))
			resp := r.post(t, tt.contentType, tt.body)
			readBody(t, resp)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("status %d, want 200", resp.StatusCode)
			}
			c := r.h.next(t)
			if c.method != "unreadable" || c.payloadType != tt.wantType || !strings.HasPrefix(c.d.ID, tt.wantID) || (tt.wantID == "") != (c.d.ID == "") || c.err == nil {
				t.Errorf("handler got %s(%q, %v) ID %q, want unreadable(%q) ID %q", c.method, c.payloadType, c.err, c.d.ID, tt.wantType, tt.wantID)
			}
		})
	}
}

func TestLateAckDoesNotBlock(t *testing.T) {
	t.Parallel()
	r := start(t, newFakeHandler(nil), func(tr *Transport) { tr.ackWait = time.Millisecond })
	resp := r.post(t, form, commandForm)
	if got := readBody(t, resp); resp.StatusCode != http.StatusOK || got != "" {
		t.Errorf("unacked command answered %d %q, want an empty 200", resp.StatusCode, got)
	}
	c := r.h.next(t)
	if err := c.d.Ack.Ack(t.Context(), "", json.RawMessage(`{"text":"late"}`)); !errors.Is(err, ErrLate) {
		t.Errorf("late Ack = %v, want ErrLate", err)
	}
}

func TestAckOnce(t *testing.T) {
	t.Parallel()
	a := newAck()
	if err := a.Ack(t.Context(), "", json.RawMessage(`{}`)); err != nil {
		t.Fatalf("first Ack = %v", err)
	}
	if err := a.Ack(t.Context(), "", nil); !errors.Is(err, ErrAcked) {
		t.Errorf("second Ack = %v, want ErrAcked", err)
	}
	if body, ok := a.wait(t.Context(), 0); !ok || string(body) != `{}` {
		t.Errorf("wait = %q, %v; want the first ack's body", body, ok)
	}
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	r := start(t, newFakeHandler(bareAck))
	base := strings.TrimSuffix(r.url, Path)
	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, Path, http.StatusMethodNotAllowed},
		{http.MethodPut, Path, http.StatusMethodNotAllowed},
		{http.MethodPost, "/slack/commands", http.StatusNotFound},
		{http.MethodPost, "/", http.StatusNotFound},
	}
	for _, tt := range tests {
		req, err := http.NewRequestWithContext(t.Context(), tt.method, base+tt.path, strings.NewReader(commandForm))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s %s = %d, want %d", tt.method, tt.path, resp.StatusCode, tt.want)
		}
	}
	r.h.none(t)
}

func TestServeLifecycle(t *testing.T) {
	t.Parallel()
	tr, err := New(Config{SigningSecret: testSecret, Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if ok, status := tr.Ready(); ok || status != "not serving yet" {
		t.Errorf("Ready before Serve = %v %q", ok, status)
	}
	h := newFakeHandler(bareAck)
	done, cancel := context.WithCancel(t.Context())
	cancel() // serves, and stops at once
	if err := tr.Serve(done, h); err != nil {
		t.Errorf("Serve after cancel = %v, want nil", err)
	}
	if ok, status := tr.Ready(); ok || status != "stopped" {
		t.Errorf("Ready after Serve = %v %q, want false \"stopped\"", ok, status)
	}
	if err := tr.Serve(done, h); err == nil {
		t.Error("a second Serve = nil, want an error")
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	taken, err := New(Config{SigningSecret: testSecret, Addr: ln.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	if err := taken.Serve(t.Context(), h); err == nil || strings.Contains(err.Error(), testSecret) {
		t.Errorf("Serve on a taken address = %v, want an error without the secret", err)
	}
}

func TestReadyWhileServing(t *testing.T) {
	t.Parallel()
	r := start(t, newFakeHandler(bareAck))
	resp := r.post(t, form, commandForm) // answered: serving
	readBody(t, resp)
	if ok, status := r.tr.Ready(); !ok || status != "serving" {
		t.Errorf("Ready while serving = %v %q, want true \"serving\"", ok, status)
	}
	if !strings.HasPrefix(r.url, "http://"+r.tr.Addr()) {
		t.Errorf("Addr = %q, want the listener's address in %q", r.tr.Addr(), r.url)
	}
}

func TestNewNeedsASecret(t *testing.T) {
	t.Parallel()
	if _, err := New(Config{}); err == nil {
		t.Error("New without a signing secret = nil error")
	}
}

// TestUnverifiedBodiesHaveABudget: bodies not yet known to be Slack's
// share a budget; a request that would pass it is refused at once, with
// 503 and its connection closed, before it is read, and counted.
func TestUnverifiedBodiesHaveABudget(t *testing.T) {
	t.Parallel()
	r := start(t, newFakeHandler(bareAck), func(tr *Transport) { tr.unverified.left = 100 })
	resp := r.post(t, form, strings.Repeat("x", 1000))
	readBody(t, resp)
	if resp.StatusCode != http.StatusServiceUnavailable || !resp.Close {
		t.Errorf("a body past the budget: %d (close %v), want 503 and the connection closed", resp.StatusCode, resp.Close)
	}
	if n := r.obs.tooLarge.Load(); n != 1 {
		t.Errorf("%d refusals counted, want 1", n)
	}
	// One within it is served, and gives its bytes back.
	for range 3 {
		resp := r.post(t, form, "text=help&command=%2Ftempreport")
		readBody(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("a small body: %d, want 200", resp.StatusCode)
		}
		r.h.next(t)
	}
}

// TestConnectionsAreCapped: past the cap, a connection waits to be
// accepted until one closes.
func TestConnectionsAreCapped(t *testing.T) {
	t.Parallel()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &cappedListener{Listener: inner, slots: make(chan struct{}, 1)}
	defer ln.Close()
	accepted := make(chan net.Conn, 2)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	for range 2 {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	first := <-accepted
	select {
	case <-accepted:
		t.Fatal("a second connection was accepted while the one slot was taken")
	default:
	}
	first.Close()
	second := <-accepted // accepted once the first is closed
	second.Close()
}
