package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/cli"
)

// No Docker daemon runs where the tests do, so the Dockerfile is checked against what it must
// agree with instead of being built: the Go version in go.mod, the flags and -X symbol of
// `make release`, a static (cgo-free) binary on a distroless or scratch base, and a non-root user.

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../../" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// dockerInstructions returns the Dockerfile's instructions with continuation lines joined.
func dockerInstructions(src string) []string {
	var out []string
	cur := ""
	for _, line := range strings.Split(src, "\n") {
		trimmed := strings.TrimSpace(line)
		if cur == "" && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur += strings.TrimSuffix(trimmed, "\\") + " "
			continue
		}
		out = append(out, cur+trimmed)
		cur = ""
	}
	return out
}

func TestDockerfileBuildsTheReleaseBinary(t *testing.T) {
	// Version must stay a package-level string variable: the -X linker flag below sets it, and
	// sets nothing (silently) if it becomes a constant or moves.
	var _ *string = &cli.Version
	var _ *string = &cli.Commit

	ins := dockerInstructions(readRepoFile(t, "Dockerfile"))
	makefile := readRepoFile(t, "Makefile")
	gomod := readRepoFile(t, "go.mod")

	var froms, runs []string
	var user, entrypoint, copied string
	for _, in := range ins {
		word, rest, _ := strings.Cut(in, " ")
		switch strings.ToUpper(word) {
		case "FROM":
			froms = append(froms, rest)
		case "RUN":
			runs = append(runs, rest)
		case "USER":
			user = rest
		case "ENTRYPOINT":
			entrypoint = rest
		case "COPY":
			if strings.HasPrefix(rest, "--from=") {
				f := strings.Fields(rest)
				copied = f[len(f)-1]
			}
		}
	}
	if len(froms) < 2 {
		t.Fatalf("want a build stage and a run stage, got FROM %q", froms)
	}

	goDirective := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(gomod)
	buildImage := regexp.MustCompile(`^golang:(\d+\.\d+)`).FindStringSubmatch(froms[0])
	if goDirective == nil || buildImage == nil || goDirective[1] != buildImage[1] {
		t.Errorf("build stage %q does not use the Go of go.mod (%v)", froms[0], goDirective)
	}

	final := froms[len(froms)-1]
	if !strings.HasPrefix(final, "gcr.io/distroless/static") && final != "scratch" {
		t.Errorf("run stage %q: want distroless static or scratch", final)
	}
	if user == "" || strings.HasPrefix(user, "root") || strings.HasPrefix(user, "0") {
		t.Errorf("USER %q: the image must not run as root", user)
	}

	var build string
	for _, r := range runs {
		if strings.Contains(r, "go build") {
			build = r
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-s -w", "./cmd/c4sctl"} {
		if !strings.Contains(build, want) {
			t.Errorf("go build %q lacks %q", build, want)
		}
	}
	for _, want := range []string{"-trimpath", "-s -w", "CGO_ENABLED=0"} {
		if !strings.Contains(makefile, want) {
			t.Errorf("make release no longer uses %q: update the Dockerfile and this test together", want)
		}
	}
	ldflags := regexp.MustCompile(`(?m)^LDFLAGS\s*:=\s*-X (\S+)=`).FindStringSubmatch(makefile)
	if ldflags == nil || !strings.Contains(build, "-X "+ldflags[1]+"=") {
		t.Errorf("go build %q does not set the version symbol the Makefile sets (%v)", build, ldflags)
	}
	// The commit too: .git is not in the build context, so Go's own vcs stamp is absent there.
	for _, src := range []string{build, makefile} {
		if !strings.Contains(src, "-X github.com/c4sctl/c4sctl/pkg/cli.Commit=") {
			t.Errorf("%q does not set the commit symbol", src[:min(len(src), 80)])
		}
	}
	if copied == "" || !strings.Contains(entrypoint, `"`+copied+`"`) {
		t.Errorf("ENTRYPOINT %s does not run the copied binary %q", entrypoint, copied)
	}
}
