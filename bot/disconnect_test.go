package bot

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"
)

func TestWatchedConnFindsDisconnectReasons(t *testing.T) {
	t.Parallel()
	stream := `{"envelope_id":"1","type":"slash_commands","payload":{"text":"\"type\":\"disconnect\",\"reason\":\"fake\""}}` +
		strings.Repeat("x", 2000) +
		`{"debug_info":{"host":"h"},"reason":"refresh_requested","type":"disconnect"}` +
		`{"type":"disconnect","reason":"link_disabled","debug_info":{"host":"h"}}`
	for _, chunk := range []int{1, 7, 64, 4096} {
		client, server := net.Pipe()
		var mu sync.Mutex
		var reasons []string
		c := &watchedConn{Conn: client, onDisconnect: func(r string) { mu.Lock(); reasons = append(reasons, r); mu.Unlock() }}
		go func() {
			for s := stream; s != ""; {
				n := min(chunk, len(s))
				_, _ = server.Write([]byte(s[:n]))
				s = s[n:]
			}
			server.Close()
		}()
		if _, err := io.Copy(io.Discard, c); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(reasons, ","); got != "refresh_requested,link_disabled" {
			t.Errorf("reads of %d bytes: reasons %q, want refresh_requested,link_disabled (and nothing from user text)", chunk, got)
		}
	}
}

// TestSocketDialerOverTLS dials a wss:// socket as production does and
// sees the reason through TLS.
func TestSocketDialerOverTLS(t *testing.T) {
	t.Parallel()
	upgrader := websocket.Upgrader{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"disconnect","reason":"link_disabled","debug_info":{"host":"tls"}}`))
		_, _, _ = ws.ReadMessage()
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusted dial below makes it complain
	srv.StartTLS()
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())

	got := make(chan string, 1)
	d := socketDialer(func(r string) { got <- r }, &tls.Config{RootCAs: roots})
	conn, _, err := d.DialContext(t.Context(), "wss"+strings.TrimPrefix(srv.URL, "https")+"/link", nil)
	if err != nil {
		t.Fatalf("dial over TLS: %v", err)
	}
	defer conn.Close()
	if _, msg, err := conn.ReadMessage(); err != nil || !strings.Contains(string(msg), "link_disabled") {
		t.Fatalf("read %q, %v", msg, err)
	}
	if r := <-got; r != "link_disabled" {
		t.Errorf("reason %q, want link_disabled", r)
	}

	// A server whose certificate is not trusted is refused, as by gorilla's own dialer.
	bare := socketDialer(func(string) {}, nil)
	if _, _, err := bare.DialContext(t.Context(), "wss"+strings.TrimPrefix(srv.URL, "https")+"/link", nil); err == nil {
		t.Error("dialed a server with an untrusted certificate")
	}
}
