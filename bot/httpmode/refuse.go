package httpmode

import (
	"net/http"
	"sync"
	"time"
)

// refuseTooLarge answers 413 and closes the connection: what is left of
// the body is never read.
func (t *Transport) refuseTooLarge(w http.ResponseWriter) {
	t.obs.RequestTooLarge()
	if n, ok := t.oversized.note(t.now()); ok {
		t.log.Warn("refused requests over 1 MiB with 413; Slack's own payloads stay below it",
			"refused", n)
	}
	w.Header().Set("Connection", "close")
	http.Error(w, "request body over 1 MiB", http.StatusRequestEntityTooLarge)
}

// refuseSignature answers 401 to a request whose signature does not hold.
// The log line says why and how many, never the body or the signature.
func (t *Transport) refuseSignature(w http.ResponseWriter, r *http.Request, why refusal, now time.Time) {
	t.obs.BadSignature()
	if n, ok := t.refusals.note(now); ok {
		t.log.Warn("refused requests whose Slack signature does not hold; if every request is refused, the signing secret is not this app's",
			"refused", n, "latest_reason", string(why), "latest_from", r.RemoteAddr)
	}
	w.Header().Set("Connection", "close") // a refused client keeps no connection
	http.Error(w, "invalid signature", http.StatusUnauthorized)
}

// refuseBusy answers 503 to a request that finds the budget of unverified
// bodies spent: someone is sending many large bodies at once, and Slack's
// own are small.
func (t *Transport) refuseBusy(w http.ResponseWriter) {
	t.obs.RequestTooLarge()
	if n, ok := t.oversized.note(t.now()); ok {
		t.log.Warn("refused requests with 503: the bodies not yet verified as Slack's fill their budget",
			"refused", n, "budget", unverifiedBudget)
	}
	w.Header().Set("Connection", "close")
	http.Error(w, "busy", http.StatusServiceUnavailable)
}

// flushLogs writes what the rate-limited lines have counted since their
// last line, at shutdown.
func (t *Transport) flushLogs() {
	if n := t.refusals.flush(); n > 0 {
		t.log.Warn("refused requests whose Slack signature does not hold, since the last line", "refused", n)
	}
	if n := t.oversized.flush(); n > 0 {
		t.log.Warn("refused requests over 1 MiB with 413, since the last line", "refused", n)
	}
}

// rateLog lets a repeated line out at most once per every, with how many
// times it happened since the last one. Its zero value with every set is
// ready; it is safe for concurrent use.
type rateLog struct {
	every time.Duration

	mu     sync.Mutex
	count  int
	logged time.Time
}

// note counts one occurrence and reports whether to log now, with the
// count the line carries.
func (l *rateLog) note(now time.Time) (n int, log bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.count++
	if !l.logged.IsZero() && now.Sub(l.logged) < l.every {
		return 0, false
	}
	n, l.count, l.logged = l.count, 0, now
	return n, true
}

// flush returns and resets the count not yet logged.
func (l *rateLog) flush() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.count
	l.count = 0
	return n
}
