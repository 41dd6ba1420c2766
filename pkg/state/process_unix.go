//go:build !windows

package state

import (
	"errors"
	"syscall"
)

// processGone tells whether no process with this id exists on this host. Signal 0 checks
// existence without signalling (kill(2)): ESRCH means gone; EPERM means it exists but belongs
// to someone else, which is alive.
func processGone(pid int) bool {
	err := syscall.Kill(pid, 0)
	return errors.Is(err, syscall.ESRCH)
}
