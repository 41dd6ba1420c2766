package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/c4sctl/c4sctl/internal/flock"
)

// lockDir takes the lock on dir/lock, so that one process at a time serves a sandbox directory
// (two would each keep their own copy of the data and overwrite the other's).
func lockDir(dir string) (*os.File, error) {
	f, err := flock.Lock(filepath.Join(dir, lockFile))
	var he *flock.HeldError
	if errors.As(err, &he) {
		return nil, fmt.Errorf("sandbox: %s is in use by another process (pid %s): one process at a time opens a sandbox directory; stop the other (a `c4sctl sandbox serve`, another --sandbox run) and try again", dir, he.Holder)
	}
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	return f, nil
}

// InUse tells whether a process (a `c4sctl sandbox serve`, a --sandbox run) has dir open now.
func InUse(dir string) bool {
	f, err := flock.Lock(filepath.Join(dir, lockFile))
	if err != nil {
		return true
	}
	_ = f.Close()
	return false
}
