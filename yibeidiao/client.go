// Package yibeidiao is a client for the 易背调 (yibeidiao) enterprise API:
// signed requests, the vendor's JSON envelope, its error codes, a client-wide
// rate limit and safe retries. It knows nothing of Slack and does not log;
// its errors say what went wrong and never contain the token or a report URL.
package yibeidiao

import (
	"bytes"
	"cmp"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/hr-tools/tempreport/internal/cleantext"
	"github.com/hr-tools/tempreport/internal/retry"
)

const (
	// DefaultBaseURL is the vendor's documented enterprise API base. The vendor
	// documents plain http; whether https works there is unknown.
	DefaultBaseURL = "http://api.yibeidiao.com/open/company"
	// DefaultTimeout bounds one HTTP attempt with the default HTTP client.
	DefaultTimeout = 10 * time.Second
	// DefaultLinkHost is the only host a report link may be on by default:
	// the host of the vendor's documented example link.
	DefaultLinkHost = "res.yibeidiao.com"
	// DefaultRate and DefaultBurst are a polite budget for one enterprise
	// key, requests a second and at once: the vendor documents no limit.
	DefaultRate  = 1.0
	DefaultBurst = 3

	codeOK       = "000"
	maxRetries   = 2        // transient failures are tried at most three times in all
	maxBodyBytes = 64 << 10 // the envelope is small; anything larger is not the vendor's answer
)

// Client calls the vendor's enterprise API. It is safe for concurrent use.
// Create one with [New].
type Client struct {
	key, token string
	baseURL    *url.URL
	httpClient *http.Client
	now        func() time.Time
	newSeq     func() string
	limiter    Limiter
	verify     bool
	linkHosts  []string
	backoff    time.Duration
	userAgent  string
	observer   Observer
}

// Option configures a [Client] in [New].
type Option func(*options)

type options struct {
	baseURL    string
	httpClient *http.Client
	timeout    time.Duration
	now        func() time.Time
	newSeq     func() string
	limiter    Limiter
	noVerify   bool
	linkHosts  []string
	userAgent  string
	observer   Observer
}

// WithBaseURL sets the API base, e.g. a proxy or a test server
// (default [DefaultBaseURL]). It must be an absolute http or https URL.
func WithBaseURL(u string) Option { return func(o *options) { o.baseURL = u } }

// WithHTTPClient sets the HTTP client, instead of the default one (whose
// attempts time out after [WithTimeout] and whose transport reads at most
// 16 KiB of response headers: the vendor's answer is a small envelope, and
// a hostile server must not make a call hold megabytes). Its Timeout
// bounds each attempt. The client is copied and never follows a redirect,
// whatever its CheckRedirect: the request's signed headers go to the base
// URL's server and nowhere else.
func WithHTTPClient(hc *http.Client) Option { return func(o *options) { o.httpClient = hc } }

// WithTimeout bounds one attempt with the default HTTP client (default
// [DefaultTimeout]; zero keeps the default).
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// maxHeaderBytes bounds the vendor's response headers with the default
// HTTP client.
const maxHeaderBytes = 16 << 10

// WithClock sets the clock that stamps each request's ts (default time.Now).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithSeqSource sets the function that makes each request's seq (default
// [NewSeq]). It must never repeat a value.
func WithSeqSource(next func() string) Option { return func(o *options) { o.newSeq = next } }

// WithRateLimiter makes every attempt, retries included, take a turn from l
// before it is sent. A turn that would come after the call's deadline fails
// the call at once with a [*RateLimitError]. Share one limiter among clients
// to share the budget. Default: no limit.
func WithRateLimiter(l *rate.Limiter) Option { return WithLimiter(localLimiter{l}) }

// WithLimiter is [WithRateLimiter] for a limiter of any kind, such as one
// that several processes share.
func WithLimiter(l Limiter) Option { return func(o *options) { o.limiter = l } }

// Limiter hands out turns to send a request, first come first served.
type Limiter interface {
	// Reserve takes the next turn and says how long until it comes, unless
	// it would come more than maxWait from now: then it takes nothing and
	// returns ok false with the delay it would have had. cancel gives a turn
	// not used back, where the limiter can. Reserve must not block for long.
	Reserve(ctx context.Context, maxWait time.Duration) (delay time.Duration, cancel func(), ok bool)
}

// localLimiter is a [Limiter] in this process's memory.
type localLimiter struct{ l *rate.Limiter }

func (l localLimiter) Reserve(_ context.Context, maxWait time.Duration) (time.Duration, func(), bool) {
	r := l.l.Reserve()
	delay := r.Delay()
	if delay > 0 && delay > maxWait {
		r.Cancel()
		return delay, nil, false
	}
	return delay, r.Cancel, true
}

// NewLocalLimiter is a [Limiter] of this process alone: rate turns a second,
// burst at once, as [rate.NewLimiter].
func NewLocalLimiter(r rate.Limit, burst int) Limiter { return localLimiter{rate.NewLimiter(r, burst)} }

// WithLinkHosts sets the hosts a report link may be on (default
// [DefaultLinkHost]). A pattern is a host name, or "*.example.com" for any
// subdomain of example.com, with a port if links use one. A link must also
// be https, on the default port unless the pattern names one, with no user
// info before the host. The vendor's answer signature does not cover the
// link, so this is what makes a link shown to a person the vendor's.
func WithLinkHosts(patterns ...string) Option { return func(o *options) { o.linkHosts = patterns } }

// Observer is told about every HTTP attempt and every rate-limit wait, for
// metrics. Its methods must be safe for concurrent use and return quickly.
type Observer interface {
	// Attempt reports one HTTP attempt: how it ended and how long it took.
	// result is one of [AttemptResults]: "000" for success, a documented
	// code ("900"…"906"), "other_code" for the vendor's business refusals,
	// "http_4xx" or "http_5xx" for an answer that is not the vendor's
	// envelope, "redirect", "bad_signature", "bad_response", "timeout" or
	// "network_error".
	// try is 1 for a call's first attempt, 2 and 3 for its retries.
	Attempt(result string, try int, took time.Duration)
	// Waited reports how long an attempt waited for a rate-limit turn.
	Waited(d time.Duration)
}

// WithObserver sets the [Observer] (default: none).
func WithObserver(o Observer) Option { return func(o2 *options) { o2.observer = o } }

// WithUserAgent sets the User-Agent header of every request.
func WithUserAgent(ua string) Option { return func(o *options) { o.userAgent = ua } }

// WithoutResponseVerification stops checking the signature of the vendor's
// answers. The rule checked (MD5 of the response's key, ts and seq with the
// token, as for requests) is inferred from the vendor's docs, not confirmed;
// turn it off only if the real vendor's signatures do not follow it.
func WithoutResponseVerification() Option { return func(o *options) { o.noVerify = true } }

// New returns a client for the enterprise with the given key and token. The
// token is used only to sign; it is never sent. New fails on an empty key or
// token and on a base URL that is not absolute http(s).
func New(key, token string, opts ...Option) (*Client, error) {
	o := options{baseURL: DefaultBaseURL, now: time.Now, newSeq: NewSeq}
	for _, opt := range opts {
		opt(&o)
	}
	var errs []error
	if strings.TrimSpace(key) == "" {
		errs = append(errs, errors.New("yibeidiao: empty key"))
	}
	if strings.TrimSpace(token) == "" {
		errs = append(errs, errors.New("yibeidiao: empty token"))
	}
	base, err := url.Parse(o.baseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		errs = append(errs, errors.New("yibeidiao: base URL is not an absolute http(s) URL"))
	}
	if len(o.linkHosts) == 0 {
		o.linkHosts = []string{DefaultLinkHost}
	}
	for _, p := range o.linkHosts {
		if !ValidLinkHost(p) {
			errs = append(errs, fmt.Errorf("yibeidiao: link host %q is not a host name or *.domain", p))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxResponseHeaderBytes = maxHeaderBytes
	hc := &http.Client{Timeout: cmp.Or(o.timeout, DefaultTimeout), Transport: transport}
	if o.httpClient != nil {
		copied := *o.httpClient
		hc = &copied
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if o.observer == nil {
		o.observer = noObserver{}
	}
	return &Client{
		key:        key,
		token:      token,
		baseURL:    base,
		httpClient: hc,
		now:        o.now,
		newSeq:     o.newSeq,
		limiter:    o.limiter,
		verify:     !o.noVerify,
		linkHosts:  o.linkHosts,
		backoff:    250 * time.Millisecond,
		userAgent:  o.userAgent,
		observer:   o.observer,
	}, nil
}

// ValidLinkHost reports whether p is a pattern [WithLinkHosts] accepts: a
// host name of at least two labels or an IP address, or "*." and a host
// name of at least two labels (not "*.com"), each optionally with a port
// (":8443"); without one, a link must use https's default port.
func ValidLinkHost(p string) bool {
	name, port := splitLinkHost(p)
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return false
		}
	}
	wild := strings.HasPrefix(name, "*.")
	name = strings.TrimPrefix(name, "*.")
	if name == "" || strings.Contains(name, "*") {
		return false
	}
	if ip := net.ParseIP(name); ip != nil {
		return !wild
	}
	return hostNamePattern.MatchString(name) && strings.Contains(name, ".")
}

var hostNamePattern = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)

// trustedLink checks that a report link is https on a pinned host.
func (c *Client) trustedLink(u *url.URL, seq string) error {
	host, port := strings.ToLower(u.Hostname()), u.Port()
	switch {
	case u.Scheme != "https":
		return &UntrustedLinkError{Host: host, Reason: "not https", Seq: seq}
	case u.User != nil:
		// https://evil.example@res.yibeidiao.com/… reads as evil.example.
		return &UntrustedLinkError{Host: host, Reason: "user info before the host", Seq: seq}
	}
	for _, p := range c.linkHosts {
		name, pport := splitLinkHost(strings.ToLower(p))
		if port != pport && !(pport == "" && port == "443") {
			continue
		}
		if host == name || (strings.HasPrefix(name, "*.") && strings.HasSuffix(host, name[1:])) {
			return nil
		}
	}
	if port != "" {
		return &UntrustedLinkError{Host: host, Reason: "host or port not trusted", Seq: seq}
	}
	return &UntrustedLinkError{Host: host, Reason: "host not trusted", Seq: seq}
}

// splitLinkHost splits a link host pattern into its name and its port, if
// it names one.
func splitLinkHost(p string) (name, port string) {
	if h, pt, err := net.SplitHostPort(p); err == nil {
		return h, pt
	}
	return p, ""
}

// TempReport is a temporary report link. The URL is a bearer credential to a
// person's background report: it must reach only the person who asked, and
// never a log. TempReport's String and LogValue leave it out.
type TempReport struct {
	URL        string
	ExpiresAt  time.Time // when the link stops working
	Seq        string    // the request's seq, for the audit log
	VendorTime time.Time // the vendor's ts, zero if it sent none
}

// String describes the report without its URL.
func (r *TempReport) String() string {
	return fmt.Sprintf("temporary report (seq %s, expires %s)", r.Seq, r.ExpiresAt.Format(time.RFC3339))
}

// LogValue keeps the URL out of structured logs.
func (r *TempReport) LogValue() slog.Value {
	return slog.GroupValue(slog.String("seq", r.Seq), slog.Time("expires_at", r.ExpiresAt))
}

// GenerateTempReport asks the vendor for a temporary report of a background
// check that is in progress and has at least one finished investigation item.
// The link is valid for one minute. [KindOf] classifies its errors; the
// details are in [*APIError], [*RedirectError], [*UntrustedLinkError],
// [*RateLimitError] and [*NetworkError], or the error is the context's.
func (c *Client) GenerateTempReport(ctx context.Context, recordNo string) (*TempReport, error) {
	if recordNo == "" {
		return nil, errors.New("yibeidiao: empty record number")
	}
	env, err := c.get(ctx, "record/generate-temp-report", url.Values{"recordNo": {recordNo}})
	if err != nil {
		return nil, err
	}
	return c.report(env)
}

// report reads the link out of a successful envelope.
func (c *Client) report(env *envelope) (*TempReport, error) {
	var link string
	if err := json.Unmarshal(env.Msg, &link); err != nil {
		return nil, fmt.Errorf("%w: success without a report link (seq %s)", ErrBadResponse, env.Seq)
	}
	u, err := url.Parse(link)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%w: success whose msg is not an absolute link (seq %s)", ErrBadResponse, env.Seq)
	}
	if err := c.trustedLink(u, env.Seq); err != nil {
		return nil, err
	}
	vendorTime, _ := ParseTimestamp(env.TS)
	return &TempReport{URL: link, ExpiresAt: expiry(u, vendorTime, c.now()), Seq: env.Seq, VendorTime: vendorTime}, nil
}

// Balance returns the enterprise's balance as the vendor sends it. It is the
// cheapest signed call there is, which makes it the way to check key, token
// and clock.
func (c *Client) Balance(ctx context.Context) (json.RawMessage, error) {
	env, err := c.get(ctx, "balance", nil)
	if err != nil {
		return nil, err
	}
	return env.Msg, nil
}

// linkLifetime is how long the vendor documents a temporary link to be valid.
const linkLifetime = time.Minute

// expiry reads the OSS signed URL's Expires parameter (Unix seconds) when it
// is plausible, and otherwise counts one minute from the vendor's time (or
// ours, if the vendor sent none).
func expiry(u *url.URL, vendorTime, now time.Time) time.Time {
	ref := vendorTime
	if ref.IsZero() {
		ref = now
	}
	var secs int64
	if _, err := fmt.Sscan(u.Query().Get("Expires"), &secs); err == nil {
		exp := time.Unix(secs, 0)
		if exp.After(ref.Add(-linkLifetime)) && exp.Before(ref.Add(time.Hour)) {
			return exp
		}
	}
	return ref.Add(linkLifetime)
}

// codePattern is what a vendor code may look like; anything else (including
// no code) means the body is not the vendor's envelope.
var codePattern = regexp.MustCompile(`^[0-9A-Za-z_-]{1,16}$`)

// envelope is the vendor's answer to every call.
type envelope struct {
	Code string          `json:"code"`
	Key  string          `json:"key"`
	Seq  string          `json:"seq"`
	TS   string          `json:"ts"`
	Sign string          `json:"sign"`
	Msg  json.RawMessage `json:"msg"` // a JSON string or an object
}

// get sends a signed GET and retries transient failures, each attempt a fresh
// request with its own ts, seq and sign. It returns only successful envelopes.
func (c *Client) get(ctx context.Context, path string, query url.Values) (*envelope, error) {
	// The first turn is waited for here, not in the retry loop or in do: a
	// burst's goroutines wait on this line, with shallow stacks (measured:
	// waiting inside the retry loop took the peak RSS of a 500-command
	// burst from 18.6 to 20.0 MB).
	if err := c.wait(ctx); err != nil {
		return nil, err
	}
	var env *envelope
	err := retry.Do(ctx, maxRetries+1, func(n int) time.Duration { return c.backoff << n }, func(n int) (bool, error) {
		if n > 0 {
			if err := c.wait(ctx); err != nil {
				return false, err
			}
		}
		var err error
		env, err = c.do(ctx, path, query, n+1)
		kind := KindOf(err)
		return kind == KindTransient || kind == KindTimeout, err
	})
	if _, ok := errors.AsType[*retry.InterruptedError](err); ok {
		return nil, fmt.Errorf("yibeidiao: %w", err)
	}
	return env, err
}

// do is the one place a request is sent: it signs,
// sends, and decodes the answer.
func (c *Client) do(ctx context.Context, path string, query url.Values, try int) (*envelope, error) {
	u := c.baseURL.JoinPath(path)
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("yibeidiao: building request: %w", err)
	}
	seq, ts := c.newSeq(), FormatTimestamp(c.now())
	// Set directly to keep the vendor's lowercase header names on the wire.
	req.Header["key"] = []string{c.key}
	req.Header["ts"] = []string{ts}
	req.Header["seq"] = []string{seq}
	req.Header["sign"] = []string{Sign(c.key, ts, seq, c.token)}
	req.Header.Set("Accept", "application/json")
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}

	start := time.Now()
	env, err := c.send(ctx, req, path, seq)
	c.observer.Attempt(attemptResult(err), try, time.Since(start))
	return env, err
}

// send sends a signed request and decodes the answer.
func (c *Client) send(ctx context.Context, req *http.Request, path, seq string) (*envelope, error) {
	resp, err := c.httpClient.Do(req)
	if err != nil {
		return nil, c.transportError(ctx, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		to, _ := resp.Location()
		redirect := &RedirectError{HTTPStatus: resp.StatusCode, Seq: seq}
		if to != nil {
			redirect.Scheme, redirect.Host = to.Scheme, to.Host
		}
		return nil, redirect
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
	if err != nil {
		return nil, c.transportError(ctx, path, err)
	}
	return c.decode(resp.StatusCode, body, seq)
}

// AttemptResults lists every result [Observer.Attempt] reports: a small,
// fixed set, so a metric labelled with it stays small.
var AttemptResults = append(append([]string{codeOK}, DocumentedCodes()...),
	"other_code", "http_4xx", "http_5xx", "redirect", "bad_signature", "bad_response", "timeout", "network_error")

// attemptResult names how an attempt ended, for [Observer.Attempt]: the
// vendor's documented code, or what [KindOf] says.
func attemptResult(err error) string {
	var apiErr *APIError
	switch kind := KindOf(err); {
	case err == nil:
		return codeOK
	case errors.As(err, &apiErr) && apiErr.Code != "":
		if _, documented := vendorCodes[apiErr.Code]; documented {
			return apiErr.Code
		}
		return "other_code"
	case errors.As(err, &apiErr) && apiErr.HTTPStatus >= 500:
		return "http_5xx"
	case errors.As(err, &apiErr):
		return "http_4xx"
	case errors.Is(err, errRedirect):
		return "redirect"
	case kind == KindBadSignature, kind == KindBadResponse:
		return string(kind)
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return "timeout"
	}
	return "network_error"
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

type noObserver struct{}

func (noObserver) Attempt(string, int, time.Duration) {}
func (noObserver) Waited(time.Duration)               {}

// transportError names the call without its URL (the query names a record)
// and returns the context's error when that is the cause.
func (c *Client) transportError(ctx context.Context, path string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("yibeidiao: %s: %w", path, ctxErr)
	}
	if uerr, ok := errors.AsType[*url.Error](err); ok {
		err = uerr.Err
	}
	return &NetworkError{Op: path, Err: err}
}

// wait takes a turn from the rate limiter, failing at once when the turn
// would come after ctx's deadline.
func (c *Client) wait(ctx context.Context) error {
	if c.limiter == nil {
		return nil
	}
	maxWait := time.Duration(math.MaxInt64)
	if deadline, ok := ctx.Deadline(); ok {
		maxWait = time.Until(deadline)
	}
	delay, cancel, ok := c.limiter.Reserve(ctx, maxWait)
	if !ok {
		return &RateLimitError{RetryAfter: delay}
	}
	if delay <= 0 {
		c.observer.Waited(0)
		return nil
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		c.observer.Waited(delay)
		return nil
	case <-ctx.Done():
		if cancel != nil {
			cancel()
		}
		return fmt.Errorf("yibeidiao: waiting for a rate-limit turn: %w", ctx.Err())
	}
}

// decode turns one HTTP answer into a successful envelope or an error.
func (c *Client) decode(status int, body []byte, seq string) (*envelope, error) {
	if len(body) > maxBodyBytes {
		return nil, fmt.Errorf("%w: body over %d bytes (http %d, seq %s)", ErrBadResponse, maxBodyBytes, status, seq)
	}
	var env envelope
	jsonErr := json.Unmarshal(body, &env)
	if jsonErr == nil && !codePattern.MatchString(env.Code) {
		jsonErr = errors.New("malformed code")
	}
	if status < 200 || status > 299 {
		apiErr := &APIError{HTTPStatus: status, Seq: seq}
		if jsonErr == nil && env.Code != codeOK {
			apiErr.Code, apiErr.Message = env.Code, msgText(env.Msg)
		}
		return nil, apiErr
	}
	switch {
	case len(bytes.TrimSpace(body)) == 0:
		return nil, fmt.Errorf("%w: empty body (http %d, seq %s)", ErrBadResponse, status, seq)
	case jsonErr != nil:
		return nil, fmt.Errorf("%w: body is not the vendor's JSON envelope (http %d, seq %s)", ErrBadResponse, status, seq)
	}
	verified := !c.verify
	if c.verify {
		if err := c.verifyEnvelope(&env, seq); err != nil {
			return nil, err
		}
		verified = env.Sign != ""
	}
	if env.Code != codeOK {
		return nil, &APIError{Code: env.Code, Message: msgText(env.Msg), HTTPStatus: status, Seq: seq, Verified: verified}
	}
	env.Seq = seq
	return &env, nil
}

// verifyEnvelope checks the answer's signature and that it echoes our key and
// seq. The vendor leaves sign empty when a request fails its pre-checks, so
// only a failure may come unsigned.
func (c *Client) verifyEnvelope(env *envelope, seq string) error {
	if env.Sign == "" {
		if env.Code == codeOK {
			return fmt.Errorf("%w: success without a signature (seq %s)", ErrBadResponseSignature, seq)
		}
		return nil
	}
	want := Sign(env.Key, env.TS, env.Seq, c.token)
	if env.Key != c.key || env.Seq != seq ||
		subtle.ConstantTimeCompare([]byte(strings.ToUpper(env.Sign)), []byte(want)) != 1 {
		return fmt.Errorf("%w (code %q, seq %s)", ErrBadResponseSignature, env.Code, seq)
	}
	return nil
}

// msgText renders the vendor's msg for people: a JSON string as is, anything
// else as compact JSON, always without control, bidi-override or invisible
// characters, and within a sane length. Links stay: whoever shows it
// decides what to do with them ([APIError.Error] removes them).
func msgText(raw json.RawMessage) string {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		var buf bytes.Buffer
		if json.Compact(&buf, raw) == nil && buf.String() != "null" {
			s = buf.String()
		}
	}
	s = strings.TrimSpace(cleantext.String(s))
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return s
}
