// Package httpmode is Slack's HTTP request mode as a [bot.Transport]. It
// serves POST /slack/events, where Slack sends slash commands (a form),
// interactivity (a form whose payload field is JSON) and Events API
// callbacks (JSON); it checks each request's signature before it reads
// anything in it, hands what it reads to a [bot.Handler], and writes the
// handler's ack as the HTTP response.
package httpmode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hr-tools/tempreport/bot"
)

// Path is where Slack sends every request: an app's Request URL is its
// public address followed by Path.
const Path = "/slack/events"

// Every number the transport uses, with its reason.
const (
	// defaultAddr is Bolt's port, so guides for Bolt apps hold.
	defaultAddr = ":3000"

	// maxConns bounds the connections held open at once: each costs a
	// file descriptor and ~20 KB; Slack keeps a few, an ingress a few
	// hundred. Past it, new connections wait to be accepted.
	maxConns = 512

	// maxBody is above any real payload: a shortcut on a 40,000-character
	// Chinese message encodes to nearly 1 MB.
	maxBody = 1 << 20

	// maxSkew is how far a request's timestamp may be from now: Slack's
	// rule against replays.
	maxSkew = 5 * time.Minute

	// ackWait is how long a request waits for the bot's ack. Slack gives
	// up on a request after 3 s (an event is then retried, a command shows
	// an error); 0.5 s is left for the response to travel back through
	// the ingress. A later ack is refused with ErrLate and the request
	// gets an empty 200 (Slack shows a command nothing from the ack; what
	// follows the ack, a link on the response URL, still comes; an answer
	// that was to be the ack is logged as not written).
	ackWait = 2500 * time.Millisecond

	// maxDepth is the deepest nesting of JSON arrays and objects read.
	// Real payloads stay under 20 levels: a styled word in a rich_text
	// list, in the message whose button was clicked, is 11 deep, and a
	// message shortcut on a message quoting another adds a few; Slack's
	// block schema does not nest rich_text lists. What goes deeper is
	// forged, and costly: slack-go v0.35.0 decodes rich_text elements by
	// unmarshalling each level's bytes again, so 1,500 nested
	// rich_text_list levels (84 KB) took 1.5 s and 149 MB to decode, and
	// 4,900 levels (274 KB) 13-15 s and 1.3-1.8 GB. 64 is three times the
	// real depth, and that little nesting decodes in well under a
	// millisecond.
	maxDepth = 64

	// Server limits, as the ops port sets them (health.go). A request
	// Slack sends is small and whole: its headers arrive at once, its body
	// in well under a second, and its response must leave within 3 s.
	readHeaderTimeout = 5 * time.Second  // a slow sender's headers hold a connection no longer
	readTimeout       = 10 * time.Second // headers and a 1 MiB body, even over a slow link
	writeTimeout      = 10 * time.Second // from the end of the headers: ackWait, then the response
	// idleTimeout is longer than ingress-nginx's upstream keep-alive
	// (60 s), so the proxy closes an idle connection first: were we
	// first, a request racing our close would get a 502.
	idleTimeout    = 90 * time.Second
	maxHeaderBytes = 16 << 10 // Slack sends about a dozen headers; a proxy adds a few

	// shutdownTimeout bounds the graceful stop: requests in flight wait
	// at most ackWait for their acks, and then write a small response.
	shutdownTimeout = ackWait + 2*time.Second

	// refusalLogEvery is how often, at most, a refusal is logged: a wrong
	// signing secret refuses every request, and one line a minute with a
	// count says so without flooding the log.
	refusalLogEvery = time.Minute
)

// ErrLate is what [bot.Acker.Ack] returns when the ack comes after the HTTP
// response was written (after ackWait, or when the client went away): Slack
// saw an empty 200.
var ErrLate = errors.New("httpmode: ack after the response was written")

// ErrAcked is what [bot.Acker.Ack] returns on a delivery's second ack.
var ErrAcked = errors.New("httpmode: delivery already acked")

// ErrTooDeep is the error [bot.Handler.HandleUnreadable] gets for JSON
// nested deeper than any real Slack payload; it was never decoded.
var ErrTooDeep = fmt.Errorf("httpmode: JSON nested deeper than %d levels", maxDepth)

// Observer is told about requests refused before they reach the handler,
// for metrics. Its methods must not block; they may be called from many
// goroutines at once.
type Observer interface {
	// BadSignature is called once per request refused with 401: a
	// signature that does not match, a timestamp more than 5 minutes
	// from now, or missing signature headers.
	BadSignature()
	// RequestTooLarge is called once per request refused with 413.
	RequestTooLarge()
}

// Config is the transport's settings. SigningSecret is required.
type Config struct {
	// Addr is the address Serve listens on; default ":3000".
	Addr string
	// SigningSecret is the app's signing secret (Basic Information in the
	// app's settings). It never appears in a log line or an error.
	SigningSecret string
	// Logger gets the rate-limited warnings about refused requests; nil
	// logs nothing.
	Logger *slog.Logger
	// Observer counts refused requests; nil counts nothing.
	Observer Observer
	// Clock is the time signatures are checked against; nil is time.Now.
	Clock func() time.Time
	// Listener, if set, is where Serve accepts connections instead of
	// listening on Addr (tests pass one on 127.0.0.1:0). Serve closes it.
	Listener net.Listener
}

// Transport serves Slack's HTTP request mode. Create it with [New]; Serve
// it once. Its methods are safe for concurrent use.
type Transport struct {
	secret   []byte
	addr     string
	listener net.Listener
	log      *slog.Logger
	obs      Observer
	now      func() time.Time
	ackWait  time.Duration // ackWait; tests shorten it

	served atomic.Bool
	bound  atomic.Pointer[string]
	status atomic.Pointer[string] // "" while serving

	// handle serialises calls into the handler: the handler sees one
	// delivery at a time, in the order their requests were read, as it
	// does from Socket Mode's single read loop.
	handle  sync.Mutex
	h       bot.Handler
	stopped bool // Serve has stopped handing requests over; guarded by handle

	refusals  rateLog
	oversized rateLog
	// unverified is what request bodies not yet checked may hold.
	unverified byteBudget
}

var _ bot.Transport = (*Transport)(nil)

// New returns a transport that will serve cfg.Addr. It fails only when
// the signing secret is missing.
func New(cfg Config) (*Transport, error) {
	if cfg.SigningSecret == "" {
		return nil, errors.New("httpmode: no signing secret")
	}
	t := &Transport{
		secret:   []byte(cfg.SigningSecret),
		addr:     cfg.Addr,
		listener: cfg.Listener,
		log:      cfg.Logger,
		obs:      cfg.Observer,
		now:      cfg.Clock,
		ackWait:  ackWait,
	}
	t.unverified.left = unverifiedBudget
	if t.addr == "" {
		t.addr = defaultAddr
	}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	if t.obs == nil {
		t.obs = noObserver{}
	}
	if t.now == nil {
		t.now = time.Now
	}
	t.refusals.every, t.oversized.every = refusalLogEvery, refusalLogEvery
	t.setStatus("not serving yet")
	return t, nil
}

// Serve listens, hands every request Slack sends to h until ctx is done,
// then stops taking requests, lets those in flight write their acks
// (bounded by a few seconds) and returns nil. When it returns, h is called
// no more. It returns an error at once when it cannot listen, or when it
// was called before.
func (t *Transport) Serve(ctx context.Context, h bot.Handler) error {
	if t.served.Swap(true) {
		return errors.New("httpmode: Serve called twice")
	}
	ln := t.listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", t.addr); err != nil {
			t.setStatus("stopped: cannot listen")
			return fmt.Errorf("httpmode: %w", err)
		}
	}
	ln = &cappedListener{Listener: ln, slots: make(chan struct{}, maxConns)}
	addr := ln.Addr().String()
	t.bound.Store(&addr)
	t.h = h

	mux := http.NewServeMux()
	// Other methods get 405 with Allow: POST, other paths 404.
	mux.HandleFunc("POST "+Path, t.serveRequest)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(t.log.With("server", "slack").Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.setStatus("")
	t.log.Info("serving Slack's HTTP request mode", "addr", addr, "path", Path)

	var err error
	select {
	case <-ctx.Done():
	case err = <-served: // the listener failed
	}
	t.setStatus("shutting down")
	stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if srv.Shutdown(stop) != nil {
		_ = srv.Close()
	}
	t.handle.Lock()
	t.stopped = true // a request still past its body's read calls h no more
	t.handle.Unlock()
	t.flushLogs()
	t.setStatus("stopped")
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("httpmode: %w", err)
	}
	return nil
}

// Ready reports true with "serving" while Serve takes requests; otherwise
// false and why ("not serving yet", "shutting down", "stopped").
// Close is a [bot.Transport]'s: HTTP request mode keeps nothing open once
// Serve has returned (each request's ack is its response, written before
// Serve's shutdown lets the request go).
func (t *Transport) Close() {}

func (t *Transport) Ready() (bool, string) {
	if s := *t.status.Load(); s != "" {
		return false, s
	}
	return true, "serving"
}

// Addr is the address Serve listens on, once it does ("" before): with
// port 0, the port chosen.
func (t *Transport) Addr() string {
	if a := t.bound.Load(); a != nil {
		return *a
	}
	return ""
}

func (t *Transport) setStatus(s string) { t.status.Store(&s) }

type noObserver struct{}

func (noObserver) BadSignature()    {}
func (noObserver) RequestTooLarge() {}
