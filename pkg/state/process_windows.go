//go:build windows

package state

import (
	"errors"

	"golang.org/x/sys/windows"
)

// stillActive is the exit code GetExitCodeProcess reports for a process that has not exited
// (STILL_ACTIVE, 259; learn.microsoft.com/windows/win32/api/processthreadsapi/nf-processthreadsapi-getexitcodeprocess).
const stillActive = 259

// processGone tells whether no running process with this id exists on this host. OpenProcess
// fails with ERROR_INVALID_PARAMETER when there is no such process; access denied means it
// exists (another user's), which is alive. A process that exited but whose handle someone
// still holds opens fine, so its exit code decides.
func processGone(pid int) bool {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		return errors.Is(err, windows.ERROR_INVALID_PARAMETER)
	}
	defer windows.CloseHandle(h)
	var code uint32
	if err := windows.GetExitCodeProcess(h, &code); err != nil {
		return false
	}
	return code != stillActive
}
