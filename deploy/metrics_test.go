package deploy

import (
	"encoding/json"
	"flag"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

var update = flag.Bool("update", false, "rewrite testdata/metrics-used.txt from the rules and the dashboard")

// metricsUsedFile lists every series name the rules and the dashboard use,
// one a line. This test keeps it in step with them; the bot's module reads
// it and checks each name against a real scrape of the running program
// (TestDeployKitMetricsAreServed in ../health_test.go), since this module
// cannot run the bot with its fakes.
const metricsUsedFile = "testdata/metrics-used.txt"

// byPrometheus are series Prometheus makes itself for every target.
var byPrometheus = []string{"up"}

var promql = parser.NewParser(parser.Options{})

// metricNames adds to names the metric name of every selector in expr.
func metricNames(t *testing.T, where, expr string, names map[string]bool) {
	t.Helper()
	e, err := promql.ParseExpr(expr)
	if err != nil {
		t.Errorf("%s: %q: %v", where, expr, err)
		return
	}
	found := false
	parser.Inspect(e, func(node parser.Node, _ []parser.Node) error {
		vs, ok := node.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		for _, m := range vs.LabelMatchers {
			if m.Name == model.MetricNameLabel && m.Type == labels.MatchEqual {
				name = m.Value
			}
		}
		if name == "" {
			t.Errorf("%s: %q selects series by label alone: name the metric", where, expr)
		}
		names[name], found = true, true
		return nil
	})
	if !found {
		t.Errorf("%s: %q selects no series", where, expr)
	}
}

// TestAlertRules: the rules file parses with Prometheus's own rule parser
// (which parses every expression and template), and every alert has a
// for, a severity and a summary.
func TestAlertRules(t *testing.T) {
	rules, errs := rulefmt.ParseFile("prometheus/alerts.yml", false, model.LegacyValidation, promql, slog.New(slog.DiscardHandler))
	for _, err := range errs {
		t.Error(err)
	}
	if rules == nil {
		t.FailNow()
	}
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			n++
			if r.Alert == "" {
				t.Errorf("%s: a recording rule (%s); the file is for alerts", g.Name, r.Record)
				continue
			}
			if r.For == 0 {
				t.Errorf("%s has no for: one bad scrape would page someone", r.Alert)
			}
			if s := r.Labels["severity"]; s != "critical" && s != "warning" {
				t.Errorf("%s: severity %q, want critical or warning", r.Alert, s)
			}
			if len(r.Annotations["summary"]) < 20 || len(r.Annotations["description"]) < 40 {
				t.Errorf("%s: want a summary and a description that says what to do", r.Alert)
			}
			metricNames(t, r.Alert, r.Expr, map[string]bool{})
		}
	}
	if n < 8 {
		t.Errorf("%d alerts, want the README's eight and more", n)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if !strings.Contains(string(readme), "`"+r.Alert+"`") {
				t.Errorf("the README does not explain %s", r.Alert)
			}
		}
	}
	// The parser must refuse a broken rule, or this test proves nothing.
	bad := []byte("groups:\n- name: x\n  rules:\n  - alert: X\n    expr: sum(rate(x[5m])\n    fore: 5m\n")
	if _, errs := rulefmt.Parse(bad, false, model.LegacyValidation, promql, slog.New(slog.DiscardHandler)); len(errs) == 0 {
		t.Error("a rule with a broken expression and a misspelt field parsed")
	}
}

// socketOnly are the alerts about the Socket Mode connection: in HTTP
// mode there is none, so each must hold only where the bot says it runs
// over the socket.
var socketOnly = []string{"TempreportSlackDisconnected"}

// TestAlertsHoldUnderAnyScrape: no rule depends on the scrape job's name
// (the Operator names it namespace/service, the annotation scrape
// kubernetes-pods, and so on); the socket's alerts are joined, target by
// target, with tempreport_transport_info{mode="socket"}; and a wrong
// signing secret (every request 401) has its alert.
func TestAlertsHoldUnderAnyScrape(t *testing.T) {
	rules, errs := rulefmt.ParseFile("prometheus/alerts.yml", false, model.LegacyValidation, promql, slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	seen := map[string]bool{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			seen[r.Alert] = true
			e, err := promql.ParseExpr(r.Expr)
			if err != nil {
				t.Fatal(err)
			}
			joined := false
			parser.Inspect(e, func(node parser.Node, _ []parser.Node) error {
				switch n := node.(type) {
				case *parser.VectorSelector:
					for _, m := range n.LabelMatchers {
						if m.Name == "job" {
							t.Errorf("%s selects by job (%s): the scrape configuration names jobs, not this kit", r.Alert, m)
						}
					}
				case *parser.BinaryExpr:
					if n.Op == parser.LAND && n.VectorMatching != nil && n.VectorMatching.On &&
						slices.Contains(n.VectorMatching.MatchingLabels, "instance") && slices.Contains(n.VectorMatching.MatchingLabels, "job") &&
						selectsSocket(n.RHS) {
						joined = true
					}
				}
				return nil
			})
			if slices.Contains(socketOnly, r.Alert) && !joined {
				t.Errorf("%s is about the socket but is not joined on (job, instance) with tempreport_transport_info{mode=\"socket\"}: it would fire in HTTP mode", r.Alert)
			}
			if !slices.Contains(socketOnly, r.Alert) && strings.Contains(r.Expr, "tempreport_slack_connected") && r.Alert != "TempreportDown" {
				t.Errorf("%s reads tempreport_slack_connected: add it to socketOnly, joined with the transport", r.Alert)
			}
		}
	}
	for _, want := range append([]string{"TempreportDown", "TempreportBadSignatures"}, socketOnly...) {
		if !seen[want] {
			t.Errorf("no alert %s", want)
		}
	}
}

// selectsSocket says whether e selects tempreport_transport_info{mode="socket"}.
func selectsSocket(e parser.Expr) bool {
	found := false
	parser.Inspect(e, func(node parser.Node, _ []parser.Node) error {
		if vs, ok := node.(*parser.VectorSelector); ok && vs.Name == "tempreport_transport_info" {
			for _, m := range vs.LabelMatchers {
				if m.Name == "mode" && m.Type == labels.MatchEqual && m.Value == "socket" {
					found = true
				}
			}
		}
		return nil
	})
	return found
}

// dashboard is the part of Grafana's dashboard JSON this test reads.
type dashboard struct {
	Inputs []struct {
		Name     string `json:"name"`
		Type     string `json:"type"`
		PluginID string `json:"pluginId"`
	} `json:"__inputs"`
	UID        string `json:"uid"`
	Title      string `json:"title"`
	Templating struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Query      json.RawMessage `json:"query"`
			Datasource *datasource     `json:"datasource"`
			Current    struct {
				Value string `json:"value"`
			} `json:"current"`
		} `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

type panel struct {
	ID         int         `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Datasource *datasource `json:"datasource"`
	GridPos    struct {
		X, Y, W, H int
	} `json:"gridPos"`
	Targets []struct {
		Datasource *datasource `json:"datasource"`
		Expr       string      `json:"expr"`
		RefID      string      `json:"refId"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // of a collapsed row
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	data, err := os.ReadFile("grafana/tempreport.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// grafanaVariable is $name or ${name} in a panel's query.
var grafanaVariable = regexp.MustCompile(`\$\{?(\w+)\}?`)

// expandVariables gives Grafana's variables values the PromQL parser
// accepts: an interval for the interval ones, a word for the rest (they
// stand inside label values).
func expandVariables(expr string) string {
	return grafanaVariable.ReplaceAllStringFunc(expr, func(v string) string {
		if strings.Contains(v, "__") && strings.Contains(v, "interval") || strings.Contains(v, "__range") {
			return "5m"
		}
		return "x"
	})
}

// TestDashboard: importable as is (a datasource variable, used by every
// panel), every query parses with the PromQL parser, and it shows what the
// issue asks for.
func TestDashboard(t *testing.T) {
	d := loadDashboard(t)
	if d.UID == "" || d.Title == "" {
		t.Error("the dashboard has no uid or title")
	}
	dsVar, dsInput := "", ""
	for _, in := range d.Inputs {
		if in.Type == "datasource" && in.PluginID == "prometheus" {
			dsInput = "${" + in.Name + "}"
		}
	}
	for _, v := range d.Templating.List {
		if v.Type == "datasource" && string(v.Query) == `"prometheus"` {
			dsVar = "${" + v.Name + "}"
			if dsInput == "" || v.Current.Value != dsInput {
				t.Errorf("the datasource variable starts at %q, want the import's input %q", v.Current.Value, dsInput)
			}
		}
	}
	if dsVar == "" || dsInput == "" {
		t.Fatal("no __inputs entry for a Prometheus data source, or no datasource variable: Grafana's import would not ask for the data source")
	}
	ids := map[int]bool{}
	titles := map[string]bool{}
	for _, p := range flatten(d.Panels) {
		if ids[p.ID] {
			t.Errorf("panel id %d twice", p.ID)
		}
		ids[p.ID] = true
		titles[p.Title] = true
		if p.GridPos.W <= 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("%s: gridPos %+v does not fit Grafana's 24 columns", p.Title, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != dsVar || len(p.Targets) == 0 {
			t.Errorf("%s: datasource %+v and %d queries, want %s", p.Title, p.Datasource, len(p.Targets), dsVar)
		}
		for _, q := range p.Targets {
			if q.Datasource != nil && q.Datasource.UID != dsVar {
				t.Errorf("%s: query %s on datasource %+v, want %s", p.Title, q.RefID, q.Datasource, dsVar)
			}
			metricNames(t, p.Title, expandVariables(q.Expr), map[string]bool{})
			botOnly(t, p.Title, expandVariables(q.Expr))
		}
	}
	for _, want := range []string{"Commands by outcome", "Vendor attempts by code", "Vendor latency", "Ack latency",
		"Vendor limiter waits", "Commands in flight", "Slack connected", "Redis up", "Unreadable user groups"} {
		if !titles[want] {
			t.Errorf("no panel %q", want)
		}
	}
}

// botOnly checks that every series a query selects is the bot's own: a
// tempreport_ metric, or a runtime one (go_*, process_*) kept only where
// the same target, on (job, instance), serves a tempreport_ metric.
// Filtering the runtime's series on job alone would pull in every other
// pod of that scrape job.
func botOnly(t *testing.T, title, expr string) {
	t.Helper()
	e, err := promql.ParseExpr(expr)
	if err != nil {
		return // metricNames reported it
	}
	parser.Inspect(e, func(node parser.Node, path []parser.Node) error {
		vs, ok := node.(*parser.VectorSelector)
		if !ok || strings.HasPrefix(vs.Name, "tempreport_") {
			return nil
		}
		for _, up := range path {
			if b, ok := up.(*parser.BinaryExpr); ok && b.Op == parser.LAND && b.VectorMatching != nil && b.VectorMatching.On &&
				slices.Contains(b.VectorMatching.MatchingLabels, "instance") && slices.Contains(b.VectorMatching.MatchingLabels, "job") &&
				strings.Contains(b.RHS.String(), "tempreport_") {
				return nil
			}
		}
		t.Errorf("%s: %s may select other pods than the bot's: keep it with `and on (job, instance) tempreport_slack_connected`", title, vs)
		return nil
	})
}

func flatten(panels []panel) []panel {
	var all []panel
	for _, p := range panels {
		all = append(all, p)
		all = append(all, flatten(p.Panels)...)
	}
	return all
}

// TestMetricsUsedAreListed keeps testdata/metrics-used.txt equal to the
// names the rules and the dashboard use (go test -update rewrites it).
func TestMetricsUsedAreListed(t *testing.T) {
	names := map[string]bool{}
	rules, errs := rulefmt.ParseFile("prometheus/alerts.yml", false, model.LegacyValidation, promql, slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			metricNames(t, r.Alert, r.Expr, names)
		}
	}
	d := loadDashboard(t)
	for _, p := range flatten(d.Panels) {
		for _, q := range p.Targets {
			metricNames(t, p.Title, expandVariables(q.Expr), names)
		}
	}
	labelValues := regexp.MustCompile(`label_values\((\w+)\s*,`)
	for _, v := range d.Templating.List {
		for _, m := range labelValues.FindAllStringSubmatch(string(v.Query), -1) {
			names[m[1]] = true
		}
	}
	var list []string
	for name := range names {
		if !slices.Contains(byPrometheus, name) {
			list = append(list, name)
		}
	}
	slices.Sort(list)
	want := strings.Join(list, "\n") + "\n"
	if *update {
		if err := os.WriteFile(metricsUsedFile, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(metricsUsedFile)
	if err != nil || string(got) != want {
		t.Errorf("%s is not what the rules and the dashboard use (go test -update rewrites it):\ngot:\n%s\nwant:\n%s", metricsUsedFile, got, want)
	}
	for _, name := range list {
		if !strings.HasPrefix(name, "tempreport_") && !strings.HasPrefix(name, "go_") && !strings.HasPrefix(name, "process_") {
			t.Errorf("%s is neither the bot's nor its runtime's", name)
		}
	}
}
