package cli

import (
	"os/exec"
	"runtime/debug"
	"strings"
	"testing"
)

func TestCommitOf(t *testing.T) {
	const rev = "89abcdef0123456789abcdef0123456789abcdef"
	const set = "0123456789abcdef0123456789abcdef01234567"
	vcs := func(kv ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{}
		for i := 0; i+1 < len(kv); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return bi
	}
	for _, tc := range []struct {
		name string
		set  string
		bi   *debug.BuildInfo
		want string
	}{
		{"no build info", "", nil, "unknown"},
		{"built without VCS information", "", vcs("-trimpath", "true"), "unknown"},
		{"a commit too short to be one", "abc", vcs(), "unknown"},
		{"Go's stamp", "", vcs("vcs.revision", rev, "vcs.modified", "false"), "89abcdef0123"},
		{"Go's stamp of a changed checkout", "", vcs("vcs.revision", rev, "vcs.modified", "true"), "89abcdef0123 with uncommitted changes"},
		{"set at build time, no stamp (the image)", set, vcs(), "0123456789ab"},
		{"set at build time and stamped changed", rev, vcs("vcs.revision", rev, "vcs.modified", "true"), "89abcdef0123 with uncommitted changes"},
		{"set at build time wins over another stamp", set, vcs("vcs.revision", rev, "vcs.modified", "true"), "0123456789ab"},
	} {
		if got := commitOf(tc.set, tc.bi); got != tc.want {
			t.Errorf("%s: commitOf = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// A binary built by `go build` in a checkout prints the commit Go stamped into it, and says when
// the checkout had changes; `go version -m` reads the same stamp.
func TestVersionOfABuiltBinaryIsItsStamp(t *testing.T) {
	bin := c4sctlBinary(t)
	m, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	var rev, modified string
	for _, line := range strings.Split(string(m), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "build" {
			k, v, _ := strings.Cut(f[1], "=")
			switch k {
			case "vcs.revision":
				rev = v
			case "vcs.modified":
				modified = v
			}
		}
	}
	want := "(commit unknown, go1."
	if len(rev) >= 12 {
		want = "(commit " + rev[:12] + ", go1."
		if modified == "true" {
			want = "(commit " + rev[:12] + " with uncommitted changes, go1."
		}
	}
	for _, arg := range []string{"version", "--version"} {
		out, err := exec.Command(bin, arg).Output()
		if err != nil || !strings.HasPrefix(string(out), "c4sctl ") || !strings.Contains(string(out), want) {
			t.Errorf("c4sctl %s: %v %q, want %q", arg, err, out, want)
		}
	}
}
