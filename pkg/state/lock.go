package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"
)

// LockInfo names the holder of the state lock.
type LockInfo struct {
	ID        string    `json:"id"`
	Operation string    `json:"operation"`
	Who       string    `json:"who"`
	Host      string    `json:"host"`
	PID       int       `json:"pid"`
	Version   string    `json:"version,omitempty"`
	Created   time.Time `json:"created"`
}

// LockedError is returned when another process holds the lock.
type LockedError struct {
	Path   string
	Holder LockInfo
	// Stale is true when the holder ran on this host and its process is gone.
	Stale bool
	// Lease is the azurerm lock's lease duration (0 for the local backend): a killed holder's
	// lock frees itself that long after its last renewal.
	Lease time.Duration
}

func (e *LockedError) Error() string {
	h := e.Holder
	msg := fmt.Sprintf("the state is locked by another c4sctl run\n  Lock ID:   %s\n  Operation: %s\n  Who:       %s\n  Host:      %s (pid %d)\n  Created:   %s",
		h.ID, h.Operation, h.Who, h.Host, h.PID, h.Created.Format(time.RFC3339))
	if e.Path != "" {
		msg += "\n  State:     " + e.Path
	}
	switch {
	case e.Stale && e.Lease > 0:
		msg += fmt.Sprintf("\nThe process that holds it is no longer running on this host: its lease expires within %s; or clear it now with: c4sctl force-unlock %s", e.Lease, h.ID)
	case e.Stale:
		msg += "\nThe process that holds it is no longer running on this host: the lock is stale. If no other run is in progress, clear it with: c4sctl force-unlock " + h.ID
	case e.Lease > 0:
		msg += fmt.Sprintf("\nWait for that run to finish (or retry with --lock-timeout). A killed run's lease expires within %s; to clear it at once: c4sctl force-unlock %s", e.Lease, h.ID)
	default:
		msg += "\nWait for that run to finish. If it was interrupted, clear the lock with: c4sctl force-unlock " + h.ID
	}
	return msg
}

// LockPath is the lock file beside the state file.
func (l *Local) LockPath() string { return l.Path + ".lock" }

// Lock takes the lock for operation, failing at once (no waiting) with a *LockedError naming
// the holder when another run has it. The returned function releases it.
func (l *Local) Lock(operation, version string) (unlock func() error, err error) {
	if err := os.MkdirAll(filepath.Dir(l.Path), 0o700); err != nil {
		return nil, fmt.Errorf("lock state: %w", err)
	}
	info := NewLockInfo(operation, version)
	b, _ := json.MarshalIndent(info, "", "  ")
	f, err := os.OpenFile(l.LockPath(), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		holder, rerr := l.ReadLock()
		if rerr != nil {
			return nil, fmt.Errorf("the state is locked (%s), and the lock file cannot be read: %v; remove it by hand if no other c4sctl run is in progress", l.LockPath(), rerr)
		}
		return nil, &LockedError{Path: l.LockPath(), Holder: *holder, Stale: IsStale(*holder)}
	}
	if err != nil {
		return nil, fmt.Errorf("lock state: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(l.LockPath())
		return nil, fmt.Errorf("lock state: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(l.LockPath())
		return nil, fmt.Errorf("lock state: %w", err)
	}
	f.Close()
	return func() error {
		cur, err := l.ReadLock()
		if err == nil && cur.ID != info.ID {
			return fmt.Errorf("state lock %s was replaced by %s while this run held it; not removing it", info.ID, cur.ID)
		}
		if err := os.Remove(l.LockPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("unlock state: %w", err)
		}
		return nil
	}, nil
}

// ReadLock returns the current lock holder, or an error wrapping os.ErrNotExist when unlocked.
func (l *Local) ReadLock() (*LockInfo, error) {
	b, err := os.ReadFile(l.LockPath())
	if err != nil {
		return nil, err
	}
	var info LockInfo
	if err := json.Unmarshal(b, &info); err != nil {
		return nil, fmt.Errorf("lock file %s is not valid JSON: %v", l.LockPath(), err)
	}
	return &info, nil
}

// ForceUnlock removes the lock if its id is id.
func (l *Local) ForceUnlock(id string) error {
	info, err := l.ReadLock()
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("the state is not locked")
	}
	if err != nil {
		// An unreadable lock can only be cleared by naming the file's id; accept "" plus a torn file.
		if id == "" {
			return os.Remove(l.LockPath())
		}
		return err
	}
	if !strings.EqualFold(info.ID, id) {
		return fmt.Errorf("the lock's id is %s, not %s: nothing was unlocked", info.ID, id)
	}
	return os.Remove(l.LockPath())
}

// IsStale tells whether a lock's holder process is gone (same host only).
func IsStale(h LockInfo) bool {
	host, _ := os.Hostname()
	if h.Host != host || h.PID <= 0 {
		return false
	}
	return processGone(h.PID)
}

// NewLockInfo describes this process as the holder of a lock for operation, with a fresh id
// (a UUID: the azurerm backend proposes it as the blob's lease id, which must be a GUID).
func NewLockInfo(operation, version string) LockInfo {
	host, _ := os.Hostname()
	who := "unknown"
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	return LockInfo{ID: newLineage(), Operation: operation, Who: who + "@" + host, Host: host, PID: os.Getpid(), Version: version, Created: time.Now().UTC()}
}
