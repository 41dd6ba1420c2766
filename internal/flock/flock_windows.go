//go:build windows

package flock

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// tryLock takes an exclusive LockFileEx lock without waiting (LOCKFILE_FAIL_IMMEDIATELY);
// errHeld when another handle has it (ERROR_LOCK_VIOLATION;
// learn.microsoft.com/windows/win32/api/fileapi/nf-fileapi-lockfileex). The locked byte lies far
// past the pid written at the start, so others can still read the holder's pid (Windows locks
// are mandatory for the bytes they cover). Released when the handle closes or the process ends.
func tryLock(f *os.File) error {
	ol := &windows.Overlapped{OffsetHigh: 0x7fffffff}
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return errHeld
	}
	return err
}
