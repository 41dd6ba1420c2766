package httpx

import (
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTrustPEMFile(t *testing.T) {
	t.Parallel()
	s := newServer(t, false, func(s *server, n int64, w http.ResponseWriter, r *http.Request) {})
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := NewClient(Options{MaxAttempts: 1})
	c, err := TrustPEMFile(base, caFile)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Get(s.URL)
	if err != nil {
		t.Fatalf("ca_file not trusted: %v", err)
	}
	resp.Body.Close()
	if _, err := base.Get(s.URL); err == nil {
		t.Error("the original client was changed")
	}
	if _, err := TrustPEMFile(base, junk); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("junk ca_file: %v", err)
	}
	if _, err := TrustPEMFile(base, filepath.Join(dir, "missing.pem")); err == nil {
		t.Error("missing ca_file accepted")
	}
}

// A ca_file holding a private key (a server's key file) is refused without showing it.
func TestTrustPEMFileRefusesKeys(t *testing.T) {
	s := newServer(t, false, func(s *server, n int64, w http.ResponseWriter, r *http.Request) {})
	keyBody := "CANARY-KEY-BYTES"
	path := filepath.Join(t.TempDir(), "server-key.pem")
	b := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte(keyBody)})...)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := TrustPEMFile(NewClient(Options{MaxAttempts: 1}), path)
	if err == nil || !strings.Contains(err.Error(), "private key") || strings.Contains(err.Error(), "Q0FOQVJZ") {
		t.Fatalf("err = %v, want a refusal naming the private key without showing it", err)
	}
}
