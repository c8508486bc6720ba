// Package redistest runs a real redis-server on 127.0.0.1 for integration
// tests and the load command: no persistence, a free port, killed on Close.
package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"
)

// RequireEnv names the variable that makes a missing redis-server a test
// failure rather than a skip; .ci/run sets it after installing the server.
const RequireEnv = "TEMPREPORT_REQUIRE_REDIS"

// Server is a running redis-server. Its methods are safe for concurrent use.
type Server struct {
	Addr string // 127.0.0.1:port

	path string
	mu   sync.Mutex
	cmd  *exec.Cmd
}

// Start starts redis-server on a free loopback port and waits until it
// answers. It fails if redis-server is not installed.
func Start(ctx context.Context) (*Server, error) {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("redistest: redis-server is not installed (Debian: apt-get install redis-server)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	s := &Server{Addr: addr, path: path}
	return s, s.start(ctx)
}

// ForTest starts a redis-server for t and stops it when t ends. Without
// redis-server it skips t, unless [RequireEnv] is set: then t fails.
func ForTest(t testing.TB) *Server {
	t.Helper()
	s, err := Start(t.Context())
	if err != nil {
		if os.Getenv(RequireEnv) != "" {
			t.Fatalf("%v, and %s is set", err, RequireEnv)
		}
		t.Skipf("%v; set %s to make this a failure", err, RequireEnv)
	}
	t.Cleanup(s.Close)
	return s
}

// URL is the server's redis:// URL.
func (s *Server) URL() string { return "redis://" + s.Addr + "/0" }

func (s *Server) start(ctx context.Context) error {
	_, port, _ := net.SplitHostPort(s.Addr)
	cmd := exec.Command(s.path, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--protected-mode", "no", "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("redistest: %w", err)
	}
	s.mu.Lock()
	s.cmd = cmd
	s.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if ping(s.Addr) == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.Kill()
			return fmt.Errorf("redistest: redis-server on %s did not answer within 10s", s.Addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill stops the server at once, as a crash would.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
}

// Restart starts the server again on the same port, empty.
func (s *Server) Restart(ctx context.Context) error {
	s.Kill()
	return s.start(ctx)
}

// Close stops the server.
func (s *Server) Close() { s.Kill() }

// ping sends PING in RESP and waits for +PONG.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	buf := make([]byte, 7)
	n, err := c.Read(buf)
	if err != nil {
		return err
	}
	if string(buf[:n]) != "+PONG\r\n" {
		return errors.New("redistest: unexpected answer " + strconv.Quote(string(buf[:n])))
	}
	return nil
}
