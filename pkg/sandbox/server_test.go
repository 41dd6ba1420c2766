package sandbox

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/c4sctl/c4sctl/internal/filemode"
)

// counter is a toy service: GET /counter/n reads, POST /counter/n increments.
type counter struct{ N int }

func (c *counter) Name() string { return "counter" }
func (c *counter) Register(r *Router) {
	r.Handle("GET /n", func(w http.ResponseWriter, req *http.Request) {
		if _, err := r.Server().Tokens.Verify(req, "api://counter"); err != nil {
			WriteJSON(w, http.StatusUnauthorized, map[string]string{"error": err.Error()})
			return
		}
		WriteJSON(w, http.StatusOK, c)
	})
	r.Handle("POST /n", func(w http.ResponseWriter, _ *http.Request) { c.N++; WriteJSON(w, http.StatusOK, c) })
}
func (c *counter) Reset()                        { c.N = 0 }
func (c *counter) MarshalState() ([]byte, error) { return json.Marshal(c) }
func (c *counter) UnmarshalState(b []byte) error { return json.Unmarshal(b, c) }

func token(t *testing.T, sb *Server, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := sb.Client().PostForm(sb.URL+"/"+TenantID+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func TestTokenEndpointErrors(t *testing.T) {
	sb, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	ok := url.Values{"grant_type": {"client_credentials"}, "client_id": {ClientID}, "client_secret": {ClientSecret}, "scope": {"api://counter/.default"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for kk, vv := range ok {
			f[kk] = vv
		}
		f.Set(k, v)
		return f
	}
	tests := []struct {
		name   string
		form   url.Values
		status int
		code   string
	}{
		{"valid", ok, 200, ""},
		{"wrong secret", with("client_secret", "nope"), 401, "AADSTS7000215"},
		{"unknown app", with("client_id", "00000000-0000-0000-0000-000000000000"), 400, "AADSTS700016"},
		{"scope without .default", with("scope", "api://counter"), 400, "AADSTS1002012"},
		{"unsupported grant", with("grant_type", "password"), 400, "AADSTS70003"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := token(t, sb, tt.form)
			if status != tt.status {
				t.Fatalf("status %d, want %d (%v)", status, tt.status, body)
			}
			if tt.code == "" {
				if body["access_token"] == nil || body["token_type"] != "Bearer" {
					t.Errorf("no token: %v", body)
				}
				return
			}
			if d, _ := body["error_description"].(string); !strings.HasPrefix(d, tt.code) {
				t.Errorf("error_description %q, want prefix %s", d, tt.code)
			}
		})
	}
}

func TestBearerTokensAudienceRevocationAndExpiry(t *testing.T) {
	svc := &counter{}
	sb, err := Start(Options{}, svc)
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	get := func(tok string) int {
		req, _ := http.NewRequest("GET", sb.URL+"/counter/n", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := sb.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	_, body := token(t, sb, url.Values{"grant_type": {"client_credentials"}, "client_id": {ClientID}, "client_secret": {ClientSecret}, "scope": {"api://counter/.default"}})
	good := body["access_token"].(string)
	_, body = token(t, sb, url.Values{"grant_type": {"client_credentials"}, "client_id": {ClientID}, "client_secret": {ClientSecret}, "scope": {"https://graph.microsoft.com/.default"}})
	otherAudience := body["access_token"].(string)
	sb.Tokens.SetTTL(time.Nanosecond)
	_, body = token(t, sb, url.Values{"grant_type": {"client_credentials"}, "client_id": {ClientID}, "client_secret": {ClientSecret}, "scope": {"api://counter/.default"}})
	expired := body["access_token"].(string)
	time.Sleep(1100 * time.Millisecond) // jwt expiry has one-second resolution

	for name, c := range map[string]struct {
		tok  string
		want int
	}{"valid": {good, 200}, "none": {"", 401}, "garbage": {"x.y.z", 401}, "other audience": {otherAudience, 401}, "expired": {expired, 401}} {
		if got := get(c.tok); got != c.want {
			t.Errorf("%s: status %d, want %d", name, got, c.want)
		}
	}
	sb.Tokens.Revoke(good)
	if got := get(good); got != 401 {
		t.Errorf("revoked token: status %d, want 401", got)
	}
	// RevokeAll: every token issued so far is refused, the next one is accepted.
	sb.Tokens.SetTTL(time.Hour)
	_, body = token(t, sb, url.Values{"grant_type": {"client_credentials"}, "client_id": {ClientID}, "client_secret": {ClientSecret}, "scope": {"api://counter/.default"}})
	before := body["access_token"].(string)
	if got := get(before); got != 200 {
		t.Fatalf("fresh token: status %d", got)
	}
	sb.Tokens.RevokeAll()
	_, body = token(t, sb, url.Values{"grant_type": {"client_credentials"}, "client_id": {ClientID}, "client_secret": {ClientSecret}, "scope": {"api://counter/.default"}})
	after := body["access_token"].(string)
	if got, got2 := get(before), get(after); got != 401 || got2 != 200 {
		t.Errorf("after RevokeAll: old token %d (want 401), new token %d (want 200)", got, got2)
	}
	if n := sb.RequestLog().Count("GET /counter/n"); n != 9 {
		t.Errorf("request log counted %d GETs, want 9", n)
	}
}

func TestDataPersistsAcrossRunsAndResets(t *testing.T) {
	dir := t.TempDir()
	start := func() (*Server, *counter) {
		c := &counter{}
		sb, err := Start(Options{Dir: dir}, c)
		if err != nil {
			t.Fatal(err)
		}
		return sb, c
	}
	sb, _ := start()
	for i := 0; i < 3; i++ {
		resp, err := sb.Client().Post(sb.URL+"/counter/n", "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(dir, "data.json"))
	if err != nil || (filemode.Enforced && info.Mode().Perm() != 0o600) {
		t.Fatalf("data file: %v %v", info, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "ca.pem")); strings.Contains(string(b), "PRIVATE KEY") {
		t.Fatal("ca.pem holds the private key")
	}
	sb, c := start()
	if c.N != 3 {
		t.Fatalf("restored N = %d, want 3", c.N)
	}
	sb.Reset()
	sb.Close()
	sb, c = start()
	sb.Close()
	if c.N != 0 {
		t.Fatalf("after reset N = %d, want 0", c.N)
	}

	if err := os.WriteFile(filepath.Join(dir, "data.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Start(Options{Dir: dir}, &counter{}); err == nil || !strings.Contains(err.Error(), "sandbox reset") {
		t.Fatalf("corrupt data: %v, want an error pointing at sandbox reset", err)
	}
}

// The sandbox's key must not let anyone who reads it impersonate another host to a client that
// trusts the sandbox's certificate (a ca_file left in a provider block): the certificate is a
// leaf for the loopback names, so a certificate for login.microsoftonline.com signed with its key
// is refused.
func TestSandboxKeyCannotVouchForOtherHosts(t *testing.T) {
	dir := t.TempDir()
	sb, err := Start(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	raw, err := os.ReadFile(filepath.Join(dir, certFile))
	if err != nil {
		t.Fatal(err)
	}
	sandboxCert, _, err := parseCertBundle(raw)
	if err != nil {
		t.Fatal(err)
	}
	if sandboxCert.Leaf.IsCA || sandboxCert.Leaf.KeyUsage&x509.KeyUsageCertSign != 0 {
		t.Errorf("the sandbox certificate can sign certificates (CA %v, usage %b)", sandboxCert.Leaf.IsCA, sandboxCert.Leaf.KeyUsage)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	forged := &x509.Certificate{
		SerialNumber: big.NewInt(42),
		Subject:      pkix.Name{CommonName: "login.microsoftonline.com"},
		DNSNames:     []string{"login.microsoftonline.com"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, forged, sandboxCert.Leaf, &key.PublicKey, sandboxCert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "login.microsoftonline.com", Roots: sb.CertPool()}); err == nil {
		t.Fatal("a certificate for login.microsoftonline.com signed with the sandbox key is trusted")
	}
	// The sandbox itself is still trusted on its loopback names.
	for _, name := range []string{"localhost", "127.0.0.1"} {
		if _, err := sandboxCert.Leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: sb.CertPool()}); err != nil {
			t.Errorf("the sandbox certificate is not trusted for %s: %v", name, err)
		}
	}
	if _, err := sandboxCert.Leaf.Verify(x509.VerifyOptions{DNSName: "login.microsoftonline.com", Roots: sb.CertPool()}); err == nil {
		t.Error("the sandbox certificate is valid for login.microsoftonline.com")
	}
	if b, _ := os.ReadFile(CACertFile(dir)); strings.Contains(string(b), "PRIVATE KEY") {
		t.Error("ca.pem holds the private key")
	}
}

// A directory of an earlier version (tls.pem: a CA certificate and its key) gets a new leaf
// certificate, and the old file is removed.
func TestLegacyCACertificateReplaced(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, legacyCertFile), []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	sb, err := Start(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	sb.Close()
	if _, err := os.Stat(filepath.Join(dir, legacyCertFile)); !os.IsNotExist(err) {
		t.Errorf("tls.pem is still there: %v", err)
	}
}

// A write the sandbox answered is on disk before the answer: a SIGKILL right after loses
// nothing (data.json is read here without Close, as the next process would after a kill).
func TestAcknowledgedWritesAreSavedBeforeTheAnswer(t *testing.T) {
	dir := t.TempDir()
	sb, err := Start(Options{Dir: dir}, &counter{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	for i := 1; i <= 2; i++ {
		resp, err := sb.Client().Post(sb.URL+"/counter/n", "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		b, err := os.ReadFile(filepath.Join(dir, "data.json"))
		if err != nil {
			t.Fatalf("after write %d: %v", i, err)
		}
		var all map[string]struct{ N int }
		if err := json.Unmarshal(b, &all); err != nil || all["counter"].N != i {
			t.Fatalf("after write %d the saved data is %s (%v)", i, b, err)
		}
	}
}

// One process at a time opens a sandbox directory; its base URL is the same from run to run.
func TestSandboxDirectoryIsExclusiveAndItsURLStable(t *testing.T) {
	dir := t.TempDir()
	a, err := Start(Options{Dir: dir}, &counter{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Start(Options{Dir: dir}, &counter{}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("a second open of the directory: %v, want a refusal", err)
	}
	url := a.URL
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := Start(Options{Dir: dir}, &counter{})
	if err != nil {
		t.Fatalf("after the first closed: %v", err)
	}
	defer b.Close()
	if b.URL != url {
		// The port came from the ephemeral range, so another process (tests run in parallel) may
		// have taken it between Close and Start; then a new port is the documented fallback.
		// Only a port that is still free makes a changed URL a bug.
		host := strings.TrimSuffix(strings.TrimPrefix(url, "https://"), "/")
		if ln, err := net.Listen("tcp", host); err == nil {
			ln.Close()
			t.Errorf("base URL %s, then %s, though %s was free: want the same per directory", url, b.URL, host)
		} else {
			t.Logf("the first port was taken meanwhile (%v); the sandbox moved to %s as documented", err, b.URL)
		}
	}
}

// slowCounter answers POST /slow/n after 150 ms, counting it.
type slowCounter struct {
	N       int
	started chan struct{} // receives when a request starts, if set
}

func (c *slowCounter) Name() string { return "slow" }
func (c *slowCounter) Register(r *Router) {
	r.Handle("POST /n", func(w http.ResponseWriter, _ *http.Request) {
		if c.started != nil {
			c.started <- struct{}{}
		}
		time.Sleep(150 * time.Millisecond)
		c.N++
		WriteJSON(w, http.StatusOK, c)
	})
}
func (c *slowCounter) Reset()                        { c.N = 0 }
func (c *slowCounter) MarshalState() ([]byte, error) { return json.Marshal(c) }
func (c *slowCounter) UnmarshalState(b []byte) error { return json.Unmarshal(b, c) }

// Close waits for the handlers in flight, not for clients to hang up: an HTTP/2 client (every
// provider's, in the same process as an in-process sandbox) keeps its connection, and
// http.Server.Shutdown alone then waited a second after its GOAWAY, adding a second to every
// --sandbox command and to a plan's exit after Ctrl-C. A request still running when Close starts
// gets its answer, and its change is saved.
func TestCloseDoesNotWaitForIdleHTTP2Clients(t *testing.T) {
	dir := t.TempDir()
	post := func(client *http.Client, url string) error {
		resp, err := client.Post(url, "application/json", nil)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
			return fmt.Errorf("%s %d, want HTTP/2 200", resp.Proto, resp.StatusCode)
		}
		return nil
	}
	start := func(c *slowCounter) (*Server, *http.Client) {
		sb, err := Start(Options{Dir: dir}, c)
		if err != nil {
			t.Fatal(err)
		}
		return sb, &http.Client{Transport: &http.Transport{ForceAttemptHTTP2: true, TLSClientConfig: &tls.Config{RootCAs: sb.CertPool(), MinVersion: tls.VersionTLS12}}}
	}

	sb, client := start(&slowCounter{})
	if err := post(client, sb.URL+"/slow/n"); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took > 500*time.Millisecond {
		t.Errorf("Close took %s with an idle HTTP/2 client, want well under 1 s", took.Round(time.Millisecond))
	}

	c := &slowCounter{started: make(chan struct{}, 1)}
	sb, client = start(c)
	answered := make(chan error, 1)
	go func() { answered <- post(client, sb.URL+"/slow/n") }()
	<-c.started
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-answered; err != nil {
		t.Errorf("the request in flight at Close: %v", err)
	}
	c2 := &slowCounter{}
	sb, _ = start(c2)
	defer sb.Close()
	if c2.N != 2 {
		t.Errorf("after restart N = %d, want 2 (the request in flight at Close saved)", c2.N)
	}
}
