package archtest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The graph walk recovers a panic in the goroutine that calls a provider, not in goroutines an
// adapter starts: those go through providers.Go (errgroup) or run their body under
// providers.Guard, so that a panic there is the resource's error, with state saved and the lock
// released. A bare errgroup Go call, or a go statement whose goroutine does not call Guard
// within its first lines, fails this test.
func TestAdapterGoroutinesAreGuarded(t *testing.T) {
	bareGroup := regexp.MustCompile(`\b[a-zA-Z_]+\.Go\(func\(`)
	files, err := filepath.Glob("../../pkg/providers/*/*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || strings.Contains(f, "providertest") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(b), "\n")
		for i, l := range lines {
			if bareGroup.MatchString(l) && !strings.Contains(l, "providers.Go(") {
				t.Errorf("%s:%d: an errgroup Go call outside providers.Go: %s", f, i+1, strings.TrimSpace(l))
			}
			if strings.HasPrefix(strings.TrimSpace(l), "go func") {
				checked++
				body := strings.Join(lines[i:min(len(lines), i+6)], "\n")
				if !strings.Contains(body, "providers.Guard(") {
					t.Errorf("%s:%d: a goroutine whose body does not run under providers.Guard", f, i+1)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no go statement found in the adapters: the test no longer looks where they are")
	}
}
