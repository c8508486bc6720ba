package bot

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// slack-go handles Slack's disconnect message itself and never says why
// Slack sent it; only its debug output does, at the cost of re-encoding
// every frame. Yet one reason, link_disabled, means a person switched Socket
// Mode off and must switch it back on. So the bot reads the reason off the
// wire: server frames are not masked, and slack-go asks for no compression,
// so each JSON message crosses the connection as it is.

var (
	disconnectType   = regexp.MustCompile(`"type"\s*:\s*"disconnect"`)
	disconnectReason = regexp.MustCompile(`"reason"\s*:\s*"([a-z_]{1,40})"`)
)

// watchedConn reports each disconnect message that passes through it.
type watchedConn struct {
	net.Conn
	onDisconnect func(reason string)
	mu           sync.Mutex
	window       []byte // the end of what was read, so that a message split across reads is seen whole
}

func (c *watchedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.scan(p[:n])
	}
	return n, err
}

// disconnectWord is in every disconnect message; most reads lack it and
// skip the regular expressions.
var disconnectWord = []byte(`"disconnect"`)

func (c *watchedConn) scan(data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.window = append(c.window, data...)
	for bytes.Contains(c.window, disconnectWord) {
		loc := disconnectType.FindIndex(c.window)
		if loc == nil {
			break
		}
		reason, end, ok := nearestReason(c.window, loc)
		if !ok {
			return // its reason may come with the next read
		}
		c.onDisconnect(reason)
		c.window = c.window[end:]
	}
	// Keep only what a message starting near the end could need.
	if keep := 2 * messageReach; len(c.window) > keep {
		c.window = append(c.window[:0], c.window[len(c.window)-keep:]...)
	}
}

// messageReach is how far a disconnect message's reason can be from its
// type: the whole message is about 150 bytes, keys in any order.
const messageReach = 150

// nearestReason finds the reason closest to the type match at loc. ok is
// false while the bytes after the type could still bring one; after that a
// message without a reason reports "".
func nearestReason(window []byte, loc []int) (reason string, end int, ok bool) {
	lo, hi := max(0, loc[0]-messageReach), min(len(window), loc[1]+messageReach)
	best, bestDist := -1, messageReach+1
	matches := disconnectReason.FindAllSubmatchIndex(window[lo:hi], -1)
	for i, m := range matches {
		dist := max(loc[0]-(lo+m[1]), (lo+m[0])-loc[1])
		if dist < bestDist {
			best, bestDist = i, dist
		}
	}
	if best < 0 {
		if hi-loc[1] < messageReach {
			return "", 0, false
		}
		return "", loc[1], true
	}
	m := matches[best]
	return string(window[lo+m[2] : lo+m[3]]), max(loc[1], lo+m[1]), true
}

// socketDialer is slack-go's websocket dialer with the connection watched.
// Behind a proxy (HTTPS_PROXY and friends) it is slack-go's dialer as is,
// without the watch: gorilla would route the proxy hop through our TLS dial.
func socketDialer(onDisconnect func(string), tlsConfig *tls.Config) *websocket.Dialer {
	d := &websocket.Dialer{
		Proxy:            http.ProxyFromEnvironment,
		HandshakeTimeout: 45 * time.Second, // slack-go's defaults
		WriteBufferSize:  32 * 1024,        // Slack drops continuation frames; keep acks in one
	}
	probe, _ := http.NewRequest(http.MethodGet, "https://wss-primary.slack.com/", nil)
	if proxy, err := http.ProxyFromEnvironment(probe); err != nil || proxy != nil {
		return d
	}
	d.Proxy = nil
	var dialer net.Dialer
	d.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &watchedConn{Conn: conn, onDisconnect: onDisconnect}, nil
	}
	d.NetDialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		host, _, _ := net.SplitHostPort(addr)
		cfg := tlsConfig.Clone()
		if cfg == nil {
			cfg = &tls.Config{}
		}
		cfg.ServerName = host
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, err
		}
		return &watchedConn{Conn: tc, onDisconnect: onDisconnect}, nil
	}
	return d
}

// noteDisconnect logs why Slack closed the socket.
func (b *Bot) noteDisconnect(reason string) {
	b.setHealth(false, "disconnected by Slack: "+reason)
	if reason == "link_disabled" {
		b.log.Error("Slack disabled this app's socket (link_disabled): turn Socket Mode back on in the app's settings (Settings > Socket Mode)")
		return
	}
	b.log.Info("Slack is recycling the socket; reconnecting", "reason", reason)
}
