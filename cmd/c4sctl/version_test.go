package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// A binary built with no version control information (-buildvcs=false, as from a source tarball
// or a build context without .git) and no -X flags says its commit is unknown: no empty field,
// no panic.
func TestVersionWithoutVCSInformationSaysCommitUnknown(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "c4sctl")
	cmd := exec.Command("go", "build", "-buildvcs=false", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build -buildvcs=false: %v\n%s", err, out)
	}
	want := regexp.MustCompile(`^c4sctl \S+ \(commit unknown, go1\.\d+\S* \w+/\w+\)\n$`)
	for _, arg := range []string{"version", "--version"} {
		out, err := exec.Command(bin, arg).CombinedOutput()
		if err != nil || !want.Match(out) {
			t.Errorf("c4sctl %s: %v %q, want %s", arg, err, out, want)
		}
	}
}
