package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockDir takes the flock on dir/lock, so that one process at a time serves a sandbox directory
// (two would each keep their own copy of the data and overwrite the other's). The lock goes
// with the process, however it ends; the file keeps the holder's pid for the message.
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sandbox: open %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := os.ReadFile(path)
		_ = f.Close()
		holder := strings.TrimSpace(string(b))
		if errors.Is(err, syscall.EWOULDBLOCK) {
			if holder == "" {
				holder = "unknown"
			}
			return nil, fmt.Errorf("sandbox: %s is in use by another process (pid %s): one process at a time opens a sandbox directory; stop the other (a `c4sctl sandbox serve`, another --sandbox run) and try again", dir, holder)
		}
		return nil, fmt.Errorf("sandbox: lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}
