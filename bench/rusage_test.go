package bench

import (
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"
)

// The benchmark tables print each child's peak RSS against a 300 MB target, so the unit must be
// right on every OS (ru_maxrss is kilobytes on Linux, bytes on macOS).
func TestMaxRSSIsInBytes(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$") // this test binary, running no test
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	got := maxRSS(cmd.ProcessState)
	if runtime.GOOS == "windows" {
		if got != -1 {
			t.Fatalf("maxRSS on windows = %d, want -1 (not measured)", got)
		}
		return
	}
	// A Go test binary doing nothing peaks at a few MB; kilobytes taken for bytes (or the
	// reverse) land outside this range by a factor of 1,024.
	if got < 1<<20 || got > 1<<30 {
		t.Fatalf("maxRSS of an idle Go process = %d bytes, want between 1 MB and 1 GB", got)
	}
}

func TestSelfCPUCounts(t *testing.T) {
	before := selfCPU()
	for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); {
	}
	if d := selfCPU() - before; d <= 0 {
		t.Fatalf("selfCPU did not advance over 50 ms of busy loop (%s)", d)
	}
}
