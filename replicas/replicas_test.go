package replicas

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"golang.org/x/time/rate"

	"github.com/hr-tools/tempreport/bot"
	"github.com/hr-tools/tempreport/yibeidiao"
)

func open(t *testing.T, url string) *Store {
	t.Helper()
	s, err := Open(t.Context(), url, "test:", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// never is a fallback that fails the test if it is used.
type never struct{ t *testing.T }

func (n never) Reserve(context.Context, time.Duration) (time.Duration, func(), bool) {
	n.t.Error("the fallback limiter was used while Redis was up")
	return 0, nil, true
}

func TestLimiterSharesOneBudget(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	// The limit is timed by the Redis server's clock: stopped here, every
	// wait is exact, however slow this machine is between two calls.
	mr.SetTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	a, b := open(t, "redis://"+mr.Addr()), open(t, "redis://"+mr.Addr())
	la := a.Limiter(1, 3, never{t})
	lb := b.Limiter(1, 3, never{t})
	ctx := t.Context()
	// Three turns at once between the two replicas, then each next one a
	// second later than the last, whichever replica asks.
	for i, tt := range []struct {
		l    yibeidiao.Limiter
		wait time.Duration
	}{{la, 0}, {lb, 0}, {la, 0}, {lb, time.Second}, {la, 2 * time.Second}} {
		d, _, ok := tt.l.Reserve(ctx, time.Minute)
		if !ok || d != tt.wait {
			t.Errorf("turn %d: wait %v, ok %v; want %v", i, d, ok, tt.wait)
		}
	}
	// A turn that would come after the caller's budget is refused and not
	// taken: the next caller with time to wait gets the same slot.
	d, _, ok := lb.Reserve(ctx, time.Second)
	if ok || d != 3*time.Second {
		t.Errorf("a turn 3s away, with 1s to wait: wait %v, ok %v; want refused", d, ok)
	}
	d, _, ok = la.Reserve(ctx, time.Minute)
	if !ok || d != 3*time.Second {
		t.Errorf("after a refusal, the next turn: wait %v, ok %v; want 3s: the refused one was not taken", d, ok)
	}
}

func TestLedgerClaimsOnceAndSharesTurns(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	a, b := open(t, "redis://"+mr.Addr()), open(t, "redis://"+mr.Addr())
	local := bot.NewLocalLedger(rate.Limit(1.0/60), 2)
	la, lb := a.Ledger(rate.Limit(1.0/60), 2, local), b.Ledger(rate.Limit(1.0/60), 2, local)
	ctx := t.Context()

	// e1 and e2 take the person's two turns; e3 asks for a third and is
	// told to wait, in its ack; s1 is a stranger's, answered in its ack
	// without asking for a turn.
	got := settleInOrder(ctx, la, []bot.Claim{{Key: "e1", User: "U1", Turn: true}, {Key: "e2", User: "U1", Turn: true},
		{Key: "e3", User: "U1", Turn: true}, {Key: "s1", User: "U0STRANGER"}})
	for i, s := range got[:2] {
		if s.Taken || s.Wait != 0 {
			t.Fatalf("new envelope e%d within the burst: %+v", i+1, s)
		}
	}
	if got[2].Taken || got[2].Wait < 50*time.Second {
		t.Errorf("third turn: %+v, want a wait of about a minute", got[2])
	}
	if got[3].Taken || got[3].Wait != 0 {
		t.Errorf("a stranger's envelope: %+v, want new", got[3])
	}
	la.ShareAck("e3", json.RawMessage(`{"text":"wait a minute"}`))
	la.ShareAck("s1", json.RawMessage(`{"text":"not for you"}`))
	waitFor(t, func() bool { v, _ := mr.Get("test:envelope:e3"); return v != "" })

	// The same envelopes on the other replica: e3 taken, with its first ack;
	// e1 is being fetched. The stranger's envelope left nothing in Redis:
	// the other replica answers it again, the same way.
	got = settleInOrder(ctx, lb, []bot.Claim{{Key: "e3", User: "U1", Turn: true}, {Key: "e1", User: "U1", Turn: true},
		{Key: "e4", User: "U1", Turn: true}, {Key: "s1", User: "U0STRANGER"}})
	if !got[0].Taken || string(got[0].FirstAck) != `{"text":"wait a minute"}` || got[0].Fetching {
		t.Errorf("redelivery of an answered envelope on the other replica: %+v, want taken with the first ack", got[0])
	}
	if !got[1].Taken || !got[1].Fetching {
		t.Errorf("redelivery of a fetching envelope on the other replica: %+v, want taken and fetching", got[1])
	}
	// The person's third turn on the other replica: their burst of 2 is spent.
	if got[2].Taken || got[2].Wait < 50*time.Second {
		t.Errorf("third turn across replicas: %+v, want a wait of about a minute", got[2])
	}
	if got[3].Taken || mr.Exists("test:envelope:s1") {
		t.Errorf("a stranger's envelope on the other replica: %+v (key kept: %v), want new and nothing kept", got[3], mr.Exists("test:envelope:s1"))
	}
	// A turn given back on one replica is a turn on the other.
	la.GiveBack(ctx, "U1")
	got = settleInOrder(ctx, lb, []bot.Claim{{Key: "e5", User: "U1", Turn: true}})
	if got[0].Wait != 0 {
		t.Errorf("after a turn given back: wait %v, want a turn", got[0].Wait)
	}
	if ttl := mr.TTL("test:envelope:e3"); ttl <= 9*time.Minute || ttl > 10*time.Minute {
		t.Errorf("an envelope is remembered for %v, want 10m", ttl)
	}
}

func TestFallsBackWhileRedisIsDown(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	s := open(t, "redis://"+mr.Addr())
	l := s.Ledger(rate.Limit(1.0/60), 1, bot.NewLocalLedger(rate.Limit(1.0/60), 1))
	mr.Close()
	got := settleInOrder(t.Context(), l, []bot.Claim{{Key: "e1", User: "U1", Turn: true}})
	if got[0].Taken || got[0].Wait != 0 {
		t.Errorf("with Redis down, a new envelope: %+v; want served from local memory", got[0])
	}
	// The failed call and the probe it asked for take the store down.
	waitFor(t, func() bool { return !s.Up() && s.State() == StateUnreachable })
	if err := mr.Restart(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, s.Up)
}

func TestOpenRefusesWrongPasswordWithoutPrintingIt(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	mr.RequireAuth("right")
	_, err := Open(t.Context(), "redis://:WRONGSECRET42@"+mr.Addr(), "test:", slog.New(slog.DiscardHandler))
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("wrong password: %v, want ErrRefused", err)
	}
	if strings.Contains(err.Error(), "WRONGSECRET42") {
		t.Errorf("the error shows the password: %v", err)
	}
	for _, url := range []string{"redis://u:WRONGSECRET42@h:x/0", "http://u:WRONGSECRET42@h", "redis://u:WRONGSECRET42@h/db", "redis://u:WRONGSECRET42@%zz"} {
		if _, err := ParseURL(url); err == nil || strings.Contains(err.Error(), "WRONGSECRET42") {
			t.Errorf("ParseURL(%q) = %v; want an error without the password", url, err)
		}
	}
}

// waitFor polls cond until it holds; the deadline only keeps a broken
// store from hanging the suite.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within a minute")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// settleInOrder is l.Settle's answers in the order of claims.
func settleInOrder(ctx context.Context, l bot.Ledger, claims []bot.Claim) []bot.Settlement {
	byKey := l.Settle(ctx, claims)
	out := make([]bot.Settlement, len(claims))
	for i, c := range claims {
		out[i] = byKey[c.Key]
	}
	return out
}

// TestAHeldDeliveryIsServedOnce: a delivery whose answer is posted after
// the ack (a mention, the Home) is held without a turn, so that another
// replica that gets it again acks it and posts nothing.
func TestAHeldDeliveryIsServedOnce(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	ctx := t.Context()
	sa, sb := open(t, "redis://"+mr.Addr()), open(t, "redis://"+mr.Addr())
	la := sa.Ledger(rate.Limit(1.0/60), 2, bot.NewLocalLedger(rate.Limit(1.0/60), 2))
	lb := sb.Ledger(rate.Limit(1.0/60), 2, bot.NewLocalLedger(rate.Limit(1.0/60), 2))
	if got := settleInOrder(ctx, la, []bot.Claim{{Key: "Ev1", User: "U1", Hold: true}}); got[0].Taken || got[0].Wait != 0 {
		t.Fatalf("a new held delivery: %+v", got[0])
	}
	if got := settleInOrder(ctx, lb, []bot.Claim{{Key: "Ev1", User: "U1", Hold: true}}); !got[0].Taken || got[0].Fetching || len(got[0].FirstAck) != 0 {
		t.Errorf("the held delivery again, on another replica: %+v, want taken, with a bare ack", got[0])
	}
	// A hold takes no turn: the person still has both.
	got := settleInOrder(ctx, lb, []bot.Claim{{Key: "c1", User: "U1", Turn: true}, {Key: "c2", User: "U1", Turn: true}})
	if got[0].Wait != 0 || got[1].Wait != 0 {
		t.Errorf("turns after a hold: %+v, want both", got)
	}
}
