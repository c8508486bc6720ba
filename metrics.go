package main

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hr-tools/tempreport/bot"
)

// metrics are the program's Prometheus metrics, served at /metrics. No
// label carries a user, channel, record number or URL. It is the bot's and
// the vendor client's Observer.
type metrics struct {
	registry       *prometheus.Registry
	commands       *prometheus.CounterVec
	vendorRequests *prometheus.CounterVec
	vendorDuration prometheus.Histogram
	limiterWait    prometheus.Histogram
	ackDuration    prometheus.Histogram
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tempreport_commands_total",
			Help: "Envelopes answered, by kind (command, click, event, unreadable) and outcome (the audit log's words).",
		}, []string{"kind", "outcome"}),
		vendorRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tempreport_vendor_requests_total",
			Help: `HTTP attempts at the vendor, by result: its code ("000" is success), "http_" and a status, "timeout", "network_error", "bad_response", "bad_signature" or "other_code".`,
		}, []string{"code"}),
		vendorDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "tempreport_vendor_request_duration_seconds",
			Help:    "How long one HTTP attempt at the vendor took.",
			Buckets: []float64{.05, .1, .2, .5, 1, 2, 5, 10, 30},
		}),
		limiterWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "tempreport_vendor_limiter_wait_seconds",
			Help:    "How long an attempt waited for a turn of the vendor rate limit.",
			Buckets: []float64{0, .01, .1, .5, 1, 2, 5, 10, 30},
		}),
		ackDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "tempreport_ack_duration_seconds",
			Help:    "From reading an envelope to handing its ack to the Slack client. Slack gives up after 3s.",
			Buckets: []float64{.0005, .001, .005, .01, .05, .1, .5, 1, 3},
		}),
	}
	m.registry.MustRegister(m.commands, m.vendorRequests, m.vendorDuration, m.limiterWait, m.ackDuration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, kind := range []string{"command", "click"} {
		for _, o := range bot.Outcomes {
			m.commands.WithLabelValues(kind, string(o))
		}
	}
	m.vendorRequests.WithLabelValues("000")
	return m
}

// watch adds the gauges read off the running bot.
func (m *metrics) watch(b *bot.Bot) {
	m.registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tempreport_slack_connected",
			Help: "1 while the Slack socket is connected, else 0.",
		}, func() float64 {
			if b.Health().Connected {
				return 1
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tempreport_commands_in_flight",
			Help: "Commands and clicks waiting on the vendor or on their answer's delivery.",
		}, func() float64 { return float64(b.InFlight()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tempreport_usergroups_unreadable",
			Help: "Allowed user groups unread for longer than ALLOWED_USERGROUP_MAX_STALE: their members are denied.",
		}, func() float64 { return float64(len(b.Health().StaleGroups)) }),
	)
}

// watchRedis adds tempreport_redis_up, read off the shared store.
func (m *metrics) watchRedis(up func() bool) {
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "tempreport_redis_up",
		Help: "1 while Redis (REDIS_URL) answers, else 0: each replica then counts its own limits and redeliveries.",
	}, func() float64 {
		if up() {
			return 1
		}
		return 0
	}))
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// Answered, Acked: bot.Observer.
func (m *metrics) Answered(kind string, outcome bot.Outcome) {
	m.commands.WithLabelValues(kind, string(outcome)).Inc()
}
func (m *metrics) Acked(d time.Duration) { m.ackDuration.Observe(d.Seconds()) }

// Attempt, Waited: yibeidiao.Observer.
func (m *metrics) Attempt(result string, took time.Duration) {
	m.vendorRequests.WithLabelValues(result).Inc()
	m.vendorDuration.Observe(took.Seconds())
}
func (m *metrics) Waited(d time.Duration) { m.limiterWait.Observe(d.Seconds()) }
