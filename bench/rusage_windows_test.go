//go:build windows

package bench

import (
	"os"
	"syscall"
	"time"
)

// selfCPU is this process's kernel + user CPU time so far (the in-process sandbox's, while a
// child process runs the client), from GetProcessTimes (FILETIMEs of 100 ns units;
// learn.microsoft.com/windows/win32/api/processthreadsapi/nf-processthreadsapi-getprocesstimes).
func selfCPU() time.Duration {
	var creation, exit, kernel, user syscall.Filetime
	h, err := syscall.GetCurrentProcess()
	if err != nil || syscall.GetProcessTimes(h, &creation, &exit, &kernel, &user) != nil {
		return 0
	}
	ticks := func(f syscall.Filetime) int64 { return int64(f.HighDateTime)<<32 | int64(f.LowDateTime) }
	return time.Duration((ticks(kernel) + ticks(user)) * 100)
}

// maxRSS is -1 (not measured): Windows' rusage (syscall.Rusage) has times only, and the child's
// handle is closed once it has been waited for, so its peak working set cannot be asked for.
func maxRSS(*os.ProcessState) int64 { return -1 }
