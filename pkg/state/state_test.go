package state

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/c4sctl/c4sctl/internal/filemode"
)

func TestWriteIsAtomicPrivateAndStripsSensitive(t *testing.T) {
	dir := t.TempDir()
	l := &Local{Path: filepath.Join(dir, ".c4sctl", "state.json")}
	st, err := l.Load()
	if err != nil {
		t.Fatal(err)
	}
	v := cty.ObjectVal(map[string]cty.Value{"identity": cty.StringVal("Global"), "secret": cty.StringVal("canary-123")})
	if err := st.Set("x.y", "x", "p", "Global", v, []string{"secret"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Write(st); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(l.Path)
	if err != nil {
		t.Fatal(err)
	}
	if filemode.Enforced && info.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600", info.Mode().Perm())
	}
	b, _ := os.ReadFile(l.Path)
	if strings.Contains(string(b), "canary-123") {
		t.Fatal("state file holds a sensitive value")
	}
	entries, _ := os.ReadDir(filepath.Dir(l.Path))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temp file left behind: %s", e.Name())
		}
	}
	got, err := l.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got.Serial != 1 || got.Lineage != st.Lineage {
		t.Errorf("serial %d lineage %q; want 1 and %q", got.Serial, got.Lineage, st.Lineage)
	}
	val, err := got.Get("x.y").Value(cty.Object(map[string]cty.Type{"identity": cty.String, "secret": cty.String, "added": cty.Bool}))
	if err != nil {
		t.Fatal(err)
	}
	if val.GetAttr("identity").AsString() != "Global" || !val.GetAttr("secret").IsNull() || !val.GetAttr("added").IsNull() {
		t.Errorf("decoded %#v", val)
	}
	// A second write keeps the previous state as a backup.
	if err := l.Write(got); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(l.Path + ".backup"); err != nil {
		t.Errorf("no backup after second write: %v", err)
	}
}

func TestDecodeRejectsBadFiles(t *testing.T) {
	for name, body := range map[string]string{
		"truncated":     `{"version": 1, "serial": 2, "lin`,
		"wrong version": `{"version": 99, "lineage": "x", "resources": []}`,
		"no lineage":    `{"version": 1, "resources": []}`,
		"no address":    `{"version": 1, "lineage": "x", "resources": [{"type": "t"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Decode("state.json", []byte(body)); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestLockNamesHolderAndIsExclusive(t *testing.T) {
	l := &Local{Path: filepath.Join(t.TempDir(), "state.json")}
	unlock, err := l.Lock("apply", "test")
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Lock("apply", "test")
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("second lock: got %v, want *LockedError", err)
	}
	if le.Holder.Operation != "apply" || le.Holder.PID != os.Getpid() || le.Stale {
		t.Errorf("holder %+v stale=%v", le.Holder, le.Stale)
	}
	if !strings.Contains(err.Error(), le.Holder.ID) || !strings.Contains(err.Error(), "force-unlock") {
		t.Errorf("message does not name the lock id and the way out: %s", err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	unlock2, err := l.Lock("plan", "test")
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	defer unlock2()
}

func TestStaleLockIsReportedAndForceUnlocked(t *testing.T) {
	l := &Local{Path: filepath.Join(t.TempDir(), "state.json")}
	host, _ := os.Hostname()
	// A pid far above pid_max is never running.
	body := `{"id":"abc123","operation":"apply","who":"ci@` + host + `","host":"` + host + `","pid":99999999,"created":"2026-01-01T00:00:00Z"}`
	if err := os.WriteFile(l.LockPath(), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := l.Lock("apply", "test")
	var le *LockedError
	if !errors.As(err, &le) || !le.Stale {
		t.Fatalf("got %v, want a stale *LockedError", err)
	}
	if err := l.ForceUnlock("wrong"); err == nil {
		t.Fatal("force-unlock with the wrong id succeeded")
	}
	if err := l.ForceUnlock("abc123"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(l.LockPath()); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("lock file still there")
	}
}

func TestLocalHistoryAppendsAndSkipsATornLine(t *testing.T) {
	l := &Local{Path: filepath.Join(t.TempDir(), "state.json")}
	if recs, err := l.ReadHistory(); err != nil || len(recs) != 0 {
		t.Fatalf("empty history: %q %v", recs, err)
	}
	for _, r := range []string{`{"n":1}`, `{"n":2}`} {
		if err := l.AppendHistory([]byte(r)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.AppendHistory([]byte("a\nb")); err == nil {
		t.Error("a record with a newline was appended")
	}
	// A crash in the middle of an append leaves a torn last line.
	f, _ := os.OpenFile(l.HistoryPath(), os.O_WRONLY|os.O_APPEND, 0)
	_, _ = f.WriteString(`{"n":3,"tor`)
	f.Close()
	recs, err := l.ReadHistory()
	if err != nil || len(recs) != 2 || string(recs[0]) != `{"n":1}` || string(recs[1]) != `{"n":2}` {
		t.Errorf("history %q %v", recs, err)
	}
	// The next record starts on a line of its own; the torn one stays as an unreadable line.
	if err := l.AppendHistory([]byte(`{"n":4}`)); err != nil {
		t.Fatal(err)
	}
	recs, _ = l.ReadHistory()
	if len(recs) != 4 || string(recs[3]) != `{"n":4}` {
		t.Errorf("after a torn line: %q", recs)
	}
	if info, _ := os.Stat(l.HistoryPath()); filemode.Enforced && info.Mode().Perm() != 0o600 {
		t.Errorf("history mode %v", info.Mode().Perm())
	}
}
