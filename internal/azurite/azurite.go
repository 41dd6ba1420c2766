// Package azurite starts Azurite's blob service (the Azure Storage emulator, npm package
// "azurite") for tests: one process per call, on a free loopback port, with its own temporary
// data directory, stopped when the test ends.
//
// The binary is tools/azurite/node_modules/.bin/azurite-blob, installed by `make azurite`
// (which `make test` runs) from tools/azurite/package-lock.json, or $AZURITE_BLOB. When it is
// missing or does not start, tests fail under CI=true and are skipped otherwise, saying how to
// install it.
package azurite

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// Account and Key are Azurite's built-in development account and its key, published in
// Azurite's README ("Default Storage Account"); they open nothing but a local emulator.
const (
	Account = "devstoreaccount1"
	Key     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// Server is a running Azurite blob service.
type Server struct {
	// Endpoint is the account's blob endpoint, http://127.0.0.1:PORT/devstoreaccount1
	// (path-style, as Azurite serves it).
	Endpoint string
	cmd      *exec.Cmd
}

// Binary finds azurite-blob: $AZURITE_BLOB, else tools/azurite/node_modules/.bin/azurite-blob
// in the module root.
func Binary() (string, error) {
	if p := os.Getenv("AZURITE_BLOB"); p != "" {
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, "tools", "azurite", "node_modules", ".bin", "azurite-blob")
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("%s is not installed: run `make azurite` (npm ci in tools/azurite)", p)
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the test's directory")
		}
		dir = parent
	}
}

var listening = regexp.MustCompile(`successfully listens on (http://127\.0\.0\.1:\d+)`)

// Start runs Azurite for the test and creates the named containers. The process is killed and
// its directory removed at the end of the test.
func Start(t testing.TB, containers ...string) *Server {
	t.Helper()
	unavailable := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatalf("Azurite is needed and cannot start: "+format, args...)
		}
		t.Skipf("Azurite unavailable (fails under CI=true): "+format, args...)
	}
	bin, err := Binary()
	if err != nil {
		unavailable("%v", err)
	}
	dir := t.TempDir()
	// Port 0: Azurite binds a free port and prints it. --skipApiVersionCheck: the SDK may speak
	// a newer x-ms-version than this Azurite knows. --loose: ignore headers Azurite does not
	// implement instead of refusing the request.
	cmd := exec.Command(bin, "--blobHost", "127.0.0.1", "--blobPort", "0", "--location", dir,
		"--skipApiVersionCheck", "--loose", "--disableTelemetry")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		unavailable("%v", err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		unavailable("start %s: %v", bin, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	found := make(chan string, 1)
	var out strings.Builder
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if out.Len() < 4096 {
				out.WriteString(line + "\n")
			}
			if m := listening.FindStringSubmatch(line); m != nil {
				found <- m[1]
			}
		}
		close(found)
	}()
	var base string
	select {
	case u, ok := <-found:
		if !ok {
			unavailable("azurite-blob exited before listening:\n%s", out.String())
		}
		base = u
	case <-time.After(30 * time.Second):
		unavailable("azurite-blob did not listen within 30 s")
	}
	s := &Server{Endpoint: base + "/" + Account, cmd: cmd}
	for _, name := range containers {
		if err := s.CreateContainer(name); err != nil {
			t.Fatalf("create container %s: %v", name, err)
		}
	}
	return s
}

// CreateContainer creates a blob container.
func (s *Server) CreateContainer(name string) error {
	cred, err := container.NewSharedKeyCredential(Account, Key)
	if err != nil {
		return err
	}
	c, err := container.NewClientWithSharedKeyCredential(s.Endpoint+"/"+name, cred, nil)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = c.Create(ctx, nil)
	return err
}
