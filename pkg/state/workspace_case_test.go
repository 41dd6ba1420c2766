package state

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// On macOS and Windows state.d/Contoso and state.d/contoso are one directory; the local store
// refuses the second spelling on every OS, so Linux behaves as they would.
func TestLocalStoreRefusesWorkspaceNamesThatDifferOnlyInCase(t *testing.T) {
	l := &LocalStore{Dir: filepath.Join(t.TempDir(), ".c4sctl")}
	b, err := l.Workspace("contoso")
	if err != nil {
		t.Fatal(err)
	}
	st, err := b.Load()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Write(st); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Contoso", "CONTOSO", "Default"} {
		_, err := l.Workspace(name)
		if err == nil || !strings.Contains(err.Error(), "differs only in case") || !strings.Contains(err.Error(), "case-insensitive") {
			t.Errorf("Workspace(%q) = %v, want a refusal naming the case collision", name, err)
		}
		if err := l.DeleteWorkspace(name); err == nil || !strings.Contains(err.Error(), "differs only in case") {
			t.Errorf("DeleteWorkspace(%q) = %v, want a refusal naming the case collision", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(l.Dir, "state.d", "contoso", "state.json")); err != nil {
		t.Fatalf("contoso's state is gone after the refused deletes: %v", err)
	}
	// The same name, and names that differ in more than case, are fine.
	for _, name := range []string{"contoso", "contoso-eu", "fabrikam"} {
		if _, err := l.Workspace(name); err != nil {
			t.Errorf("Workspace(%q): %v", name, err)
		}
	}
}

func TestCaseCollision(t *testing.T) {
	names := []string{DefaultWorkspace, "contoso", "Fabrikam"}
	for name, want := range map[string]string{
		"contoso": "", "fabrikam": `existing workspace "Fabrikam"`, "CONTOSO": `existing workspace "contoso"`,
		"DEFAULT": `existing workspace "default"`, "northwind": "",
	} {
		err := CaseCollision(names, name)
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("CaseCollision(%q) = %v, want %q", name, err, want)
		}
	}
}
