package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/c4sctl/c4sctl/pkg/cli"
)

// BenchmarkSandboxPlan runs `c4sctl --sandbox plan` on the quickstart in-process (as the
// in-process sandbox is used: the command starts it, plans against it and stops it), and
// reports the wall time beside the time until its last HTTP request was answered (from the
// --log-level debug "http request" lines). The difference is what the command spends after its
// last request: stopping the sandbox and saving its data. Target (issue 17): under 100 ms.
// The first run, which seeds the sandbox, is not counted; BENCH_SANDBOX_RUNS (BENCH_RUNS, 5)
// are, and the verdict is on their median.
func BenchmarkSandboxPlan(b *testing.B) {
	src, err := os.ReadFile(filepath.Join(repoRoot(), "examples", "quickstart", "main.c4s.hcl"))
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.c4s.hcl"), src, 0o644); err != nil {
		b.Fatal(err)
	}
	runs := envInt("BENCH_SANDBOX_RUNS", benchRuns())
	for i := 0; i < b.N; i++ {
		printLoad("In-process sandbox plan")
		sandboxPlan(b, dir) // seeds the sandbox
		var walls, lasts, tails []time.Duration
		requests := 0
		for r := 0; r < runs; r++ {
			wall, lastReq, n := sandboxPlan(b, dir)
			walls, lasts, tails = append(walls, wall), append(lasts, lastReq), append(tails, wall-lastReq)
			requests = n
		}
		tail := durSpread(tails)
		fmt.Printf("In-process sandbox plan (quickstart, %d requests), min / median / max of %d runs: wall %s, last request answered at %s, after it %s; target (median after the last request) < 100 ms: %s (%.1f ms)\n",
			requests, runs, durSpread(walls).ms(), durSpread(lasts).ms(), tail.ms(), verdict(tail.med < 0.1), 1000*tail.med)
		b.ReportMetric(1000*tail.med, "ms-after-last-request")
		b.ReportMetric(1000*durSpread(walls).med, "ms-wall")
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// sandboxPlan runs one plan and returns its wall time, when (since the start) its last request
// was answered, and how many requests it made.
func sandboxPlan(b *testing.B, dir string) (wall, lastReq time.Duration, requests int) {
	var out bytes.Buffer
	errw := &stampWriter{start: time.Now()}
	code := cli.Main(context.Background(), []string{"--dir", dir, "--sandbox", "--no-color", "--log-level", "debug", "plan"}, strings.NewReader(""), &out, errw)
	wall = time.Since(errw.start)
	if code != 0 && code != 2 {
		b.Fatalf("plan exited %d:\n%s\n%s", code, out.String(), errw.buf.String())
	}
	if errw.requests == 0 {
		b.Fatalf("no request was logged:\n%s", errw.buf.String())
	}
	return wall, errw.last, errw.requests
}

// stampWriter keeps stderr and the time of the last "http request" log line.
type stampWriter struct {
	mu       sync.Mutex
	start    time.Time
	buf      bytes.Buffer
	last     time.Duration
	requests int
}

func (w *stampWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if n := bytes.Count(p, []byte(`msg="http request"`)); n > 0 {
		w.last = time.Since(w.start)
		w.requests += n
	}
	return w.buf.Write(p)
}
