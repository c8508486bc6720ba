package bot_test

import (
	"bufio"
	"context"
	"flag"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/hr-tools/tempreport/bot/slacktest"
	"github.com/hr-tools/tempreport/yibeidiao"
	"github.com/hr-tools/tempreport/yibeidiao/yibeidiaotest"
)

var (
	loadN     = flag.Int("load.n", 500, "simultaneous commands in TestLoad (-short caps it at 100)")
	loadRPS   = flag.Float64("load.rps", 100, "vendor rate limit in TestLoad, requests per second")
	loadBurst = flag.Int("load.burst", 20, "vendor burst in TestLoad")
	loadDelay = flag.Duration("load.delay", 200*time.Millisecond, "how long the fake vendor takes to answer in TestLoad")
)

// TestLoad fires many simultaneous /tempreport commands from different
// people over the real websocket, with a slow vendor behind a rate limit,
// and reports what a person and the vendor would see. It is not parallel,
// so its goroutine and memory figures are its own.
//
//	go test ./bot -run TestLoad -v                 # 500 commands
//	go test ./bot -run TestLoad -v -load.n=2000    # more
func TestLoad(t *testing.T) {
	n := *loadN
	if testing.Short() {
		n = min(n, 100)
	}
	rps, burst := *loadRPS, *loadBurst
	users, cmds := slacktest.Crowd(n, readyRecord)
	transport := &http.Transport{MaxIdleConnsPerHost: 10}
	defer transport.CloseIdleConnections()
	h := start(t, func(s *setup) {
		s.cfg.AllowedUsers = users
		s.cfg.HTTPClient = &http.Client{Transport: transport, Timeout: 10 * time.Second}
		s.vendorOpts = append(s.vendorOpts, yibeidiao.WithHTTPClient(&http.Client{Transport: transport, Timeout: 10 * time.Second}))
		s.rps, s.burst = rate.Limit(rps), burst
		s.cfg.CommandTimeout = time.Duration(float64(n)/rps*float64(time.Second)) + 30*time.Second
	})
	h.vendor.SetFault(yibeidiaotest.Fault{Delay: *loadDelay})

	// A warm-up command opens the connections a steady state keeps.
	warm, _ := h.command(users[0], readyRecord)
	h.answer(warm)
	settle()
	baseline := runtime.NumGoroutine()
	calls0 := len(h.vendor.Calls())
	heap := sampleHeap()

	begin := time.Now()
	envs, err := h.slack.SendCommands(h.ctxFor(time.Minute), cmds)
	if err != nil {
		t.Fatal(err)
	}
	var acks, answers []time.Duration
	links := 0
	for _, env := range envs {
		if _, err := env.WaitAck(h.ctxFor(time.Minute)); err != nil {
			t.Fatal(err)
		}
		posts, err := env.WaitPosts(h.ctxFor(2*time.Minute), 1)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(posts[0].Message.Raw(), "/survey-result/") {
			links++
		}
		acks = append(acks, env.AckLatency())
		answers = append(answers, posts[0].At.Sub(env.SentAt))
	}
	drained := time.Since(begin)
	peakHeap := heap()

	// Goroutines return to where they were before the burst.
	transport.CloseIdleConnections()
	after := runtime.NumGoroutine()
	for deadline := time.Now().Add(5 * time.Second); after > baseline && time.Now().Before(deadline); after = runtime.NumGoroutine() {
		settle()
		transport.CloseIdleConnections()
	}

	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	answered := 0
	for _, env := range envs {
		if env.Acks() == 1 && len(env.Posts()) == 1 {
			answered++
		}
	}
	calls := h.vendor.Calls()[calls0:]
	busiest := mostInOneSecond(calls)
	slices.Sort(acks)
	slices.Sort(answers)
	t.Logf("load: %d simultaneous commands from %d people; vendor answers in %v, limit %.0f/s burst %d; GOMAXPROCS %d, race detector %v",
		n, n, *loadDelay, rps, burst, runtime.GOMAXPROCS(0), raceEnabled)
	t.Logf("  ack latency:        p50 %v  p99 %v  max %v", pct(acks, 50), pct(acks, 99), acks[n-1])
	t.Logf("  time to answer:     p50 %v  p99 %v  max %v (all drained in %v)", pct(answers, 50), pct(answers, 99), answers[n-1], drained.Round(time.Millisecond))
	t.Logf("  answered once:      %d of %d (%d with a link)", answered, n, links)
	t.Logf("  vendor calls:       %d; busiest second %d, limit allows %d", len(calls), busiest, int(rps)+burst)
	t.Logf("  peak live heap:   %.1f MiB; peak RSS of the test process %s", float64(peakHeap)/(1<<20), peakRSS())
	t.Logf("  goroutines:         %d before the burst, %d after it drained", baseline, after)

	if answered != n || links != n {
		t.Errorf("%d of %d commands got exactly one ack and one answer, %d a link", answered, n, links)
	}
	if len(calls) != n {
		t.Errorf("vendor saw %d calls, want %d", len(calls), n)
	}
	// The limiter grants turns exactly; a timer that fires a little late
	// under a saturated CPU can push a call into the next second. Allow
	// 100ms of such delay.
	if allowed := burst + int(rps*1.1); busiest > allowed {
		t.Errorf("vendor saw %d calls in one second, the limit allows %d (with 100ms of timer jitter)", busiest, allowed)
	}
	if after > baseline {
		t.Errorf("goroutines: %d after the burst, %d before", after, baseline)
	}
	// The figures above are the measurement; this only guards against a
	// change that makes acks wait for something (a vendor call takes 200ms).
	guard := 500 * time.Millisecond
	if raceEnabled {
		guard = 2 * time.Second
	}
	if p99 := pct(acks, 99); p99 > guard {
		t.Errorf("ack p99 %v: acks are waiting for something", p99)
	}
}

func pct(sorted []time.Duration, p int) time.Duration {
	return sorted[(len(sorted)-1)*p/100].Round(100 * time.Microsecond)
}

// settle lets finished goroutines exit.
func settle() {
	runtime.GC()
	time.Sleep(50 * time.Millisecond)
}

// sampleHeap samples the live heap every 10ms until the returned func is
// called, which returns the peak. runtime/metrics reads without stopping the
// world, unlike runtime.ReadMemStats, so sampling does not skew latencies.
func sampleHeap() func() uint64 {
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-t.C:
			case <-stop:
				return
			}
		}
	}()
	return func() uint64 {
		close(stop)
		<-done
		return peak.Load()
	}
}

// peakRSS reads the process's high-water resident set size (Linux).
func peakRSS() string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func (h *harness) ctxFor(d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	h.t.Cleanup(cancel)
	return ctx
}
