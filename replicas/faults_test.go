package replicas

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"github.com/hr-tools/tempreport/bot"
	"github.com/hr-tools/tempreport/internal/redistest"
	"github.com/hr-tools/tempreport/internal/testkit"
)

// fast are thresholds for tests: the defaults' shape, probing often.
var fast = thresholds{downAfter: 2, upAfter: 3, good: callTimeout / 2, probeEvery: 50 * time.Millisecond,
	retryEvery: 50 * time.Millisecond, flapWindow: time.Minute}

// watched is a store whose log a test reads.
type watched struct {
	*Store
	logs *testkit.Buffer
}

func openWatched(t *testing.T, url string, th thresholds) watched {
	t.Helper()
	logs := &testkit.Buffer{}
	s, err := openWith(t.Context(), url, "test:", slog.New(slog.NewTextHandler(logs, nil)), th)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		_ = s.Close()
		if t.Failed() {
			t.Logf("the store's log:\n%s", logs.String())
		}
	})
	return watched{s, logs}
}

// count is how many lines of the log say what.
func (w watched) count(what string) int { return strings.Count(w.logs.String(), what) }

func (w watched) waitFor(t *testing.T, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // a guard against a hang, not a bound
	defer cancel()
	if err := w.logs.WaitFor(ctx, what); err != nil {
		t.Fatal(err)
	}
}

func admin(t *testing.T, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func usedMemory(t *testing.T, c *redis.Client) int64 {
	t.Helper()
	info, err := c.InfoMap(t.Context(), "memory").Result()
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	fmt.Sscan(info["Memory"]["used_memory"], &n)
	return n
}

const (
	logDown        = "Redis cannot be reached"
	logSlowAnswers = "Redis answers, but too slowly"
	logFull        = "Redis is full and refuses writes"
	logBack        = "Redis is back"
	logHold        = "not used again for a while"
)

// TestStateMachineHasHysteresis drives the state machine with results as
// calls and probes would bring them, on synctest's clock: the flap window
// is a minute of fake time, not of the machine's.
func TestStateMachineHasHysteresis(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		logs := &testkit.Buffer{}
		th := fast
		s := &Store{log: slog.New(slog.NewTextHandler(logs, nil)), th: th, probeNow: make(chan struct{}, 1)}
		s.h.state = StateOK
		s.up.Store(true)
		ok, slow, gone := 10*time.Millisecond, 200*time.Millisecond, errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
		timedOut := fmt.Errorf("redis: %w", os.ErrDeadlineExceeded)
		oom := redis.Error(proto("OOM command not allowed when used memory > 'maxmemory'. script: 1234, on @user_script:3."))

		// One failure among good calls changes nothing, but asks for a probe.
		s.observe("settling", ok, gone)
		if !s.Up() || len(s.probeNow) != 1 {
			t.Fatalf("after one failure: up %v, probe asked %v; want up and a probe", s.Up(), len(s.probeNow) == 1)
		}
		s.observe("probe", ok, nil)
		s.observe("settling", ok, timedOut)
		s.observe("settling", slow, nil) // slow, but a slow answer right after a failure confirms it
		if s.State() != StateSlow || s.Up() || strings.Count(logs.String(), logSlowAnswers) != 1 || !strings.Contains(logs.String(), "took=200ms") {
			t.Fatalf("timeout then slow: %s; want slow (Redis answers, late), said once with the figure\n%s", s.State(), logs)
		}
		if st := s.Status(); !strings.HasPrefix(st, "slow: Redis answered in 200ms, more than the 125ms of a good answer") {
			t.Errorf("Status while slow = %q, want the figure", st)
		}
		// Slow probes never bring it back, nor do good ones broken by a
		// slow one; timeouts among late answers are the same slowness.
		for _, took := range []time.Duration{ok, ok, slow, ok, ok, slow, slow} {
			s.observe("probe", took, nil)
			time.Sleep(th.retryEvery)
		}
		s.observe("probe", callTimeout, timedOut)
		s.observe("probe", 230*time.Millisecond, nil)
		s.observe("probe", callTimeout, timedOut)
		if s.Up() || s.State() != StateSlow || strings.Count(logs.String(), logDown) != 0 || !strings.Contains(s.Status(), "answered in 230ms") {
			t.Fatalf("late answers and timeouts: up %v, %q; want slow with the last figure, never called unreachable\n%s", s.Up(), s.Status(), logs)
		}
		// No answer at all for a while: gone, said once.
		time.Sleep(th.slowMemory())
		s.observe("probe", callTimeout, timedOut)
		if s.State() != StateUnreachable || strings.Count(logs.String(), logDown) != 1 {
			t.Fatalf("no answer for %v after a slow one: %s; want unreachable, said once\n%s", th.slowMemory(), s.State(), logs)
		}
		// A refusal while down changes the state and is said once.
		s.observe("probe", ok, oom)
		s.observe("probe", ok, oom)
		if s.State() != StateFull || strings.Count(logs.String(), logFull) != 1 || !strings.Contains(logs.String(), `error="OOM command not allowed when used memory > 'maxmemory'."`) {
			t.Fatalf("OOM while down: %s; want full, said once with Redis's words and no script digest\n%s", s.State(), logs)
		}
		for range 3 {
			s.observe("probe", ok, nil)
		}
		if s.Status() != "ok: limits and redeliveries are shared" || strings.Count(logs.String(), logBack) != 1 {
			t.Fatalf("after 3 good probes: %q; want ok, said once\n%s", s.Status(), logs)
		}
		// Down again soon after coming back is a flap: not back before the
		// flap window has passed, however good the probes.
		s.observe("settling", ok, gone)
		s.observe("probe", ok, gone)
		downAt := time.Now()
		for !s.Up() {
			s.observe("probe", ok, nil)
			time.Sleep(th.retryEvery)
		}
		if held := time.Since(downAt); held < th.flapWindow || held > th.flapWindow+th.retryEvery {
			t.Errorf("after a flap, back after %v; want the flap window, %v", held, th.flapWindow)
		}
		if n := strings.Count(logs.String(), logHold); n != 1 {
			t.Errorf("the hold after a flap said %d times, want once\n%s", n, logs)
		}
		// A caller that gave up tells nothing.
		s.observe("settling", ok, context.Canceled)
		s.observe("settling", ok, context.Canceled)
		if !s.Up() {
			t.Error("canceled calls took Redis down")
		}
	})
}

// proto is a Redis error as go-redis returns it.
type proto string

func (p proto) Error() string { return string(p) }
func (proto) RedisError()     {}

func TestClassify(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		err  error
		want State
	}{
		{nil, StateOK},
		{redis.Nil, StateOK},
		{proto("OOM command not allowed when used memory > 'maxmemory'."), StateFull},
		{fmt.Errorf("wrapped: %w", proto("READONLY You can't write against a read only replica.")), StateReadOnly},
		{proto("MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk."), StateRefusing},
		{proto("LOADING Redis is loading the dataset in memory"), StateRefusing},
		{proto("ERR Error running script (call to f_1234): @user_script:3: -OOM command not allowed when used memory > 'maxmemory'"), StateFull},
		{proto("NOAUTH Authentication required."), StateRefusing},
		{context.DeadlineExceeded, StateUnreachable},
		{os.ErrDeadlineExceeded, StateUnreachable},
		{redis.ErrPoolTimeout, StateUnreachable},
		{errors.New("EOF"), StateUnreachable},
	} {
		if got, ignore := classify(tt.err); got != tt.want || ignore {
			t.Errorf("classify(%v) = %q, %v; want %q", tt.err, got, ignore, tt.want)
		}
	}
	if _, ignore := classify(fmt.Errorf("x: %w", context.Canceled)); !ignore {
		t.Error("a canceled call is not ignored")
	}
}

// TestFullRedisIsSaidOnceAndAnswersGoOn: a Redis at maxmemory with
// noeviction answers pings but refuses writes. The store says so once,
// shows it, answers from local limits meanwhile, and comes back when
// Redis takes writes again.
func TestFullRedisIsSaidOnceAndAnswersGoOn(t *testing.T) {
	t.Parallel()
	srv := redistest.ForTest(t)
	a := admin(t, srv.Addr)
	s := openWatched(t, srv.URL(), fast)
	l := s.Ledger(rate.Limit(1.0/60), 1, bot.NewLocalLedger(rate.Limit(1.0/60), 1))
	ctx := t.Context()

	fill(t, a)
	for i := range 60 {
		got := settleInOrder(ctx, l, []bot.Claim{{Key: fmt.Sprint("e", i), User: fmt.Sprint("U", i), Turn: true}})
		if got[0].Taken || got[0].Wait != 0 {
			t.Fatalf("envelope %d with Redis full: %+v; want a turn, from local limits", i, got[0])
		}
		time.Sleep(20 * time.Millisecond) // commands as they come: the store probes meanwhile
	}
	if s.State() != StateFull || !strings.HasPrefix(s.Status(), "full: ") || s.Up() {
		t.Errorf("with Redis full: state %q, status %q", s.State(), s.Status())
	}
	if full, down, back := s.count(logFull), s.count(logDown), s.count(logBack); full != 1 || down != 0 || back != 0 {
		t.Errorf("with Redis full for 60 settlements: %d full, %d unreachable, %d back lines; want 1, 0, 0", full, down, back)
	}

	if err := a.ConfigSet(ctx, "maxmemory", "0").Err(); err != nil {
		t.Fatal(err)
	}
	s.waitFor(t, logBack)
	settleInOrder(ctx, l, []bot.Claim{{Key: "after", User: "U1", Turn: true}})
	if n, _ := a.Exists(ctx, "test:envelope:after").Result(); n != 1 {
		t.Error("with Redis taking writes again, a claim was not written to it")
	}
}

// TestReadOnlyRedisIsSaidOnce: REDIS_URL naming a read-only replica (here,
// a server told to replicate from nowhere) is a refusal, said once, until
// it is a primary again.
func TestReadOnlyRedisIsSaidOnce(t *testing.T) {
	t.Parallel()
	srv := redistest.ForTest(t)
	a := admin(t, srv.Addr)
	s := openWatched(t, srv.URL(), fast)
	l := s.Ledger(rate.Limit(1), 5, bot.NewLocalLedger(rate.Limit(1), 5))
	_, port, _ := net.SplitHostPort(testkit.DeadAddr(t))
	if err := a.ReplicaOf(t.Context(), "127.0.0.1", port).Err(); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if got := settleInOrder(t.Context(), l, []bot.Claim{{Key: fmt.Sprint("r", i), User: "U1", Turn: true}}); got[0].Taken {
			t.Fatalf("a new envelope with Redis read-only: %+v", got[0])
		}
		time.Sleep(30 * time.Millisecond)
	}
	waitFor(t, func() bool { return s.State() == StateReadOnly })
	if n := s.count("read-only replica"); n != 1 {
		t.Errorf("a read-only Redis said %d times, want once", n)
	}
	if err := a.ReplicaOf(t.Context(), "NO", "ONE").Err(); err != nil {
		t.Fatal(err)
	}
	s.waitFor(t, logBack)
}

// fill sets a small maxmemory with noeviction, writes until Redis refuses,
// and lowers maxmemory below what is used: full, not at the edge of full.
func fill(t *testing.T, a *redis.Client) {
	t.Helper()
	ctx := t.Context()
	used := usedMemory(t, a)
	if err := a.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err(); err != nil {
		t.Fatal(err)
	}
	if err := a.ConfigSet(ctx, "maxmemory", fmt.Sprint(used+256<<10)).Err(); err != nil {
		t.Fatal(err)
	}
	value := strings.Repeat("x", 4<<10)
	for i := 0; ; i++ {
		err := a.Set(ctx, fmt.Sprint("filler:", i), value, 0).Err()
		if redis.IsOOMError(err) {
			if err := a.ConfigSet(ctx, "maxmemory", fmt.Sprint(usedMemory(t, a)-128<<10)).Err(); err != nil {
				t.Fatal(err)
			}
			return
		}
		if err != nil || i > 10000 {
			t.Fatalf("filling Redis: %v after %d keys", err, i)
		}
	}
}

// TestSlowRedisAtTheBoundDoesNotFlap: a Redis 220 ms away answers some
// calls within the 250 ms bound and some not. The store gives it up once,
// says it is slow (not gone) with the figure, and stays down while it is
// that slow: every settlement from then on is answered from memory, never
// waiting on Redis (none is written there). The latencies are logged, as
// information.
func TestSlowRedisAtTheBoundDoesNotFlap(t *testing.T) {
	t.Parallel()
	srv := redistest.ForTest(t)
	a := admin(t, srv.Addr)
	proxy := redistest.ProxyForTest(t, srv.Addr)
	s := openWatched(t, proxy.URL(), defaultThresholds)
	l := s.Ledger(rate.Limit(100), 100, bot.NewLocalLedger(rate.Limit(100), 100))
	if !s.Up() {
		t.Fatal("not up before the delay")
	}
	proxy.SetDelay(110 * time.Millisecond)
	const n = 100
	var took []time.Duration
	var fromMemory []string // envelopes settled while Redis was given up
	for i := range n {
		id := fmt.Sprint("slow", i)
		down := !s.Up()
		start := time.Now()
		got := settleInOrder(t.Context(), l, []bot.Claim{{Key: id, User: "U1", Turn: true}})
		took = append(took, time.Since(start))
		if got[0].Taken {
			t.Fatalf("a new envelope was taken: %+v", got[0])
		}
		if down {
			fromMemory = append(fromMemory, id)
		}
		time.Sleep(50 * time.Millisecond) // a settlement every 50 ms, as the bot would see commands
	}
	state, status := s.State(), s.Status()
	down, slow, back := s.count(logDown), s.count(logSlowAnswers), s.count(logBack)
	t.Logf("Redis 220 ms away: %d settlements, slowest %v, median %v (information); %d from memory; %d unreachable, %d slow and %d back lines; status %q",
		len(took), slices.Max(took), median(took), len(fromMemory), down, slow, back, status)
	if down > 1 || slow != 1 || back != 0 {
		t.Errorf("Redis 220 ms away: %d unreachable, %d slow and %d back lines; want it said slow once, and never back", down, slow, back)
	}
	if state != StateSlow || !strings.HasPrefix(status, "slow: Redis answered in ") {
		t.Errorf("Redis answering in about 220 ms: state %s, status %q; want slow, with the figure", state, status)
	}
	if len(fromMemory) < n/2 {
		t.Errorf("only %d of %d settlements were made after Redis was given up; want it given up early", len(fromMemory), n)
	}
	// Fast again: back once. Then nothing settled while it was given up
	// was written to Redis: none of them waited on it.
	proxy.SetDelay(0)
	s.waitFor(t, logBack)
	if n := s.count(logBack); n != 1 {
		t.Errorf("back %d times", n)
	}
	for _, id := range fromMemory {
		if n, err := a.Exists(t.Context(), "test:envelope:"+id).Result(); err != nil || n != 0 {
			t.Fatalf("%s, settled while Redis was given up, is in Redis (%v): it waited on Redis", id, err)
		}
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// TestResetIsNoticedOnce: FLUSHALL, or a restart of a Redis without
// persistence, empties the shared memory; each replica says so once per
// reset.
func TestResetIsNoticedOnce(t *testing.T) {
	t.Parallel()
	srv := redistest.ForTest(t)
	a := admin(t, srv.Addr)
	replicas := []watched{openWatched(t, srv.URL(), fast), openWatched(t, srv.URL(), fast)}
	const reset = "Redis was reset"
	time.Sleep(200 * time.Millisecond) // a few probes: nothing to say yet
	for _, r := range replicas {
		if n := r.count(reset); n != 0 {
			t.Fatalf("a reset said before any: %d", n)
		}
	}
	for round := 1; round <= 2; round++ {
		if err := a.FlushAll(t.Context()).Err(); err != nil {
			t.Fatal(err)
		}
		for _, r := range replicas {
			waitFor(t, func() bool { return r.count(reset) >= round })
		}
		time.Sleep(300 * time.Millisecond) // several probes more
		for i, r := range replicas {
			if n := r.count(reset); n != round {
				t.Errorf("after %d FLUSHALLs, replica %d said %d resets", round, i, n)
			}
		}
	}
	// A restart without persistence: a reset (and, if a call or two failed
	// meanwhile, one down and back).
	if err := srv.Restart(t.Context()); err != nil {
		t.Fatal(err)
	}
	for i, r := range replicas {
		// Up is set just before "Redis is back" is logged: wait for the line too.
		waitFor(t, func() bool { return r.count(reset) == 3 && r.Up() && r.count(logBack) >= r.count(logDown) })
		if down, back := r.count(logDown), r.count(logBack); down > 1 || back != down {
			t.Errorf("replica %d across a restart: %d down and %d back lines", i, down, back)
		}
	}
}

// TestLostScriptsAreLoadedAgain: after SCRIPT FLUSH (or a restart), the
// first calls find no script; they run with EVAL, once each, and Redis is
// not given up.
func TestLostScriptsAreLoadedAgain(t *testing.T) {
	t.Parallel()
	srv := redistest.ForTest(t)
	a := admin(t, srv.Addr)
	one, other := openWatched(t, srv.URL(), fast), openWatched(t, srv.URL(), fast)
	local := bot.NewLocalLedger(rate.Limit(1.0/60), 5)
	lo, lt := one.Ledger(rate.Limit(1.0/60), 5, local), other.Ledger(rate.Limit(1.0/60), 5, local)
	if err := a.ScriptFlush(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	got := settleInOrder(t.Context(), lo, []bot.Claim{{Key: "n1", User: "U1", Turn: true}, {Key: "n2", User: "U1", Turn: true}})
	if got[0].Taken || got[1].Taken {
		t.Fatalf("new envelopes after SCRIPT FLUSH: %+v", got)
	}
	// Claimed in Redis, once: the other replica finds them taken, and the
	// person has 3 of 5 turns left.
	got = settleInOrder(t.Context(), lt, []bot.Claim{{Key: "n1", User: "U1", Turn: true}, {Key: "n2", User: "U1", Turn: true}})
	if !got[0].Fetching || !got[1].Fetching {
		t.Errorf("the envelopes on the other replica: %+v, want taken and fetching", got)
	}
	for i := range 4 {
		got = settleInOrder(t.Context(), lt, []bot.Claim{{Key: fmt.Sprint("m", i), User: "U1", Turn: true}})
		if (got[0].Wait == 0) != (i < 3) {
			t.Errorf("turn %d after two: wait %v; want 3 turns left", i+3, got[0].Wait)
		}
	}
	if !one.Up() || one.count("Redis") != 1 { // the start line only
		t.Errorf("after SCRIPT FLUSH: up %v\n%s", one.Up(), one.logs)
	}
}

// TestHostileSizesCostRedisLittle: claims as large as the bot makes them
// (it bounds delivery keys and user IDs, whatever arrives) cost Redis a
// small, fixed size, and claims that ask for no turn (a stranger's) leave
// nothing in Redis.
func TestHostileSizesCostRedisLittle(t *testing.T) {
	t.Parallel()
	srv := redistest.ForTest(t)
	a := admin(t, srv.Addr)
	s := openWatched(t, srv.URL(), defaultThresholds)
	local := bot.NewLocalLedger(rate.Limit(1), 1)
	l := s.Ledger(rate.Limit(1), 1, local)
	ctx := t.Context()
	long := func(i int) string { return fmt.Sprintf("sha256:%064d", i) } // the longest key the bot makes

	const n = 5000
	before := usedMemory(t, a)
	for i := 0; i < n; i += 100 {
		claims := make([]bot.Claim, 100)
		for j := range claims {
			claims[j] = bot.Claim{Key: long(i + j), User: "U0STRANGER" + strings.Repeat("u", 22)}
		}
		for _, got := range settleInOrder(ctx, l, claims) {
			if got.Taken {
				t.Fatal("a stranger's new envelope was taken")
			}
		}
	}
	if !s.Up() {
		t.Fatal("Redis was given up")
	}
	strangers := usedMemory(t, a) - before
	t.Logf("%d strangers' claims: Redis grew by %d bytes", n, strangers)
	if strangers > 64<<10 {
		t.Errorf("%d strangers' claims took %d bytes of Redis; want next to nothing", n, strangers)
	}

	// Claims that take a turn: the same key is the same claim, and a key
	// stays short.
	before = usedMemory(t, a)
	for i := 0; i < n; i += 100 {
		claims := make([]bot.Claim, 100)
		for j := range claims {
			claims[j] = bot.Claim{Key: long(i + j), User: fmt.Sprint("U", i+j), Turn: true}
		}
		settleInOrder(ctx, l, claims)
	}
	claimed := usedMemory(t, a) - before
	t.Logf("%d claims with turns: Redis grew by %d bytes, %d a claim (its key, a person's bucket)", n, claimed, claimed/n)
	if claimed/n > 400 {
		t.Errorf("a claim costs Redis %d bytes; want a fixed, small size", claimed/n)
	}
	got := settleInOrder(ctx, l, []bot.Claim{{Key: long(7), User: "U7", Turn: true}})
	if !got[0].Taken || !got[0].Fetching {
		t.Errorf("a long key seen again: %+v, want taken", got[0])
	}
	keys, err := a.Keys(ctx, "test:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if len(k) > 100 {
			t.Fatalf("a key of %d bytes: %.80s…", len(k), k)
		}
	}
}
