package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/hr-tools/tempreport/bot/slacktest"
	"github.com/hr-tools/tempreport/internal/testkit"
)

// holder is one client holding connections to an ops port the way an
// attacker on the cluster network could: it returns once every connection
// is open, and holds them until ctx ends; wait waits for that.
type holder func(ctx context.Context, t *testing.T, addr string) (wait func())

// hold opens n connections from local (nil: the kernel's choice) and does
// with each what first says, then holds it open until ctx ends; with redial,
// a connection the bot closes is dialled again at once.
func hold(n int, local net.IP, redial bool, first func(net.Conn) error) holder {
	return func(ctx context.Context, t *testing.T, addr string) func() {
		d := net.Dialer{Timeout: 10 * time.Second}
		if local != nil {
			d.LocalAddr = &net.TCPAddr{IP: local}
		}
		var wg sync.WaitGroup
		for range n {
			conn, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				t.Errorf("dial: %v", err)
				break
			}
			wg.Go(func() {
				for {
					stop := context.AfterFunc(ctx, func() { conn.Close() })
					if first(conn) == nil {
						_, _ = io.Copy(io.Discard, conn) // until the bot or ctx closes it
					}
					stop()
					conn.Close()
					if !redial || ctx.Err() != nil {
						return
					}
					if conn, err = d.DialContext(ctx, "tcp", addr); err != nil {
						return
					}
				}
			})
		}
		return wg.Wait
	}
}

// scrapers are n Prometheus-like clients on one address, each scraping
// /metrics again as soon as its last scrape ends, until ctx ends.
func scrapers(n int) holder {
	return func(ctx context.Context, t *testing.T, addr string) func() {
		var wg sync.WaitGroup
		started := make(chan struct{}, n)
		for range n {
			wg.Go(func() {
				client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
				defer client.CloseIdleConnections()
				for i := 0; ctx.Err() == nil; i++ {
					req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
					if resp, err := client.Do(req); err == nil {
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
					if i == 0 {
						started <- struct{}{}
					}
				}
			})
		}
		for range n {
			select {
			case <-started:
			case <-ctx.Done():
			}
		}
		return wg.Wait
	}
}

func silent(net.Conn) error { return nil }

// keepAlive sends one request and reads its answer: the connection then
// idles as a keep-alive connection does.
func keepAlive(conn net.Conn) error {
	if _, err := io.WriteString(conn, "GET /livez HTTP/1.1\r\nHost: ops\r\n\r\n"); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

// slowHeaders starts a request and never finishes its headers.
func slowHeaders(conn net.Conn) error {
	_, err := io.WriteString(conn, "GET /livez HTTP/1.1\r\nHost: ops\r\n")
	return err
}

// probe is a kubelet probe: a new connection for each. Whether it is
// answered is what a test asserts; how fast is the load command's figure
// (go run ./loadtest -probes), so its timeout is only a guard against a
// hang.
func probe(url string) (time.Duration, error) {
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	begin := time.Now()
	resp, err := client.Get(url)
	if err != nil {
		return time.Since(begin), err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return time.Since(begin), fmt.Errorf("http %d", resp.StatusCode)
	}
	return time.Since(begin), nil
}

// TestProbesAnswerWhileTheOpsPortsAreHeld: whatever one client does with
// the probe port — hold 200 silent connections, 200 kept alive after a
// request, 200 that never finish their headers (all from the prober's own
// address), or redial, from other addresses, every connection the bot
// closes — or with the metrics port — 50 scrapers at once, or 40 redialers,
// from the prober's own address — every /livez and /healthz probe, made
// as the kubelet does, is answered, none is closed unanswered, and the
// bot's file descriptors stay bounded. The real program runs in a child
// process. (A client redialling on the probe port from the prober's own
// address does close some probes' connections: the load command measures
// that, and the README says what holds.)
func TestProbesAnswerWhileTheOpsPortsAreHeld(t *testing.T) {
	t.Parallel()
	fakeSlack, _, e := fakesFor(t)
	e["HEALTH_ADDR"], e["METRICS_ADDR"] = testkit.DeadAddr(t), testkit.DeadAddr(t)
	e["LOG_LEVEL"] = "info"
	c := startChild(t, e)
	ctx := t.Context()
	if err := fakeSlack.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"HEALTH_ADDR", "METRICS_ADDR"} {
		if err := c.logs.WaitFor(ctx, `"msg":"ops endpoints listening","variable":"`+name+`"`); err != nil {
			t.Fatal(err)
		}
	}
	before := openFiles(t, c.cmd.Process.Pid)
	other := net.IPv4(127, 0, 0, 2) // another pod on the cluster network (Linux routes all of 127/8 to loopback)
	for _, tt := range []struct {
		name string
		port string // the variable naming the port held
		hold holder
	}{
		{"200 silent connections", "HEALTH_ADDR", hold(200, nil, false, silent)},
		{"200 connections kept alive after a request", "HEALTH_ADDR", hold(200, nil, false, keepAlive)},
		{"200 connections that never finish their headers", "HEALTH_ADDR", hold(200, nil, false, slowHeaders)},
		{"40 silent connections redialled when closed, from another address", "HEALTH_ADDR", hold(40, other, true, silent)},
		{"200 silent connections redialled when closed, from 25 other addresses", "HEALTH_ADDR", func(ctx context.Context, t *testing.T, addr string) func() {
			var waits []func()
			for i := range 25 {
				waits = append(waits, hold(8, net.IPv4(127, 0, 1, byte(10+i)), true, silent)(ctx, t, addr))
			}
			return func() {
				for _, w := range waits {
					w()
				}
			}
		}},
		{"50 scrapers at once", "METRICS_ADDR", scrapers(50)},
		{"40 connections redialled when closed, from the prober's address", "METRICS_ADDR", hold(40, nil, true, silent)},
		{"40 half-sent requests redialled when closed, from the prober's address", "METRICS_ADDR", hold(40, nil, true, slowHeaders)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			holdCtx, release := context.WithCancel(ctx)
			wait := tt.hold(holdCtx, t, e[tt.port])
			defer func() { release(); wait() }()

			var took []time.Duration
			failed, most := 0, 0
			for range 10 {
				for _, path := range []string{"/livez", "/healthz"} {
					d, err := probe("http://" + e["HEALTH_ADDR"] + path)
					took = append(took, d)
					if err != nil {
						failed++
						if failed <= 3 {
							t.Errorf("GET %s: %v after %v", path, err, d.Round(time.Millisecond))
						}
					}
				}
				most = max(most, openFiles(t, c.cmd.Process.Pid))
				time.Sleep(100 * time.Millisecond) // the kubelet's pace, shortened: the holders go on meanwhile
			}
			slices.Sort(took)
			t.Logf("%d of %d probes failed; latency median %v, max %v (information); file descriptors %d before, at most %d while held",
				failed, len(took), took[len(took)/2].Round(time.Microsecond), took[len(took)-1].Round(time.Microsecond), before, most)
			if failed > 0 {
				t.Errorf("%d of %d probes were not answered", failed, len(took))
			}
			if most > before+2*maxOpsConns+4 {
				t.Errorf("the held connections took %d of the bot's file descriptors (%d before), want at most %d",
					most-before, before, 2*maxOpsConns+4)
			}
		})
	}
	if strings.Contains(c.logs.String(), `"level":"ERROR"`) {
		t.Errorf("the bot logged an error:\n%s", c.logs.String())
	}
	// The operator is told which port, once a minute at most, not once for
	// each of the thousands of connections closed.
	for _, name := range []string{"HEALTH_ADDR", "METRICS_ADDR"} {
		if n := strings.Count(c.logs.String(), "idle connections closed to make room for new ones; something other than probes and a scraper is holding connections to "+name); n < 1 || n > 3 {
			t.Errorf("the bot logged the closed connections of %s %d times, want once a minute", name, n)
		}
	}
}

func TestHostKey(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 4}, "10.1.2.3"},
		{&net.TCPAddr{IP: net.ParseIP("::ffff:10.1.2.3"), Port: 4}, "10.1.2.3"},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:3:4:5:6"), Port: 4}, "2001:db8:1:2::/64"},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:ffff::1"), Port: 5}, "2001:db8:1:2::/64"},
	} {
		if got := hostKey(tt.addr); got != tt.want {
			t.Errorf("hostKey(%v) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}

// TestDeployKitMetricsAreServed: every series the alert rules and the
// dashboard in deploy/ use (deploy/testdata/metrics-used.txt, kept in step
// with them by the deploy module's own tests) is on a real scrape of the
// running program, with REDIS_URL set and one command served.
func TestDeployKitMetricsAreServed(t *testing.T) {
	t.Parallel()
	used, err := os.ReadFile("deploy/testdata/metrics-used.txt")
	if err != nil {
		t.Fatal(err)
	}
	fakeSlack, _, e := fakesFor(t)
	e["METRICS_ADDR"] = testkit.DeadAddr(t)
	e["REDIS_URL"] = "redis://" + miniredis.RunT(t).Addr() + "/0"
	p := startProgram(t, e, fakeSlack)
	defer p.stop()
	if n := answers(t, p.wait, fakeSlack, []slacktest.Command{{UserID: "U0ALLOWED", Text: readyRecord}}); n != 1 {
		t.Fatalf("the command got %d links, want 1", n)
	}
	resp, err := http.Get("http://" + e["METRICS_ADDR"] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	served := map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") {
			name, _, _ := strings.Cut(line, " ")
			name, _, _ = strings.Cut(name, "{")
			served[name] = true
		}
	}
	if len(served) < 20 {
		t.Fatalf("the scrape has %d series names: %v", len(served), sc.Err())
	}
	for name := range strings.FieldsSeq(string(used)) {
		if !served[name] {
			t.Errorf("deploy/'s rules or dashboard use %s, which the bot does not serve", name)
		}
	}
}
