package bot

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

const decidedRecord = "20190415152645093983751"

// newDecider is a bot that is never run: its decisions are tested as
// values, with no transport and no Slack.
func newDecider(t *testing.T, apiURL string) *Bot {
	t.Helper()
	b, err := New(instant{}, Config{BotToken: "xoxb-1", APIURL: apiURL, AllowedUsers: []string{"U0ALLOWED"}, MaxInFlight: 2},
		Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecisionsAsValues: what the bot does with a request (the one ack
// and what follows it) is a value, decided without a transport.
func TestDecisionsAsValues(t *testing.T) {
	t.Parallel()
	hooks := route{kind: routeResponseURL, responseURL: "https://hooks.slack.com/commands/T1/1/x"}
	command := func(user, text string) request {
		return request{entry: EntryCommand, ackForm: ackMessage, user: user, text: text, route: hooks, received: time.Now()}
	}
	click := func(user, text string) request {
		return request{entry: EntryClick, user: user, text: text, route: hooks, received: time.Now()}
	}
	noRoute := func(r request) request { r.route = route{}; return r }
	for _, tt := range []struct {
		name     string
		req      request
		settled  Settlement
		busy     bool // every in-flight place is taken
		draining bool
		then     followUp
		outcome  Outcome
		ack      string // a word the ack carries; "" for a bare ack
		turn     bool
	}{
		{name: "a stranger's command", req: command("U0STRANGER", decidedRecord), then: thenAudit, outcome: OutcomeDenied, ack: "U0STRANGER"},
		{name: "a record", req: command("U0ALLOWED", decidedRecord), then: thenFetch, ack: ProgressPrefix, turn: true},
		{name: "help", req: command("U0ALLOWED", "help"), then: thenAudit, outcome: OutcomeHelp, ack: "Usage"},
		{name: "no record", req: command("U0ALLOWED", "hello"), then: thenAudit, outcome: OutcomeBadInput, ack: "only the digits"},
		{name: "the person's limit", req: command("U0ALLOWED", decidedRecord), settled: Settlement{Wait: 20 * time.Second},
			then: thenAudit, outcome: OutcomeLimited, ack: "20 seconds"},
		{name: "too much in flight", req: command("U0ALLOWED", decidedRecord), busy: true,
			then: thenAudit, outcome: OutcomeOverloaded, ack: "Too many", turn: true},
		{name: "restarting", req: command("U0ALLOWED", decidedRecord), draining: true, then: thenAudit, outcome: OutcomeRestarting, ack: "restarting"},
		{name: "a command without a route", req: noRoute(command("U0ALLOWED", decidedRecord)), then: thenAudit, outcome: OutcomeNoRoute, ack: "reply address"},
		{name: "a click", req: click("U0ALLOWED", decidedRecord), then: thenFetch, turn: true},
		{name: "a click over the limit", req: click("U0ALLOWED", decidedRecord), settled: Settlement{Wait: time.Second},
			then: thenAnswer, outcome: OutcomeLimited},
		{name: "a click without a route", req: noRoute(click("U0ALLOWED", decidedRecord)), then: thenAudit, outcome: OutcomeNoRoute},
		{name: "a stranger's click", req: click("U0STRANGER", decidedRecord), then: thenAnswer, outcome: OutcomeDenied},
		{name: "another replica answered it", req: command("U0ALLOWED", decidedRecord),
			settled: Settlement{Taken: true, FirstAck: json.RawMessage(`{"text":"first"}`)}, then: thenRepeat, ack: "first"},
		{name: "another replica is fetching it", req: command("U0ALLOWED", decidedRecord),
			settled: Settlement{Taken: true, Fetching: true}, then: thenRepeat, ack: ProgressPrefix},
		{name: "an ignored interaction", req: request{entry: EntryClick, refusal: &result{outcome: OutcomeIgnored}}, then: thenAudit, outcome: OutcomeIgnored},
		{name: "a command this bot does not answer", req: readCommand(slackCommand("/other", "x"), "/tempreport"),
			then: thenAudit, outcome: OutcomeWrongCommand, ack: "/tempreport"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newDecider(t, "")
			if tt.busy {
				b.inFlight.Store(2)
			}
			b.draining.Store(tt.draining)
			req := tt.req
			d := b.resolve(&req, b.decide(&req), tt.settled, false)
			if d.then != tt.then || d.turn != tt.turn || (tt.then != thenFetch && tt.then != thenRepeat && d.res.outcome != tt.outcome) {
				t.Errorf("decision: then %s, outcome %q, turn %v; want then %s, outcome %q, turn %v", d.then, d.res.outcome, d.turn, tt.then, tt.outcome, tt.turn)
			}
			switch {
			case tt.ack == "" && d.ack != nil:
				t.Errorf("ack = %s, want a bare ack", d.ack)
			case tt.ack != "" && !strings.Contains(string(d.ack), tt.ack):
				t.Errorf("ack = %s, want it to carry %q", d.ack, tt.ack)
			}
			if d.ack != nil && !json.Valid(d.ack) {
				t.Errorf("ack is not JSON: %s", d.ack)
			}
			if d.share != (d.then == thenAudit && d.ack != nil) {
				t.Errorf("share = %v for then %s with ack %s: an answer in an ack is shared, nothing else", d.share, d.then, d.ack)
			}
		})
	}
}

// TestRedeliveryIsAckedAsBefore: a delivery the bot has acked is acked
// again with the same body and not served again.
func TestRedeliveryIsAckedAsBefore(t *testing.T) {
	t.Parallel()
	b := newDecider(t, "")
	req := request{entry: EntryCommand, ackForm: ackMessage, key: "E1", user: "U0ALLOWED", text: "help", received: time.Now()}
	if !b.seen.remember(&req) {
		t.Fatal("a new delivery was taken for a redelivery")
	}
	b.seen.recordAck(req.key, json.RawMessage(`{"text":"the first answer"}`))
	again := req
	if b.seen.remember(&again) {
		t.Fatal("a delivery sent again was not recognised")
	}
	d := b.resolve(&again, verdict{}, Settlement{}, true)
	if d.then != thenRepeat || string(d.ack) != `{"text":"the first answer"}` {
		t.Errorf("redelivery: then %s, ack %s; want the first ack repeated", d.then, d.ack)
	}
}

// TestStrangersAreNeverLookedUp: with each person's own language, someone
// the allowlist does not admit is answered in the fallback language at
// once, and costs no users.info call.
func TestStrangersAreNeverLookedUp(t *testing.T) {
	t.Parallel()
	looked := make(chan string, 10)
	slack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		looked <- r.Form.Get("user")
		_, _ = io.WriteString(w, `{"ok":true,"user":{"id":"U0ALLOWED","locale":"zh-CN"}}`)
	}))
	defer slack.Close()
	b, err := New(instant{}, Config{BotToken: "xoxb-1", APIURL: slack.URL + "/", AllowedUsers: []string{"U0ALLOWED"},
		Language: LanguageAuto, FallbackLanguage: "en"}, Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		req := request{entry: EntryCommand, ackForm: ackMessage, user: "U0STRANGER" + string(rune('A'+i%26)), text: decidedRecord,
			route: route{kind: routeResponseURL, responseURL: slack.URL + "/response"}, received: time.Now()}
		d := b.resolve(&req, b.decide(&req), Settlement{}, false)
		if d.res.outcome != OutcomeDenied || !strings.Contains(string(d.ack), "not allowed") {
			t.Fatalf("a stranger: then %s, outcome %s, ack %s; want denied in the ack, in English", d.then, d.res.outcome, d.ack)
		}
	}
	// The one admitted person is looked up: the lookup starts, and the
	// answer follows the ack while it runs.
	req := request{entry: EntryCommand, ackForm: ackMessage, user: "U0ALLOWED", text: "help",
		route: route{kind: routeResponseURL, responseURL: slack.URL + "/response"}, received: time.Now()}
	b.resolve(&req, b.decide(&req), Settlement{}, false)
	if got := <-looked; got != "U0ALLOWED" {
		t.Errorf("users.info was asked about %q, want only the admitted person", got)
	}
	select {
	case got := <-looked:
		t.Errorf("users.info was asked about %q too", got)
	default:
	}
}

// TestResponseURLsArePinned: answers go only to https on Slack's hooks
// host, or to the Web API's own host; a forged payload's URL is no route.
func TestResponseURLsArePinned(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		api, url string
		ok       bool
	}{
		{DefaultAPIURL, "https://hooks.slack.com/commands/T1/1/x", true},
		{DefaultAPIURL, "https://hooks.slack.com/actions/T1/1/x", true},
		{DefaultAPIURL, "http://hooks.slack.com/commands/T1/1/x", false},
		{DefaultAPIURL, "https://hooks.slack.com.evil.example/x", false},
		{DefaultAPIURL, "https://user:pass@hooks.slack.com/x", false},
		{DefaultAPIURL, "http://127.0.0.1:8080/x", false},
		{DefaultAPIURL, "https://evil.example/x", false},
		{DefaultAPIURL, "not a url", false},
		{DefaultAPIURL, "", false},
		{"https://slack-gov.com/api/", "https://hooks.slack-gov.com/commands/T1/1/x", true},
		{"https://slack-gov.com/api/", "https://hooks.evil.example/commands/T1/1/x", false},
		{"http://127.0.0.1:9000/api/", "http://127.0.0.1:9000/response/1", true},
		{"http://127.0.0.1:9000/api/", "http://127.0.0.1:9001/response/1", false},
		{"http://127.0.0.1:9000/api/", "https://127.0.0.1:9000/response/1", false},
	} {
		b := newDecider(t, tt.api)
		if got := b.pin(route{kind: routeResponseURL, responseURL: tt.url}).kind == routeResponseURL; got != tt.ok {
			t.Errorf("API %s, response URL %q: a route %v, want %v", tt.api, tt.url, got, tt.ok)
		}
	}
}

// TestEveryDecisionIsAckedOnce: whatever follows, the transport is asked
// to write exactly one ack per delivery, and an answer that follows the
// ack is delivered once, by its route.
func TestEveryDecisionIsAckedOnce(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	posts := 0
	slack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		posts++
		mu.Unlock()
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	defer slack.Close()
	b := newDecider(t, slack.URL+"/api/")
	acks := &countingAcker{counts: map[string]int{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.acks.run(ctx); close(done) }()
	hooks := slack.URL + "/response"
	var reqs []*request
	for i, text := range []string{decidedRecord, "help", "hello", decidedRecord + " 20190415152645093983752"} {
		for _, entry := range []Entry{EntryCommand, EntryClick} {
			req := &request{entry: entry, ackForm: map[Entry]ackForm{EntryCommand: ackMessage}[entry], key: string(rune('a'+i)) + string(entry),
				user: "U0ALLOWED", text: text, received: time.Now(), ack: acks, ackRef: string(rune('a'+i)) + string(entry)}
			req.route = b.pin(route{kind: routeResponseURL, responseURL: hooks})
			reqs = append(reqs, req)
		}
	}
	b.serve(context.Background(), reqs)
	b.follow.Wait()
	b.acks.wait()
	cancel()
	<-done
	for _, req := range reqs {
		if n := acks.counts[req.ackRef]; n != 1 {
			t.Errorf("%s %q: acked %d times, want once", req.entry, req.key, n)
		}
	}
	// The clicks' answers all follow their acks; of the commands, only the
	// fetched one's does (the others are in the ack).
	mu.Lock()
	defer mu.Unlock()
	if want := 4 + 1; posts != want {
		t.Errorf("%d answers posted, want %d", posts, want)
	}
}

type countingAcker struct {
	mu     sync.Mutex
	counts map[string]int
}

func (a *countingAcker) Ack(_ context.Context, ref string, _ json.RawMessage) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.counts[ref]++
	return nil
}

func slackCommand(command, text string) slack.SlashCommand {
	return slack.SlashCommand{Command: command, Text: text, UserID: "U0ALLOWED", ResponseURL: "https://hooks.slack.com/commands/T1/1/x"}
}

// TestMessagesAreReadAfterTheAck: a message (a shortcut's) is not read on
// the decision goroutine, whatever its size: its ack is bare and at once,
// and no one else's ack waits behind it.
func TestMessagesAreReadAfterTheAck(t *testing.T) {
	t.Parallel()
	b := newDecider(t, "")
	msg := &slack.Message{}
	msg.Text = strings.Repeat("背调号 "+decidedRecord+" ", 50_000)
	req := request{entry: EntryShortcut, user: "U0ALLOWED", message: msg, received: time.Now(),
		route: route{kind: routeResponseURL, responseURL: "https://hooks.slack.com/actions/T1/1/x"}}
	v := b.decide(&req)
	if !v.readLater || req.message != msg || v.res.records != nil {
		t.Fatalf("decide read the message: %+v", v)
	}
	if d := b.resolve(&req, v, Settlement{}, false); d.then != thenRead || d.ack != nil || d.turn {
		t.Errorf("a message to read: then %s, ack %s, turn %v; want a bare ack, then read", d.then, d.ack, d.turn)
	}
	stranger := request{entry: EntryShortcut, user: "U0STRANGER", message: msg, received: time.Now(), route: req.route}
	if v := b.decide(&stranger); v.readLater || v.res.outcome != OutcomeDenied {
		t.Errorf("a stranger's message: %+v; want denied, unread", v)
	}
}
