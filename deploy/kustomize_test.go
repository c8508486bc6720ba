package deploy

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// built is what kustomize made, decoded strictly, by kind.
type built map[string][]any

// kustomizeBuild builds dir (under a copy of kubernetes/ at /kubernetes, in
// memory: nothing is written beside the manifests, and no .env or Secret
// file is there, as on a fresh clone) as kubectl kustomize would, and
// decodes what it makes strictly. edit may change kubernetes/
// kustomization.yaml first; extra files are added (an overlay of the
// operator's own).
func kustomizeBuild(t *testing.T, dir string, edit func(string) string, extra map[string]string) built {
	t.Helper()
	fs := filesys.MakeFsInMemory()
	err := filepath.WalkDir("kubernetes", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == ".env" || d.Name() == "secret.env" {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if path == filepath.Join("kubernetes", "kustomization.yaml") && edit != nil {
			data = []byte(edit(string(data)))
		}
		return fs.WriteFile("/"+filepath.ToSlash(path), data)
	})
	if err != nil {
		t.Fatal(err)
	}
	for path, data := range extra {
		if err := fs.WriteFile(path, []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fs, dir)
	if err != nil {
		t.Fatalf("kustomize build: %v", err)
	}
	out, err := m.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	objects := built{}
	for doc := range bytes.SplitSeq(out, []byte("\n---\n")) {
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			t.Fatal(err)
		}
		obj, _, err := decodeObject(meta, doc)
		if err != nil {
			t.Errorf("built %s: %v", meta.Kind, err)
			continue
		}
		objects[meta.Kind] = append(objects[meta.Kind], obj)
	}
	return objects
}

// enable uncomments components in kustomization.yaml, as the README tells
// operators to.
func enable(t *testing.T, components ...string) func(string) string {
	return func(k string) string {
		k = strings.Replace(k, "# components:\n", "components:\n", 1)
		for _, c := range components {
			line := regexp.MustCompile(`(?m)^#   - ` + c + ` #`)
			if !line.MatchString(k) {
				t.Fatalf("kustomization.yaml no longer has the commented-out %s component the README tells operators to enable", c)
			}
			k = line.ReplaceAllString(k, "  - "+c+" #")
		}
		return k
	}
}

// counts is how many objects of each kind were built.
func (b built) counts() map[string]int {
	n := map[string]int{}
	for kind, objs := range b {
		n[kind] = len(objs)
	}
	return n
}

// deployment is the bot's Deployment as built.
func (b built) deployment(t *testing.T) *appsv1.Deployment {
	t.Helper()
	for _, o := range b["Deployment"] {
		if d := o.(*appsv1.Deployment); d.Name == "tempreport" {
			return d
		}
	}
	t.Fatal("no Deployment tempreport was built")
	return nil
}

// TestKustomizeBuild: on a fresh clone (no .env, no Secret file) the kit
// builds as shipped and with each component, into objects that decode
// strictly (the Operator's into its own types), all in the tempreport
// namespace: a ConfigMap of settings whose name carries kustomize's hash,
// so that a change rolls the pods; the image with its placeholder tag,
// never latest; the Secret named, not made.
func TestKustomizeBuild(t *testing.T) {
	base := map[string]int{"Namespace": 1, "ConfigMap": 1, "Deployment": 1, "Service": 1, "PodDisruptionBudget": 1, "NetworkPolicy": 1}
	with := func(more map[string]int) map[string]int {
		n := maps.Clone(base)
		for k, v := range more {
			n[k] += v
		}
		return n
	}
	for _, tt := range []struct {
		name       string
		components []string
		want       map[string]int
	}{
		{"as shipped", nil, base},
		{"with the redis component", []string{"redis"}, with(map[string]int{"Deployment": 1, "Service": 1, "NetworkPolicy": 1})},
		{"with the monitoring component", []string{"monitoring"}, with(map[string]int{"ServiceMonitor": 1, "PrometheusRule": 1})},
		{"with the http component", []string{"http"}, with(map[string]int{"Service": 1, "Ingress": 1, "NetworkPolicy": 1})},
		{"with every component", []string{"redis", "monitoring", "http"},
			with(map[string]int{"Deployment": 1, "Service": 2, "NetworkPolicy": 2, "ServiceMonitor": 1, "PrometheusRule": 1, "Ingress": 1})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var edit func(string) string
			if tt.components != nil {
				edit = enable(t, tt.components...)
			}
			objects := kustomizeBuild(t, "/kubernetes", edit, nil)
			if got := objects.counts(); !maps.Equal(got, tt.want) {
				t.Errorf("built %v, want %v", got, tt.want)
			}
			for kind, objs := range objects {
				for _, o := range objs {
					ns := o.(interface{ GetNamespace() string }).GetNamespace()
					if kind != "Namespace" && ns != "tempreport" {
						t.Errorf("%s %s is in namespace %q, want tempreport", kind, o.(interface{ GetName() string }).GetName(), ns)
					}
				}
			}
			settings := objects["ConfigMap"][0].(*corev1.ConfigMap)
			if !strings.HasPrefix(settings.Name, "tempreport-settings-") || len(settings.Name) <= len("tempreport-settings-") {
				t.Errorf("the settings ConfigMap is named %q, want tempreport-settings-<hash>, so that pods roll when settings.env changes", settings.Name)
			}
			if _, ok := settings.Data["ALLOWED_USER_IDS"]; !ok {
				t.Errorf("the settings ConfigMap %v has no ALLOWED_USER_IDS", settings.Data)
			}
			d := objects.deployment(t)
			c := d.Spec.Template.Spec.Containers[0]
			if c.Image != "registry.example/tempreport:v0.0.0-set-me" {
				t.Errorf("image %q, want the kustomization's placeholder (never latest), which the README's steps replace", c.Image)
			}
			if c.EnvFrom[0].ConfigMapRef.Name != settings.Name || c.EnvFrom[1].SecretRef.Name != secretName {
				t.Errorf("envFrom %+v, want the built %s, then the Secret %s", c.EnvFrom, settings.Name, secretName)
			}
			if slices.Contains(tt.components, "http") {
				if env(&c, "SLACK_HTTP_ADDR") == nil || containerPort(&c, intstr.FromString("slack-http")) != 3000 {
					t.Errorf("with the http component the bot has no SLACK_HTTP_ADDR or port slack-http: %+v", c)
				}
				checkIngress(t, objects)
			}
			if slices.Contains(tt.components, "monitoring") {
				pr := objects["PrometheusRule"][0].(*monitoringv1.PrometheusRule)
				if len(pr.Spec.Groups) == 0 || len(pr.Spec.Groups[0].Rules) < 8 {
					t.Errorf("the built PrometheusRule has %+v, want the alerts", pr.Spec.Groups)
				}
			}
		})
	}
}

// checkIngress: the http component's Ingress ends TLS for its host and
// sends only /slack/events to the bot's port slack-http, through the
// Service of that port.
func checkIngress(t *testing.T, objects built) {
	t.Helper()
	ing := objects["Ingress"][0].(*networkingv1.Ingress)
	var svc *corev1.Service
	for _, o := range objects["Service"] {
		if s := o.(*corev1.Service); s.Name == "tempreport-slack-http" {
			svc = s
		}
	}
	if svc == nil || len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Name != "slack-http" || svc.Spec.Ports[0].TargetPort.StrVal != "slack-http" {
		t.Fatalf("Service tempreport-slack-http %+v, want its one port slack-http to the bot's", svc)
	}
	if len(ing.Spec.TLS) != 1 || len(ing.Spec.Rules) != 1 || !slices.Equal(ing.Spec.TLS[0].Hosts, []string{ing.Spec.Rules[0].Host}) {
		t.Fatalf("Ingress %+v, want TLS for its one host", ing.Spec)
	}
	paths := ing.Spec.Rules[0].HTTP.Paths
	if len(paths) != 1 || paths[0].Path != "/slack/events" || paths[0].PathType == nil || *paths[0].PathType != networkingv1.PathTypeExact ||
		paths[0].Backend.Service == nil || paths[0].Backend.Service.Name != svc.Name || paths[0].Backend.Service.Port.Name != "slack-http" {
		t.Errorf("Ingress paths %+v, want only /slack/events (Exact) to %s:slack-http", paths, svc.Name)
	}
}

// TestOverlayMakesTheSecretAndRollsThePods: an overlay of the operator's
// own that makes the Secret with a secretGenerator (README, Deploying)
// builds over the kit, and the pods then read the Secret by its hashed
// name: a change to the file rolls them, as a change to settings.env does.
func TestOverlayMakesTheSecretAndRollsThePods(t *testing.T) {
	example, err := os.ReadFile("kubernetes/secret.env.example")
	if err != nil {
		t.Fatal(err)
	}
	secretEnv := strings.Replace(string(example), "\nREDIS_URL=\n", "\nREDIS_URL=redis://tempreport-redis:6379/0\n", 1)
	overlay := map[string]string{
		"/overlay/kustomization.yaml": "resources:\n  - ../kubernetes\nsecretGenerator:\n  - name: tempreport\n    namespace: tempreport\n    envs:\n      - secret.env\n",
		"/overlay/secret.env":         secretEnv,
	}
	objects := kustomizeBuild(t, "/overlay", nil, overlay)
	if len(objects["Secret"]) != 1 {
		t.Fatalf("the overlay built %d Secrets, want 1", len(objects["Secret"]))
	}
	secret := objects["Secret"][0].(*corev1.Secret)
	if !strings.HasPrefix(secret.Name, "tempreport-") || secret.Namespace != "tempreport" {
		t.Errorf("the Secret is %s/%s, want tempreport/tempreport-<hash>", secret.Namespace, secret.Name)
	}
	if string(secret.Data["REDIS_URL"]) != "redis://tempreport-redis:6379/0" {
		t.Errorf("the Secret's REDIS_URL is %q", secret.Data["REDIS_URL"])
	}
	c := objects.deployment(t).Spec.Template.Spec.Containers[0]
	if c.EnvFrom[1].SecretRef.Name != secret.Name || env(&c, "REDIS_URL").ValueFrom.SecretKeyRef.Name != secret.Name {
		t.Errorf("the pods read Secret %q and REDIS_URL from %q, want the built %q", c.EnvFrom[1].SecretRef.Name,
			env(&c, "REDIS_URL").ValueFrom.SecretKeyRef.Name, secret.Name)
	}
}
