//go:build linux

package bench

import (
	"bytes"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// watchPeakRSS samples the process pid's own peak resident set (VmHWM in /proc/PID/status, in
// bytes) every 5 ms until stop is called, and stop returns the last sample (-1 if none).
//
// Why not getrusage: os/exec starts children with clone(CLONE_VM|CLONE_VFORK), so until its
// exec the child shares this process's memory, and Linux carries that memory's high-water mark
// into the child's ru_maxrss (exec_mmap → setmax_mm_hiwater_rss). A child of this benchmark,
// whose in-process sandboxes hold hundreds of MB, then reports this process's peak as its own:
// /bin/true started from a process holding 400 MB reports 403 MB. VmHWM belongs to the mm
// the child execs into, so it is the child's own. The last sample can miss growth in the final
// 5 ms before exit.
func watchPeakRSS(pid int) (stop func() int64) {
	path := "/proc/" + strconv.Itoa(pid) + "/status"
	done := make(chan struct{})
	result := make(chan int64, 1)
	go func() {
		peak := int64(-1)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			if v := vmHWM(path); v > peak {
				peak = v
			}
			select {
			case <-done:
				result <- peak
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 { close(done); return <-result }
}

// vmHWM reads VmHWM ("VmHWM:   123456 kB") from a /proc status file, in bytes; -1 when it
// cannot (the process has exited).
func vmHWM(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	i := bytes.Index(b, []byte("VmHWM:"))
	if i < 0 {
		return -1
	}
	f := bytes.Fields(b[i+len("VmHWM:"):])
	if len(f) < 2 || string(f[1]) != "kB" {
		return -1
	}
	n, err := strconv.ParseInt(string(f[0]), 10, 64)
	if err != nil {
		return -1
	}
	return n << 10
}

// A child's peak RSS is its own, not this process's: started from a process holding 256 MB, an
// idle Go process (this test binary running no test) must measure far below it. getrusage's
// ru_maxrss of the same child reports at least the parent's 256 MB on Linux (see watchPeakRSS).
func TestChildPeakRSSIsItsOwn(t *testing.T) {
	hold := make([]byte, 256<<20)
	for i := range hold {
		hold[i] = 1
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := watchPeakRSS(cmd.Process.Pid)
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	got := stop()
	runtime.KeepAlive(hold)
	if got < 1<<20 || got > 128<<20 {
		t.Fatalf("the idle child's peak RSS = %d MB (getrusage says %d MB), want between 1 and 128 MB: the parent's 256 MB must not count", got>>20, maxRSS(cmd.ProcessState)>>20)
	}
}
