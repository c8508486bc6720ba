package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hr-tools/tempreport/bot"
)

// healthReporter is what the health endpoint asks; *bot.Bot is one.
type healthReporter interface {
	Health() bot.Health
}

// healthBody is GET /healthz's answer.
type healthBody struct {
	Connected bool   `json:"connected"`
	Status    string `json:"status"`
	// Access says whether every allowed user group vouches for its members.
	Access string `json:"access"`
	// Redis says whether limits and redeliveries are shared; absent without REDIS_URL.
	Redis   string `json:"redis,omitempty"`
	Version string `json:"version"`
}

// probeHandler serves the probes: GET /livez, 200 while the process
// serves (liveness); GET /healthz, 200 while Slack can reach the bot (Socket
// Mode: the socket is up; HTTP mode: it serves, with a bot token Slack
// accepts) and 503 with the reason otherwise (readiness). Unreadable user groups and a Redis
// that is unreachable, slow or refusing do not make the bot unready
// (restarting it would not help), but /healthz's body says so. redis
// reports the shared store's state; nil without REDIS_URL.
func probeHandler(h healthReporter, redis func() string) http.Handler {
	version, commit := buildVersion()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		health := h.Health()
		body := healthBody{Connected: health.Ready, Status: scrub(health.Status), Access: "ok", Version: version + " (" + commit + ")"}
		if redis != nil {
			body.Redis = redis()
		}
		if len(health.StaleGroups) > 0 {
			body.Access = "user groups " + strings.Join(health.StaleGroups, ", ") + " cannot be read: their members are denied until they can"
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if !health.Ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(body)
	})
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		_, _ = io.WriteString(w, "ok\n")
	})
	return mux
}

// metricsHandler serves GET /metrics alone, on a port of its own.
func metricsHandler(metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	return mux
}

// serveOps starts the probe port (HEALTH_ADDR) and the metrics port
// (METRICS_ADDR), each that is set; the returned func stops both.
//
// They are two listeners so that nothing that reaches the metrics port (a
// scraper, fifty of them, or anyone redialling it) can take a connection
// slot, a file descriptor or an accept from a probe: the kubelet's probes
// and Prometheus's scrapes never share a queue, as with controller-runtime's
// separate health-probe and metrics addresses.
func serveOps(cfg config, h healthReporter, redis func() string, metrics http.Handler, log *slog.Logger) (stop func(), err error) {
	var stops []func()
	stop = func() {
		for _, s := range stops {
			s()
		}
	}
	if cfg.healthAddr != "" {
		s, err := serveOpsPort("HEALTH_ADDR", cfg.healthAddr, probeHandler(h, redis), log)
		if err != nil {
			return nil, err
		}
		stops = append(stops, s)
	}
	if cfg.metricsAddr != "" {
		s, err := serveOpsPort("METRICS_ADDR", cfg.metricsAddr, metricsHandler(metrics), log)
		if err != nil {
			stop()
			return nil, err
		}
		stops = append(stops, s)
	}
	return stop, nil
}

// The ops server's limits. It serves probes and a scraper on the cluster
// network, a few small requests a minute. Whoever else reaches it must
// neither hold the process's file descriptors (every vendor call needs one)
// nor keep a probe from being answered: a liveness probe that times out
// three times in a row restarts the pod.
//
// So every connection is accepted at once (none waits in the kernel's
// backlog behind others), at most maxOpsConns stay open, at most
// maxOpsConnsPerHost from one address, and a new connection that would pass
// a cap makes room: the connection closed is, among those not being
// answered, one of the new one's own address (its own cap) or of the
// address holding the most (the overall cap), the longest waiting first. A probe's connection is the newest and sends its
// request at once, so holding connections pushes out only the holder's own.
//
// Each of the two ports (probes, metrics) has these limits of its own. File
// descriptors: at most maxOpsConns+1 more for each port. The figures, from
// the real process, are the load command's (go run ./loadtest -probes; the
// README's Security section quotes them): scrapes and redialers on the
// metrics port cost the probes nothing, nor do redialers on the probe port
// from another address. What this cannot hold is a client on the prober's
// own address, on the probe port itself (on Kubernetes the node's address:
// another host-network pod, or something on the node), redialling faster
// than a probe's request arrives: it closes probes' connections before they
// are read, as its own are the oldest idle ones; keep the port off the
// network with the NetworkPolicy in deploy/. Such a client is already on the
// node.
const (
	shutdownTimeout      = time.Second
	maxOpsConns          = 64 // open at once, from everyone
	maxOpsConnsPerHost   = 8  // from one address (IPv6: one /64); kubelet and a scraper need 3
	opsReadHeaderTimeout = 2 * time.Second
	opsReadTimeout       = 5 * time.Second
	opsWriteTimeout      = 10 * time.Second
	opsIdleTimeout       = 30 * time.Second
	opsMaxHeader         = 8 << 10
	opsEvictionLogEvery  = time.Minute
)

// opsPaths are each port's endpoints, for its start line.
var opsPaths = map[string]string{"HEALTH_ADDR": "/livez /healthz", "METRICS_ADDR": "/metrics"}

// serveOpsPort serves handler on addr, which the variable name sets; the
// returned func stops it.
func serveOpsPort(name, addr string, handler http.Handler, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", name, addr, err)
	}
	ol := newOpsListener(ln, name, maxOpsConns, maxOpsConnsPerHost, log)
	srv := &http.Server{
		Handler:           ol.track(handler),
		ConnContext:       ol.connContext,
		ReadHeaderTimeout: opsReadHeaderTimeout,
		ReadTimeout:       opsReadTimeout,
		WriteTimeout:      opsWriteTimeout,
		IdleTimeout:       opsIdleTimeout,
		MaxHeaderBytes:    opsMaxHeader,
		ErrorLog:          slog.NewLogLogger(log.With("server", name).Handler(), slog.LevelWarn),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ol); err != nil && err != http.ErrServerClosed {
			log.Error("ops endpoint stopped", "variable", name, "error", err)
		}
	}()
	log.Info("ops endpoints listening", "variable", name, "addr", ln.Addr().String(), "paths", opsPaths[name])
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}, nil
}

// opsListener accepts every connection and keeps at most max open, at most
// perHost from one address, by closing the idlest to make room (see the
// limits above).
type opsListener struct {
	net.Listener
	name         string // the variable that sets its address, for the log
	max, perHost int
	log          *slog.Logger

	mu      sync.Mutex
	conns   []*opsConn // open
	evicted int        // since the last log line
	logged  time.Time
}

func newOpsListener(ln net.Listener, name string, max, perHost int, log *slog.Logger) *opsListener {
	return &opsListener{Listener: ln, name: name, max: max, perHost: perHost, log: log}
}

// opsConn is one open connection. busy and since are guarded by the
// listener's mu.
type opsConn struct {
	net.Conn
	l     *opsListener
	host  string
	busy  bool      // a request is being answered
	since time.Time // accepted, or its last answer ended
	once  sync.Once
}

func (c *opsConn) Close() error {
	err := net.ErrClosed
	c.once.Do(func() {
		c.l.forget(c)
		err = c.Conn.Close()
	})
	return err
}

func (l *opsListener) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		c := &opsConn{Conn: conn, l: l, host: hostKey(conn.RemoteAddr()), since: time.Now()}
		if l.admit(c) {
			return c, nil
		}
		conn.Close() // every other connection is being answered
	}
}

// admit makes room for c and adds it; false when every connection it could
// close is being answered. Over the cap of c's address, one of that
// address's connections is closed; over the cap of all, one of the address
// that holds the most.
func (l *opsListener) admit(c *opsConn) bool {
	l.mu.Lock()
	counts := map[string]int{}
	for _, o := range l.conns {
		counts[o.host]++
	}
	var victim *opsConn
	full := false
	switch {
	case counts[c.host] >= l.perHost:
		victim = l.idlest(func(o *opsConn) int {
			if o.host != c.host {
				return -1 // not another address's
			}
			return 0
		})
		full = victim == nil
	case len(l.conns) >= l.max:
		victim = l.idlest(func(o *opsConn) int { return l.max - counts[o.host] })
		full = victim == nil
	}
	if !full {
		l.conns = append(l.conns, c)
	}
	report := 0
	if victim != nil {
		l.evicted++
		if now := time.Now(); now.Sub(l.logged) >= opsEvictionLogEvery {
			report, l.evicted, l.logged = l.evicted, 0, now
		}
	}
	l.mu.Unlock()
	if victim != nil {
		victim.Close()
	}
	if report > 0 {
		l.log.Warn("ops port: idle connections closed to make room for new ones; something other than probes and a scraper is holding connections to "+l.name,
			"variable", l.name, "closed", report, "latest_from", victim.host, "max_per_address", l.perHost, "max", l.max)
	}
	return !full
}

// idlest removes and returns the connection to close: the one with the
// least penalty (negative: not this one), then the one that has waited
// longest. A connection whose request is being answered is never chosen;
// nil if every one is. l.mu is held.
func (l *opsListener) idlest(penalty func(*opsConn) int) *opsConn {
	best, bestPenalty := -1, 0
	for i, c := range l.conns {
		p := penalty(c)
		if c.busy || p < 0 {
			continue
		}
		if best < 0 || p < bestPenalty || p == bestPenalty && c.since.Before(l.conns[best].since) {
			best, bestPenalty = i, p
		}
	}
	if best < 0 {
		return nil
	}
	c := l.conns[best]
	l.conns = slices.Delete(l.conns, best, best+1)
	return c
}

func (l *opsListener) forget(c *opsConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i := slices.Index(l.conns, c); i >= 0 {
		l.conns = slices.Delete(l.conns, i, i+1)
	}
}

type opsConnKey struct{}

// connContext is http.Server's ConnContext: it lets track find the
// connection a request came on.
func (l *opsListener) connContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, opsConnKey{}, c)
}

// track marks a connection busy while one of its requests is answered: a
// busy connection is never closed to make room.
func (l *opsListener) track(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := r.Context().Value(opsConnKey{}).(*opsConn)
		if ok {
			l.setBusy(c, true)
			defer l.setBusy(c, false)
		}
		next.ServeHTTP(w, r)
	})
}

func (l *opsListener) setBusy(c *opsConn, busy bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c.busy, c.since = busy, time.Now()
}

// hostKey is the address a connection's cap counts by: the IPv4 address,
// or an IPv6 address's /64, which one host usually has whole.
func hostKey(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	if ip4 := tcp.IP.To4(); ip4 != nil {
		return ip4.String()
	}
	return tcp.IP.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// probeHealth is -healthcheck: it asks the running bot's health endpoint.
func probeHealth(ctx context.Context, addr string, stdout io.Writer) error {
	if addr == "" {
		return fmt.Errorf("HEALTH_ADDR is not set: the health endpoint is off")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("HEALTH_ADDR %q: %w", addr, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("health endpoint: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	fmt.Fprintln(stdout, strings.TrimSpace(string(body)))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("not healthy (http %d)", resp.StatusCode)
	}
	return nil
}
