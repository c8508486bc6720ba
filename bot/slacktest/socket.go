package slacktest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// socket is one Socket Mode websocket. Writes are serialized: gorilla allows
// one writer at a time.
type socket struct {
	ticket    int // which apps.connections.open call made its URL
	ws        *websocket.Conn
	writeMu   sync.Mutex
	closeOnce sync.Once
	closed    chan struct{}
}

// write sends v as one JSON text frame.
func (c *socket) write(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.writeFrames([][]byte{data}, nil)
}

// writeFrames sends frames back to back; before, if not nil, runs just
// before each frame goes out, to time it exactly.
func (c *socket) writeFrames(frames [][]byte, before func()) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	for _, f := range frames {
		if before != nil {
			before()
		}
		_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if err := c.ws.WriteMessage(websocket.TextMessage, f); err != nil {
			return err
		}
	}
	return nil
}

func (c *socket) close() {
	c.closeOnce.Do(func() {
		close(c.closed)
		_ = c.ws.Close()
	})
}

func (s *Server) serveSocket(w http.ResponseWriter, r *http.Request) {
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	var ticket int
	_, _ = fmt.Sscanf(r.URL.Query().Get("ticket"), "%d-", &ticket)
	c := &socket{ticket: ticket, ws: ws, closed: make(chan struct{})}
	defer c.close()
	s.mu.Lock()
	open := len(s.conns) + 1
	s.mu.Unlock()
	hello := map[string]any{
		"type":            "hello",
		"num_connections": open,
		"debug_info":      map[string]any{"host": "slacktest", "approximate_connection_time": 18060},
		"connection_info": map[string]any{"app_id": "A0FAKEAPP"},
	}
	if c.write(hello) != nil {
		return
	}
	s.addConn(c)
	defer s.dropConn(c)

	go s.ping(c)
	for {
		var ack struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if err := ws.ReadJSON(&ack); err != nil {
			return
		}
		s.mu.Lock()
		e := s.envelopes[ack.EnvelopeID]
		s.mu.Unlock()
		if e != nil {
			s.applyViewAck(e, ack.Payload)
			e.recordAck(ack.Payload)
		}
	}
}

// addConn adds an open socket and wakes whoever waits for a change.
func (s *Server) addConn(c *socket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conns = append(s.conns, c)
	s.connsChanged()
}

// dropConn forgets a closed socket.
func (s *Server) dropConn(c *socket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conns = slices.DeleteFunc(s.conns, func(o *socket) bool { return o == c })
	s.connsChanged()
}

func (s *Server) connsChanged() {
	close(s.connChanged)
	s.connChanged = make(chan struct{})
}

// newest is the socket opened last, nil when none is open.
func (s *Server) newest() *socket {
	if len(s.conns) == 0 {
		return nil
	}
	return s.conns[len(s.conns)-1]
}

// SpreadEnvelopes makes envelopes go round the open sockets, one each in
// turn, as Slack spreads an app's envelopes over its replicas; a
// redelivery then goes to another socket than the first try when there is
// one. Without it, every envelope goes to the newest socket.
func (s *Server) SpreadEnvelopes() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.spread = true
}

// WaitSockets waits until n sockets are open at once.
func (s *Server) WaitSockets(ctx context.Context, n int) error {
	for {
		s.mu.Lock()
		open, changed := len(s.conns), s.connChanged
		s.mu.Unlock()
		if open >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("%d of %d sockets open: %w", open, n, ctx.Err())
		case <-s.done:
			return ErrClosed
		}
	}
}

// pick is the socket the next envelope goes to, waiting for one to open;
// not, if possible, avoid.
func (s *Server) pick(ctx context.Context, avoid *socket) (*socket, error) {
	if _, err := s.current(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.spread || len(s.conns) == 0 {
		if c := s.newest(); c != nil {
			return c, nil
		}
		return nil, ErrClosed
	}
	for range len(s.conns) {
		c := s.conns[s.turn%len(s.conns)]
		s.turn++
		if c != avoid || len(s.conns) == 1 {
			return c, nil
		}
	}
	return s.conns[0], nil
}

func (s *Server) ping(c *socket) {
	t := time.NewTicker(pingInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if c.ws.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(time.Second)) != nil {
				return
			}
		case <-c.closed:
			return
		}
	}
}

// current waits until a socket is open.
func (s *Server) current(ctx context.Context) (*socket, error) {
	return s.socketAfter(ctx, 0)
}

// socketAfter waits until a socket is open that was opened by a call of
// apps.connections.open after the first opened calls.
func (s *Server) socketAfter(ctx context.Context, opened int) (*socket, error) {
	for {
		s.mu.Lock()
		c, changed := s.newest(), s.connChanged
		s.mu.Unlock()
		if c != nil && c.ticket > opened {
			return c, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.done:
			return nil, ErrClosed
		}
	}
}

// WaitConnected waits until the bot has a socket open.
func (s *Server) WaitConnected(ctx context.Context) error {
	_, err := s.current(ctx)
	return err
}

// WaitReconnected waits until the bot has a socket open from a call of
// apps.connections.open made after the first opened calls: pass
// [Server.ConnectionsOpened] from before a disconnect.
func (s *Server) WaitReconnected(ctx context.Context, opened int) error {
	_, err := s.socketAfter(ctx, opened)
	return err
}

// Connected reports whether a socket is open now.
func (s *Server) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns) > 0
}

// Disconnect sends Slack's disconnect message ("warning",
// "refresh_requested" or "link_disabled") on the current socket, then
// closes it a moment later as Slack does.
func (s *Server) Disconnect(ctx context.Context, reason string) error {
	c, err := s.current(ctx)
	if err != nil {
		return err
	}
	err = c.write(map[string]any{"type": "disconnect", "reason": reason, "debug_info": map[string]any{"host": "slacktest"}})
	go func() {
		select {
		case <-time.After(time.Second):
		case <-c.closed:
		}
		c.close()
	}()
	return err
}

// DropConnection cuts the current socket without a close frame, like a
// network failure.
func (s *Server) DropConnection(ctx context.Context) error {
	c, err := s.current(ctx)
	if err != nil {
		return err
	}
	_ = c.ws.UnderlyingConn().Close()
	c.close()
	return nil
}
