package main

import (
	"fmt"
	"net/http"
	"time"

	vm "github.com/VictoriaMetrics/metrics"

	"github.com/hr-tools/tempreport/bot"
	"github.com/hr-tools/tempreport/replicas"
)

// metrics are the program's Prometheus metrics, served at /metrics in the
// Prometheus text format, with the Go runtime's and the process's own
// (go_*, process_*). No label carries a user, channel, record number or URL.
// It is the bot's and the vendor client's Observer.
//
// It uses VictoriaMetrics/metrics rather than client_golang: the same text
// format for about a quarter of the resident memory (client_golang with its
// Go and process collectors costs ~3.6 MB in an otherwise empty program,
// this ~0.9 MB), which is the difference between meeting the footprint
// target beside the yardstick and missing it.
type metrics struct {
	set            *vm.Set
	vendorDuration *vm.PrometheusHistogram
	limiterWait    *vm.PrometheusHistogram
	ackDuration    *vm.PrometheusHistogram
}

func newMetrics(mode string) *metrics {
	vm.ExposeMetadata(true) // # TYPE lines, as Prometheus expects
	s := vm.NewSet()
	m := &metrics{
		set:            s,
		vendorDuration: s.NewPrometheusHistogramExt("tempreport_vendor_request_duration_seconds", []float64{.05, .1, .2, .5, 1, 2, 5, 10, 30}),
		limiterWait:    s.NewPrometheusHistogramExt("tempreport_vendor_limiter_wait_seconds", []float64{0, .01, .1, .5, 1, 2, 5, 10, 30}),
		ackDuration:    s.NewPrometheusHistogramExt("tempreport_ack_duration_seconds", []float64{.0005, .001, .005, .01, .05, .1, .5, 1, 3}),
	}
	for _, entry := range []bot.Entry{bot.EntryCommand, bot.EntryClick} {
		for _, o := range bot.Outcomes {
			s.GetOrCreateCounter(commandsName(entry, o))
		}
	}
	// tempreport_transport_info says how Slack reaches the bot, so that an
	// alert about the socket can require mode="socket".
	s.NewGauge(fmt.Sprintf(`tempreport_transport_info{mode=%q}`, mode), func() float64 { return 1 })
	// HTTP request mode's refusals; always 0 in Socket Mode.
	s.GetOrCreateCounter("tempreport_slack_bad_signatures_total")
	s.GetOrCreateCounter("tempreport_slack_requests_too_large_total")
	s.GetOrCreateCounter(vendorRequestsName("000"))
	return m
}

func commandsName(entry bot.Entry, o bot.Outcome) string {
	return fmt.Sprintf(`tempreport_commands_total{kind=%q,outcome=%q}`, entry, o)
}

func vendorRequestsName(code string) string {
	return fmt.Sprintf(`tempreport_vendor_requests_total{code=%q}`, code)
}

// watch adds the gauges read off the running bot.
func (m *metrics) watch(b *bot.Bot) {
	// In HTTP mode "connected" means serving: nothing holds a socket.
	m.set.NewGauge("tempreport_slack_connected", func() float64 { return boolValue(b.Health().Ready) })
	m.set.NewGauge("tempreport_commands_in_flight", func() float64 { return float64(b.InFlight()) })
	m.set.NewGauge("tempreport_usergroups_unreadable", func() float64 { return float64(len(b.Health().StaleGroups)) })
}

// watchRedis adds tempreport_redis_up, read off the shared store: 1 while
// Redis answers, 0 while each replica counts its own limits.
func (m *metrics) watchRedis(up func() bool) {
	m.set.NewGauge("tempreport_redis_up", func() float64 { return boolValue(up()) })
}

// watchRedisState adds tempreport_redis_state{state}: 1 for the state the
// shared store is in (ok, unreachable, full, readonly, refusing), 0 for
// the others, so an alert can tell a full Redis from one that is gone.
func (m *metrics) watchRedisState(state func() replicas.State) {
	for _, st := range replicas.States {
		m.set.NewGauge(fmt.Sprintf(`tempreport_redis_state{state=%q}`, st), func() float64 { return boolValue(state() == st) })
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (m *metrics) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		m.set.WritePrometheus(w)
		vm.WriteProcessMetrics(w)
	})
}

// BadSignature, RequestTooLarge: httpmode.Observer.
func (m *metrics) BadSignature() {
	m.set.GetOrCreateCounter("tempreport_slack_bad_signatures_total").Inc()
}
func (m *metrics) RequestTooLarge() {
	m.set.GetOrCreateCounter("tempreport_slack_requests_too_large_total").Inc()
}

// Answered, Acked: bot.Observer.
func (m *metrics) Answered(entry bot.Entry, outcome bot.Outcome) {
	m.set.GetOrCreateCounter(commandsName(entry, outcome)).Inc()
}
func (m *metrics) Acked(d time.Duration) { m.ackDuration.Update(d.Seconds()) }

// Attempt, Waited: yibeidiao.Observer. result is one of a small, fixed set
// (see yibeidiao.Observer), so the label's series stay bounded.
func (m *metrics) Attempt(result string, _ int, took time.Duration) {
	m.set.GetOrCreateCounter(vendorRequestsName(result)).Inc()
	m.vendorDuration.Update(took.Seconds())
}
func (m *metrics) Waited(d time.Duration) { m.limiterWait.Update(d.Seconds()) }
