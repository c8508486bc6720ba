package replicas

import (
	"context"
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"github.com/hr-tools/tempreport/bot"
	"github.com/hr-tools/tempreport/internal/batch"
	"github.com/hr-tools/tempreport/yibeidiao"
)

// gcra is the one rule behind both limits, as Lua: a bucket of burst turns
// refilled one per interval is the theoretical arrival time (TAT) of its
// next turn. A turn taken moves the TAT one interval on; it comes at once
// while the TAT is less than burst intervals ahead of now, otherwise after
// the difference. A turn that would come more than max_wait from now is
// not taken. Times are microseconds on the Redis server's clock, kept as
// whole numbers (exact in a double up to 2^53 µs, about 285 years).
const gcra = `
local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end

-- take returns the wait for a turn of the bucket at key, taking it only
-- when the wait is at most max_wait.
local function take(key, interval, burst, max_wait)
  local now = now_us()
  local tat = tonumber(redis.call('GET', key)) or now
  if tat < now then tat = now end
  local new_tat = tat + interval
  local wait = new_tat - now - burst * interval
  if wait < 0 then wait = 0 end
  if wait > max_wait then return wait, false end
  redis.call('SET', key, string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
  return wait, true
end
`

// reserveScript takes a turn of the vendor budget.
// KEYS[1] the bucket; ARGV interval, burst, max_wait.
// Returns {taken 0|1, wait µs}.
// scripts are every script the store runs: loaded when it opens.
var scripts = []*redis.Script{claimScript, reserveScript, giveBackScript, probeScript}

var reserveScript = redis.NewScript(gcra + `
local wait, taken = take(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))
return {taken and 1 or 0, string.format('%.0f', wait)}
`)

// claimScript claims an envelope that asks for a turn and, if it is new,
// takes a turn from the person's bucket. A claim whose turn was taken is
// marked "fetching": its first ack is the progress note, which any replica
// can write again, so it is never stored.
//
// An envelope that asks for no turn never reaches the vendor: its answer
// (help, a refusal, a stranger turned away) is decided from the envelope
// alone, and another replica that sees it again decides the same. When
// that answer goes in the ack it is only looked up, in case another
// replica claimed it with a turn, and costs Redis no memory: a flood of
// strangers' commands fills nothing. When it is posted after the ack (a
// mention, a form, the Home) it is held (claimed without a turn), so that
// it is posted once.
//
// KEYS[1] the envelope, KEYS[2] the person's bucket;
// ARGV envelope TTL (s), interval, burst, turn 0|1|2 (2: hold, no turn).
// Returns {claimed 0|1, first ack payload, "fetching" or "", wait µs}.
var claimScript = redis.NewScript(gcra + `
local first
if ARGV[4] ~= '0' then
  if not redis.call('SET', KEYS[1], '', 'NX', 'EX', ARGV[1]) then first = redis.call('GET', KEYS[1]) or '' end
else
  first = redis.call('GET', KEYS[1])
end
if first then
  if first == '` + fetching + `' then return {0, '', '1', '0'} end
  return {0, first, '0', '0'}
end
if ARGV[4] ~= '1' then return {1, '', '0', '0'} end
local wait, taken = take(KEYS[2], tonumber(ARGV[2]), tonumber(ARGV[3]), 0)
if taken then redis.call('SET', KEYS[1], '` + fetching + `', 'KEEPTTL') end
return {1, '', '0', string.format('%.0f', wait)}
`)

// fetching marks a claimed envelope whose first ack was a progress note.
const fetching = "~fetching"

// giveBackScript returns a turn to a person's bucket, never more than full.
// KEYS[1] the bucket; ARGV interval.
var giveBackScript = redis.NewScript(gcra + `
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat then return 0 end
local now = now_us()
tat = tat - tonumber(ARGV[1])
if tat <= now then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000) + 1000)
end
return 1
`)

// interval is the time between two turns at r a second.
func interval(r rate.Limit) int64 {
	if r <= 0 {
		return math.MaxInt32
	}
	return max(1, int64(float64(time.Second/time.Microsecond)/float64(r)))
}

// Limiter is the vendor budget, r requests a second and burst at once,
// shared by every replica using the store: a [yibeidiao.Limiter] that
// reserves turns first come first served across processes. Reservations
// made while one is on its way to Redis go together in the next round trip,
// in the order they were asked for. While Redis cannot be reached it uses
// fallback.
func (s *Store) Limiter(r rate.Limit, burst int, fallback yibeidiao.Limiter) yibeidiao.Limiter {
	l := &limiter{s: s, key: s.prefix + "vendor", interval: interval(r), burst: burst, fallback: fallback}
	l.asks = batch.New(maxReservations, l.reserve)
	s.wg.Go(func() { l.asks.Run(s.life) })
	return l
}

type limiter struct {
	s        *Store
	key      string
	interval int64
	burst    int
	fallback yibeidiao.Limiter
	// asks carries reservations to Redis, as many as have queued up (at
	// most maxReservations) in one pipeline.
	asks *batch.Queue[reservation]
}

// maxReservations bounds a pipeline of reservations, so that a settlement
// (an ack waits on it) queues behind at most this many in Redis.
const maxReservations = 32

// reservation is one Reserve on its way to Redis.
type reservation struct {
	maxWait time.Duration
	reply   chan reserved // buffered: the batcher never waits for a reader
}

type reserved struct {
	wait time.Duration
	ok   bool
	err  error
}

// Reserve takes a turn in Redis. A turn taken there cannot be given back
// (later turns may already be reserved behind it), so cancel is nil.
func (l *limiter) Reserve(ctx context.Context, maxWait time.Duration) (time.Duration, func(), bool) {
	if !l.s.Up() {
		return l.fallback.Reserve(ctx, maxWait)
	}
	r := reservation{maxWait: max(0, maxWait), reply: make(chan reserved, 1)}
	l.asks.Push(r)
	select {
	case got := <-r.reply: // the batcher answers every reservation it takes within callTimeout
		if got.err != nil {
			return l.fallback.Reserve(ctx, maxWait)
		}
		return got.wait, nil, got.ok
	case <-l.s.stop:
		return l.fallback.Reserve(ctx, maxWait)
	}
}

func (l *limiter) reserve(batch []reservation) {
	keys, args := make([][]string, len(batch)), make([][]any, len(batch))
	for i, r := range batch {
		keys[i], args[i] = []string{l.key}, []any{l.interval, l.burst, micros(r.maxWait)}
	}
	cmds, err := l.s.eval(context.Background(), "taking vendor turns", reserveScript, keys, args)
	for i, r := range batch {
		var reply []any
		if err == nil {
			reply, err = cmds[i].Slice()
		}
		if err != nil {
			r.reply <- reserved{err: err}
			continue
		}
		r.reply <- reserved{wait: time.Duration(toInt(reply[1])) * time.Microsecond, ok: toInt(reply[0]) == 1}
	}
}

// Ledger is the redelivery memory and each person's turns, r a second and
// burst at once, shared by every replica using the store. While Redis
// cannot be reached it uses fallback.
func (s *Store) Ledger(r rate.Limit, burst int, fallback bot.Ledger) bot.Ledger {
	return &ledger{s: s, interval: interval(r), burst: burst, fallback: fallback}
}

type ledger struct {
	s        *Store
	interval int64
	burst    int
	fallback bot.Ledger
}

// Keys hold the bot's delivery keys and user IDs as they are: the bot
// bounds both (see [bot.Claim]), so a key stays under ~120 bytes whatever
// arrives.
func (l *ledger) deliveryKey(key string) string { return l.s.prefix + "envelope:" + key }
func (l *ledger) turnsKey(user string) string   { return l.s.prefix + "turns:" + user }

// Settle claims a batch in one round trip: one script call per envelope,
// pipelined, run by Redis in order.
func (l *ledger) Settle(ctx context.Context, claims []bot.Claim) map[string]bot.Settlement {
	if !l.s.Up() || len(claims) == 0 {
		return l.fallback.Settle(ctx, claims)
	}
	keys, args := make([][]string, len(claims)), make([][]any, len(claims))
	ttl := int64(bot.RememberFor / time.Second)
	for i, c := range claims {
		turn := 0
		switch {
		case c.Turn:
			turn = 1
		case c.Hold:
			turn = 2
		}
		keys[i] = []string{l.deliveryKey(c.Key), l.turnsKey(c.User)}
		args[i] = []any{ttl, l.interval, l.burst, turn}
	}
	cmds, err := l.s.eval(ctx, "settling envelopes", claimScript, keys, args)
	out := make(map[string]bot.Settlement, len(claims))
	for i := 0; err == nil && i < len(cmds); i++ {
		var reply []any
		if reply, err = cmds[i].Slice(); err == nil {
			first, _ := reply[1].(string)
			out[claims[i].Key] = bot.Settlement{Taken: toInt(reply[0]) == 0, FirstAck: json.RawMessage(first),
				Fetching: toInt(reply[2]) == 1, Wait: time.Duration(toInt(reply[3])) * time.Microsecond}
		}
	}
	if err != nil {
		return l.fallback.Settle(ctx, claims)
	}
	return out
}

// ShareAck queues the payload to be written beside the claim; it never blocks.
func (l *ledger) ShareAck(key string, payload json.RawMessage) {
	if payload == nil || !l.s.Up() {
		return
	}
	l.s.acked.Push(ackedPayload{key: l.deliveryKey(key), payload: payload})
}

// GiveBack returns a person's turn in Redis, or in the fallback while
// Redis is down (a turn taken in one and given back in the other is a
// small, bounded error during an outage).
func (l *ledger) GiveBack(ctx context.Context, user string) {
	if !l.s.Up() {
		l.fallback.GiveBack(ctx, user)
		return
	}
	_, _ = l.s.eval(ctx, "giving a turn back", giveBackScript, [][]string{{l.turnsKey(user)}}, [][]any{{l.interval}})
}

type ackedPayload struct {
	key     string
	payload json.RawMessage
}

// writeAcked writes first-ack payloads beside their claims, as many as have
// queued up in one pipeline.
func (s *Store) writeAcked(batch []ackedPayload) {
	if !s.Up() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	start := time.Now()
	pipe := s.rdb.Pipeline()
	for _, a := range batch {
		pipe.SetArgs(ctx, a.key, []byte(a.payload), redis.SetArgs{Mode: "XX", KeepTTL: true})
	}
	_, err := pipe.Exec(ctx)
	s.observe("sharing first acks", time.Since(start), err)
}

func toInt(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case string:
		i, _ := strconv.ParseInt(n, 10, 64)
		return i
	}
	return 0
}
