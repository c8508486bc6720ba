package deploy

import (
	"bytes"
	"log/slog"
	"os"
	"reflect"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

const (
	alertsFile = "prometheus/alerts.yml"
	ruleFile   = "kubernetes/monitoring/prometheusrule.yaml"
)

// ruleHeader opens the generated PrometheusRule: it says where it comes
// from, so that nobody edits the copy.
const ruleHeader = `# GENERATED from deploy/prometheus/alerts.yml: edit that file, then run
#   cd deploy && go test -run TestPrometheusRuleIsTheAlerts -update
# CI fails while this copy differs from it.
`

// prometheusRule is alerts.yml's groups as a PrometheusRule, the way the
// Operator wants them: the same rules, field for field.
func prometheusRule(t *testing.T) []byte {
	t.Helper()
	alerts, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Groups []any `json:"groups"`
	}
	if err := yaml.Unmarshal(alerts, &file); err != nil {
		t.Fatal(err)
	}
	rule := map[string]any{
		"apiVersion": "monitoring.coreos.com/v1",
		"kind":       "PrometheusRule",
		"metadata": map[string]any{
			"name":   "tempreport",
			"labels": map[string]any{"app.kubernetes.io/name": "tempreport"},
		},
		"spec": map[string]any{"groups": file.Groups},
	}
	out, err := yaml.Marshal(rule)
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte(ruleHeader), out...)
}

// TestPrometheusRuleIsTheAlerts: the monitoring component's PrometheusRule
// is alerts.yml, byte for byte as generated (go test -update writes it),
// and it decodes strictly into the Operator's own type with the same rules
// Prometheus's parser reads from alerts.yml.
func TestPrometheusRuleIsTheAlerts(t *testing.T) {
	want := prometheusRule(t)
	if *update {
		if err := os.WriteFile(ruleFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(ruleFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is not %s as a PrometheusRule: edit %s, then run go test -run TestPrometheusRuleIsTheAlerts -update", ruleFile, alertsFile, alertsFile)
	}
	var pr monitoringv1.PrometheusRule
	if err := decodeStrict(got, &pr); err != nil {
		t.Fatalf("%s: %v", ruleFile, err)
	}
	rules, errs := rulefmt.ParseFile(alertsFile, false, model.LegacyValidation, promql, slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if len(pr.Spec.Groups) != len(rules.Groups) {
		t.Fatalf("the PrometheusRule has %d groups, alerts.yml %d", len(pr.Spec.Groups), len(rules.Groups))
	}
	for i, g := range rules.Groups {
		pg := pr.Spec.Groups[i]
		if pg.Name != g.Name || len(pg.Rules) != len(g.Rules) {
			t.Errorf("group %d: %s with %d rules, want %s with %d", i, pg.Name, len(pg.Rules), g.Name, len(g.Rules))
			continue
		}
		for j, r := range g.Rules {
			pRule := pg.Rules[j]
			var pFor time.Duration
			if pRule.For != nil {
				d, err := model.ParseDuration(string(*pRule.For))
				if err != nil {
					t.Errorf("%s: for %q: %v", pRule.Alert, *pRule.For, err)
				}
				pFor = time.Duration(d)
			}
			if pRule.Alert != r.Alert || pRule.Expr.String() != r.Expr || pFor != time.Duration(r.For) ||
				!reflect.DeepEqual(pRule.Labels, r.Labels) || !reflect.DeepEqual(pRule.Annotations, r.Annotations) {
				t.Errorf("%s in the PrometheusRule differs from alerts.yml's %s", pRule.Alert, r.Alert)
			}
		}
	}
}

// TestServiceMonitorFindsTheBot: the monitoring component's ServiceMonitor
// decodes into the Operator's type, selects the Service tempreport-metrics
// and scrapes its metrics port at /metrics.
func TestServiceMonitorFindsTheBot(t *testing.T) {
	k := loadKit(t)
	sm := k.serviceMonitors["tempreport"]
	svc := k.services["tempreport-metrics"]
	if sm == nil || svc == nil {
		t.Fatalf("ServiceMonitor %v, Service %v: want both", sm, svc)
	}
	sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
	if err != nil || !sel.Matches(labels.Set(svc.Labels)) {
		t.Errorf("the ServiceMonitor selects %v, which is not the Service's labels %v", sm.Spec.Selector, svc.Labels)
	}
	for name, other := range k.services {
		if name != svc.Name && sel.Matches(labels.Set(other.Labels)) {
			t.Errorf("the ServiceMonitor selects Service %s too", name)
		}
	}
	if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != svc.Spec.Ports[0].Name ||
		sm.Spec.Endpoints[0].Path != "/metrics" {
		t.Errorf("the ServiceMonitor's endpoints %+v, want the Service's port %s at /metrics", sm.Spec.Endpoints, svc.Spec.Ports[0].Name)
	}
	if _, ok := k.components["monitoring"]; !ok {
		t.Error("no monitoring component")
	}
}
