package deploy

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// kustomizeBuild builds kubernetes/ as kubectl apply -k would, with a .env
// made from ../.env.example and REDIS_URL, in memory (nothing is written
// beside the manifests), and decodes what it makes strictly. edit may
// change kustomization.yaml first.
func kustomizeBuild(t *testing.T, edit func(string) string) map[string][]any {
	t.Helper()
	fs := filesys.MakeFsInMemory()
	err := filepath.WalkDir("kubernetes", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == ".env" {
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
	example, err := os.ReadFile("../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	env := append(example, "\nREDIS_URL=redis://tempreport-redis:6379/0\n"...)
	if err := fs.WriteFile("/kubernetes/.env", env); err != nil {
		t.Fatal(err)
	}
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fs, "/kubernetes")
	if err != nil {
		t.Fatalf("kustomize build: %v", err)
	}
	out, err := m.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	objects := map[string][]any{}
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

// TestKustomizeBuild: the kustomization builds, with and without the redis
// component, into objects that decode strictly, all in the tempreport
// namespace, the pods reading the Secret that .env became (its name has
// kustomize's hash), with REDIS_URL in it.
func TestKustomizeBuild(t *testing.T) {
	enableRedis := func(k string) string {
		enabled := strings.Replace(k, "# components:\n#   - redis", "components:\n  - redis", 1)
		if enabled == k {
			t.Fatal("kustomization.yaml no longer has the commented-out redis component the README tells operators to enable")
		}
		return enabled
	}
	for _, tt := range []struct {
		name        string
		edit        func(string) string
		deployments int
	}{{"as shipped", nil, 1}, {"with the redis component", enableRedis, 2}} {
		t.Run(tt.name, func(t *testing.T) {
			objects := kustomizeBuild(t, tt.edit)
			if len(objects["Secret"]) != 1 || len(objects["Deployment"]) != tt.deployments {
				t.Fatalf("built %d Secrets and %d Deployments, want 1 and %d", len(objects["Secret"]), len(objects["Deployment"]), tt.deployments)
			}
			secret := objects["Secret"][0].(*corev1.Secret)
			if !strings.HasPrefix(secret.Name, "tempreport-") || len(secret.Name) <= len("tempreport-") {
				t.Errorf("the Secret is named %q, want tempreport-<hash>, so that pods roll when .env changes", secret.Name)
			}
			if _, ok := secret.Data["REDIS_URL"]; !ok {
				if _, ok := secret.StringData["REDIS_URL"]; !ok {
					t.Errorf("the Secret from .env has no REDIS_URL")
				}
			}
			for kind, objs := range objects {
				for _, o := range objs {
					ns := o.(interface{ GetNamespace() string }).GetNamespace()
					if kind != "Namespace" && ns != "tempreport" {
						t.Errorf("%s %s is in namespace %q, want tempreport", kind, o.(interface{ GetName() string }).GetName(), ns)
					}
				}
			}
			for _, o := range objects["Deployment"] {
				d := o.(*appsv1.Deployment)
				if d.Name != "tempreport" {
					continue
				}
				c := d.Spec.Template.Spec.Containers[0]
				if c.Image != "tempreport:latest" {
					t.Errorf("image %q, want the kustomization's images: entry applied", c.Image)
				}
				for _, e := range c.EnvFrom {
					if e.SecretRef.Name != secret.Name {
						t.Errorf("envFrom names Secret %q, want the built %q", e.SecretRef.Name, secret.Name)
					}
				}
				if ref := env(&c, "REDIS_URL").ValueFrom.SecretKeyRef; ref.Name != secret.Name {
					t.Errorf("REDIS_URL comes from Secret %q, want the built %q", ref.Name, secret.Name)
				}
			}
		})
	}
}
