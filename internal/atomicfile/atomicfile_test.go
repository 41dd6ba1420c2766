package atomicfile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/c4sctl/c4sctl/internal/filemode"
)

func TestWriteReplacesWholeFilePrivately(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.json")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, []byte("new")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	info, _ := os.Stat(path)
	if string(b) != "new" || (filemode.Enforced && info.Mode().Perm() != 0o600) {
		t.Fatalf("content %q mode %v", b, info.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("left %d files behind", len(entries)-1)
	}
	// A directory that cannot be written leaves the old file untouched.
	if err := Write(filepath.Join(dir, "missing", "f"), []byte("x")); err == nil {
		t.Fatal("writing into a missing directory succeeded")
	}
}
