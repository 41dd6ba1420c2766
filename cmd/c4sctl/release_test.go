package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// step1Copies returns the source paths (globs, relative to the directory the reader is in) of
// the cp commands in the first sh block of docs/getting-started-real.md's "## 1." section: what a
// reader who unpacked a release archive copies from it.
func step1Copies(t *testing.T, doc string) []string {
	t.Helper()
	_, sec, ok := strings.Cut(doc, "\n## 1. ")
	if !ok {
		t.Fatal(`docs/getting-started-real.md has no "## 1. " section`)
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	_, block, ok := strings.Cut(sec, "```sh\n")
	if !ok {
		t.Fatal("step 1 of docs/getting-started-real.md has no sh block")
	}
	block, _, _ = strings.Cut(block, "```")
	var srcs []string
	for _, line := range strings.Split(block, "\n") {
		for _, cmd := range strings.FieldsFunc(line, func(r rune) bool { return r == ';' || r == '&' || r == '|' }) {
			f := strings.Fields(cmd)
			if len(f) < 3 || f[0] != "cp" {
				continue
			}
			for _, a := range f[1 : len(f)-1] {
				if !strings.HasPrefix(a, "-") {
					srcs = append(srcs, a)
				}
			}
		}
	}
	if len(srcs) == 0 {
		t.Fatalf("step 1 of docs/getting-started-real.md copies nothing this test can see (it reads cp commands):\n%s", block)
	}
	return srcs
}

// Step 1 of docs/getting-started-real.md copies the example configuration from the directory a
// release archive unpacks to: the archive must hold every file that step names, the same files
// as the repository. The files are staged by the Makefile target `make release` uses.
func TestReleaseArchiveHoldsWhatTheDocsCopy(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatalf("make is needed to stage the release files: %v", err)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	stage := t.TempDir()
	cmd := exec.Command("make", "-s", "release-files", "STAGE="+stage)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make release-files: %v\n%s", err, out)
	}
	if !strings.Contains(readRepoFile(t, "Makefile"), "$(MAKE) -s release-files STAGE=$(DIST)/$$name") {
		t.Error("make release no longer stages its archives' files with release-files")
	}
	rel := func(dir string, paths []string) []string {
		var out []string
		for _, p := range paths {
			r, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(r))
		}
		slices.Sort(out)
		return out
	}
	for _, src := range step1Copies(t, readRepoFile(t, "docs/getting-started-real.md")) {
		inRepo, _ := filepath.Glob(filepath.Join(root, filepath.FromSlash(src)))
		inArchive, _ := filepath.Glob(filepath.Join(stage, filepath.FromSlash(src)))
		if len(inRepo) == 0 {
			t.Errorf("step 1 copies %s, which matches nothing in the repository", src)
			continue
		}
		if got, want := rel(stage, inArchive), rel(root, inRepo); !slices.Equal(got, want) {
			t.Errorf("step 1 copies %s: the release archive holds %v, the repository %v", src, got, want)
		}
	}
	for _, f := range []string{"LICENSE", "README.md"} {
		if _, err := os.Stat(filepath.Join(stage, f)); err != nil {
			t.Errorf("the release archive lacks %s: %v", f, err)
		}
	}
}
