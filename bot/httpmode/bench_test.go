package httpmode

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkCommand is the transport's own cost of one signed slash
// command, without the network: read, signature, form, the hand-over to
// the handler and back, the response. Allocations per command are what a
// burst's garbage collector pays for.
func BenchmarkCommand(b *testing.B) {
	ack := json.RawMessage(`{"text":"Working on it…"}`)
	h := newFakeHandler(func(delivered) json.RawMessage { return ack })
	h.got = make(chan delivered, 1) // drained below
	now := time.Unix(1_700_000_000, 0)
	tr, err := New(Config{SigningSecret: testSecret, Clock: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	tr.h = h
	ts := strconv.FormatInt(now.Unix(), 10)
	signature := sign([]byte(testSecret), ts, []byte(commandForm))
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, Path, strings.NewReader(commandForm))
		req.Header.Set("Content-Type", form)
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", signature)
		w := httptest.NewRecorder()
		tr.serveRequest(w, req)
		<-h.got
		if err := <-h.acks; err != nil || w.Code != http.StatusOK {
			b.Fatalf("answered %d, Ack = %v", w.Code, err)
		}
	}
}
