package replicas

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// State is what the store knows of Redis right now: [StateOK] while
// limits and redeliveries are shared, otherwise why each replica counts its
// own.
type State string

// The states. Only [StateUnreachable] is an outage; [StateSlow] is a Redis
// that answers, but too slowly to be waited for on every command; the others
// are answers from a Redis that refuses to write.
const (
	StateOK          State = "ok"          // Redis answers in time
	StateUnreachable State = "unreachable" // no answer in time: down, blackholed, or far slower than the bound
	StateSlow        State = "slow"        // answers, but slower than a good call: at the edge of the bound or over it
	StateFull        State = "full"        // out of memory: maxmemory reached with noeviction (OOM)
	StateReadOnly    State = "readonly"    // a read-only replica (READONLY): REDIS_URL names a replica, or a failover demoted it
	StateRefusing    State = "refusing"    // another refusal: MISCONF, LOADING, BUSY, NOAUTH, NOPERM, …
)

// States is every [State], for metrics with one series per state.
var States = []State{StateOK, StateUnreachable, StateSlow, StateFull, StateReadOnly, StateRefusing}

// what each state means for an operator: the log line when it begins and
// the text /healthz shows.
var meaning = map[State]string{
	StateOK:          "limits and redeliveries are shared",
	StateUnreachable: "Redis cannot be reached: each replica counts its own limits and redeliveries until it can",
	StateSlow:        "Redis answers, but too slowly to wait for on every command: each replica counts its own limits and redeliveries until it is fast again",
	StateFull:        "Redis is full and refuses writes (maxmemory reached, noeviction): each replica counts its own limits and redeliveries until it takes writes again",
	StateReadOnly:    "Redis is a read-only replica and refuses writes (point REDIS_URL at the primary): each replica counts its own limits and redeliveries until it takes writes again",
	StateRefusing:    "Redis refuses the bot's commands: each replica counts its own limits and redeliveries until it takes them again",
}

// classify is the one place that tells Redis's errors apart: a refusal is
// an answer, with a code (OOM, READONLY, …) as its first word; anything
// else (a timeout, a closed connection, a pool waiting too long) means
// Redis is gone. A canceled context is the caller's doing and tells
// nothing (ignore).
func classify(err error) (s State, ignore bool) {
	if err == nil || errors.Is(err, redis.Nil) {
		return StateOK, false
	}
	if errors.Is(err, context.Canceled) {
		return "", true
	}
	var answer redis.Error
	if !errors.As(err, &answer) {
		return StateUnreachable, false
	}
	msg := answer.Error()
	if i := strings.LastIndex(msg, ": -"); i >= 0 { // Redis 6 wraps an error inside a script: "ERR Error running script …: -OOM …"
		msg = msg[i+3:]
	}
	code, _, _ := strings.Cut(msg, " ")
	switch code {
	case "OOM":
		return StateFull, false
	case "READONLY":
		return StateReadOnly, false
	}
	return StateRefusing, false
}

// redisWords is an error from Redis fit for a log: go-redis's errors carry
// no URL, only the address and Redis's own words; this keeps them short and
// drops the script digest Redis appends to an error inside a script.
func redisWords(err error) string {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	msg := err.Error()
	if i := strings.Index(msg, " script: "); i > 0 {
		msg = msg[:i]
	}
	if len(msg) > 200 {
		msg = strings.ToValidUTF8(msg[:200], "")
	}
	return msg
}

// thresholds are the hysteresis between up and down. A call or probe is
// good when it succeeds within good; one that succeeds later, but within
// the call bound, is slow: it neither clears a failure nor counts toward
// coming back, so a Redis at the edge of the bound stays on one side.
type thresholds struct {
	downAfter  int           // consecutive failures that take Redis down; a slow or failed probe right after a failure counts as one
	upAfter    int           // consecutive good probes that bring it back
	good       time.Duration // a probe slower than this is not good
	probeEvery time.Duration // while up: a write and the reset check
	retryEvery time.Duration // while down
	flapWindow time.Duration // Redis back for less than this and down again is a flap: the next return waits at least this long
}

var defaultThresholds = thresholds{
	downAfter:  2,
	upAfter:    3,
	good:       callTimeout / 2,
	probeEvery: time.Second,
	retryEvery: 250 * time.Millisecond,
	flapWindow: time.Minute,
}

// health is the store's one state machine for up and down. Its fields are
// guarded by Store.mu.
type health struct {
	state     State
	fails     int       // consecutive failures while up
	failed    State     // the kind of the last failure
	goods     int       // consecutive good probes while down
	began     time.Time // when the episode began (while down)
	holdUntil time.Time // while down: not back before this
	returned  time.Time // when Redis last came back (zero: never went down)
	logged    map[State]bool
	epoch     string        // the reset marker last read from Redis
	slowTook  time.Duration // while slow: the last answer's round trip
	slowAt    time.Time     // while slow: when it came
}

// State is what the store knows of Redis right now.
func (s *Store) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.h.state
}

// Up reports whether limits and redeliveries are shared right now.
func (s *Store) Up() bool { return s.up.Load() }

// Status is the state and what it means, for /healthz: "ok: …",
// "full: …", "slow: Redis answered in 221ms, …".
func (s *Store) Status() string {
	s.mu.Lock()
	st, took := s.h.state, s.h.slowTook
	s.mu.Unlock()
	if st == StateSlow {
		return fmt.Sprintf("slow: Redis answered in %v, more than the %v of a good answer (a call is given up at %v): each replica counts its own limits and redeliveries until it is fast again",
			took.Round(time.Millisecond), s.th.good, callTimeout)
	}
	return string(st) + ": " + meaning[st]
}

// slowMemory is how long a slow answer explains the timeouts that follow
// it: a Redis at the edge of the bound answers some calls late and some
// not at all, and is slow, not gone, until it stops answering for this
// long.
func (th thresholds) slowMemory() time.Duration { return 4 * th.retryEvery }

// observe feeds the result of one call or probe to the state machine.
// While up, downAfter failures in a row take Redis down; the first asks
// for a probe at once, and a probe that is not good confirms it. While
// down, upAfter good probes in a row bring it back, but not before the
// hold that follows a flap. Each change is logged once; each kind of
// refusal once per episode.
func (s *Store) observe(what string, took time.Duration, err error) {
	kind, ignore := classify(err)
	if ignore {
		return
	}
	good := kind == StateOK && took <= s.th.good
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	h := &s.h
	if h.state == StateOK {
		switch {
		case kind != StateOK:
			h.fails++
			h.failed = kind
		case good:
			h.fails = 0
			return
		case h.fails > 0: // slow, right after a failure: it confirms
			h.fails++
			if h.failed == StateUnreachable { // a late answer: slow, not gone
				h.failed, h.slowTook, h.slowAt = StateSlow, took, now
			}
		default: // slow: nothing to conclude
			return
		}
		if h.fails < s.th.downAfter {
			s.probeSoon()
			s.log.Debug("a Redis call failed; checking Redis before falling back", "during", what, "error", redisWords(err))
			return
		}
		hold := time.Time{}
		if !h.returned.IsZero() && now.Sub(h.returned) < s.th.flapWindow {
			hold = now.Add(s.th.flapWindow)
		}
		s.down(h.failed, what, err, now, hold)
		return
	}
	switch {
	case kind == StateUnreachable && h.state == StateSlow && now.Sub(h.slowAt) < s.th.slowMemory():
		h.goods = 0 // no answer in time, soon after a late one: still slow
	case kind != StateOK:
		h.goods = 0
		if kind != h.state {
			h.state = kind
			s.logDown(kind, what, err)
		}
	case good:
		h.goods++
		if h.goods >= s.th.upAfter && !now.Before(h.holdUntil) {
			s.back(now)
		}
	default: // answered, but late
		h.goods = 0
		h.slowTook, h.slowAt = took, now
		if h.state != StateSlow {
			h.state = StateSlow
			s.logDown(StateSlow, what, nil)
		}
	}
}

// down starts an episode. Called with s.mu held.
func (s *Store) down(kind State, what string, err error, now, hold time.Time) {
	h := &s.h
	h.state, h.fails, h.goods, h.began, h.holdUntil = kind, 0, 0, now, hold
	h.logged = map[State]bool{}
	s.up.Store(false)
	s.logDown(kind, what, err)
	if !hold.IsZero() {
		s.log.Info("Redis came back and went again within a short time: it is not used again for a while, to keep the replicas from flapping",
			"not_before", hold.Sub(now).Round(time.Second))
	}
}

// logDown says once per episode that Redis went into kind. Called with
// s.mu held.
func (s *Store) logDown(kind State, what string, err error) {
	if s.h.logged[kind] {
		return
	}
	s.h.logged[kind] = true
	attrs := []any{"redis_state", string(kind)}
	if kind == StateSlow {
		attrs = append(attrs, "took", s.h.slowTook.Round(time.Millisecond), "good_within", s.th.good)
	}
	if what != "" {
		attrs = append(attrs, "during", what)
	}
	if err != nil {
		attrs = append(attrs, "error", redisWords(err))
	}
	s.log.Warn(meaning[kind], attrs...)
}

// back ends an episode. Called with s.mu held.
func (s *Store) back(now time.Time) {
	h := &s.h
	h.state, h.fails, h.goods, h.returned = StateOK, 0, 0, now
	s.up.Store(true)
	s.log.Info("Redis is back: limits and redeliveries are shared again", "after", now.Sub(h.began).Round(time.Millisecond))
}

// probeSoon asks the watcher for a probe now, without waiting.
func (s *Store) probeSoon() {
	select {
	case s.probeNow <- struct{}{}:
	default:
	}
}

// watch probes Redis until the store is closed: every probeEvery while up,
// every retryEvery while down, and at once when a call failed.
func (s *Store) watch() {
	t := time.NewTimer(s.th.probeEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		case <-s.probeNow:
		}
		s.probe()
		if s.Up() {
			t.Reset(s.th.probeEvery)
		} else {
			t.Reset(s.th.retryEvery)
		}
	}
}

// epochTTL keeps the reset marker far longer than anything it guards, so
// that it goes only with a reset.
const epochTTL = 24 * time.Hour

// probeScript writes the reset marker: it keeps the one it finds, or sets
// a new one, and refreshes its TTL. The write is the probe: a full or
// read-only Redis refuses it as it would a claim.
// KEYS[1] the marker; ARGV a new marker, its TTL (s). Returns the marker.
var probeScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1]) or ARGV[1]
redis.call('SET', KEYS[1], v, 'EX', ARGV[2])
return v
`)

// probe writes the reset marker, feeds the result to the state machine,
// and logs a reset once: a marker other than the one this store last read
// means Redis lost every key since (FLUSHALL, or a restart without
// persistence), the claims of served envelopes with them.
func (s *Store) probe() {
	cmds, err := s.evalOn(s.life, s.prober, probeTimeout, "checking Redis", probeScript,
		[][]string{{s.prefix + "epoch"}}, [][]any{{newEpoch(), int64(epochTTL / time.Second)}})
	if err != nil {
		return
	}
	epoch, _ := cmds[0].Text()
	s.mu.Lock()
	last := s.h.epoch
	s.h.epoch = epoch
	s.mu.Unlock()
	if last != "" && epoch != last {
		s.log.Warn("Redis was reset (emptied or restarted without persistence): the envelopes claimed before are forgotten, " +
			"so a redelivery that reaches another replica may be served twice; each replica still remembers the envelopes it served itself")
	}
}

func newEpoch() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
