// Package replicas keeps in Redis what several replicas of the bot must
// share: the vendor's request budget, each person's turns and the envelopes
// already served. One [Store] per process hands out a [yibeidiao.Limiter]
// and a [bot.Ledger] built on it.
//
// Redis is a shared convenience, not a single point of failure: every call
// is bounded by a short timeout, and while Redis cannot be reached, or
// answers but refuses to write (full, read-only, …), each replica falls
// back to its own in-process limiter and memory (it fails open, as the
// well-known shared rate limiters do). The vendor may then see up to N
// times the budget and a redelivery that reaches another replica may be
// served twice, for as long as it lasts. One state machine ([Store.State])
// decides, with hysteresis, whether Redis is used; the store says once
// when it stops using Redis and why, once when it is back, and once when
// it finds that Redis was reset (faults.go).
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
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hr-tools/tempreport/internal/batch"
	"github.com/redis/go-redis/v9"
)

// Timeouts. A call is bounded well under Slack's 3 s ack deadline: a
// settlement waits for at most callTimeout before the replica answers from
// its own memory.
//
// A probe, which nobody waits on, is given probeTimeout, on a connection of
// its own: it tells a Redis that answers late (slow, and by how much) from
// one that does not answer at all. A call that times out loses its
// connection, and a new one costs a handshake more, so at the edge of the
// bound every call could time out while Redis answers each probe.
const (
	callTimeout  = 250 * time.Millisecond
	probeTimeout = 2 * time.Second
	openTimeout  = 3 * time.Second
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
	prober *redis.Client // one connection, probeTimeout
	prefix string
	log    *slog.Logger
	th     thresholds

	up       atomic.Bool // State() == StateOK, read on every call
	mu       sync.Mutex
	h        health
	probeNow chan struct{}
	acked    *batch.Queue[ackedPayload]
	stop     chan struct{}
	life     context.Context // done when the store is closed: the batches hand over what is left
	end      context.CancelFunc
	wg       sync.WaitGroup
}

// Open connects to the Redis that url names (redis:// or rediss://, with
// user, password and database number as [redis.ParseURL] reads them) and
// keeps its keys under prefix. It fails with an error matching [ErrRefused]
// when Redis refuses the password or database, and with a plain error for a
// URL it cannot read; neither error contains the URL. A Redis that cannot
// be reached at all is an outage, not an error: the store starts down,
// logs it, and keeps trying.
func Open(ctx context.Context, url, prefix string, log *slog.Logger) (*Store, error) {
	return openWith(ctx, url, prefix, log, defaultThresholds)
}

func openWith(ctx context.Context, url, prefix string, log *slog.Logger, th thresholds) (*Store, error) {
	opts, err := options(url)
	if err != nil {
		return nil, err
	}
	probeOpts := *opts
	probeOpts.DialTimeout, probeOpts.ReadTimeout, probeOpts.WriteTimeout = probeTimeout, probeTimeout, probeTimeout
	probeOpts.PoolSize, probeOpts.MaxIdleConns = 1, 1
	s := &Store{
		rdb:      redis.NewClient(opts),
		prober:   redis.NewClient(&probeOpts),
		prefix:   prefix,
		log:      log,
		th:       th,
		probeNow: make(chan struct{}, 1),
		stop:     make(chan struct{}),
	}
	s.life, s.end = context.WithCancel(context.Background())
	s.acked = batch.New(0, s.writeAcked)
	ctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		if refused(err) {
			_ = s.rdb.Close()
			_ = s.prober.Close()
			return nil, fmt.Errorf("%w: %s", ErrRefused, redisWords(err))
		}
		s.h.logged = map[State]bool{}
		s.h.state, s.h.began = StateUnreachable, time.Now()
		s.logDown(StateUnreachable, "", err)
	} else {
		s.h.state = StateOK
		s.up.Store(true)
		s.log.Info("sharing limits and redeliveries through Redis", "redis", opts.Addr, "db", opts.DB, "prefix", prefix)
		s.probe() // reads the reset marker, and finds a Redis that refuses writes
		// A restarted replica's first burst would otherwise pay for the
		// scripts (NOSCRIPT, then EVAL) inside its acks.
		for _, sc := range scripts {
			_ = sc.Load(ctx, s.rdb).Err() // a failure here is met again, and handled, by eval
		}
	}
	s.wg.Go(s.watch)
	s.wg.Go(func() { s.acked.Run(s.life) })
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

// Close writes what is waiting to be written, for a bounded time, and
// closes the connection.
func (s *Store) Close() error {
	close(s.stop)
	s.end()
	s.wg.Wait()
	_ = s.prober.Close()
	return s.rdb.Close()
}

// eval runs a script in a pipeline, one call per args, within one call
// bound, and tells the state machine how it went (as what). Like go-redis's
// Script.Run, it sends EVALSHA and, for the calls Redis answers NOSCRIPT
// (it lost its scripts: a restart, SCRIPT FLUSH), EVAL with the script,
// which Redis then keeps; only those calls are sent again, so a call that
// ran is never run twice.
func (s *Store) eval(ctx context.Context, what string, sc *redis.Script, keys [][]string, args [][]any) ([]*redis.Cmd, error) {
	return s.evalOn(ctx, s.rdb, callTimeout, what, sc, keys, args)
}

// evalOn is eval on rdb, within timeout.
func (s *Store) evalOn(ctx context.Context, rdb *redis.Client, timeout time.Duration, what string, sc *redis.Script, keys [][]string, args [][]any) ([]*redis.Cmd, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	pipe := rdb.Pipeline()
	cmds := make([]*redis.Cmd, len(keys))
	for i := range keys {
		cmds[i] = sc.EvalSha(ctx, pipe, keys[i], args[i]...)
	}
	_, err := pipe.Exec(ctx)
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		pipe = rdb.Pipeline()
		for i, c := range cmds {
			if redis.HasErrorPrefix(c.Err(), "NOSCRIPT") {
				cmds[i] = sc.Eval(ctx, pipe, keys[i], args[i]...)
			}
		}
		_, _ = pipe.Exec(ctx)
		err = nil
		for _, c := range cmds {
			if err = c.Err(); err != nil && err != redis.Nil {
				break
			}
		}
		if err == redis.Nil {
			err = nil
		}
	}
	s.observe(what, time.Since(start), err)
	return cmds, err
}

// micros is d in whole microseconds, the unit of the scripts.
func micros(d time.Duration) int64 { return d.Microseconds() }
