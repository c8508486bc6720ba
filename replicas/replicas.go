// Package replicas keeps in Redis what several replicas of the bot must
// share: the vendor's request budget, each person's turns and the envelopes
// already served. One [Store] per process hands out a [yibeidiao.Limiter]
// and a [bot.Ledger] built on it.
//
// Redis is a shared convenience, not a single point of failure: every call
// is bounded by a short timeout, and while Redis cannot be reached each
// replica falls back to its own in-process limiter and memory (it fails
// open, as the well-known shared rate limiters do). The vendor may then see
// up to N times the budget and a redelivery that reaches another replica
// may be served twice, for as long as the outage lasts. The store says so
// once in the log when it starts and once when Redis is back.
//
// Time is the Redis server's (TIME inside each script), so the replicas'
// clocks do not matter. The limits are GCRA (the generic cell rate
// algorithm): one number per bucket, the theoretical arrival time of the
// next turn, advanced atomically by a Lua script.
package replicas

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Timeouts. A call is bounded well under Slack's 3 s ack deadline: a
// settlement waits for at most callTimeout before the replica answers from
// its own memory.
const (
	callTimeout  = 250 * time.Millisecond
	openTimeout  = 3 * time.Second
	pingEvery    = time.Second
	envelopeTTL  = 10 * time.Minute // how long a served envelope is remembered
	pendingAcked = 4096             // first-ack payloads waiting to be written
)

func init() {
	// go-redis logs dial failures itself, to stderr, past the program's
	// logger and its scrubber; the store says what matters once instead.
	redis.SetLogger(quiet{})
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// ErrRefused means Redis answered but refused the configuration: a wrong
// user or password, or a database number it does not have. It is not an
// outage; [Open] returns it wrapped, with Redis's own words.
var ErrRefused = errors.New("replicas: Redis refused the connection's settings")

// Store is a connection to the shared Redis. It is safe for concurrent use.
// Create it with [Open]; Close it when done.
type Store struct {
	rdb    *redis.Client
	prefix string
	log    *slog.Logger

	up      atomic.Bool
	mu      sync.Mutex
	pinging bool
	acked   chan ackedPayload
	stop    chan struct{}
	wg      sync.WaitGroup
}

// Open connects to the Redis that url names (redis:// or rediss://, with
// user, password and database number as [redis.ParseURL] reads them) and
// keeps its keys under prefix. It fails with an error matching [ErrRefused]
// when Redis refuses the password or database, and with a plain error for a
// URL it cannot read; neither error contains the URL. A Redis that cannot
// be reached at all is an outage, not an error: the store starts down,
// logs it, and keeps trying.
func Open(ctx context.Context, url, prefix string, log *slog.Logger) (*Store, error) {
	opts, err := options(url)
	if err != nil {
		return nil, err
	}
	s := &Store{
		rdb:    redis.NewClient(opts),
		prefix: prefix,
		log:    log,
		acked:  make(chan ackedPayload, pendingAcked),
		stop:   make(chan struct{}),
	}
	ctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		if refused(err) {
			_ = s.rdb.Close()
			return nil, fmt.Errorf("%w: %s", ErrRefused, redisWords(err))
		}
		s.log.Warn("Redis cannot be reached: each replica counts its own limits and redeliveries until it can",
			"redis", opts.Addr, "error", redisWords(err))
		s.startPinging()
	} else {
		s.up.Store(true)
		s.log.Info("sharing limits and redeliveries through Redis", "redis", opts.Addr, "db", opts.DB, "prefix", prefix)
	}
	s.wg.Go(s.writeAcked)
	return s, nil
}

// ParseURL reads a Redis URL as [redis.ParseURL] does, with errors that
// never repeat the URL (it may carry a password).
func ParseURL(url string) (*redis.Options, error) {
	if !strings.HasPrefix(url, "redis://") && !strings.HasPrefix(url, "rediss://") {
		return nil, errors.New("replicas: a Redis URL starts with redis:// or rediss://")
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, errors.New("replicas: not a Redis URL like redis://user:password@host:6379/0")
	}
	return opts, nil
}

// Ping connects to the Redis that url names and asks it for PONG, for
// -check: its errors are [Open]'s, and a Redis that cannot be reached is an
// error here. It returns the address it tried.
func Ping(ctx context.Context, url string) (addr string, err error) {
	opts, err := options(url)
	if err != nil {
		return "", err
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		if refused(err) {
			return opts.Addr, fmt.Errorf("%w: %s", ErrRefused, redisWords(err))
		}
		return opts.Addr, fmt.Errorf("replicas: %s: %s", opts.Addr, redisWords(err))
	}
	return opts.Addr, nil
}

// options are the client's options for url: every call bounded well under
// Slack's ack deadline, and no retries (a failed call falls back at once;
// the next one tries again).
func options(url string) (*redis.Options, error) {
	opts, err := ParseURL(url)
	if err != nil {
		return nil, err
	}
	opts.DialTimeout = callTimeout
	opts.ReadTimeout = callTimeout
	opts.WriteTimeout = callTimeout
	opts.ContextTimeoutEnabled = true
	opts.MaxRetries = -1
	opts.DialerRetries = 1
	opts.PoolSize = 8
	opts.DisableIdentity = true
	return opts, nil
}

// refused tells a Redis that refuses the settings from one that cannot be
// reached.
func refused(err error) bool {
	if redis.IsAuthError(err) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"NOAUTH", "WRONGPASS", "NOPERM", "invalid DB index", "DB index is out of range", "invalid password"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// redisWords is an error from Redis fit for a log: go-redis's errors carry
// no URL, only the address and Redis's own words; this keeps them short.
func redisWords(err error) string {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timed out"
	}
	msg := err.Error()
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return msg
}

// Up reports whether Redis answered the last call.
func (s *Store) Up() bool { return s.up.Load() }

// Close writes what is waiting to be written, for a bounded time, and
// closes the connection.
func (s *Store) Close() error {
	close(s.stop)
	s.wg.Wait()
	return s.rdb.Close()
}

// failed notes that a call failed. The first failure after Redis was up is
// logged, and a pinger watches for Redis to come back; until then the
// store's users answer from their own memory.
func (s *Store) failed(what string, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	if s.up.CompareAndSwap(true, false) {
		s.log.Warn("Redis cannot be reached: each replica counts its own limits and redeliveries until it can",
			"during", what, "error", redisWords(err))
		s.startPinging()
	}
}

func (s *Store) startPinging() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pinging {
		return
	}
	s.pinging = true
	s.wg.Go(func() {
		t := time.NewTicker(pingEvery)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
			err := s.rdb.Ping(ctx).Err()
			cancel()
			if err != nil {
				s.log.Debug("Redis is still unreachable", "error", redisWords(err))
				continue
			}
			s.mu.Lock()
			s.pinging = false
			s.mu.Unlock()
			s.up.Store(true)
			s.log.Info("Redis is back: limits and redeliveries are shared again")
			return
		}
	})
}

// eval runs a script in a pipeline, one call per args, loading the script
// if Redis has forgotten it.
func (s *Store) eval(ctx context.Context, sc *redis.Script, calls [][]string, args [][]any) ([]*redis.Cmd, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	for attempt := 0; ; attempt++ {
		pipe := s.rdb.Pipeline()
		cmds := make([]*redis.Cmd, len(calls))
		for i := range calls {
			cmds[i] = sc.EvalSha(ctx, pipe, calls[i], args[i]...)
		}
		_, err := pipe.Exec(ctx)
		if err != nil && attempt == 0 && redis.HasErrorPrefix(err, "NOSCRIPT") {
			if err := sc.Load(ctx, s.rdb).Err(); err != nil {
				return nil, err
			}
			continue
		}
		return cmds, err
	}
}

// micros is d in whole microseconds, the unit of the scripts.
func micros(d time.Duration) int64 { return d.Microseconds() }
