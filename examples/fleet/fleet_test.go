// Package fleet_test checks the fleet examples: the GitHub Actions workflow (parsed as YAML) and
// the Kubernetes manifests (decoded strictly into the k8s.io/api types, as kubectl apply
// --dry-run=client would decode them). The YAML and Kubernetes modules are used by this test only;
// the c4sctl binary does not link them.
package fleet_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/cli"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	sjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// ---- GitHub Actions ----

type workflow struct {
	Env  map[string]string `json:"env"`
	Jobs map[string]*job   `json:"jobs"`
}

type job struct {
	Needs       any               `json:"needs"` // a string or a list
	If          string            `json:"if"`
	Permissions map[string]string `json:"permissions"`
	Outputs     map[string]string `json:"outputs"`
	Env         map[string]string `json:"env"`
	Strategy    struct {
		FailFast *bool          `json:"fail-fast"`
		Matrix   map[string]any `json:"matrix"`
	} `json:"strategy"`
	Steps []step `json:"steps"`
}

type step struct {
	ID   string            `json:"id"`
	Name string            `json:"name"`
	Uses string            `json:"uses"`
	Run  string            `json:"run"`
	If   string            `json:"if"`
	With map[string]string `json:"with"`
}

func (j *job) needs() []string {
	switch n := j.Needs.(type) {
	case string:
		return []string{n}
	case []any:
		var out []string
		for _, x := range n {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	return nil
}

// text is everything in the job an expression can appear in.
func (j *job) text() string {
	b, _ := json.Marshal(j)
	return string(b)
}

const actionsDir = "github-actions"

func readWorkflow(t *testing.T) (*workflow, string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(actionsDir, "c4sctl-fleet.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var wf workflow
	if err := yaml.Unmarshal(raw, &wf); err != nil {
		t.Fatalf("c4sctl-fleet.yml: %v", err)
	}
	return &wf, string(raw)
}

type tenantEntry struct {
	Workspace string `json:"workspace"`
	Secrets   string `json:"secrets"`
}

func TestGitHubActionsFleetWorkflow(t *testing.T) {
	wf, raw := readWorkflow(t)
	for _, name := range []string{"tenants", "drift", "merge"} {
		if wf.Jobs[name] == nil {
			t.Fatalf("no job %q (jobs: %v)", name, keys(wf.Jobs))
		}
	}

	// The jobs reference each other correctly: every needs names a job, every
	// needs.JOB.outputs.NAME names a job this one needs and an output it declares, every
	// steps.ID.outputs a step of the same job.
	needsRef := regexp.MustCompile(`needs\.([A-Za-z0-9_-]+)\.(outputs\.([A-Za-z0-9_-]+)|result)`)
	stepsRef := regexp.MustCompile(`steps\.([A-Za-z0-9_-]+)\.outputs`)
	for name, j := range wf.Jobs {
		for _, n := range j.needs() {
			if wf.Jobs[n] == nil || n == name {
				t.Errorf("job %s needs %q, which is not another job", name, n)
			}
		}
		for _, m := range needsRef.FindAllStringSubmatch(j.text(), -1) {
			if !slices.Contains(j.needs(), m[1]) {
				t.Errorf("job %s reads needs.%s without needing it", name, m[1])
			} else if m[3] != "" && wf.Jobs[m[1]].Outputs[m[3]] == "" {
				t.Errorf("job %s reads needs.%s.outputs.%s, which %s does not declare", name, m[1], m[3], m[1])
			}
		}
		ids := map[string]bool{}
		for _, s := range j.Steps {
			ids[s.ID] = true
		}
		for _, m := range stepsRef.FindAllStringSubmatch(j.text(), -1) {
			if !ids[m[1]] {
				t.Errorf("job %s reads steps.%s, not a step of it", name, m[1])
			}
		}
		for _, s := range j.Steps {
			// State never rides in the Actions cache (evicted after a week without use; no lock).
			if strings.HasPrefix(s.Uses, "actions/cache") {
				t.Errorf("job %s step %q uses %s: state lives in the azurerm backend", name, s.Name, s.Uses)
			}
			if s.Uses != "" && !regexp.MustCompile(`@v\d+$`).MatchString(s.Uses) {
				t.Errorf("job %s: %s is not pinned to a major version", name, s.Uses)
			}
		}
	}
	if strings.Contains(raw, "actions/cache") || strings.Contains(raw, ".c4sctl/state") {
		t.Error("the workflow mentions the Actions cache or a local state file")
	}

	// The matrix is read from the tenant file.
	tenants, drift, merge := wf.Jobs["tenants"], wf.Jobs["drift"], wf.Jobs["merge"]
	if got := fmt.Sprint(drift.Strategy.Matrix["tenant"]); got != "${{ fromJSON(needs.tenants.outputs.tenants) }}" {
		t.Errorf("drift matrix.tenant = %q, want it from the tenants job's output", got)
	}
	if drift.Strategy.FailFast == nil || *drift.Strategy.FailFast {
		t.Error("drift must set fail-fast: false (one tenant's failure must not cancel the others)")
	}
	out := regexp.MustCompile(`^\$\{\{ steps\.([a-z]+)\.outputs\.tenants \}\}$`).FindStringSubmatch(tenants.Outputs["tenants"])
	if out == nil {
		t.Fatalf("tenants job output: %q", tenants.Outputs["tenants"])
	}
	var reader *step
	for i := range tenants.Steps {
		if tenants.Steps[i].ID == out[1] {
			reader = &tenants.Steps[i]
		}
	}
	if reader == nil || !strings.Contains(reader.Run, `"$TENANTS_FILE"`) || !strings.Contains(reader.Run, `tenants=`) || !strings.Contains(reader.Run, "GITHUB_OUTPUT") {
		t.Fatalf("the tenants job does not read $TENANTS_FILE into its output: %+v", reader)
	}
	if path.Base(wf.Env["TENANTS_FILE"]) != "tenants.json" {
		t.Errorf("TENANTS_FILE = %q", wf.Env["TENANTS_FILE"])
	}
	// The example tenant file is what the matrix and report merge --expect read.
	tf, err := os.ReadFile(filepath.Join(actionsDir, "tenants.json"))
	if err != nil {
		t.Fatal(err)
	}
	var entries []tenantEntry
	dec := json.NewDecoder(bytes.NewReader(tf))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&entries); err != nil || len(entries) == 0 {
		t.Fatalf("tenants.json: %v", err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		if e.Workspace == "" || seen[e.Workspace] || !regexp.MustCompile(`^[A-Z0-9_]+$`).MatchString(e.Secrets) {
			t.Errorf("tenants.json entry %+v: a unique workspace and a secret-name suffix (A-Z, 0-9, _) each", e)
		}
		seen[e.Workspace] = true
	}
	// Every matrix.tenant.X the workflow reads is in each entry the tenants job passes on.
	for _, m := range regexp.MustCompile(`matrix\.tenant\.([a-z_]+)`).FindAllStringSubmatch(raw, -1) {
		if !strings.Contains(reader.Run, m[1]) || (m[1] != "workspace" && m[1] != "secrets") {
			t.Errorf("matrix.tenant.%s is read but not in tenants.json or not passed on by the tenants job", m[1])
		}
	}

	// Each tenant: its workspace, OIDC (id-token), drift with JSON, JUnit and SARIF reports kept
	// as an artifact the merge job downloads.
	if drift.Env["C4S_WORKSPACE"] != "${{ matrix.tenant.workspace }}" {
		t.Errorf("drift C4S_WORKSPACE = %q", drift.Env["C4S_WORKSPACE"])
	}
	if drift.Permissions["id-token"] != "write" {
		t.Error("drift job lacks id-token: write (OIDC)")
	}
	var upload *step
	driftRun := ""
	for i, s := range drift.Steps {
		if strings.Contains(s.Run, "c4sctl ") && strings.Contains(s.Run, " drift ") {
			driftRun = s.Run
		}
		if strings.HasPrefix(s.Uses, "actions/upload-artifact@") {
			upload = &drift.Steps[i]
		}
	}
	for _, kind := range []string{"json", "junit", "sarif"} {
		if !regexp.MustCompile(`--report ` + kind + `=reports/`).MatchString(driftRun) {
			t.Errorf("drift writes no %s report under reports/:\n%s", kind, driftRun)
		}
	}
	if upload == nil || upload.If != "always()" || !strings.Contains(upload.With["name"], "${{ matrix.tenant.workspace }}") {
		t.Fatalf("drift job keeps no per-tenant artifact: %+v", upload)
	}
	for _, f := range []string{"reports/drift.json", "reports/drift.xml", "reports/drift.sarif"} {
		if !strings.Contains(upload.With["path"], f) {
			t.Errorf("artifact lacks %s", f)
		}
	}
	if !slices.Contains(merge.needs(), "drift") || !strings.Contains(merge.If, "always()") {
		t.Errorf("merge must need drift and run always(): needs %v if %q", merge.needs(), merge.If)
	}
	var download *step
	mergeRun := ""
	for i, s := range merge.Steps {
		if strings.HasPrefix(s.Uses, "actions/download-artifact@") {
			download = &merge.Steps[i]
		}
		if strings.Contains(s.Run, "c4sctl report merge") {
			mergeRun = s.Run
		}
	}
	if download == nil {
		t.Fatal("merge downloads no artifact")
	}
	artifact := strings.ReplaceAll(upload.With["name"], "${{ matrix.tenant.workspace }}", entries[0].Workspace)
	if ok, _ := path.Match(download.With["pattern"], artifact); !ok || download.With["path"] != "reports" {
		t.Errorf("download pattern %q path %q does not fetch the artifact %q into reports", download.With["pattern"], download.With["path"], artifact)
	}
	if !strings.Contains(mergeRun, `--expect "$TENANTS_FILE"`) || !strings.Contains(mergeRun, "--format markdown --out fleet/fleet.md reports") ||
		!strings.Contains(mergeRun, `cat fleet/fleet.md >> "$GITHUB_STEP_SUMMARY"`) {
		t.Errorf("merge step:\n%s", mergeRun)
	}

	// Every c4sctl command line is a real command with real flags.
	n := 0
	for _, line := range strings.Split(raw, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "c4sctl ") {
			continue
		}
		n++
		var args []string
		for _, f := range strings.Fields(strings.TrimPrefix(line, "c4sctl ")) {
			if f == "||" || f == "|" || f == "&&" || strings.HasPrefix(f, ">") {
				break
			}
			args = append(args, strings.Trim(f, `"`))
		}
		root := cli.NewRoot(&cli.Globals{Getenv: func(string) string { return "" }})
		cmd, rest, err := root.Find(args)
		if err != nil || cmd == root {
			t.Errorf("%q: no such command (%v)", line, err)
			continue
		}
		if err := cmd.ParseFlags(rest); err != nil {
			t.Errorf("%q: %v", line, err)
		} else if cmd.Args != nil {
			if err := cmd.Args(cmd, cmd.Flags().Args()); err != nil {
				t.Errorf("%q: %v", line, err)
			}
		}
	}
	if n < 5 {
		t.Errorf("%d c4sctl command lines; the workflow drifts and merges in four formats", n)
	}
}

// The fleet configuration loads for each tenant of the list, and its state is in the azurerm
// backend with Microsoft Entra sign-in.
func TestFleetConfigurationPerWorkspace(t *testing.T) {
	tf, _ := os.ReadFile(filepath.Join(actionsDir, "tenants.json"))
	var entries []tenantEntry
	if err := json.Unmarshal(tf, &entries); err != nil {
		t.Fatal(err)
	}
	for _, e := range append(entries, tenantEntry{Workspace: "unknown"}) {
		var stdout, stderr bytes.Buffer
		code := cli.Main(t.Context(), []string{"--dir", "deploy", "--workspace", e.Workspace, "validate"}, strings.NewReader(""), &stdout, &stderr)
		if e.Workspace == "unknown" {
			if code != 1 || !strings.Contains(stderr.String(), "Invalid index") {
				t.Errorf("a workspace missing from var.tenants: exit %d %s", code, stderr.String())
			}
			continue
		}
		if code != 0 {
			t.Errorf("validate --workspace %s: exit %d\n%s%s", e.Workspace, code, stdout.String(), stderr.String())
		}
	}
	backend, err := os.ReadFile(filepath.Join("deploy", "backend.c4s.hcl"))
	if err != nil || !regexp.MustCompile(`backend "azurerm"`).Match(backend) || !regexp.MustCompile(`use_azuread_auth\s*=\s*true`).Match(backend) {
		t.Errorf("deploy/backend.c4s.hcl: %v\n%s", err, backend)
	}
}

func keys[M ~map[string]V, V any](m M) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// ---- Kubernetes ----

const k8sDir = "kubernetes"

type manifests struct {
	cronJobs        []*batchv1.CronJob
	serviceAccounts map[string]*corev1.ServiceAccount
	configMaps      map[string]*corev1.ConfigMap
	pvcs            map[string]*corev1.PersistentVolumeClaim
}

// decodeManifests decodes every document of every *.yaml file strictly, as the API server's strict
// field validation does (apimachinery's strict serializer: YAML to JSON refusing duplicate keys,
// then sigs.k8s.io/json's case-sensitive decoding refusing unknown and duplicate fields): a
// field the API type does not have, in any spelling (encoding/json alone would take
// "completionmode" for completionMode), fails, as does a kind the example does not use.
func decodeManifests(files map[string][]byte) (*manifests, error) {
	m := &manifests{serviceAccounts: map[string]*corev1.ServiceAccount{}, configMaps: map[string]*corev1.ConfigMap{}, pvcs: map[string]*corev1.PersistentVolumeClaim{}}
	names := keys(files)
	for _, name := range names {
		for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(files[name]), -1) {
			if strings.TrimSpace(regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAllString(doc, "")) == "" {
				continue
			}
			var tm metav1.TypeMeta
			if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
				return nil, fmt.Errorf("%s document %d: %v", name, i+1, err)
			}
			var obj any
			switch tm.APIVersion + " " + tm.Kind {
			case "batch/v1 CronJob":
				obj = &batchv1.CronJob{}
			case "v1 ServiceAccount":
				obj = &corev1.ServiceAccount{}
			case "v1 ConfigMap":
				obj = &corev1.ConfigMap{}
			case "v1 PersistentVolumeClaim":
				obj = &corev1.PersistentVolumeClaim{}
			default:
				return nil, fmt.Errorf("%s document %d: unexpected %s %s", name, i+1, tm.APIVersion, tm.Kind)
			}
			js, err := yaml.YAMLToJSONStrict([]byte(doc))
			if err != nil {
				return nil, fmt.Errorf("%s document %d (%s): %v", name, i+1, tm.Kind, err)
			}
			strict, err := sjson.UnmarshalStrict(js, obj, sjson.DisallowDuplicateFields, sjson.DisallowUnknownFields)
			if err == nil && len(strict) > 0 {
				err = errors.Join(strict...)
			}
			if err != nil {
				return nil, fmt.Errorf("%s document %d (%s): %v", name, i+1, tm.Kind, err)
			}
			switch o := obj.(type) {
			case *batchv1.CronJob:
				m.cronJobs = append(m.cronJobs, o)
			case *corev1.ServiceAccount:
				m.serviceAccounts[o.Namespace+"/"+o.Name] = o
			case *corev1.ConfigMap:
				m.configMaps[o.Namespace+"/"+o.Name] = o
			case *corev1.PersistentVolumeClaim:
				m.pvcs[o.Namespace+"/"+o.Name] = o
			}
		}
	}
	return m, nil
}

func readK8s(t *testing.T) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(k8sDir, "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	files := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(p)] = b
	}
	return files
}

func TestKubernetesFleetManifests(t *testing.T) {
	files := readK8s(t)
	m, err := decodeManifests(files)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.cronJobs) != 1 {
		t.Fatalf("%d CronJobs, want 1", len(m.cronJobs))
	}
	cj := m.cronJobs[0]
	ns := cj.Namespace
	if len(strings.Fields(cj.Spec.Schedule)) != 5 || cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
		t.Errorf("schedule %q, concurrencyPolicy %q (a night's run must not overlap the next)", cj.Spec.Schedule, cj.Spec.ConcurrencyPolicy)
	}
	js := cj.Spec.JobTemplate.Spec
	pod := js.Template.Spec

	// The tenant list: a ConfigMap mounted into the init container that picks the tenant; one
	// workspace a line.
	if len(pod.InitContainers) != 1 || len(pod.Containers) != 1 {
		t.Fatalf("%d init containers and %d containers, want 1 and 1", len(pod.InitContainers), len(pod.Containers))
	}
	initC, c := pod.InitContainers[0], pod.Containers[0]
	vols := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		if _, dup := vols[v.Name]; dup {
			t.Errorf("volume %s twice", v.Name)
		}
		vols[v.Name] = v
	}
	var tenantsMount *corev1.VolumeMount
	var tenants *corev1.ConfigMap
	mounts := map[string]map[string]string{} // container -> mount path -> volume
	for _, ctr := range []corev1.Container{initC, c} {
		mounts[ctr.Name] = map[string]string{}
		for i, vm := range ctr.VolumeMounts {
			mounts[ctr.Name][vm.MountPath] = vm.Name
			v, ok := vols[vm.Name]
			if !ok {
				t.Errorf("%s: volumeMount %s has no volume", ctr.Name, vm.Name)
				continue
			}
			switch {
			case v.ConfigMap != nil:
				if cm := m.configMaps[ns+"/"+v.ConfigMap.Name]; cm != nil && cm.Data["tenants.txt"] != "" && ctr.Name == initC.Name {
					tenants, tenantsMount = cm, &initC.VolumeMounts[i]
				}
			case v.PersistentVolumeClaim != nil:
				pvc := m.pvcs[ns+"/"+v.PersistentVolumeClaim.ClaimName]
				if pvc == nil {
					t.Errorf("volume %s: no PersistentVolumeClaim %s in the manifests", v.Name, v.PersistentVolumeClaim.ClaimName)
				} else if !slices.Contains(pvc.Spec.AccessModes, corev1.ReadWriteMany) && js.Parallelism != nil && *js.Parallelism > 1 {
					t.Errorf("PVC %s is not ReadWriteMany, yet %d pods write to it at once", pvc.Name, *js.Parallelism)
				}
			}
		}
	}
	if tenants == nil {
		t.Fatal("the init container mounts no ConfigMap holding tenants.txt")
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSuffix(tenants.Data["tenants.txt"], "\n"), "\n") {
		if l == "" || strings.HasPrefix(l, "#") || strings.TrimSpace(l) != l || slices.Contains(lines, l) {
			t.Errorf("tenants.txt line %q: one workspace a line, no blanks, comments or repeats (the index picks the line)", l)
		}
		lines = append(lines, l)
	}

	// Indexed: one completion per tenant, N at a time.
	if js.CompletionMode == nil || *js.CompletionMode != batchv1.IndexedCompletion {
		t.Errorf("completionMode %v, want Indexed", js.CompletionMode)
	}
	if js.Completions == nil || int(*js.Completions) != len(lines) {
		t.Errorf("completions %v, want %d (the tenants in tenants.txt)", js.Completions, len(lines))
	}
	if js.Parallelism == nil || *js.Parallelism < 1 || (js.Completions != nil && *js.Parallelism > *js.Completions) {
		t.Errorf("parallelism %v", js.Parallelism)
	}
	// A Job's pods restart Never or OnFailure; backoffLimitPerIndex and podFailurePolicy need
	// Never. Drift (exit 2) is a result: that index fails without a retry.
	if pod.RestartPolicy != corev1.RestartPolicyNever && pod.RestartPolicy != corev1.RestartPolicyOnFailure {
		t.Errorf("restartPolicy %q is not valid for a Job", pod.RestartPolicy)
	}
	if (js.BackoffLimitPerIndex != nil || js.PodFailurePolicy != nil) && pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Error("backoffLimitPerIndex and podFailurePolicy need restartPolicy: Never")
	}
	driftIsResult := false
	if js.PodFailurePolicy != nil {
		for _, r := range js.PodFailurePolicy.Rules {
			if r.Action == batchv1.PodFailurePolicyActionFailIndex && js.BackoffLimitPerIndex == nil {
				t.Error("FailIndex needs backoffLimitPerIndex")
			}
			if e := r.OnExitCodes; e != nil && r.Action == batchv1.PodFailurePolicyActionFailIndex && e.ContainerName != nil && *e.ContainerName == c.Name &&
				e.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn && slices.Equal(e.Values, []int32{2}) {
				driftIsResult = true
			}
		}
	}
	if !driftIsResult {
		t.Error("no podFailurePolicy rule FailIndex on the drift container's exit code 2: drift would be retried")
	}

	// The init container picks the tenant with JOB_COMPLETION_INDEX from the mounted list and
	// records it as `workspace select` does, in the directory drift runs in.
	script := strings.Join(append(append([]string{}, initC.Command...), initC.Args...), "\n")
	pick := fmt.Sprintf(`sed -n "$((JOB_COMPLETION_INDEX + 1))p" %s/tenants.txt`, tenantsMount.MountPath)
	for _, want := range []string{pick, `printf '%s\n' "$ws" > /work/.c4sctl/environment`, `mkdir -p /work/.c4sctl "/reports/$JOB_NAME/$JOB_COMPLETION_INDEX"`} {
		if !strings.Contains(script, want) {
			t.Errorf("init container script lacks %q:\n%s", want, script)
		}
	}
	for _, p := range []string{"/work", "/reports"} {
		if mounts[initC.Name][p] == "" || mounts[initC.Name][p] != mounts[c.Name][p] {
			t.Errorf("%s is not the same volume in both containers: %v", p, mounts)
		}
	}
	if v := vols[mounts[c.Name]["/work"]]; v.EmptyDir == nil {
		t.Error("/work is not a per-pod emptyDir: pods would share a workspace selection")
	}

	// The drift container runs c4sctl: its args are a real command line (a distroless image has
	// no shell), with $(VAR) references to variables the container has.
	args := slices.Clone(c.Args)
	env := map[string]bool{"JOB_COMPLETION_INDEX": true} // set by the Job controller
	for _, e := range append(initC.Env, c.Env...) {
		if e.Name == "JOB_COMPLETION_INDEX" {
			t.Error("a container sets JOB_COMPLETION_INDEX itself")
		}
		if e.Name == "JOB_NAME" && (e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != "metadata.labels['batch.kubernetes.io/job-name']") {
			t.Errorf("JOB_NAME from %+v", e.ValueFrom)
		}
	}
	for _, e := range c.Env {
		env[e.Name] = true
	}
	for _, a := range args {
		for _, m := range regexp.MustCompile(`\$\(([A-Z_]+)\)`).FindAllStringSubmatch(a, -1) {
			if !env[m[1]] {
				t.Errorf("arg %q refers to $(%s), which the drift container does not have", a, m[1])
			}
		}
	}
	if len(c.Command) != 0 {
		t.Errorf("command %v: the image's entrypoint is c4sctl", c.Command)
	}
	root := cli.NewRoot(&cli.Globals{Getenv: func(string) string { return "" }})
	cmd, rest, err := root.Find(args)
	if err != nil || cmd.Name() != "drift" {
		t.Fatalf("args %v: not c4sctl drift (%v)", args, err)
	}
	if err := cmd.ParseFlags(rest); err != nil {
		t.Fatalf("args %v: %v", args, err)
	}
	if dir, _ := root.PersistentFlags().GetString("dir"); dir != "/work" {
		t.Errorf("--dir %q, want /work (where the init container recorded the workspace)", dir)
	}
	reports, _ := cmd.Flags().GetStringArray("report")
	kinds := map[string]string{}
	for _, r := range reports {
		k, p, _ := strings.Cut(r, "=")
		kinds[k] = p
	}
	for _, k := range []string{"json", "junit", "sarif"} {
		if !strings.HasPrefix(kinds[k], "/reports/$(JOB_NAME)/$(JOB_COMPLETION_INDEX)/") {
			t.Errorf("no %s report under /reports/$(JOB_NAME)/$(JOB_COMPLETION_INDEX)/: %v", k, reports)
		}
	}

	// Workload identity: the pod label, and a ServiceAccount of the same namespace annotated
	// with a client id.
	if pod.ServiceAccountName == "" {
		t.Fatal("no serviceAccountName")
	}
	if js.Template.Labels["azure.workload.identity/use"] != "true" {
		t.Errorf("pod labels %v lack azure.workload.identity/use: \"true\"", js.Template.Labels)
	}
	sa := m.serviceAccounts[ns+"/"+pod.ServiceAccountName]
	guid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	if sa == nil || !guid.MatchString(sa.Annotations["azure.workload.identity/client-id"]) {
		t.Errorf("ServiceAccount %s/%s with an azure.workload.identity/client-id annotation: %+v", ns, pod.ServiceAccountName, sa)
	}
	for _, o := range []metav1.ObjectMeta{tenants.ObjectMeta, sa.ObjectMeta} {
		if o.Namespace != ns {
			t.Errorf("%s is in namespace %q, the CronJob in %q", o.Name, o.Namespace, ns)
		}
	}
	// The objects the README tells to create (the configuration, the Salesforce keys) are named
	// there as the manifests name them.
	readme, err := os.ReadFile(filepath.Join(k8sDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range pod.Volumes {
		var ref string
		switch {
		case v.ConfigMap != nil && m.configMaps[ns+"/"+v.ConfigMap.Name] == nil:
			ref = v.ConfigMap.Name
		case v.Secret != nil:
			ref = v.Secret.SecretName
		}
		if ref != "" && !strings.Contains(string(readme), ref) {
			t.Errorf("volume %s refers to %s, which neither the manifests nor the README create", v.Name, ref)
		}
	}
}

// Strict decoding is what makes the test above worth something: a misspelt field fails.
func TestKubernetesManifestsDecodeStrictly(t *testing.T) {
	files := readK8s(t)
	for _, bad := range []struct{ from, to string }{
		{"completionMode: Indexed", "completionmode: Indexed"},
		{"      backoffLimitPerIndex: 1", "      backoffLimitPerIndex: one"},
		{"          serviceAccountName: c4sctl-fleet", "          serviceAccount_name: c4sctl-fleet"},
		{"          restartPolicy: Never", "          restartPolicy: Never\n          restartPolicy: OnFailure"},
	} {
		mutated := map[string][]byte{}
		for k, v := range files {
			mutated[k] = v
		}
		if !bytes.Contains(files["cronjob.yaml"], []byte(bad.from)) {
			t.Fatalf("cronjob.yaml lacks %q", bad.from)
		}
		mutated["cronjob.yaml"] = bytes.Replace(files["cronjob.yaml"], []byte(bad.from), []byte(bad.to), 1)
		if _, err := decodeManifests(mutated); err == nil {
			t.Errorf("%q decoded without error", bad.to)
		}
	}
}
