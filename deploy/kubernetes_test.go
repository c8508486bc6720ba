package deploy

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
)

// kustomization is the part of kustomize's Kustomization that the kit
// uses; decoding strictly into it catches a misspelt field.
type kustomization struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Labels     []struct {
		Pairs            map[string]string `json:"pairs"`
		IncludeSelectors bool              `json:"includeSelectors,omitempty"`
	} `json:"labels,omitempty"`
	Resources          []string    `json:"resources,omitempty"`
	Components         []string    `json:"components,omitempty"`
	ConfigMapGenerator []generator `json:"configMapGenerator,omitempty"`
	SecretGenerator    []generator `json:"secretGenerator,omitempty"`
	Patches            []struct {
		Path string `json:"path"`
	} `json:"patches,omitempty"`
	Images []struct {
		Name    string `json:"name"`
		NewName string `json:"newName,omitempty"`
		NewTag  string `json:"newTag,omitempty"`
		Digest  string `json:"digest,omitempty"`
	} `json:"images,omitempty"`
}

// generator is a configMapGenerator's or secretGenerator's entry.
type generator struct {
	Name string   `json:"name"`
	Envs []string `json:"envs"`
}

// kit is every object the manifests declare, decoded strictly.
type kit struct {
	deployments     map[string]*appsv1.Deployment
	services        map[string]*corev1.Service
	namespaces      map[string]*corev1.Namespace
	pdbs            map[string]*policyv1.PodDisruptionBudget
	policies        map[string]*networkingv1.NetworkPolicy
	ingresses       map[string]*networkingv1.Ingress
	serviceMonitors map[string]*monitoringv1.ServiceMonitor
	rules           map[string]*monitoringv1.PrometheusRule
	// patches are the components' patches, decoded strictly but kept apart
	// from the objects they change.
	patches map[string]*appsv1.Deployment
	// root is kubernetes/kustomization.yaml; components are the optional
	// ones, by directory.
	root       kustomization
	components map[string]kustomization
}

// decodeStrict decodes YAML into v; a field v's type does not have, or a
// field given twice, is an error.
func decodeStrict(doc []byte, v any) error {
	return yaml.UnmarshalStrict(doc, v)
}

// decodeObject decodes doc strictly into the API type its apiVersion and
// kind name; obj is nil for a kind the kit does not use.
func decodeObject(meta metav1.TypeMeta, doc []byte) (obj any, name string, err error) {
	var o interface{ GetName() string }
	switch meta.APIVersion + " " + meta.Kind {
	case "apps/v1 Deployment":
		o = &appsv1.Deployment{}
	case "v1 Service":
		o = &corev1.Service{}
	case "v1 Namespace":
		o = &corev1.Namespace{}
	case "v1 Secret":
		o = &corev1.Secret{}
	case "policy/v1 PodDisruptionBudget":
		o = &policyv1.PodDisruptionBudget{}
	case "networking.k8s.io/v1 NetworkPolicy":
		o = &networkingv1.NetworkPolicy{}
	case "networking.k8s.io/v1 Ingress":
		o = &networkingv1.Ingress{}
	case "v1 ConfigMap":
		o = &corev1.ConfigMap{}
	case "monitoring.coreos.com/v1 ServiceMonitor":
		o = &monitoringv1.ServiceMonitor{}
	case "monitoring.coreos.com/v1 PrometheusRule":
		o = &monitoringv1.PrometheusRule{}
	default:
		return nil, "", fmt.Errorf("%s %s is not a kind this test knows: add it", meta.APIVersion, meta.Kind)
	}
	if err := decodeStrict(doc, o); err != nil {
		return o, o.GetName(), err
	}
	return o, o.GetName(), nil
}

// documents splits a YAML stream at its --- lines.
func documents(data []byte) [][]byte {
	var docs [][]byte
	for doc := range bytes.SplitSeq(data, []byte("\n---\n")) {
		if len(bytes.TrimSpace(stripComments(doc))) > 0 {
			docs = append(docs, doc)
		}
	}
	return docs
}

func stripComments(doc []byte) []byte {
	return regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAll(doc, nil)
}

func loadKit(t *testing.T) *kit {
	t.Helper()
	k := &kit{
		deployments: map[string]*appsv1.Deployment{}, services: map[string]*corev1.Service{},
		namespaces: map[string]*corev1.Namespace{}, pdbs: map[string]*policyv1.PodDisruptionBudget{},
		policies: map[string]*networkingv1.NetworkPolicy{}, components: map[string]kustomization{},
		ingresses: map[string]*networkingv1.Ingress{}, serviceMonitors: map[string]*monitoringv1.ServiceMonitor{},
		rules: map[string]*monitoringv1.PrometheusRule{}, patches: map[string]*appsv1.Deployment{},
	}
	listed := map[string]bool{}  // files some kustomization names
	patches := map[string]bool{} // of them, the patches
	var files []string
	err := filepath.WalkDir("kubernetes", func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".yaml") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// The kustomizations first: they say which files are patches.
	slices.SortStableFunc(files, func(a, b string) int {
		return cmp.Compare(boolInt(filepath.Base(b) == "kustomization.yaml"), boolInt(filepath.Base(a) == "kustomization.yaml"))
	})
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(path) == "kustomization.yaml" {
			var kz kustomization
			if err := decodeStrict(data, &kz); err != nil {
				t.Errorf("%s: %v", path, err)
				continue
			}
			dir := filepath.Dir(path)
			for _, r := range kz.Resources {
				listed[filepath.Join(dir, r)] = true
				if _, err := os.Stat(filepath.Join(dir, r)); err != nil {
					t.Errorf("%s lists %s: %v", path, r, err)
				}
			}
			for _, p := range kz.Patches {
				listed[filepath.Join(dir, p.Path)], patches[filepath.Join(dir, p.Path)] = true, true
			}
			switch {
			case dir == "kubernetes" && kz.Kind == "Kustomization" && kz.APIVersion == "kustomize.config.k8s.io/v1beta1":
				k.root = kz
			case kz.Kind == "Component" && kz.APIVersion == "kustomize.config.k8s.io/v1alpha1":
				k.components[filepath.Base(dir)] = kz
			default:
				t.Errorf("%s: %s %s, want the root Kustomization or a Component", path, kz.APIVersion, kz.Kind)
			}
			continue
		}
		for i, doc := range documents(data) {
			where := fmt.Sprintf("%s, document %d", path, i+1)
			var meta metav1.TypeMeta
			if err := yaml.Unmarshal(doc, &meta); err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			obj, name, err := decodeObject(meta, doc)
			switch o := obj.(type) {
			case nil:
				t.Errorf("%s: %v", where, err)
				continue
			case *appsv1.Deployment:
				if patches[path] {
					k.patches[path] = o
				} else {
					k.deployments[name] = o
				}
			case *corev1.Service:
				k.services[name] = o
			case *corev1.Namespace:
				k.namespaces[name] = o
			case *policyv1.PodDisruptionBudget:
				k.pdbs[name] = o
			case *networkingv1.NetworkPolicy:
				k.policies[name] = o
			case *networkingv1.Ingress:
				k.ingresses[name] = o
			case *monitoringv1.ServiceMonitor:
				k.serviceMonitors[name] = o
			case *monitoringv1.PrometheusRule:
				k.rules[name] = o
			default:
				t.Errorf("%s: a %T does not belong in the manifests", where, o)
			}
			if err != nil {
				t.Errorf("%s: %v", where, err)
			}
			if name == "" {
				t.Errorf("%s: no metadata.name", where)
			}
		}
	}
	for _, path := range files {
		if filepath.Base(path) != "kustomization.yaml" && !listed[path] {
			t.Errorf("no kustomization.yaml lists %s", path)
		}
	}
	if k.root.Kind == "" {
		t.Fatal("kubernetes/kustomization.yaml is missing")
	}
	return k
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestManifestsDecodeStrictly: every manifest is a known Kubernetes object
// whose every field exists in the API types; every file is listed by a
// kustomization, and every component is in kubernetes/.
func TestManifestsDecodeStrictly(t *testing.T) {
	k := loadKit(t)
	if len(k.deployments) == 0 || len(k.pdbs) == 0 || len(k.policies) == 0 {
		t.Errorf("the kit declares %d Deployments, %d PodDisruptionBudgets and %d NetworkPolicies; want each", len(k.deployments), len(k.pdbs), len(k.policies))
	}
	for name := range k.components {
		if _, err := os.Stat(filepath.Join("kubernetes", name, "kustomization.yaml")); err != nil {
			t.Error(err)
		}
	}
	// The strict decoder must refuse a misspelt field, or this test proves nothing.
	bad := []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replica: 2\n")
	if err := decodeStrict(bad, &appsv1.Deployment{}); err == nil || !strings.Contains(err.Error(), "replica") {
		t.Errorf("a Deployment with spec.replica decoded: %v", err)
	}
}

// bot is the tempreport Deployment and its one container.
func bot(t *testing.T, k *kit) (*appsv1.Deployment, *corev1.Container) {
	t.Helper()
	d := k.deployments["tempreport"]
	if d == nil {
		t.Fatal("no Deployment named tempreport")
	}
	if len(d.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("the tempreport pod has %d containers, want 1", len(d.Spec.Template.Spec.Containers))
	}
	return d, &d.Spec.Template.Spec.Containers[0]
}

func env(c *corev1.Container, name string) *corev1.EnvVar {
	for i := range c.Env {
		if c.Env[i].Name == name {
			return &c.Env[i]
		}
	}
	return nil
}

// TestBotDeployment: the promises of the issue and the README, read off the
// decoded Deployment.
func TestBotDeployment(t *testing.T) {
	k := loadKit(t)
	d, c := bot(t, k)
	pod := d.Spec.Template.Spec
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("replicas = %v, want 2", d.Spec.Replicas)
	}
	if sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector); err != nil || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
		t.Errorf("the Deployment's selector does not select its own pods: %v", err)
	}

	// Two replicas share limits only through Redis: REDIS_URL is required,
	// from the Secret the operator makes (no secret is in the repository).
	if e := env(c, "REDIS_URL"); e == nil || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil ||
		(e.ValueFrom.SecretKeyRef.Optional != nil && *e.ValueFrom.SecretKeyRef.Optional) || e.ValueFrom.SecretKeyRef.Name != secretName {
		t.Errorf("REDIS_URL = %+v, want a required key of the Secret %s", e, secretName)
	}
	// Settings from the generated ConfigMap, then the Secret; nothing else.
	if len(c.EnvFrom) != 2 || c.EnvFrom[0].ConfigMapRef == nil || !k.generatesConfigMap(c.EnvFrom[0].ConfigMapRef.Name) ||
		c.EnvFrom[1].SecretRef == nil || c.EnvFrom[1].SecretRef.Name != secretName {
		t.Errorf("envFrom %+v, want the ConfigMap generated from settings.env, then the Secret %s", c.EnvFrom, secretName)
	}

	// Probes: /livez and /healthz on the port HEALTH_ADDR names; metrics on
	// METRICS_ADDR's, another port.
	port := addrPort(t, c, "HEALTH_ADDR")
	metricsPort := addrPort(t, c, "METRICS_ADDR")
	if port == metricsPort {
		t.Errorf("HEALTH_ADDR and METRICS_ADDR share port %s: scrapes would take the probes' connections", port)
	}
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"liveness", c.LivenessProbe, "/livez"}, {"readiness", c.ReadinessProbe, "/healthz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("no %s httpGet probe", p.name)
			continue
		}
		if p.probe.HTTPGet.Path != p.path {
			t.Errorf("%s probe path %q, want %s", p.name, p.probe.HTTPGet.Path, p.path)
		}
		if got := containerPort(c, p.probe.HTTPGet.Port); strconv.Itoa(int(got)) != port {
			t.Errorf("%s probe port %s is %d, want HEALTH_ADDR's %s", p.name, p.probe.HTTPGet.Port.String(), got, port)
		}
		if p.probe.TimeoutSeconds > 1 || p.probe.PeriodSeconds == 0 || p.probe.FailureThreshold == 0 {
			t.Errorf("%s probe %+v: want the period, threshold and 1 s timeout stated (the ops port answers in milliseconds)", p.name, p.probe)
		}
	}
	if pa := d.Spec.Template.Annotations; pa["prometheus.io/port"] != metricsPort || pa["prometheus.io/path"] != "/metrics" {
		t.Errorf("scrape annotations %v, want port %s and /metrics", pa, metricsPort)
	}
	// The Service for scrapers leads to the metrics port, not-ready pods
	// included (a disconnected replica is when its metrics matter).
	svc := k.services["tempreport-metrics"]
	if svc == nil || !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) || len(svc.Spec.Ports) != 1 ||
		strconv.Itoa(int(containerPort(c, svc.Spec.Ports[0].TargetPort))) != metricsPort || !svc.Spec.PublishNotReadyAddresses {
		t.Errorf("Service tempreport-metrics %+v, want the bot's metrics port %s, not-ready pods published", svc, metricsPort)
	}

	// Shutdown: the grace period covers the README's promise, with margin.
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`worst case is about (\d+) s`).FindSubmatch(readme)
	if m == nil {
		t.Fatal(`the README no longer says "the worst case is about N s" of its shutdown: update this test`)
	}
	promise, _ := strconv.Atoi(string(m[1]))
	if g := pod.TerminationGracePeriodSeconds; g == nil || *g < int64(promise)+5 {
		t.Errorf("terminationGracePeriodSeconds = %d, want at least the README's %d s and 5 s of margin", ptrValue(g), promise)
	}

	// Spread over nodes, and a budget that keeps one connected through a drain.
	spread := false
	for _, tsc := range pod.TopologySpreadConstraints {
		sel, err := metav1.LabelSelectorAsSelector(tsc.LabelSelector)
		spread = spread || tsc.TopologyKey == "kubernetes.io/hostname" && err == nil && sel.Matches(labels.Set(d.Spec.Template.Labels))
	}
	if !spread {
		t.Error("no topology spread over kubernetes.io/hostname that selects the bot's pods")
	}
	budgeted := false
	for _, pdb := range k.pdbs {
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err == nil && sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			budgeted = pdb.Spec.MinAvailable != nil && pdb.Spec.MinAvailable.IntValue() >= 1 && pdb.Spec.MinAvailable.IntValue() < int(*d.Spec.Replicas)
		}
	}
	if !budgeted {
		t.Error("no PodDisruptionBudget keeps at least one, and fewer than all, of the bot's pods")
	}

	// Resources: requests and limits, from the measured footprint (README:
	// 17-18 MB peak RSS through a burst of 500 commands).
	req, lim := c.Resources.Requests, c.Resources.Limits
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		q, l := req[r], lim[r]
		if q.IsZero() || l.IsZero() || q.Cmp(l) > 0 {
			t.Errorf("%s: request %s, limit %s; want both, the request at most the limit", r, q.String(), l.String())
		}
	}
	if mem := lim[corev1.ResourceMemory]; mem.Value() < 64<<20 {
		t.Errorf("memory limit %s leaves less than 3× the measured 18 MB peak", mem.String())
	}
	if e := env(c, "GOMEMLIMIT"); e != nil {
		if m := regexp.MustCompile(`^(\d+)MiB$`).FindStringSubmatch(e.Value); m == nil {
			t.Errorf("GOMEMLIMIT %q, want N MiB", e.Value)
		} else if n, _ := strconv.Atoi(m[1]); int64(n)<<20 >= lim.Memory().Value() {
			t.Errorf("GOMEMLIMIT %s is not under the memory limit %s", e.Value, lim.Memory().String())
		}
	}
}

// secretName is the Secret the operator makes (README, Deploying): the
// repository holds none.
const secretName = "tempreport"

// generatesConfigMap says whether the root kustomization makes ConfigMap
// name.
func (k *kit) generatesConfigMap(name string) bool {
	for _, g := range k.root.ConfigMapGenerator {
		if g.Name == name {
			return true
		}
	}
	return false
}

// addrPort is the port of the listen address the container's variable
// name sets.
func addrPort(t *testing.T, c *corev1.Container, name string) string {
	t.Helper()
	e := env(c, name)
	if e == nil || e.Value == "" {
		t.Fatalf("%s is not set on the container: an empty %s= in the settings would turn its port off", name, name)
	}
	_, port, err := net.SplitHostPort(e.Value)
	if err != nil {
		t.Fatalf("%s %q: %v", name, e.Value, err)
	}
	return port
}

func containerPort(c *corev1.Container, port intstr.IntOrString) int32 {
	if port.Type == intstr.Int {
		return port.IntVal
	}
	for _, p := range c.Ports {
		if p.Name == port.StrVal {
			return p.ContainerPort
		}
	}
	return 0
}

// TestPodsAreRestricted: every pod in the kit meets the "restricted" Pod
// Security Standard that namespace.yaml enforces, runs read-only, and the
// bot runs as the image's nonroot user.
func TestPodsAreRestricted(t *testing.T) {
	k := loadKit(t)
	for name, d := range k.deployments {
		pod := d.Spec.Template.Spec
		psc := pod.SecurityContext
		if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s: pod securityContext %+v, want runAsNonRoot and the RuntimeDefault seccomp profile", name, psc)
		}
		if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
			t.Errorf("%s mounts a service account token it never uses", name)
		}
		if pod.HostNetwork || pod.HostPID || pod.HostIPC {
			t.Errorf("%s shares a host namespace", name)
		}
		for _, c := range append(pod.InitContainers, pod.Containers...) {
			sc := c.SecurityContext
			if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
				sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
				sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 ||
				sc.Privileged != nil && *sc.Privileged {
				t.Errorf("%s/%s: securityContext %+v, want no privilege escalation, a read-only root filesystem and every capability dropped", name, c.Name, sc)
			}
			if c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
				t.Errorf("%s/%s has no memory request or limit", name, c.Name)
			}
		}
	}
	_, _ = bot(t, k)
	if u := k.deployments["tempreport"].Spec.Template.Spec.SecurityContext.RunAsUser; u == nil || *u != 65532 {
		t.Errorf("the bot runs as %v, want 65532, the distroless image's nonroot user", u)
	}
	dockerfile, err := os.ReadFile("../Dockerfile")
	if err != nil || !bytes.Contains(dockerfile, []byte(":nonroot")) || !bytes.Contains(dockerfile, []byte("USER nonroot")) {
		t.Errorf("the Dockerfile no longer builds on distroless nonroot (uid 65532): %v", err)
	}
	for name, ns := range k.namespaces {
		if ns.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
			t.Errorf("namespace %s does not enforce the restricted Pod Security Standard", name)
		}
		if k.root.Namespace != name {
			t.Errorf("namespace.yaml makes %s, the kustomization puts everything in %q", name, k.root.Namespace)
		}
	}
}

// TestNetworkPolicies: the bot's pods accept the metrics port from
// Prometheus and, with the http component, the HTTP port from the ingress
// controller, nothing else (never the probe port: the kubelet's probes come
// from the node); the optional Redis accepts only the bot.
func TestNetworkPolicies(t *testing.T) {
	k := loadKit(t)
	d, c := bot(t, k)
	ports := map[int32]string{} // the bot's ports, by number
	for _, p := range c.Ports {
		ports[p.ContainerPort] = p.Name
	}
	for _, p := range k.patches {
		for _, pc := range p.Spec.Template.Spec.Containers {
			for _, port := range pc.Ports {
				ports[port.ContainerPort] = port.Name
			}
		}
	}
	admitted := map[string]string{} // port name → who
	for name, np := range k.policies {
		sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			continue
		}
		if !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) {
			t.Errorf("%s does not restrict ingress", name)
		}
		for _, rule := range np.Spec.Ingress {
			if len(rule.From) == 0 {
				t.Errorf("%s lets anyone in", name)
			}
			if len(rule.Ports) == 0 {
				t.Errorf("%s opens every port", name)
			}
			for _, from := range rule.From {
				if from.NamespaceSelector == nil || len(from.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]) == 0 {
					t.Errorf("%s admits %+v, want one namespace by name", name, from)
					continue
				}
				for _, p := range rule.Ports {
					if p.Port == nil || p.Port.Type != intstr.String || !slices.Contains(slices.Collect(maps.Values(ports)), p.Port.StrVal) {
						t.Errorf("%s opens port %v, want one of the bot's ports by name", name, p.Port)
						continue
					}
					admitted[p.Port.StrVal] = from.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]
				}
			}
		}
	}
	want := map[string]string{"metrics": "monitoring", "slack-http": "ingress-nginx"}
	if !maps.Equal(admitted, want) {
		t.Errorf("the bot's pods admit %v (port → namespace), want %v: Prometheus to metrics, the ingress controller to slack-http, and nothing to the probes", admitted, want)
	}

	redis := k.deployments["tempreport-redis"]
	if redis == nil {
		t.Fatal("the redis component declares no tempreport-redis Deployment")
	}
	rc := &redis.Spec.Template.Spec.Containers[0]
	svc := k.services["tempreport-redis"]
	if svc == nil || !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(redis.Spec.Template.Labels)) ||
		containerPort(rc, svc.Spec.Ports[0].TargetPort) != 6379 || svc.Spec.Ports[0].Port != 6379 {
		t.Errorf("Service tempreport-redis does not lead to Redis's port 6379: %+v", svc)
	}
	np := k.policies["tempreport-redis"]
	if np == nil || len(np.Spec.Ingress) != 1 || len(np.Spec.Ingress[0].From) != 1 || np.Spec.Ingress[0].From[0].PodSelector == nil {
		t.Fatalf("NetworkPolicy tempreport-redis: %+v, want one rule from the bot's pods", np)
	}
	from, err := metav1.LabelSelectorAsSelector(np.Spec.Ingress[0].From[0].PodSelector)
	if err != nil || !from.Matches(labels.Set(d.Spec.Template.Labels)) || from.Matches(labels.Set(redis.Spec.Template.Labels)) {
		t.Errorf("tempreport-redis admits %v, want the bot's pods", np.Spec.Ingress[0].From[0].PodSelector)
	}
	if r := redis.Spec.Replicas; r == nil || *r != 1 {
		t.Errorf("the optional Redis runs %v replicas: two would be two budgets", r)
	}
	kz := k.components["redis"]
	if !slices.Contains(kz.Resources, "redis.yaml") {
		t.Errorf("the redis component lists %v", kz.Resources)
	}
	if data, _ := os.ReadFile("kubernetes/redis/kustomization.yaml"); !bytes.Contains(data, []byte("NOT HIGHLY AVAILABLE")) ||
		!bytes.Contains(data, []byte("REDIS_URL=redis://"+svc.Name+":6379/")) {
		t.Error("kubernetes/redis/kustomization.yaml must say it is not highly available, and the REDIS_URL to use")
	}
}

// TestSecretsStayOutOfGit: the kit generates no Secret and holds no
// secret: the settings file has only settings, the Secret's example only
// the secret keys, empty, and git ignores the files an operator fills in.
func TestSecretsStayOutOfGit(t *testing.T) {
	k := loadKit(t)
	if len(k.root.SecretGenerator) != 0 {
		t.Errorf("secretGenerator %+v: the kit renders and applies without a secrets file; the README says how to make the Secret", k.root.SecretGenerator)
	}
	if len(k.root.ConfigMapGenerator) != 1 || !slices.Equal(k.root.ConfigMapGenerator[0].Envs, []string{"settings.env"}) {
		t.Fatalf("configMapGenerator %+v, want one ConfigMap from settings.env", k.root.ConfigMapGenerator)
	}
	known := envExampleNames(t)
	settings := envFileKeys(t, "kubernetes/settings.env", true)
	secret := envFileKeys(t, "kubernetes/secret.env.example", true)
	if !slices.Equal(secret, secretKeys) {
		t.Errorf("secret.env.example has %v, want the secret keys %v", secret, secretKeys)
	}
	for _, name := range settings {
		if slices.Contains(secretKeys, name) || !slices.Contains(known, name) {
			t.Errorf("settings.env names %s: want only the settings .env.example lists, no secret", name)
		}
	}
	for _, name := range known {
		if !slices.Contains(settings, name) && !slices.Contains(secretKeys, name) && !slices.Contains(setOnTheContainer, name) {
			t.Errorf("%s (in .env.example) is neither in settings.env, nor in the Secret, nor set on the container", name)
		}
	}
	ignore, err := os.ReadFile("../.gitignore")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{".env", "secret.env"} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(f) + `$`).Match(ignore) {
			t.Errorf(".gitignore does not ignore %s in every directory: a filled-in one could be committed", f)
		}
	}
}

// secretKeys are what the Secret holds: the tokens, the signing secret
// of the HTTP mode, and REDIS_URL (it may carry a password).
var secretKeys = []string{"SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "YIBEIDIAO_KEY", "YIBEIDIAO_TOKEN", "REDIS_URL"}

// setOnTheContainer are the variables deployment.yaml, or the http
// component, sets itself.
var setOnTheContainer = []string{"HEALTH_ADDR", "METRICS_ADDR", "LOG_FORMAT", "SLACK_HTTP_ADDR"}

// envExampleNames are the variables ../.env.example lists, set or
// commented out, in its order.
func envExampleNames(t *testing.T) []string {
	t.Helper()
	return envFileKeys(t, "../.env.example", true)
}

// envFileKeys reads an env file's keys in order; withCommented also those
// of "#KEY=value" lines.
func envFileKeys(t *testing.T, path string, withCommented bool) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`(?m)^(#?)([A-Z][A-Z0-9_]*)=`)
	var keys []string
	for _, m := range line.FindAllStringSubmatch(string(data), -1) {
		if m[1] == "" || withCommented {
			keys = append(keys, m[2])
		}
	}
	return keys
}

func ptrValue[T any](p *T) (v T) {
	if p != nil {
		v = *p
	}
	return v
}
