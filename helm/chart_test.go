// Package helm_test renders the Helm chart in helm/perch with a pinned helm
// and checks what a platform team relies on: probes, the migration hook
// running first, no secret in plain values, non-root, read-only root fs.
//
// helm is `go install`ed at the pinned version into the user cache (about
// half a minute with a warm module cache), or taken from $PERCH_HELM. When
// it cannot be built (offline) the tests skip, except in CI (CI set), where
// they fail.
package helm_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"
)

// helmVersion is the pinned helm (also in the Makefile's helm-lint).
const helmVersion = "v3.16.4"

var (
	helmOnce sync.Once
	helmBin  string
	helmErr  error
)

// helm returns the path of a helm binary, building it once.
func helm(t *testing.T) string {
	t.Helper()
	helmOnce.Do(func() {
		if p := os.Getenv("PERCH_HELM"); p != "" {
			helmBin = p
			return
		}
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		dir := filepath.Join(cache, "perch-helm-"+helmVersion)
		bin := filepath.Join(dir, "helm")
		if _, err := os.Stat(bin); err == nil {
			helmBin = bin
			return
		}
		cmd := exec.Command("go", "install", "helm.sh/helm/v3/cmd/helm@"+helmVersion)
		cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			helmErr = errors.New("go install helm.sh/helm/v3/cmd/helm@" + helmVersion + ": " + err.Error() + "\n" + string(out))
			return
		}
		helmBin = bin
	})
	if helmErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("helm is required in CI: %v", helmErr)
		}
		t.Skipf("helm unavailable (offline?); set PERCH_HELM to a helm binary to run this test: %v", helmErr)
	}
	return helmBin
}

const chart = "perch"

// object is one rendered manifest.
type object map[string]any

func (o object) kind() string { return str(o, "kind") }
func (o object) name() string { return str(o, "metadata", "name") }

// get walks maps by key and lists by index ("0").
func get(v any, path ...string) any {
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case object:
			v = x[p]
		case []any:
			i := 0
			for _, c := range p {
				i = i*10 + int(c-'0')
			}
			if i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// asMap reads a mapping (yaml.v3 decodes nested mappings as object).
func asMap(v any) map[string]any {
	switch m := v.(type) {
	case object:
		return m
	case map[string]any:
		return m
	}
	return nil
}

func str(v any, path ...string) string {
	s, _ := get(v, path...).(string)
	return s
}

// render runs helm template with the values and returns the manifests.
func render(t *testing.T, args ...string) []object {
	t.Helper()
	out, err := renderErr(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	var objs []object
	dec := yaml.NewDecoder(bytes.NewReader(out))
	for {
		var o object
		if err := dec.Decode(&o); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("rendered YAML does not parse: %v", err)
		}
		if o != nil {
			objs = append(objs, o)
		}
	}
	return objs
}

func renderErr(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(helm(t), append([]string{"template", "rel", chart, "--namespace", "office"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, errors.New("helm template: " + err.Error() + ": " + stderr.String())
	}
	return out, nil
}

func find(t *testing.T, objs []object, kind string) object {
	t.Helper()
	for _, o := range objs {
		if o.kind() == kind {
			return o
		}
	}
	t.Fatalf("no %s rendered", kind)
	return nil
}

const (
	dbURL     = "postgres://perch:s3cr3t-password@db.example.com:5432/perch?sslmode=require"
	bootToken = "bootstrap-0123456789abcdef0123456789"
)

func TestLint(t *testing.T) {
	out, err := exec.Command(helm(t), "lint", "--strict", chart, "--set", "database.existingSecret=perch-db").CombinedOutput()
	if err != nil {
		t.Fatalf("helm lint: %v\n%s", err, out)
	}
}

func TestDeploymentIsProductionReady(t *testing.T) {
	objs := render(t, "--set", "database.url="+dbURL, "--set", "bootstrap.token="+bootToken)
	dep := find(t, objs, "Deployment")
	pod := get(dep, "spec", "template", "spec")
	c := get(pod, "containers", "0")
	if p := str(c, "readinessProbe", "httpGet", "path"); p != "/readyz" {
		t.Errorf("readiness probe %q, want /readyz", p)
	}
	if p := str(c, "livenessProbe", "httpGet", "path"); p != "/healthz" {
		t.Errorf("liveness probe %q, want /healthz", p)
	}
	for _, sc := range []any{get(pod, "securityContext"), get(c, "securityContext")} {
		if get(sc, "runAsNonRoot") != true {
			t.Errorf("runAsNonRoot not set in %v", sc)
		}
	}
	if get(c, "securityContext", "readOnlyRootFilesystem") != true || get(c, "securityContext", "allowPrivilegeEscalation") != false {
		t.Error("the container's root filesystem is not read-only, or it may escalate")
	}
	if get(c, "resources", "limits", "memory") == nil || get(c, "resources", "requests", "cpu") == nil {
		t.Error("resources not set")
	}
	envs := map[string]any{}
	for _, e := range get(c, "env").([]any) {
		envs[str(e, "name")] = e
	}
	if str(envs["GOMAXPROCS"], "valueFrom", "resourceFieldRef", "resource") != "limits.cpu" ||
		str(envs["GOMEMLIMIT"], "valueFrom", "resourceFieldRef", "resource") != "limits.memory" {
		t.Error("GOMAXPROCS/GOMEMLIMIT do not come from the limits")
	}
	for _, name := range []string{"PERCH_DATABASE_URL", "PERCH_BOOTSTRAP_TOKEN"} {
		if str(envs[name], "valueFrom", "secretKeyRef", "name") == "" {
			t.Errorf("%s does not come from a Secret", name)
		}
	}
	// The drain fits in the grace period.
	grace, _ := get(pod, "terminationGracePeriodSeconds").(int)
	sleep, _ := get(c, "lifecycle", "preStop", "sleep", "seconds").(int)
	cm := find(t, objs, "ConfigMap")
	if str(cm, "data", "PERCH_SHUTDOWN_TIMEOUT") != "20s" || sleep != 5 || grace <= 25 {
		t.Errorf("grace %d must exceed preStop %d + shutdown %s", grace, sleep, str(cm, "data", "PERCH_SHUTDOWN_TIMEOUT"))
	}
	if str(cm, "data", "PERCH_AUTO_MIGRATE") != "false" {
		t.Error("pods migrate at start and would race the migration Job")
	}
	// The HPA owns the replica count; the PDB keeps one pod through drains.
	if get(dep, "spec", "replicas") != nil {
		t.Error("the Deployment sets replicas while the HPA scales it")
	}
	if hpa := find(t, objs, "HorizontalPodAutoscaler"); get(hpa, "spec", "minReplicas") != 2 {
		t.Errorf("HPA minReplicas %v, want 2", get(hpa, "spec", "minReplicas"))
	}
	find(t, objs, "PodDisruptionBudget")
	// Without the HPA, 2 replicas by default.
	dep = find(t, render(t, "--set", "database.existingSecret=perch-db", "--set", "autoscaling.enabled=false"), "Deployment")
	if get(dep, "spec", "replicas") != 2 {
		t.Errorf("replicas %v, want 2", get(dep, "spec", "replicas"))
	}
}

// The migration Job is a pre-install/pre-upgrade hook that runs before
// everything else (only the chart's Secret, which it reads, comes earlier);
// its pods are not picked up by the Service.
func TestMigrationJobRunsFirst(t *testing.T) {
	for _, args := range [][]string{
		{"--set", "database.url=" + dbURL},
		{"--set", "database.existingSecret=perch-db"},
	} {
		objs := render(t, args...)
		job := find(t, objs, "Job")
		ann := get(job, "metadata", "annotations")
		if str(ann, "helm.sh/hook") != "pre-install,pre-upgrade" {
			t.Fatalf("migration Job hook %q", str(ann, "helm.sh/hook"))
		}
		weight := str(ann, "helm.sh/hook-weight")
		if a := get(job, "spec", "template", "spec", "containers", "0", "args"); len(a.([]any)) != 2 || a.([]any)[0] != "migrate" || a.([]any)[1] != "up" {
			t.Errorf("Job args %v, want [migrate up]", a)
		}
		for _, o := range objs {
			if o == nil || o.kind() == "Job" {
				continue
			}
			h := str(o, "metadata", "annotations", "helm.sh/hook")
			if h == "" {
				continue // applied after every pre-install hook succeeded
			}
			w := str(o, "metadata", "annotations", "helm.sh/hook-weight")
			if o.kind() != "Secret" && atoi(w) <= atoi(weight) {
				t.Errorf("%s %s is a hook with weight %s, not after the migration Job (%s)", o.kind(), o.name(), w, weight)
			}
			if o.kind() == "Secret" && atoi(w) >= atoi(weight) {
				t.Errorf("the Secret the Job reads has weight %s, not before the Job (%s)", w, weight)
			}
		}
		svcSel := asMap(get(find(t, objs, "Service"), "spec", "selector"))
		podLabels := asMap(get(job, "spec", "template", "metadata", "labels"))
		matches := true
		for k, v := range svcSel {
			if podLabels[k] != v {
				matches = false
			}
		}
		if matches {
			t.Error("the Service selects migration pods")
		}
	}
}

func atoi(s string) int {
	n, neg := 0, strings.HasPrefix(s, "-")
	for _, c := range strings.TrimPrefix(s, "-") {
		n = n*10 + int(c-'0')
	}
	if neg {
		return -n
	}
	return n
}

// Secrets reach pods only through Secrets: the database password and the
// bootstrap token never appear in a ConfigMap or a plain env value, nor in
// the chart's default values.
func TestNoSecretInPlainValues(t *testing.T) {
	objs := render(t, "--set", "database.url="+dbURL, "--set", "bootstrap.token="+bootToken, "--set", "ingress.enabled=true",
		"--set", "serviceMonitor.enabled=true")
	for _, o := range objs {
		if o.kind() == "Secret" {
			continue
		}
		b, _ := yaml.Marshal(o)
		for _, secret := range []string{"s3cr3t-password", bootToken} {
			if strings.Contains(string(b), secret) {
				t.Errorf("%s %s contains a secret in plain text", o.kind(), o.name())
			}
		}
	}
	values, err := os.ReadFile(filepath.Join(chart, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(values), "postgres://") && !strings.Contains(string(values), "PASSWORD@") {
		t.Error("values.yaml ships a database URL")
	}
	if _, err := renderErr(t, "--set", "database.existingSecret=x", "--set", "perch.extraConfig.PERCH_BOOTSTRAP_TOKEN=oops-oops-oops-oops-oops-oops"); err == nil {
		t.Error("a secret was accepted into the ConfigMap via extraConfig")
	}
}

// The Ingress keeps WebSockets open; the ServiceMonitor scrapes /metrics.
func TestIngressAndServiceMonitor(t *testing.T) {
	objs := render(t, "--set", "database.existingSecret=perch-db", "--set", "ingress.enabled=true", "--set", "serviceMonitor.enabled=true")
	ing := find(t, objs, "Ingress")
	for _, a := range []string{"nginx.ingress.kubernetes.io/proxy-read-timeout", "nginx.ingress.kubernetes.io/proxy-send-timeout"} {
		if v := atoi(str(ing, "metadata", "annotations", a)); v < 3600 {
			t.Errorf("%s = %d, want >= 3600 for WebSockets", a, v)
		}
	}
	sm := find(t, objs, "ServiceMonitor")
	if str(sm, "spec", "endpoints", "0", "path") != "/metrics" {
		t.Error("ServiceMonitor does not scrape /metrics")
	}
	for _, o := range render(t, "--set", "database.existingSecret=perch-db") {
		if o.kind() == "Ingress" || o.kind() == "ServiceMonitor" {
			t.Errorf("%s rendered though disabled by default", o.kind())
		}
	}
}

// Mistakes fail rendering with a clear message.
func TestValidation(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "a database is required"},
		{[]string{"--set", "database.existingSecret=x", "--set", "terminationGracePeriodSeconds=20"}, "terminationGracePeriodSeconds"},
		{[]string{"--set", "database.existingSecret=x", "--set", "bootstrap.token=short"}, "at least 24"},
	} {
		_, err := renderErr(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error about %q", tc.args, err, tc.want)
		}
	}
}
