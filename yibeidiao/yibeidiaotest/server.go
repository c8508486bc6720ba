// Package yibeidiaotest is a fake 易背调 vendor for tests and the demo: a real
// HTTP server on 127.0.0.1 that checks requests the way the vendor does,
// serves the records a test registers, injects faults, and records every
// call.
package yibeidiaotest

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hr-tools/tempreport/yibeidiao"
)

// BasePath is where the fake serves the enterprise API, as the vendor does.
const BasePath = "/open/company"

// ClockWindow is how far a request's ts may be from the fake's Beijing time.
// The vendor's real window is undocumented.
const ClockWindow = 5 * time.Minute

// Codes the fake answers for business refusals. The real vendor's codes for
// these are undocumented; tests must not rely on the exact values.
const (
	CodeRecordNotFound = "1001"
	CodeNotInProgress  = "1002"
	CodeNoFinishedItem = "1003"
)

// RecordState is what the fake knows of a background check.
type RecordState int

const (
	// Unknown is every record not registered: the vendor has no such record.
	Unknown RecordState = iota
	// Ready is in progress with at least one finished item: it has a report.
	Ready
	// NotInProgress is finished, cancelled or not yet paid.
	NotInProgress
	// NoFinishedItem is in progress with nothing finished yet.
	NoFinishedItem
	// Broken makes the vendor fail with code 900 (internal error) for it.
	Broken
)

// Fault changes how the fake answers. The zero Fault answers normally; a
// Fault with only Delay set answers normally, late.
type Fault struct {
	Delay    time.Duration // wait this long first (or until the client gives up)
	Hang     bool          // never answer; return when the client gives up
	Code     string        // answer this vendor code, signed, with Msg
	Msg      any           // the msg with Code: a string, an object, anything JSON
	Status   int           // answer this HTTP status with Body instead of an envelope
	Body     string        // answer this raw body (HTTP 200 unless Status is set)
	BadSign  bool          // sign the answer with the wrong token
	Redirect string        // answer 302 Found with this Location
}

// Call is one request the fake received.
type Call struct {
	Time      time.Time
	Path      string // below BasePath, e.g. "/record/generate-temp-report"
	RecordNo  string
	Seq       string
	AuthOK    bool // the four headers, key, signature, ts and seq all passed
	UserAgent string
	Code      string // the vendor code answered; empty for raw-body faults
}

// Server is a running fake vendor. Its methods are safe for concurrent use.
type Server struct {
	URL      string // API base to give the client: http://127.0.0.1:port/open/company
	HTTPSURL string // the same base over https, on the same port
	LinkHost string // host and port of the report links (127.0.0.1:port), served over https
	Key      string // enterprise key the fake accepts
	Token    string // secret the fake signs and checks with
	// CertPool trusts the fake's self-signed certificate, for clients of
	// HTTPSURL and of the report links.
	CertPool *x509.CertPool

	srv  *httptest.Server
	now  func() time.Time
	done chan struct{}

	mu      sync.Mutex
	records map[string]RecordState
	seqs    map[string]bool
	script  []Fault
	always  Fault
	calls   []Call
}

// Option configures a [Server].
type Option func(*Server)

// WithCredentials sets the key and token (default: random, 32 characters).
func WithCredentials(key, token string) Option {
	return func(s *Server) { s.Key, s.Token = key, token }
}

// WithClock sets the fake's clock, to simulate a vendor whose time differs.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// NewServer starts a fake vendor on 127.0.0.1. Close it when done.
func NewServer(opts ...Option) *Server {
	s := &Server{
		Key:     randomHex(16),
		Token:   randomHex(16),
		now:     time.Now,
		done:    make(chan struct{}),
		records: map[string]RecordState{},
		seqs:    map[string]bool{},
	}
	for _, opt := range opts {
		opt(s)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+BasePath+"/record/generate-temp-report", s.serveAPI)
	mux.HandleFunc("GET "+BasePath+"/balance", s.serveAPI)
	mux.HandleFunc("GET /survey-result/{day}/{file}", s.serveReport)
	tlsConfig, pool := selfSigned()
	s.srv = httptest.NewUnstartedServer(mux)
	s.srv.Listener = newBothListener(s.srv.Listener, tlsConfig)
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // clients that distrust the certificate are expected
	s.srv.Start()
	s.URL = s.srv.URL + BasePath
	s.HTTPSURL = "https://" + s.srv.Listener.Addr().String() + BasePath
	s.LinkHost = s.srv.Listener.Addr().String() // its links name the port
	s.CertPool = pool
	return s
}

// Close stops the server, releasing any request held by a Hang or Delay.
func (s *Server) Close() {
	close(s.done)
	s.srv.Close()
}

// AddRecord registers a background check in the given state.
func (s *Server) AddRecord(recordNo string, state RecordState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records[recordNo] = state
}

// Script queues faults for the next requests, one request each, before
// [Server.SetFault]'s fault applies again.
func (s *Server) Script(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, faults...)
}

// SetFault applies f to every request not covered by [Server.Script];
// SetFault(Fault{}) restores normal answers.
func (s *Server) SetFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.always = f
}

// Calls returns a copy of every request received so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// BusiestSecond is the most calls received in any window of one second.
func BusiestSecond(calls []Call) int {
	calls = slices.Clone(calls)
	slices.SortFunc(calls, func(a, b Call) int { return a.Time.Compare(b.Time) })
	most := 0
	for i := range calls {
		n, _ := slices.BinarySearchFunc(calls[i:], calls[i].Time.Add(time.Second), func(c Call, t time.Time) int { return c.Time.Compare(t) })
		most = max(most, n)
	}
	return most
}

var tsPattern = regexp.MustCompile(`^[0-9]{14}$`)

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	call := Call{
		Time:      now,
		Path:      strings.TrimPrefix(r.URL.Path, BasePath),
		RecordNo:  r.URL.Query().Get("recordNo"),
		Seq:       header(r, "seq"),
		UserAgent: r.UserAgent(),
	}
	s.mu.Lock()
	fault := s.always
	if len(s.script) > 0 {
		fault, s.script = s.script[0], s.script[1:]
	}
	code, msg := s.precheck(r, now)
	call.AuthOK = code == ""
	state := s.records[call.RecordNo]
	// The call is recorded before any answer is written: a client that
	// stops reading early must not find it missing.
	i := len(s.calls)
	s.calls = append(s.calls, call)
	s.mu.Unlock()
	setCode := func(code string) {
		s.mu.Lock()
		s.calls[i].Code = code
		s.mu.Unlock()
	}

	if fault.Hang || fault.Delay > 0 {
		var timeout <-chan time.Time
		if !fault.Hang {
			t := time.NewTimer(fault.Delay)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-timeout:
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}
	if fault.Redirect != "" {
		http.Redirect(w, r, fault.Redirect, http.StatusFound)
		return
	}
	if fault.Status != 0 || fault.Body != "" {
		w.WriteHeader(max(fault.Status, http.StatusOK))
		_, _ = w.Write([]byte(fault.Body))
		return
	}

	if code != "" { // pre-check failures come unsigned, as the vendor's do
		setCode(code)
		s.write(w, envelopeFor(code, msg, r, now), "")
		return
	}
	var payload any
	switch {
	case fault.Code != "":
		code, payload = fault.Code, fault.Msg
	case call.Path == "/balance":
		code, payload = "000", map[string]any{"balance": 1234.5, "currency": "CNY"}
	default:
		code, payload = s.answerRecord(call.RecordNo, state, now)
	}
	setCode(code)
	token := s.Token
	if fault.BadSign {
		token = "not-" + token
	}
	env := envelopeFor(code, payload, r, now)
	s.write(w, env, yibeidiao.Sign(s.Key, env.TS, env.Seq, token))
}

// precheck checks auth like the vendor, in its order: headers (904), key
// (905), signature (901), time (903), seq reuse (902). It must hold s.mu.
func (s *Server) precheck(r *http.Request, now time.Time) (code, msg string) {
	key, ts, seq, sign := header(r, "key"), header(r, "ts"), header(r, "seq"), header(r, "sign")
	switch {
	case key == "" || seq == "" || sign == "" || !tsPattern.MatchString(ts):
		return "904", "验证参数不合法"
	case key != s.Key:
		return "905", "企业不存在"
	case !strings.EqualFold(sign, yibeidiao.Sign(key, ts, seq, s.Token)):
		return "901", "签名验证失败"
	}
	sent, err := yibeidiao.ParseTimestamp(ts)
	if err != nil || sent.Sub(now).Abs() > ClockWindow {
		return "903", "时间戳校验失败"
	}
	if s.seqs[seq] {
		return "902", "幂等校验失败"
	}
	s.seqs[seq] = true
	return "", ""
}

func (s *Server) answerRecord(recordNo string, state RecordState, now time.Time) (code string, msg any) {
	switch state {
	case Ready:
		expires := now.Add(time.Minute).Unix()
		day := now.In(yibeidiao.Beijing).Format("20060102")
		return "000", fmt.Sprintf("https://%s/survey-result/%s/%s.pdf?Expires=%d&OSSAccessKeyId=FAKEOSSKEY&Signature=%s",
			s.srv.Listener.Addr(), day, recordNo, expires, randomHex(12))
	case NotInProgress:
		return CodeNotInProgress, "背调未在进行中"
	case NoFinishedItem:
		return CodeNoFinishedItem, "暂无已完成的调查项"
	case Broken:
		return "900", "系统内部错误"
	}
	return CodeRecordNotFound, "背调记录不存在"
}

type envelope struct {
	Code string `json:"code"`
	Key  string `json:"key"`
	Seq  string `json:"seq"`
	TS   string `json:"ts"`
	Sign string `json:"sign"`
	Msg  any    `json:"msg"`
}

func envelopeFor(code string, msg any, r *http.Request, now time.Time) envelope {
	return envelope{Code: code, Key: header(r, "key"), Seq: header(r, "seq"), TS: yibeidiao.FormatTimestamp(now), Msg: msg}
}

func (s *Server) write(w http.ResponseWriter, env envelope, sign string) {
	env.Sign = sign
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_ = json.NewEncoder(w).Encode(env)
}

// serveReport stands in for the OSS object behind a link, so a demo link
// opens: a short text until Expires, 403 after, like OSS.
func (s *Server) serveReport(w http.ResponseWriter, r *http.Request) {
	var expires int64
	if _, err := fmt.Sscan(r.URL.Query().Get("Expires"), &expires); err != nil || s.now().Unix() > expires {
		http.Error(w, "AccessDenied: Request has expired.", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "Temporary background-check report %s (fake vendor: yibeidiaotest)\n", strings.TrimSuffix(r.PathValue("file"), ".pdf"))
}

// header reads a request header by name, whatever its case: over the wire
// Go canonicalizes names, but a request handed straight to the handler keeps
// the client's lowercase ones.
func header(r *http.Request, name string) string {
	if v := r.Header.Get(name); v != "" {
		return v
	}
	if v := r.Header[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}

// Handler returns the fake's handler, for tests that must run without a
// network, such as those inside a testing/synctest bubble.
func (s *Server) Handler() http.Handler { return s.srv.Config.Handler }
