package flock

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func TestLockIsExclusiveAndNamesTheHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	a, err := Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Lock(path)
	var he *HeldError
	if !errors.As(err, &he) || he.Holder != strconv.Itoa(os.Getpid()) {
		t.Fatalf("second lock: %v, want a HeldError naming pid %d", err, os.Getpid())
	}
	a.Close()
	b, err := Lock(path)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	b.Close()
}
