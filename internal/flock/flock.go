// Package flock takes exclusive locks on files (flock(2); LockFileEx on Windows), for "one process at a time"
// rules: a sandbox directory, the welcome record. The lock goes with the process however it ends
// (a SIGKILL included), so no lock is ever left behind; the file names the holder for messages.
package flock

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// HeldError says another process holds the lock.
type HeldError struct {
	Path   string
	Holder string // the holder's pid as it wrote it, or "unknown"
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("%s is held by another process (pid %s)", e.Path, e.Holder)
}

// Lock takes the lock on path (created 0600 when absent) without waiting, writes this process's
// pid into it, and returns the open file: closing it releases the lock. Another holder gives a
// *HeldError.
func Lock(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := tryLock(f); err != nil {
		b, _ := os.ReadFile(path)
		_ = f.Close()
		if errors.Is(err, errHeld) {
			holder := strings.TrimSpace(string(b))
			if holder == "" {
				holder = "unknown"
			}
			return nil, &HeldError{Path: path, Holder: holder}
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

// errHeld is tryLock's answer when another process holds the lock (tryLock is per OS:
// flock_unix.go, flock_windows.go).
var errHeld = errors.New("held by another process")
