package yibeidiao_test

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/time/rate"

	"github.com/hr-tools/tempreport/yibeidiao"
	"github.com/hr-tools/tempreport/yibeidiao/yibeidiaotest"
)

const (
	readyRecord    = "20190415152645093983751"
	notInProgress  = "20190415152645093983752"
	noFinishedItem = "20190415152645093983753"
	unknownRecord  = "20190415152645093983759"
)

func TestSignKnownAnswer(t *testing.T) {
	t.Parallel()
	// The vendor's own example.
	got := yibeidiao.Sign("CF6BF781AB82FEF5BFDF96B054ECEB15", "20190102145555", "N123456", "8FD2867925098ECFA5DC1DB15B5A3E79")
	if want := "65F3CB60DDEA32F61A0AA3D06D5AC348"; got != want {
		t.Errorf("Sign(vendor example) = %s, want %s", got, want)
	}
}

func TestFormatTimestampIsBeijingTime(t *testing.T) {
	t.Parallel()
	utc := time.Date(2019, 1, 2, 6, 55, 55, 0, time.UTC)
	if got, want := yibeidiao.FormatTimestamp(utc), "20190102145555"; got != want {
		t.Errorf("FormatTimestamp(%v) = %s, want %s", utc, got, want)
	}
	back, err := yibeidiao.ParseTimestamp("20190102145555")
	if err != nil || !back.Equal(utc) {
		t.Errorf("ParseTimestamp = %v, %v; want %v", back, err, utc)
	}
}

func TestNewSeqIsUniqueAndShort(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 10000 {
		s := yibeidiao.NewSeq()
		if len(s) > 32 || strings.Trim(s, "0123456789ABCDEF") != "" {
			t.Fatalf("NewSeq() = %q, want at most 32 ASCII letters and digits", s)
		}
		if seen[s] {
			t.Fatalf("NewSeq() repeated %q", s)
		}
		seen[s] = true
	}
}

func TestNewRejectsBadInput(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, key, token, base string
		want                   string
	}{
		{"empty key", "", "T", yibeidiao.DefaultBaseURL, "empty key"},
		{"empty token", "K", " ", yibeidiao.DefaultBaseURL, "empty token"},
		{"relative base", "K", "T", "/open/company", "not an absolute"},
		{"ftp base", "K", "T", "ftp://api.yibeidiao.com/open/company", "not an absolute"},
		{"no host", "K", "T", "http:///open/company", "not an absolute"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := yibeidiao.New(tt.key, tt.token, yibeidiao.WithBaseURL(tt.base))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New(%q, %q, %q) error = %v, want it to mention %q", tt.key, tt.token, tt.base, err, tt.want)
			}
		})
	}
	if _, err := yibeidiao.New("K", "T"); err != nil {
		t.Errorf("New with defaults: %v", err)
	}
}

// newPair starts a fake vendor with the standard records and a client for it.
func newPair(t *testing.T, opts ...yibeidiao.Option) (*yibeidiaotest.Server, *yibeidiao.Client) {
	t.Helper()
	srv := yibeidiaotest.NewServer()
	t.Cleanup(srv.Close)
	srv.AddRecord(readyRecord, yibeidiaotest.Ready)
	srv.AddRecord(notInProgress, yibeidiaotest.NotInProgress)
	srv.AddRecord(noFinishedItem, yibeidiaotest.NoFinishedItem)
	c, err := yibeidiao.New(srv.Key, srv.Token, append([]yibeidiao.Option{yibeidiao.WithBaseURL(srv.URL), yibeidiao.WithLinkHosts(srv.LinkHost)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func TestGenerateTempReport(t *testing.T) {
	t.Parallel()
	srv, c := newPair(t)
	before := time.Now()
	rep, err := c.GenerateTempReport(t.Context(), readyRecord)
	after := time.Now()
	if err != nil {
		t.Fatalf("GenerateTempReport: %v", err)
	}
	u, err := url.Parse(rep.URL)
	if err != nil || u.Scheme != "https" || !strings.Contains(u.Path, readyRecord) {
		t.Fatalf("report URL %q is not the fake's link for %s", rep.URL, readyRecord)
	}
	expires, _ := strconv.ParseInt(u.Query().Get("Expires"), 10, 64)
	if !rep.ExpiresAt.Equal(time.Unix(expires, 0)) {
		t.Errorf("ExpiresAt = %v, want the link's Expires %v", rep.ExpiresAt, time.Unix(expires, 0))
	}
	// About a minute after the link was made, whenever during the call
	// that was: the bounds move with the call, not with the machine's load.
	if rep.ExpiresAt.Before(before.Add(55*time.Second)) || rep.ExpiresAt.After(after.Add(62*time.Second)) {
		t.Errorf("ExpiresAt is %v after the call began (it took %v), want about one minute", rep.ExpiresAt.Sub(before), after.Sub(before))
	}
	calls := srv.Calls()
	if len(calls) != 1 || !calls[0].AuthOK || calls[0].RecordNo != readyRecord || calls[0].Seq != rep.Seq {
		t.Errorf("vendor calls = %+v, want one authenticated call for %s with seq %s", calls, readyRecord, rep.Seq)
	}
	if rep.VendorTime.IsZero() {
		t.Error("VendorTime is zero, want the vendor's ts")
	}
	// The link opens until it expires, like an OSS signed URL.
	resp, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: srv.CertPool}}}).Get(rep.URL)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("GET report link: %v, %v", resp, err)
	}
	if resp != nil {
		resp.Body.Close()
	}
	// The URL is a credential: fmt and slog must not show it.
	if s := rep.String(); strings.Contains(s, "http") {
		t.Errorf("TempReport.String() = %q, shows the link", s)
	}
	if s := rep.LogValue().String(); strings.Contains(s, "http") {
		t.Errorf("TempReport.LogValue() = %q, shows the link", s)
	}
}

// TestReportLinksArePinned: the vendor's signature does not cover the link,
// so only an https link on a trusted host is a report link.
func TestReportLinksArePinned(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, link string
		hosts      []string
		wantHost   string // "" when the link is trusted
	}{
		{name: "another host", link: "https://evil.example/survey-result/x.pdf?Expires=1", hosts: []string{"res.yibeidiao.com"}, wantHost: "evil.example"},
		{name: "plain http on the trusted host", link: "http://res.yibeidiao.com/survey-result/x.pdf", hosts: []string{"res.yibeidiao.com"}, wantHost: "res.yibeidiao.com"},
		{name: "trusted host as a suffix", link: "https://res.yibeidiao.com.evil.example/x.pdf", hosts: []string{"res.yibeidiao.com"}, wantHost: "res.yibeidiao.com.evil.example"},
		{name: "lookalike of a wildcard", link: "https://evilyibeidiao.com/x.pdf", hosts: []string{"*.yibeidiao.com"}, wantHost: "evilyibeidiao.com"},
		{name: "wildcard does not match the apex", link: "https://yibeidiao.com/x.pdf", hosts: []string{"*.yibeidiao.com"}, wantHost: "yibeidiao.com"},
		{name: "userinfo trick", link: "https://res.yibeidiao.com@evil.example/x.pdf", hosts: []string{"res.yibeidiao.com"}, wantHost: "evil.example"},
		{name: "javascript", link: "javascript://res.yibeidiao.com/%0aalert(1)", hosts: []string{"res.yibeidiao.com"}, wantHost: "res.yibeidiao.com"},
		{name: "user info before the trusted host", link: "https://evil.example@res.yibeidiao.com/x.pdf", hosts: []string{"res.yibeidiao.com"}, wantHost: "res.yibeidiao.com"},
		{name: "another port on the trusted host", link: "https://res.yibeidiao.com:22/x.pdf", hosts: []string{"res.yibeidiao.com"}, wantHost: "res.yibeidiao.com"},
		{name: "a port the pattern does not name", link: "https://res.yibeidiao.com:8443/x.pdf", hosts: []string{"res.yibeidiao.com:9443"}, wantHost: "res.yibeidiao.com"},
		{name: "the port the pattern names", link: "https://res.yibeidiao.com:8443/x.pdf", hosts: []string{"res.yibeidiao.com:8443"}},
		{name: "https's own port", link: "https://res.yibeidiao.com:443/x.pdf", hosts: []string{"res.yibeidiao.com"}},
		{name: "exact host", link: "https://res.yibeidiao.com/survey-result/x.pdf", hosts: []string{"res.yibeidiao.com"}},
		{name: "host in another case", link: "https://RES.yibeidiao.com/survey-result/x.pdf", hosts: []string{"res.yibeidiao.com"}},
		{name: "subdomain of a wildcard", link: "https://oss-cn.res.yibeidiao.com/x.pdf", hosts: []string{"*.yibeidiao.com"}},
		{name: "one of several", link: "https://b.example/x.pdf", hosts: []string{"a.example", "b.example"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := newPair(t, yibeidiao.WithLinkHosts(tt.hosts...))
			srv.SetFault(yibeidiaotest.Fault{Code: "000", Msg: tt.link})
			rep, err := c.GenerateTempReport(t.Context(), readyRecord)
			if tt.wantHost == "" {
				if err != nil || rep.URL != tt.link {
					t.Errorf("GenerateTempReport = %v, %v; want the link", rep, err)
				}
				return
			}
			var untrusted *yibeidiao.UntrustedLinkError
			if !errors.As(err, &untrusted) || untrusted.Host != tt.wantHost || !errors.Is(err, yibeidiao.ErrUntrustedLink) || rep != nil {
				t.Fatalf("GenerateTempReport = %v, %v; want an untrusted link on %q", rep, err, tt.wantHost)
			}
			assertClean(t, err, srv.Token)
		})
	}
	for _, bad := range []string{"res.*.com", "*.com", "com", "*", "*.", "res.yibeidiao.com:0", "res.yibeidiao.com:x", "*.127.0.0.1"} {
		if _, err := yibeidiao.New("K", "T", yibeidiao.WithLinkHosts(bad)); err == nil {
			t.Errorf("New accepted the link host pattern %q", bad)
		}
	}
}

// TestRedirectsAreNotFollowed: a 3xx is an error naming only the target's
// host, and the server it points to never sees a request.
func TestRedirectsAreNotFollowed(t *testing.T) {
	t.Parallel()
	elsewhere := yibeidiaotest.NewServer()
	t.Cleanup(elsewhere.Close)
	elsewhere.AddRecord(readyRecord, yibeidiaotest.Ready)
	srv, c := newPair(t, yibeidiao.WithHTTPClient(&http.Client{Timeout: time.Second})) // a client that would follow
	srv.SetFault(yibeidiaotest.Fault{Redirect: elsewhere.URL + "/record/generate-temp-report?recordNo=" + readyRecord})
	rep, err := c.GenerateTempReport(t.Context(), readyRecord)
	var redirect *yibeidiao.RedirectError
	if !errors.As(err, &redirect) || yibeidiao.KindOf(err) != yibeidiao.KindMisconfigured || rep != nil {
		t.Fatalf("GenerateTempReport = %v, %v; want a redirect error", rep, err)
	}
	if want := strings.TrimPrefix(elsewhere.URL[:strings.Index(elsewhere.URL, "/open")], "http://"); redirect.Host != want || redirect.HTTPStatus != http.StatusFound {
		t.Errorf("redirect = %+v, want 302 to host %s", redirect, want)
	}
	if strings.Contains(err.Error(), "generate-temp-report") || strings.Contains(err.Error(), readyRecord) {
		t.Errorf("error %q names more than the target host", err)
	}
	if n := len(elsewhere.Calls()); n != 0 {
		t.Errorf("the redirect target saw %d requests, want none", n)
	}
	if n := len(srv.Calls()); n != 1 {
		t.Errorf("the vendor saw %d requests, want 1 (a redirect is not retried)", n)
	}
}

func TestRequestsCarryTheUserAgent(t *testing.T) {
	t.Parallel()
	var got string
	c, err := yibeidiao.New("K", "T", yibeidiao.WithUserAgent("tempreport/1.2.3"), yibeidiao.WithHTTPClient(handlerClient(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("User-Agent")
		http.Error(w, "no", http.StatusInternalServerError)
	}))))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = c.Balance(t.Context())
	if got != "tempreport/1.2.3" {
		t.Errorf("User-Agent = %q, want tempreport/1.2.3", got)
	}
}

func TestVendorMessagesAreCleaned(t *testing.T) {
	t.Parallel()
	srv, c := newPair(t)
	srv.SetFault(yibeidiaotest.Fault{Code: "1009", Msg: "\x1b[2J\x1b[32m✓ all good\x00 \u202eecnalab"})
	_, err := c.GenerateTempReport(t.Context(), readyRecord)
	apiErr, ok := errors.AsType[*yibeidiao.APIError](err)
	if !ok || strings.ContainsAny(apiErr.Message, "\x1b\x00\u202e") || !strings.Contains(apiErr.Message, "✓ all good") {
		t.Errorf("vendor message %q, want it without control or bidi characters", apiErr.Message)
	}
}

func TestBalance(t *testing.T) {
	t.Parallel()
	_, c := newPair(t)
	msg, err := c.Balance(t.Context())
	if err != nil || !strings.Contains(string(msg), "balance") {
		t.Errorf("Balance() = %s, %v; want the fake's balance object", msg, err)
	}
}

// TestGenerateTempReportFailures covers every failure path: the kind callers
// branch on, the sentinel of the code, how many requests it cost (retries),
// and that no error string leaks the token or a link.
func TestGenerateTempReportFailures(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		record    string
		fault     *yibeidiaotest.Fault
		client    []yibeidiao.Option
		badKey    bool
		badToken  bool
		kind      yibeidiao.Kind
		want      []error // the code's sentinel
		wantCalls int
		wantInMsg string
	}{
		{name: "unknown record", record: unknownRecord, kind: yibeidiao.KindRefused, wantCalls: 1, wantInMsg: "1001"},
		{name: "not in progress", record: notInProgress, kind: yibeidiao.KindRefused, wantCalls: 1, wantInMsg: "1002"},
		{name: "no finished item", record: noFinishedItem, kind: yibeidiao.KindRefused, wantCalls: 1, wantInMsg: "1003"},
		{name: "900 every time", fault: code("900"), kind: yibeidiao.KindTransient, want: []error{yibeidiao.ErrVendorInternal}, wantCalls: 3},
		{name: "901 wrong token", badToken: true, kind: yibeidiao.KindMisconfigured, want: []error{yibeidiao.ErrSignatureRejected}, wantCalls: 1},
		{name: "904", fault: code("904"), kind: yibeidiao.KindMisconfigured, want: []error{yibeidiao.ErrBadAuthHeaders}, wantCalls: 1},
		{name: "905 wrong key", badKey: true, kind: yibeidiao.KindMisconfigured, want: []error{yibeidiao.ErrUnknownEnterprise}, wantCalls: 1},
		{name: "906", fault: code("906"), kind: yibeidiao.KindMisconfigured, want: []error{yibeidiao.ErrEnterpriseDisabled}, wantCalls: 1},
		{name: "903 clock off", client: []yibeidiao.Option{yibeidiao.WithClock(func() time.Time { return time.Now().Add(-time.Hour) })},
			kind: yibeidiao.KindMisconfigured, want: []error{yibeidiao.ErrClockSkew}, wantCalls: 1},
		{name: "902 seq reused", client: []yibeidiao.Option{yibeidiao.WithSeqSource(func() string { return "SAME" })},
			fault: nil, record: "prime-902", kind: yibeidiao.KindTransient, want: []error{yibeidiao.ErrSeqReused}, wantCalls: 4},
		{name: "http 500", fault: raw(500, "<html>oops</html>"), kind: yibeidiao.KindTransient, wantCalls: 3},
		{name: "http 503 with envelope", fault: raw(503, `{"code":"900","msg":"busy"}`), kind: yibeidiao.KindTransient, want: []error{yibeidiao.ErrVendorInternal}, wantCalls: 3},
		{name: "http 404", fault: raw(404, "not found"), kind: yibeidiao.KindMisconfigured, wantCalls: 1},
		{name: "garbage body", fault: raw(200, "<html>proxy</html>"), kind: yibeidiao.KindBadResponse, want: []error{yibeidiao.ErrBadResponse}, wantCalls: 1},
		{name: "truncated body", fault: raw(200, `{"code":"000","msg":"http://res.example/x.pdf`), kind: yibeidiao.KindBadResponse, want: []error{yibeidiao.ErrBadResponse}, wantCalls: 1},
		{name: "empty body", fault: raw(200, ""), kind: yibeidiao.KindBadResponse, want: []error{yibeidiao.ErrBadResponse}, wantCalls: 1},
		{name: "huge body", fault: raw(200, `{"code":"000","msg":"`+strings.Repeat("a", 70<<10)+`"}`), kind: yibeidiao.KindBadResponse, want: []error{yibeidiao.ErrBadResponse}, wantCalls: 1},
		{name: "no code", fault: raw(200, `{"msg":"http://res.example/x.pdf"}`), kind: yibeidiao.KindBadResponse, want: []error{yibeidiao.ErrBadResponse}, wantCalls: 1},
		{name: "success without link", fault: &yibeidiaotest.Fault{Code: "000", Msg: "not a link"}, kind: yibeidiao.KindBadResponse, want: []error{yibeidiao.ErrBadResponse}, wantCalls: 1},
		{name: "success with object msg", fault: &yibeidiaotest.Fault{Code: "000", Msg: map[string]string{"url": "http://res.example/x.pdf"}}, kind: yibeidiao.KindBadResponse, want: []error{yibeidiao.ErrBadResponse}, wantCalls: 1},
		{name: "bad response signature", record: readyRecord, fault: &yibeidiaotest.Fault{BadSign: true}, kind: yibeidiao.KindBadSignature, want: []error{yibeidiao.ErrBadResponseSignature}, wantCalls: 1},
		{name: "unsigned success", fault: raw(200, `{"code":"000","key":"K","seq":"S","ts":"20190102145555","sign":"","msg":"http://res.example/x.pdf"}`),
			kind: yibeidiao.KindBadSignature, want: []error{yibeidiao.ErrBadResponseSignature}, wantCalls: 1},
		{name: "refusal mentioning a link", fault: &yibeidiaotest.Fault{Code: "1009", Msg: "see https://res.yibeidiao.com/secret.pdf?Signature=abc"}, kind: yibeidiao.KindRefused, wantCalls: 1, wantInMsg: "[link removed]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := newPair(t, tt.client...)
			if tt.badKey || tt.badToken {
				key, token := srv.Key, srv.Token
				if tt.badKey {
					key = "WRONG" + key
				}
				if tt.badToken {
					token = "WRONG" + token
				}
				var err error
				if c, err = yibeidiao.New(key, token, yibeidiao.WithBaseURL(srv.URL), yibeidiao.WithLinkHosts(srv.LinkHost)); err != nil {
					t.Fatal(err)
				}
			}
			if tt.record == "prime-902" { // use up the one seq this client has
				if _, err := c.GenerateTempReport(t.Context(), readyRecord); err != nil {
					t.Fatalf("first call: %v", err)
				}
				tt.record = readyRecord
			}
			if tt.fault != nil {
				srv.SetFault(*tt.fault)
			}
			record := cmp.Or(tt.record, readyRecord)
			rep, err := c.GenerateTempReport(t.Context(), record)
			if err == nil {
				t.Fatalf("GenerateTempReport(%s) = %v, want an error", record, rep)
			}
			if rep != nil {
				t.Errorf("GenerateTempReport returned a report with its error")
			}
			for _, want := range tt.want {
				if !errors.Is(err, want) {
					t.Errorf("error %q is not %q", err, want)
				}
			}
			if got := yibeidiao.KindOf(err); got != tt.kind {
				t.Errorf("KindOf(%q) = %q, want %q", err, got, tt.kind)
			}
			if got := len(srv.Calls()); got != tt.wantCalls {
				t.Errorf("vendor saw %d requests, want %d", got, tt.wantCalls)
			}
			assertClean(t, err, srv.Token)
			if tt.wantInMsg != "" && !strings.Contains(err.Error(), tt.wantInMsg) {
				t.Errorf("error %q does not mention %q", err, tt.wantInMsg)
			}
			if apiErr, ok := errors.AsType[*yibeidiao.APIError](err); ok && apiErr.Seq == "" {
				t.Errorf("APIError %q has no seq", err)
			}
		})
	}
}

func code(c string) *yibeidiaotest.Fault {
	return &yibeidiaotest.Fault{Code: c, Msg: "vendor says " + c}
}

func raw(status int, body string) *yibeidiaotest.Fault {
	return &yibeidiaotest.Fault{Status: status, Body: body}
}

// assertClean fails if an error string shows the token or any link.
func assertClean(t *testing.T, err error, token string) {
	t.Helper()
	if s := err.Error(); strings.Contains(s, token) || strings.Contains(s, "://") {
		t.Errorf("error string %q leaks the token or a link", s)
	}
}

func TestVerificationCanBeTurnedOff(t *testing.T) {
	t.Parallel()
	srv, c := newPair(t, yibeidiao.WithoutResponseVerification())
	srv.SetFault(yibeidiaotest.Fault{BadSign: true})
	if _, err := c.GenerateTempReport(t.Context(), readyRecord); err != nil {
		t.Errorf("with verification off, a badly signed success failed: %v", err)
	}
}

func TestTransientThenSuccessUsesFreshRequests(t *testing.T) {
	t.Parallel()
	srv, c := newPair(t)
	srv.Script(yibeidiaotest.Fault{Code: "900"}, yibeidiaotest.Fault{Status: 502, Body: "bad gateway"})
	rep, err := c.GenerateTempReport(t.Context(), readyRecord)
	if err != nil {
		t.Fatalf("GenerateTempReport after two transient failures: %v", err)
	}
	calls := srv.Calls()
	if len(calls) != 3 {
		t.Fatalf("vendor saw %d requests, want 3", len(calls))
	}
	seqs := map[string]bool{}
	for _, call := range calls {
		if !call.AuthOK {
			t.Errorf("retry %+v failed the vendor's auth checks", call)
		}
		seqs[call.Seq] = true
	}
	if len(seqs) != 3 || rep.Seq != calls[2].Seq {
		t.Errorf("seqs %v: want a new seq per attempt, the report carrying the last", seqs)
	}
}

func TestContextErrors(t *testing.T) {
	t.Parallel()
	srv, c := newPair(t)
	srv.SetFault(yibeidiaotest.Fault{Hang: true})

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err := c.GenerateTempReport(ctx, readyRecord)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hanging vendor, expired context: error %v, want context.DeadlineExceeded", err)
	}

	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	_, err = c.GenerateTempReport(ctx, readyRecord)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: error %v, want context.Canceled", err)
	}
}

func TestHTTPClientTimeoutIsATimeout(t *testing.T) {
	t.Parallel()
	srv, c := newPair(t, yibeidiao.WithHTTPClient(&http.Client{Timeout: 50 * time.Millisecond}))
	srv.SetFault(yibeidiaotest.Fault{Delay: time.Second})
	_, err := c.GenerateTempReport(t.Context(), readyRecord)
	if yibeidiao.KindOf(err) != yibeidiao.KindTimeout {
		t.Errorf("vendor slower than the HTTP timeout: error %v, want KindTimeout", err)
	}
	assertClean(t, err, srv.Token)
}

func TestConnectionRefusedIsTransient(t *testing.T) {
	t.Parallel()
	dead := httptest.NewServer(http.NotFoundHandler())
	base := dead.URL + "/open/company"
	dead.Close()
	c, err := yibeidiao.New("K", "T", yibeidiao.WithBaseURL(base))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GenerateTempReport(t.Context(), readyRecord)
	if yibeidiao.KindOf(err) != yibeidiao.KindTransient {
		t.Errorf("connection refused: error %v, want KindTransient", err)
	}
	if strings.Contains(err.Error(), readyRecord) {
		t.Errorf("error %q shows the request URL", err)
	}
}

// handlerClient sends requests straight to h, without a network, so that
// time inside a synctest bubble is fake and exact.
func handlerClient(h http.Handler) *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Result(), nil
	})}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestRateLimiterSpacesAttempts(t *testing.T) {
	t.Parallel()
	srv := yibeidiaotest.NewServer()
	defer srv.Close()
	srv.AddRecord(readyRecord, yibeidiaotest.Ready)
	synctest.Test(t, func(t *testing.T) {
		c, _ := yibeidiao.New(srv.Key, srv.Token, yibeidiao.WithBaseURL(srv.URL), yibeidiao.WithLinkHosts(srv.LinkHost),
			yibeidiao.WithHTTPClient(handlerClient(srv.Handler())),
			yibeidiao.WithRateLimiter(rate.NewLimiter(2, 1)))
		start := time.Now()
		for range 5 {
			if _, err := c.GenerateTempReport(t.Context(), readyRecord); err != nil {
				t.Fatal(err)
			}
		}
		if got, want := time.Since(start), 2*time.Second; got != want {
			t.Errorf("5 calls at 2/s with burst 1 took %v, want %v", got, want)
		}
	})
}

func TestRateLimiterFailsFastPastDeadline(t *testing.T) {
	t.Parallel()
	srv := yibeidiaotest.NewServer()
	defer srv.Close()
	srv.AddRecord(readyRecord, yibeidiaotest.Ready)
	synctest.Test(t, func(t *testing.T) {
		c, _ := yibeidiao.New(srv.Key, srv.Token, yibeidiao.WithBaseURL(srv.URL), yibeidiao.WithLinkHosts(srv.LinkHost),
			yibeidiao.WithHTTPClient(handlerClient(srv.Handler())),
			yibeidiao.WithRateLimiter(rate.NewLimiter(0.5, 1)))
		if _, err := c.GenerateTempReport(t.Context(), readyRecord); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		start := time.Now()
		_, err := c.GenerateTempReport(ctx, readyRecord)
		rlErr, ok := errors.AsType[*yibeidiao.RateLimitError](err)
		if !ok || !errors.Is(err, yibeidiao.ErrRateLimited) {
			t.Fatalf("error %v, want a RateLimitError", err)
		}
		if rlErr.RetryAfter != 2*time.Second || time.Since(start) != 0 {
			t.Errorf("RetryAfter %v after waiting %v, want 2s at once", rlErr.RetryAfter, time.Since(start))
		}
		// The cancelled reservation gave its turn back.
		time.Sleep(2 * time.Second)
		if _, err := c.GenerateTempReport(t.Context(), readyRecord); err != nil {
			t.Errorf("after the limit refilled: %v", err)
		}
		if n := len(srv.Calls()); n != 2 {
			t.Errorf("vendor saw %d calls, want 2 (none for the refused one)", n)
		}
	})
}

func TestRetryBackoffAndLimiterPerAttempt(t *testing.T) {
	t.Parallel()
	srv := yibeidiaotest.NewServer()
	defer srv.Close()
	srv.AddRecord(readyRecord, yibeidiaotest.Ready)
	synctest.Test(t, func(t *testing.T) {
		lim := rate.NewLimiter(rate.Inf, 0)
		c, _ := yibeidiao.New(srv.Key, srv.Token, yibeidiao.WithBaseURL(srv.URL), yibeidiao.WithLinkHosts(srv.LinkHost),
			yibeidiao.WithHTTPClient(handlerClient(srv.Handler())), yibeidiao.WithRateLimiter(lim))
		srv.Script(yibeidiaotest.Fault{Code: "900"}, yibeidiaotest.Fault{Code: "900"})
		start := time.Now()
		if _, err := c.GenerateTempReport(t.Context(), readyRecord); err != nil {
			t.Fatal(err)
		}
		var offsets []time.Duration
		for _, call := range srv.Calls() {
			offsets = append(offsets, call.Time.Sub(start))
		}
		want := []time.Duration{0, 250 * time.Millisecond, 750 * time.Millisecond}
		if len(offsets) != 3 || offsets[0] != want[0] || offsets[1] != want[1] || offsets[2] != want[2] {
			t.Errorf("attempts at %v, want %v", offsets, want)
		}

		// Each attempt takes a limiter turn: with 1/s and a burst of 1, a
		// call that needs three attempts takes two seconds of turns.
		lim.SetLimit(1)
		lim.SetBurst(1)
		srv.Script(yibeidiaotest.Fault{Code: "900"}, yibeidiaotest.Fault{Code: "900"})
		time.Sleep(time.Second)
		start = time.Now()
		if _, err := c.GenerateTempReport(t.Context(), readyRecord); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got != 2*time.Second {
			t.Errorf("three attempts at 1/s took %v, want 2s", got)
		}
	})
}

func TestRetryWaitHonoursContext(t *testing.T) {
	t.Parallel()
	srv := yibeidiaotest.NewServer()
	defer srv.Close()
	synctest.Test(t, func(t *testing.T) {
		c, _ := yibeidiao.New(srv.Key, srv.Token, yibeidiao.WithBaseURL(srv.URL), yibeidiao.WithLinkHosts(srv.LinkHost),
			yibeidiao.WithHTTPClient(handlerClient(srv.Handler())))
		srv.SetFault(yibeidiaotest.Fault{Code: "900"})
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		_, err := c.GenerateTempReport(ctx, readyRecord)
		if !errors.Is(err, context.DeadlineExceeded) || yibeidiao.KindOf(err) != yibeidiao.KindTransient {
			t.Errorf("error %v, want the deadline and the transient cause", err)
		}
		if n := len(srv.Calls()); n != 1 {
			t.Errorf("vendor saw %d calls, want 1", n)
		}
	})
}

func BenchmarkGenerateTempReport(b *testing.B) {
	srv := yibeidiaotest.NewServer()
	defer srv.Close()
	srv.AddRecord(readyRecord, yibeidiaotest.Ready)
	c, err := yibeidiao.New(srv.Key, srv.Token, yibeidiao.WithBaseURL(srv.URL), yibeidiao.WithLinkHosts(srv.LinkHost))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.GenerateTempReport(b.Context(), readyRecord); err != nil {
			b.Fatal(err)
		}
	}
}

// TestHugeResponseHeadersAreRefused: the default HTTP client reads at most
// 16 KiB of the vendor's headers, so a hostile server cannot make each call
// hold megabytes.
func TestHugeResponseHeadersAreRefused(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Padding", strings.Repeat("a", 64<<10))
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	c, err := yibeidiao.New("KEY", "TOKEN", yibeidiao.WithBaseURL(srv.URL), yibeidiao.WithTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := c.GenerateTempReport(t.Context(), readyRecord)
	if rep != nil || yibeidiao.KindOf(err) != yibeidiao.KindTransient || !strings.Contains(err.Error(), "exceeded") {
		t.Errorf("64 KiB of headers: %v, %v; want a transient error saying the headers exceeded the cap", rep, err)
	}
}
