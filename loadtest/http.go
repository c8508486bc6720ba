package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hr-tools/tempreport/internal/fixture"
)

// httpOptions are the flags of -http, the HTTP request mode's measure.
var httpOptions struct {
	on       bool
	commands int
	clients  int
}

func init() {
	flag.BoolVar(&httpOptions.on, "http", false, "measure HTTP request mode instead: signed commands from a few clients to this bot in HTTP request mode, against loadtest/naivehttp")
	flag.IntVar(&httpOptions.commands, "http-commands", 200, "with -http, signed slash commands in all")
	flag.IntVar(&httpOptions.clients, "http-clients", 20, "with -http, clients sending them at once, each one after another on its own keep-alive connection")
}

// The HTTP subjects: the floor, and this bot in HTTP request mode.
const (
	naiveHTTP = "./loadtest/naivehttp"
	thisBot   = "."
)

// loadSecret signs the load's requests; it is no one's secret.
const loadSecret = "0123456789abcdef0123456789abcdef"

// httpFigures is what one run of an HTTP subject measured.
type httpFigures struct {
	acks     []time.Duration // sorted: from sending a request to reading its whole response
	answered int             // commands acked with 200 and a message, then answered on their response URL with a link
	peakRSS  int64           // KiB
}

// runHTTP measures HTTP request mode: httpOptions.commands signed slash
// commands from httpOptions.clients clients, against this bot in HTTP
// request mode and against the naive net/http handler, o.runs
// interleaved rounds, and compares the best ack p99 of each.
func runHTTP(o options, out io.Writer) error {
	dir, err := os.MkdirTemp("", "loadtest-http")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	subjects := []subject{
		{name: "naivehttp", path: filepath.Join(dir, "naivehttp")},
		{name: "tempreport", path: filepath.Join(dir, "tempreport")},
	}
	for _, s := range subjects {
		src := map[string]string{"naivehttp": naiveHTTP, "tempreport": thisBot}[s.name]
		if err := build(o, filepath.Join(o.project, src), s.path); err != nil {
			return err
		}
	}
	n, clients := httpOptions.commands, httpOptions.clients
	fmt.Fprintf(out, "HTTP request mode: %d signed slash commands from %d clients at once; vendor behind %.0f/s, burst %d; %d round(s), interleaved\n",
		n, clients, o.rps, o.burst, o.runs)
	fmt.Fprintln(out)
	fmt.Fprintf(out, "%-10s %-4s %28s %10s %9s\n", "subject", "run", "ack p50 / p99 / max", "answered", "peak RSS")
	results := map[string][]httpFigures{}
	var failures []error
	for r := range o.runs {
		order := slices.Clone(subjects)
		if r%2 == 1 {
			slices.Reverse(order)
		}
		for _, s := range order {
			f, err := measureHTTP(o, s, n, clients)
			if err != nil {
				return fmt.Errorf("%s run %d: %w", s.name, r+1, err)
			}
			results[s.name] = append(results[s.name], f)
			fmt.Fprintf(out, "%-10s %-4d %28s %10s %9s\n", s.name, r+1, triple(f.acks),
				fmt.Sprintf("%d/%d", f.answered, n), fmt.Sprintf("%.1f MB", float64(f.peakRSS)/1024))
			if f.answered != n {
				failures = append(failures, fmt.Errorf("%s run %d: %d of %d commands acked and answered", s.name, r+1, f.answered, n))
			}
		}
	}
	ackP99 := func(f httpFigures) float64 { return float64(pct(f.acks, 99)) }
	ours, floor := results["tempreport"], results["naivehttp"]
	bestOurs, bestFloor := bestOf(ours, ackP99), bestOf(floor, ackP99)
	ratio := bestOurs / bestFloor
	fmt.Fprintf(out, "\nack p99, best of %d: tempreport %v, naivehttp %v: %.2f× (target ≤ %.2f×: %s)\n",
		o.runs, time.Duration(bestOurs).Round(100*time.Microsecond), time.Duration(bestFloor).Round(100*time.Microsecond), ratio, o.ackRatio, verdict(o, ratio <= o.ackRatio))
	if o.strict && ratio > o.ackRatio {
		failures = append(failures, errors.New("a ratio target was missed"))
	}
	return errors.Join(failures...)
}

func bestOf(fs []httpFigures, of func(httpFigures) float64) float64 {
	b := of(fs[0])
	for _, f := range fs[1:] {
		b = min(b, of(f))
	}
	return b
}

// measureHTTP starts one subject against a fresh fake vendor and a
// response URL receiver, warms one connection per client, and sends the
// commands.
func measureHTTP(o options, s subject, n, clients int) (httpFigures, error) {
	var f httpFigures
	fakes := fixture.Start()
	defer fakes.Close()
	answers := newResponseURLs()
	defer answers.close()

	addr, err := freeAddr()
	if err != nil {
		return f, err
	}
	users := make([]string, n)
	for i := range users {
		users[i] = fmt.Sprintf("U%08d", i)
	}
	vars := fakes.Env(users...)
	delete(vars, "SLACK_APP_TOKEN") // HTTP request mode
	vars["SLACK_SIGNING_SECRET"] = loadSecret
	vars["SLACK_HTTP_ADDR"] = addr
	vars["SLACK_API_URL"] = answers.base + "/api/"
	vars["YIBEIDIAO_RPS"] = fmt.Sprintf("%g", o.rps)
	vars["YIBEIDIAO_BURST"] = fmt.Sprint(o.burst)
	vars["HEALTH_ADDR"] = "127.0.0.1:0"
	vars["LOG_LEVEL"] = "warn"
	vars["HOME"] = os.Getenv("HOME")
	env := make([]string, 0, len(vars))
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	budget := time.Duration(float64(n)/o.rps*float64(time.Second)) + 30*time.Second
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()

	cmd := exec.Command(s.path)
	cmd.Env = env
	stderr := &tail{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return f, err
	}
	defer func() { _ = cmd.Process.Kill() }()
	if err := waitListening(ctx, addr); err != nil {
		return f, fmt.Errorf("never listened: %w\n%s", err, stderr)
	}

	endpoint := "http://" + addr + "/slack/events"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}, Timeout: budget}
	// Each client's connection is opened, and its first command answered,
	// before the burst: Slack keeps connections to a busy app open.
	var warm sync.WaitGroup
	warmErrs := make([]error, clients)
	for c := range clients {
		warm.Go(func() {
			_, warmErrs[c] = sendCommand(ctx, client, endpoint, users[c], answers.url(fmt.Sprintf("warm%d", c)))
		})
	}
	warm.Wait()
	if err := errors.Join(warmErrs...); err != nil {
		return f, fmt.Errorf("warm-up: %w\n%s", err, stderr)
	}
	if err := answers.wait(ctx, clients); err != nil {
		return f, fmt.Errorf("warm-up answers: %w\n%s", err, stderr)
	}

	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // the harness's collector stays out of the burst
	acks := make([]time.Duration, n)
	acked := make([]bool, n)
	var burst sync.WaitGroup
	for c := range clients {
		burst.Go(func() {
			for i := c; i < n; i += clients {
				d, err := sendCommand(ctx, client, endpoint, users[i], answers.url(strconv.Itoa(i)))
				acks[i], acked[i] = d, err == nil
			}
		})
	}
	burst.Wait()
	waitErr := answers.wait(ctx, clients+n)

	if f.peakRSS, err = highWaterRSS(cmd.Process.Pid); err != nil {
		return f, err
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return f, err
	}
	if err := cmd.Wait(); err != nil {
		return f, fmt.Errorf("exit: %w\n%s", err, stderr)
	}
	for i := range n {
		if acked[i] && answers.linked(strconv.Itoa(i)) {
			f.answered++
		}
		if acked[i] {
			f.acks = append(f.acks, acks[i])
		}
	}
	if len(f.acks) == 0 {
		return f, fmt.Errorf("no command was acked: %v\n%s", waitErr, stderr)
	}
	slices.Sort(f.acks)
	return f, nil
}

// sendCommand sends one signed /tempreport command and reads its ack: 200
// with a JSON message. It returns the time from sending to the ack's last
// byte.
func sendCommand(ctx context.Context, client *http.Client, endpoint, user, responseURL string) (time.Duration, error) {
	body := url.Values{
		"token": {"deprecated"}, "team_id": {"T0FAKETEAM"}, "team_domain": {"fake"},
		"channel_id": {"C0FAKECHAN"}, "channel_name": {"hr"}, "user_id": {user}, "user_name": {"someone"},
		"command": {"/tempreport"}, "text": {fixture.ReadyRecord}, "api_app_id": {"A0FAKEAPP"},
		"is_enterprise_install": {"false"}, "response_url": {responseURL}, "trigger_id": {"1.2.3"},
	}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte(loadSecret))
	mac.Write([]byte("v0:" + ts + ":" + body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	begin := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	ack, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	took := time.Since(begin)
	switch {
	case err != nil:
		return 0, err
	case resp.StatusCode != http.StatusOK || !strings.Contains(string(ack), `"text"`):
		return 0, fmt.Errorf("ack %d %q, want 200 with a message", resp.StatusCode, ack)
	}
	return took, nil
}

// responseURLs is Slack's side of response URLs: it records what is
// posted to /response/{id}.
type responseURLs struct {
	srv   *http.Server
	base  string
	mu    sync.Mutex
	posts map[string][]string
	more  chan struct{} // closed and replaced on every post
}

func newResponseURLs() *responseURLs {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err) // loopback always listens
	}
	r := &responseURLs{base: "http://" + ln.Addr().String(), posts: map[string][]string{}, more: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /response/{id}", func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		r.mu.Lock()
		r.posts[req.PathValue("id")] = append(r.posts[req.PathValue("id")], string(body))
		close(r.more)
		r.more = make(chan struct{})
		r.mu.Unlock()
		_, _ = io.WriteString(w, `{"ok":true}`)
	})
	// The bot posts only to response URLs on the Web API's host, and
	// checks its token there (auth.test): this is that host.
	mux.HandleFunc("POST /api/", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"ok":true,"user_id":"U0FAKEBOT","team_id":"T0FAKETEAM"}`)
	})
	r.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r
}

func (r *responseURLs) url(id string) string { return r.base + "/response/" + id }

// wait returns once n response URLs were posted to.
func (r *responseURLs) wait(ctx context.Context, n int) error {
	for {
		r.mu.Lock()
		got, more := len(r.posts), r.more
		r.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-more:
		case <-ctx.Done():
			return fmt.Errorf("%d of %d response URLs posted to: %w", got, n, ctx.Err())
		}
	}
}

// linked reports whether id's response URL got exactly one post, with a
// report link.
func (r *responseURLs) linked(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.posts[id]
	return len(p) == 1 && strings.Contains(p[0], "/survey-result/")
}

func (r *responseURLs) close() { _ = r.srv.Close() }

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitListening returns once addr accepts connections.
func waitListening(ctx context.Context, addr string) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			return conn.Close()
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", addr, err)
		}
	}
}
