package planfile_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/c4sctl/c4sctl/internal/filemode"
	"github.com/c4sctl/c4sctl/pkg/plan"
	"github.com/c4sctl/c4sctl/pkg/planfile"
	"github.com/zclconf/go-cty/cty"
)

func sample() *planfile.File {
	doc := &plan.JSONPlan{FormatVersion: plan.JSONFormatVersion, C4sctlVersion: "test",
		ResourceChanges: []plan.JSONResourceChange{{Address: "mem_setting.a", Mode: "managed", Type: "mem_setting", Name: "a", Provider: "mem", Action: "update",
			Before: []byte(`{"identity":"a","value":"a"}`), After: []byte(`{"identity":"a","value":"b"}`),
			Changed: []plan.JSONAttrChange{{Name: "value", Before: []byte(`"a"`), After: []byte(`"b"`)}}}}}
	return &planfile.File{FormatVersion: planfile.FormatVersion, C4sctlVersion: "test", CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Config:       planfile.ConfigHash{Hash: "abc", Files: map[string]string{"main.c4s.hcl": "x"}, Variables: map[string]string{}},
		Fingerprints: map[string]string{"mem_setting.a": "sha256:1"}, Plan: doc}
}

func encode(t *testing.T, f *planfile.File) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := planfile.Encode(&buf, f); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTripAndFormat(t *testing.T) {
	raw := encode(t, sample())
	if !bytes.HasPrefix(raw, []byte("c4sctl-plan 1\n\x1f\x8b")) {
		t.Fatalf("file does not start with the header line and a gzip stream: %q", raw[:20])
	}
	got, err := planfile.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if got.Config.Hash != "abc" || got.Plan.ResourceChanges[0].Action != "update" || got.Fingerprints["mem_setting.a"] != "sha256:1" || !got.CreatedAt.Equal(sample().CreatedAt) {
		t.Errorf("decoded %+v", got)
	}
}

func TestWriteIsPrivateAndReadable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.bin")
	if err := planfile.Write(path, sample()); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if filemode.Enforced && info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", info.Mode().Perm())
	}
	if _, err := planfile.Read(path); err != nil {
		t.Fatal(err)
	}
}

func TestDecodeRejectsBadFiles(t *testing.T) {
	good := encode(t, sample())
	gz := func(s string) []byte {
		var b bytes.Buffer
		b.WriteString("c4sctl-plan 1\n")
		w := gzip.NewWriter(&b)
		w.Write([]byte(s))
		w.Close()
		return b.Bytes()
	}
	cases := map[string]struct {
		data []byte
		want string
	}{
		"empty":            {nil, "not a c4sctl plan file"},
		"state file":       {[]byte(`{"version":1,"resources":[]}`), "not a c4sctl plan file"},
		"future format":    {[]byte("c4sctl-plan 9\n"), "format version 9"},
		"header only":      {[]byte("c4sctl-plan 1\n"), "truncated"},
		"truncated":        {good[:len(good)/2], "truncated"},
		"truncated tail":   {good[:len(good)-3], "truncated"},
		"flipped byte":     {flip(good, len(good)-6), "corrupt"},
		"not json":         {gz("hello"), "corrupt"},
		"no plan":          {gz(`{"format_version":1,"config":{"hash":"x"}}`), "no plan"},
		"no hash":          {gz(`{"format_version":1,"plan":{}}`), "no configuration hash"},
		"no fingerprint":   {gz(`{"format_version":1,"config":{"hash":"x"},"plan":{"resource_changes":[{"address":"a.b","action":"create"}]}}`), "no fingerprint"},
		"inner version":    {gz(`{"format_version":2,"config":{"hash":"x"},"plan":{}}`), "format_version 2"},
		"unknown field":    {gz(`{"format_version":1,"config":{"hash":"x"},"plan":{},"secret":"x"}`), "corrupt"},
		"long header line": {[]byte(strings.Repeat("c", 200)), "not a c4sctl plan file"},
	}
	for name, c := range cases {
		_, err := planfile.Decode(bytes.NewReader(c.data))
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q lacks %q", name, err, c.want)
		}
	}
	var fe *planfile.FormatError
	if _, err := planfile.Decode(bytes.NewReader([]byte("c4sctl-plan 2\n"))); !errors.As(err, &fe) || fe.Version != 2 {
		t.Errorf("format 2: %v", err)
	}
}

func flip(b []byte, i int) []byte {
	out := append([]byte(nil), b...)
	out[i] ^= 0xff
	return out
}

func TestHashConfig(t *testing.T) {
	src := map[string][]byte{"/a/main.c4s.hcl": []byte("x"), "/a/prod.tfvars": []byte("secret = 1")}
	vars := map[string]planfile.Variable{"region": {Value: cty.StringVal("emea")}, "pw": {Value: cty.StringVal("hunter2"), Sensitive: true}}
	h1, err := planfile.HashConfig(src, ".c4s.hcl", vars, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h1.Files["prod.tfvars"]; ok || h1.Files["main.c4s.hcl"] == "" {
		t.Errorf("files %v: only *.c4s.hcl by base name", h1.Files)
	}
	if h1.Variables["pw"] != "sensitive" {
		t.Errorf("sensitive variable recorded as %q", h1.Variables["pw"])
	}
	// Another checkout of the same configuration has the same hash.
	h2, _ := planfile.HashConfig(map[string][]byte{"/b/main.c4s.hcl": []byte("x")}, ".c4s.hcl", vars, h1.Salt)
	if h2.Hash != h1.Hash {
		t.Error("hash depends on the directory")
	}
	vars["pw"] = planfile.Variable{Value: cty.StringVal("hunter3"), Sensitive: true}
	h3, _ := planfile.HashConfig(src, ".c4s.hcl", vars, h1.Salt)
	if h3.Hash == h1.Hash {
		t.Error("a changed sensitive variable must change the hash")
	}
	if d := h1.Differences(h3); len(d) != 1 || !strings.Contains(d[0], "sensitive variable") {
		t.Errorf("differences %v", d)
	}
	vars["region"] = planfile.Variable{Value: cty.StringVal("amer")}
	h4, _ := planfile.HashConfig(map[string][]byte{"/a/main.c4s.hcl": []byte("y")}, ".c4s.hcl", vars, h1.Salt)
	d := strings.Join(h1.Differences(h4), "; ")
	if !strings.Contains(d, "file main.c4s.hcl changed") || !strings.Contains(d, "variable region changed") {
		t.Errorf("differences %q", d)
	}
}

func TestFingerprintIgnoresSensitiveAttributes(t *testing.T) {
	obj := func(v, secret string) cty.Value {
		return cty.ObjectVal(map[string]cty.Value{"value": cty.StringVal(v), "secret": cty.StringVal(secret)})
	}
	sens := func(n string) bool { return n == "secret" }
	a, b := planfile.Fingerprint(obj("x", "s1"), sens), planfile.Fingerprint(obj("x", "s2"), sens)
	if a != b {
		t.Error("fingerprint depends on a sensitive value")
	}
	if planfile.Fingerprint(obj("y", "s1"), sens) == a {
		t.Error("fingerprint ignores a non-sensitive change")
	}
	if planfile.Fingerprint(cty.NullVal(obj("", "").Type()), sens) != "absent" {
		t.Error("null object")
	}
}

func TestStale(t *testing.T) {
	saved := sample()
	fresh := &plan.JSONPlan{ResourceChanges: []plan.JSONResourceChange{saved.Plan.ResourceChanges[0]}}
	if s := planfile.Stale(saved, fresh, map[string]string{"mem_setting.a": "sha256:1"}); len(s) != 0 {
		t.Fatalf("identical plan reported stale: %v", s)
	}
	changed := fresh.ResourceChanges[0]
	changed.Before = []byte(`{"identity":"a","value":"c"}`)
	fresh = &plan.JSONPlan{ResourceChanges: []plan.JSONResourceChange{changed}}
	s := planfile.Stale(saved, fresh, map[string]string{"mem_setting.a": "sha256:2"})
	if len(s) != 1 || !strings.Contains(s[0], "mem_setting.a") || !strings.Contains(s[0], `value was "a", is now "c"`) {
		t.Errorf("stale %v", s)
	}
	noop := saved.Plan.ResourceChanges[0]
	noop.Action = "no-op"
	extra := plan.JSONResourceChange{Address: "mem_setting.b", Action: "create"}
	fresh = &plan.JSONPlan{ResourceChanges: []plan.JSONResourceChange{noop, extra}}
	s = planfile.Stale(saved, fresh, map[string]string{"mem_setting.a": "sha256:1"})
	if got := strings.Join(s, "\n"); !strings.Contains(got, "was planned to update, would now no-op") || !strings.Contains(got, "mem_setting.b: not in the saved plan") {
		t.Errorf("stale %v", s)
	}
}

// The sensitive values enter the hash only through a salted Argon2id: the same configuration
// hashed with another salt gives another hash (no precomputation across plan files), with the
// plan's salt it gives the same, and the hash is not the plain SHA-256 construction that an
// offline guess could check at hash speed.
func TestSensitiveValuesEnterTheHashThroughASaltedKDF(t *testing.T) {
	src := map[string][]byte{"/a/main.c4s.hcl": []byte("x")}
	vars := map[string]planfile.Variable{"pw": {Value: cty.StringVal("hunter2"), Sensitive: true}}
	a, err := planfile.HashConfig(src, ".c4s.hcl", vars, "")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := planfile.HashConfig(src, ".c4s.hcl", vars, "")
	if len(a.Salt) != 32 || a.Salt == b.Salt || a.Hash == b.Hash {
		t.Errorf("salts %q %q, hashes equal %v: want a new 16-byte salt and hash per plan", a.Salt, b.Salt, a.Hash == b.Hash)
	}
	again, _ := planfile.HashConfig(src, ".c4s.hcl", vars, a.Salt)
	if again.Hash != a.Hash {
		t.Error("the same configuration with the plan's salt hashes differently")
	}
	// The unsalted construction of earlier versions: sha256 over the file and variable lines.
	all := sha256.New()
	sum := sha256.Sum256([]byte("x"))
	fmt.Fprintf(all, "file %q %x\n", "main.c4s.hcl", sum)
	raw, _ := json.Marshal("hunter2")
	vs := sha256.Sum256(raw)
	fmt.Fprintf(all, "var %q %x\n", "pw", vs)
	if hex.EncodeToString(all.Sum(nil)) == a.Hash {
		t.Error("the hash is the plain SHA-256 construction: a fast offline oracle")
	}
	if _, err := planfile.HashConfig(src, ".c4s.hcl", vars, "zz"); err == nil {
		t.Error("a bad salt accepted")
	}
}

// BenchmarkHashConfigSensitive is the cost of one guess against a plan file's hash (and what
// every plan --out and apply PLAN_FILE pays once).
func BenchmarkHashConfigSensitive(b *testing.B) {
	src := map[string][]byte{"/a/main.c4s.hcl": []byte("x")}
	vars := map[string]planfile.Variable{"pw": {Value: cty.StringVal("hunter2"), Sensitive: true}}
	salt := "00112233445566778899aabbccddeeff"
	for i := 0; i < b.N; i++ {
		if _, err := planfile.HashConfig(src, ".c4s.hcl", vars, salt); err != nil {
			b.Fatal(err)
		}
	}
}
