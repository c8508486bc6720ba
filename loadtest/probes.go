package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hr-tools/tempreport/internal/fixture"
)

// probeScenario is one way of crowding the ops ports while the kubelet
// probes /livez.
type probeScenario struct {
	name string
	// onMetrics: the crowd is on the metrics port (the probe port when the
	// binary serves /metrics there).
	onMetrics bool
	// held says whether the README promises that probes hold (at least
	// minAnswered of them answered); the others are measured and reported.
	held bool
	run  func(ctx context.Context, addr string)
}

// minAnswered is the promise for the scenarios that hold: a liveness
// probe with failureThreshold 3 restarts the pod only after three
// failures in a row, and one in thirty is far from that.
const minAnswered = 29

// runProbes is -probes: it starts the bot with its probe port (HEALTH_ADDR)
// and its metrics port (METRICS_ADDR) on 127.0.0.1, crowds them in each
// scenario, and counts how many of o.probes one-second /livez probes, made
// as the kubelet makes them (a new connection each), are answered. It
// prints figures only: a loaded machine slows probes as it slows
// everything, so nothing here fails the run but a bot that does not start.
func runProbes(o options, bin string, out io.Writer) error {
	fakes := fixture.Start()
	defer fakes.Close()
	healthAddr, metricsAddr := mustFreeAddr(), mustFreeAddr()
	vars := fakes.Env("U0PROBE")
	vars["HEALTH_ADDR"], vars["METRICS_ADDR"], vars["LOG_LEVEL"] = healthAddr, metricsAddr, "warn"
	cmd := exec.Command(bin)
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	logs := &tail{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := fakes.Slack.WaitConnected(ctx); err != nil {
		return fmt.Errorf("the bot never connected: %w\n%s", err, logs)
	}
	if err := waitServing(ctx, "http://"+healthAddr+"/livez"); err != nil {
		return fmt.Errorf("the probe port: %w\n%s", err, logs)
	}
	layout := "probes on HEALTH_ADDR, /metrics on METRICS_ADDR"
	if waitServing(ctx, "http://"+metricsAddr+"/metrics") != nil {
		metricsAddr = healthAddr // a build from before the split
		layout = "one ops port: /metrics on HEALTH_ADDR beside the probes"
	}
	other := net.IPv4(127, 0, 0, 2) // another pod (Linux routes all of 127/8 to loopback)
	scenarios := []probeScenario{
		{"nothing else", false, true, func(ctx context.Context, _ string) { <-ctx.Done() }},
		{"50 concurrent /metrics scrapes", true, true, scrape(50)},
		{"40 redialers from the prober's address, metrics port", true, true, redial(40, nil, false)},
		{"40 redialers from another address, probe port", false, true, redial(40, other, false)},
		{"40 redialers from the prober's address, probe port", false, false, redial(40, nil, false)},
		{"40 half-sent requests redialled from the prober's address, probe port", false, false, redial(40, nil, true)},
	}
	fmt.Fprintf(out, "%s; %d /livez probes a scenario, each a new connection with a 1 s timeout, one every %v\n\n", layout, o.probes, o.probeEvery)
	fmt.Fprintf(out, "%-72s %9s %14s %22s\n", "while", "answered", "most in a row", "latency p50 / max")
	for _, s := range scenarios {
		addr := healthAddr
		if s.onMetrics {
			addr = metricsAddr
		}
		crowdCtx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Go(func() { s.run(crowdCtx, addr) })
		time.Sleep(300 * time.Millisecond) // the crowd has dialled
		answered, streak, worst, took := 0, 0, 0, []time.Duration{}
		for range o.probes {
			d, err := probeOnce("http://" + healthAddr + "/livez")
			took = append(took, d)
			if err == nil {
				answered, streak = answered+1, 0
			} else {
				streak++
				worst = max(worst, streak)
			}
			time.Sleep(o.probeEvery)
		}
		stop()
		wg.Wait()
		slices.Sort(took)
		note := ""
		if s.held {
			note = fmt.Sprintf("   (promise: ≥%d)", minAnswered)
		}
		fmt.Fprintf(out, "%-72s %9s %14s %22s%s\n", s.name, fmt.Sprintf("%d/%d", answered, o.probes), fmt.Sprintf("%d failed", worst),
			took[len(took)/2].Round(time.Microsecond).String()+" / "+took[len(took)-1].Round(time.Millisecond).String(), note)
	}
	fmt.Fprintln(out, "\nThe last two are a client already on the pod or its node (the prober's own address), on the probe port itself: measured, not promised.")
	return nil
}

// mustFreeAddr is freeAddr, on loopback, which always listens.
func mustFreeAddr() string {
	addr, err := freeAddr()
	if err != nil {
		panic(err)
	}
	return addr
}

// waitServing waits until url answers 200.
func waitServing(ctx context.Context, url string) error {
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = errors.New(resp.Status)
		}
		if errors.Is(err, syscall.ECONNREFUSED) && !strings.Contains(url, "/livez") {
			return err // nothing will listen there
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", url, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// probeOnce is one kubelet probe: a new connection, one second to answer.
func probeOnce(url string) (time.Duration, error) {
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	begin := time.Now()
	resp, err := client.Get(url)
	if err != nil {
		return time.Since(begin), err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return time.Since(begin), errors.New(resp.Status)
	}
	return time.Since(begin), nil
}

// scrape is n Prometheus-like clients on the prober's address, each
// scraping /metrics again as soon as its last scrape ends.
func scrape(n int) func(ctx context.Context, addr string) {
	return func(ctx context.Context, addr string) {
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
				defer client.CloseIdleConnections()
				for ctx.Err() == nil {
					req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
					if resp, err := client.Do(req); err == nil {
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
				}
			})
		}
		wg.Wait()
	}
}

// redial is n clients from local (nil: the kernel's choice, 127.0.0.1)
// that each hold a connection, silent or with half a request, and dial
// again as soon as the bot closes it.
func redial(n int, local net.IP, halfRequest bool) func(ctx context.Context, addr string) {
	return func(ctx context.Context, addr string) {
		d := net.Dialer{Timeout: time.Second}
		if local != nil {
			d.LocalAddr = &net.TCPAddr{IP: local}
		}
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				for ctx.Err() == nil {
					conn, err := d.DialContext(ctx, "tcp", addr)
					if err != nil {
						continue
					}
					stop := context.AfterFunc(ctx, func() { conn.Close() })
					if halfRequest {
						_, _ = io.WriteString(conn, "GET /livez HTTP/1.1\r\nHost: ops\r\n")
					}
					_, _ = io.Copy(io.Discard, bufio.NewReader(conn)) // until the bot closes it
					stop()
					conn.Close()
				}
			})
		}
		wg.Wait()
	}
}

// buildProbeSubject builds the bot for -probes into a temporary folder.
func buildProbeSubject(o options) (bin string, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "loadtest-probes")
	if err != nil {
		return "", nil, err
	}
	bin = filepath.Join(dir, "tempreport")
	if err := build(o, o.project, bin); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return bin, func() { os.RemoveAll(dir) }, nil
}
