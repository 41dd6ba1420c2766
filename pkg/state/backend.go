package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Backend stores one state (one workspace's): bytes, a lock and earlier versions. It knows
// nothing of what the state means, so that what the engine records in it can change without
// touching the storage. Local (the default) and AzureRM implement it.
type Backend interface {
	// Load reads the state; no state yet yields a new empty one. A backend that writes
	// conditionally remembers what it read here: Write refuses if the stored state changed since.
	Load() (*State, error)
	// Write stores s with its serial increased by one; the previous state is kept
	// (a .backup file, a blob snapshot).
	Write(s *State) error
	// Lock takes the lock for operation, failing at once with a *LockedError naming the holder
	// when another run has it. The returned function releases it.
	Lock(operation, version string) (unlock func() error, err error)
	// ForceUnlock breaks the lock whose id is id.
	ForceUnlock(id string) error
	// String names where the state is, for messages (never a secret).
	String() string
}

// Store is where a configuration's states live: one per workspace.
type Store interface {
	// Workspace returns the backend of one workspace (DefaultWorkspace or a name ValidWorkspace
	// accepts).
	Workspace(name string) (Backend, error)
	// Workspaces lists the workspaces that have a state, DefaultWorkspace first, the others sorted.
	Workspaces() ([]string, error)
	// DeleteWorkspace removes a workspace's state (not DefaultWorkspace's).
	DeleteWorkspace(name string) error
	String() string
}

// DefaultWorkspace is the workspace used when none is selected (Terraform's name).
const DefaultWorkspace = "default"

var workspaceName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,89}$`)

// ValidWorkspace checks a workspace name: letters, digits, '-', '_' and '.', starting with a
// letter or digit, at most 90 characters. The name becomes part of a file path and a blob name,
// so '/', ':' and ".." are refused.
func ValidWorkspace(name string) error {
	if !workspaceName.MatchString(name) || strings.Contains(name, "..") || strings.HasSuffix(name, ".history.jsonl") {
		return fmt.Errorf("invalid workspace name %q: use letters, digits, '-', '_' and '.', starting with a letter or digit (at most 90 characters)", name)
	}
	return nil
}

// CaseCollision refuses name when an existing workspace (names, DefaultWorkspace included) is
// spelled the same but for case: "Contoso" beside "contoso". The local backend keeps a workspace
// in the directory state.d/NAME, and the file systems macOS and Windows use by default ignore
// case, so there the two would be one directory, one state and one lock, while on Linux they
// are two. c4sctl refuses the pair on every OS (and with every backend) so that a configuration
// and its workspaces mean the same on an admin's laptop and in a Linux pipeline.
func CaseCollision(names []string, name string) error {
	for _, n := range names {
		if n != name && strings.EqualFold(n, name) {
			return fmt.Errorf("workspace %q differs only in case from the existing workspace %q: on case-insensitive file systems (macOS, Windows) both would be one state, so c4sctl refuses it on every OS; use %q or a name that differs in more than case", name, n, n)
		}
	}
	return nil
}

// Encode is the bytes of a state as every backend stores them: indented JSON and a newline.
func Encode(s *State) ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	return append(b, '\n'), nil
}

// LockWait takes b's lock, retrying every poll while another run holds it, for at most timeout
// (0: fail at once). The error after the timeout is the last *LockedError, which names the holder.
func LockWait(b Backend, operation, version string, timeout, poll time.Duration) (func() error, error) {
	deadline := time.Now().Add(timeout)
	for {
		unlock, err := b.Lock(operation, version)
		var le *LockedError
		if err == nil || !errors.As(err, &le) || timeout <= 0 || time.Now().Add(poll).After(deadline) {
			if le != nil && timeout > 0 {
				return nil, fmt.Errorf("gave up waiting for the state lock after %s: %w", timeout, err)
			}
			return unlock, err
		}
		time.Sleep(poll)
	}
}

// LocalStore keeps states under a directory (the configuration's .c4sctl): the default
// workspace's in DIR/state.json, each other workspace's in DIR/state.d/NAME/state.json, as
// Terraform keeps terraform.tfstate.d/NAME/terraform.tfstate.
type LocalStore struct{ Dir string }

func (l *LocalStore) path(name string) string {
	if name == DefaultWorkspace {
		return filepath.Join(l.Dir, "state.json")
	}
	return filepath.Join(l.Dir, "state.d", name, "state.json")
}

// Workspace returns the local backend of a workspace. A name that differs only in case from an
// existing workspace is refused (CaseCollision): on macOS and Windows it would open that
// workspace's state.
func (l *LocalStore) Workspace(name string) (Backend, error) {
	if name != DefaultWorkspace {
		if err := ValidWorkspace(name); err != nil {
			return nil, err
		}
		names, err := l.Workspaces()
		if err != nil {
			return nil, err
		}
		if err := CaseCollision(names, name); err != nil {
			return nil, err
		}
	}
	return &Local{Path: l.path(name)}, nil
}

// Workspaces lists default and every directory under state.d.
func (l *LocalStore) Workspaces() ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(l.Dir, "state.d"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && ValidWorkspace(e.Name()) == nil {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return append([]string{DefaultWorkspace}, names...), nil
}

// DeleteWorkspace removes state.d/NAME (state, backup and lock).
func (l *LocalStore) DeleteWorkspace(name string) error {
	if name == DefaultWorkspace {
		return fmt.Errorf("the default workspace cannot be deleted")
	}
	if err := ValidWorkspace(name); err != nil {
		return err
	}
	names, err := l.Workspaces()
	if err != nil {
		return err
	}
	if err := CaseCollision(names, name); err != nil {
		return err // on macOS and Windows it would delete the other spelling's state
	}
	dir := filepath.Dir(l.path(name))
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("workspace %q does not exist", name)
	}
	return os.RemoveAll(dir)
}

func (l *LocalStore) String() string { return "local (" + l.Dir + ")" }

func (l *Local) String() string { return "local state file " + l.Path }
