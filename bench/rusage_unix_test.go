//go:build unix

package bench

import (
	"os"
	"runtime"
	"syscall"
	"time"
)

// selfCPU is this process's user + system CPU time so far (the in-process sandbox's, while a
// child process runs the client), from getrusage(2).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// maxRSS is an exited child's peak resident set in bytes. getrusage(2)'s ru_maxrss is in
// kilobytes on Linux and the BSDs but in bytes on macOS (its getrusage(2) man page: "the maximum
// resident set size utilized (in bytes)").
func maxRSS(ps *os.ProcessState) int64 {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return -1
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return int64(ru.Maxrss)
	}
	return int64(ru.Maxrss) * 1024
}
