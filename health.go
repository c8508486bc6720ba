package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"golang.org/x/net/netutil"

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

// opsHandler serves the operator's endpoints: GET /livez, 200 while the
// process serves (liveness); GET /healthz, 200 while the Slack socket is up
// and 503 with the reason otherwise (readiness); and GET /metrics.
// Unreadable user groups and an unreachable Redis do not make the bot
// unready (restarting it would not help), but /healthz's body says so.
// redis reports the shared store's state; nil without REDIS_URL.
func opsHandler(h healthReporter, redis func() string, metrics http.Handler) http.Handler {
	version, commit := buildVersion()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		health := h.Health()
		body := healthBody{Connected: health.Connected, Status: scrub(health.Status), Access: "ok", Version: version + " (" + commit + ")"}
		if redis != nil {
			body.Redis = redis()
		}
		if len(health.StaleGroups) > 0 {
			body.Access = "user groups " + strings.Join(health.StaleGroups, ", ") + " cannot be read: their members are denied until they can"
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if !health.Connected {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(body)
	})
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.Handle("GET /metrics", metrics)
	return mux
}

// The ops server's limits. It serves probes and a scraper on the cluster
// network, a few small requests a minute: whoever else reaches it must not
// be able to hold its connections or the process's file descriptors (every
// vendor call needs one).
const (
	shutdownTimeout = time.Second
	maxOpsConns     = 32 // connections served at once; more wait in the kernel's backlog
	opsReadTimeout  = 5 * time.Second
	opsWriteTimeout = 10 * time.Second
	opsIdleTimeout  = 15 * time.Second
	opsMaxHeader    = 8 << 10
)

// serveHealth serves the operator's endpoints; the returned func stops it.
func serveHealth(addr string, handler http.Handler, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("HEALTH_ADDR %s: %w", addr, err)
	}
	ln = netutil.LimitListener(ln, maxOpsConns)
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: opsReadTimeout,
		ReadTimeout:       opsReadTimeout,
		WriteTimeout:      opsWriteTimeout,
		IdleTimeout:       opsIdleTimeout,
		MaxHeaderBytes:    opsMaxHeader,
		ErrorLog:          slog.NewLogLogger(log.With("server", "ops").Handler(), slog.LevelWarn),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
			log.Error("health endpoint stopped", "error", err)
		}
	}()
	log.Info("health and metrics endpoints listening", "addr", ln.Addr().String(), "paths", "/healthz /metrics")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}, nil
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
