package cli

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/c4sctl/c4sctl/internal/filemode"
)

// served is what `sandbox serve` printed.
type served struct {
	url, caFile, tokenURL, consumerKey, username, audience, keyFile, certFile string
	msTokenURL, msClientID                                                    string
	stop                                                                      func()
}

// serveSandbox runs `c4sctl sandbox serve` on a free loopback port with its data in dir and
// reads what it prints; the process is stopped (Ctrl-C, stopProcess) at cleanup.
func serveSandbox(t *testing.T, bin, dir string, args ...string) served {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := exec.CommandContext(ctx, bin, append([]string{"--dir", dir, "--no-color", "sandbox", "serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = (&standalone{}).cliEnv()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := func() {
		stopProcess(cmd.Process)
		_ = cmd.Wait()
		cancel()
	}
	t.Cleanup(stop)
	field := func(line, name string) string {
		v, _ := strings.CutPrefix(strings.TrimSpace(line), name)
		v = strings.TrimSpace(v)
		v, _, _ = strings.Cut(v, " (")
		return v
	}
	s := served{stop: stop}
	caRe := regexp.MustCompile(`ca_file = "([^"]+)"`)
	msRe := regexp.MustCompile(`POST (\S+) \(client_id ([^,]+),`)
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "Sandbox listening on "):
			s.url = strings.TrimPrefix(line, "Sandbox listening on ")
		case caRe.MatchString(line):
			s.caFile = caRe.FindStringSubmatch(line)[1]
		case strings.Contains(line, "token URL"):
			s.tokenURL = field(line, "token URL")
		case strings.Contains(line, "consumer key"):
			s.consumerKey = field(line, "consumer key")
		case strings.Contains(line, "username"):
			s.username = field(line, "username")
		case strings.Contains(line, "audience"):
			s.audience = field(line, "audience")
		case strings.Contains(line, "private key"):
			s.keyFile = field(line, "private key")
		case strings.Contains(line, "app certificate"):
			s.certFile = field(line, "app certificate")
		}
		if strings.HasPrefix(line, "Microsoft client-certificate sign-in") {
			if m := msRe.FindStringSubmatch(line); m != nil {
				s.msTokenURL, s.msClientID = m[1], m[2]
			}
			go func() { _, _ = io.Copy(io.Discard, out) }()
			return s
		}
	}
	t.Fatalf("sandbox serve ended before printing its sign-in details: %+v", s)
	return s
}

// trusting is a plain net/http client that trusts the CA file and nothing else.
func trusting(t *testing.T, caFile string) *http.Client {
	t.Helper()
	b, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		t.Fatalf("%s holds no certificate", caFile)
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

func readRSAKey(t *testing.T, file string) *rsa.PrivateKey {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	k, err := jwt.ParseRSAPrivateKeyFromPEM(b)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return k
}

// jwtBearer signs in with the OAuth 2.0 JWT bearer flow as Salesforce documents it, with nothing
// of c4sctl: golang-jwt for the assertion, net/http for the request. It returns the status and
// the decoded answer.
func jwtBearer(t *testing.T, hc *http.Client, s served, key *rsa.PrivateKey) (int, map[string]any) {
	t.Helper()
	assertion, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": s.consumerKey, "sub": s.username, "aud": s.audience, "exp": time.Now().Add(3 * time.Minute).Unix(),
	}).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.PostForm(s.tokenURL, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {assertion}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("token answer: %d, not JSON: %v", resp.StatusCode, err)
	}
	return resp.StatusCode, body
}

// A JWT bearer sign-in against `c4sctl sandbox serve` works from a client that is not c4sctl,
// with only what serve prints (README, "Sandbox"); the session it gets queries the org; the key
// outlives a restart; a key serve did not print is refused. --entra-cert registers a certificate
// whose key then signs a client assertion for the Microsoft identity endpoint.
func TestSandboxServeSignInsFromOtherClients(t *testing.T) {
	t.Parallel() // waits on the child process, not the CPU
	bin := c4sctlBinary(t)
	dir := t.TempDir()

	// A certificate of the test's own for the Entra client-certificate sign-in.
	entraKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "other client"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &entraKey.PublicKey, entraKey)
	if err != nil {
		t.Fatal(err)
	}
	entraCert := filepath.Join(t.TempDir(), "entra.crt")
	if err := os.WriteFile(entraCert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}

	s := serveSandbox(t, bin, dir, "--entra-cert", entraCert)
	if s.url == "" || s.caFile == "" || s.tokenURL != s.url+"/salesforce/services/oauth2/token" || s.audience != s.url+"/salesforce" || s.username == "" || s.consumerKey == "" {
		t.Fatalf("serve printed %+v", s)
	}
	if fi, err := os.Stat(s.keyFile); err != nil || (filemode.Enforced && fi.Mode().Perm() != 0o600) {
		t.Fatalf("private key file %s: %v %v", s.keyFile, fi, err)
	}
	certPEM, err := os.ReadFile(s.certFile)
	blk, _ := pem.Decode(certPEM)
	if err != nil || blk == nil || blk.Type != "CERTIFICATE" {
		t.Fatalf("app certificate %s: %v", s.certFile, err)
	}
	hc := trusting(t, s.caFile)
	key := readRSAKey(t, s.keyFile)

	status, body := jwtBearer(t, hc, s, key)
	tok, _ := body["access_token"].(string)
	inst, _ := body["instance_url"].(string)
	if status != 200 || !strings.HasPrefix(tok, "00D") || !strings.Contains(tok, "!") || inst != s.url+"/salesforce" {
		t.Fatalf("JWT bearer sign-in: %d %v", status, body)
	}
	req, _ := http.NewRequest(http.MethodGet, inst+"/services/data/v67.0/query?q="+url.QueryEscape("SELECT Id, Username FROM User WHERE Username = '"+s.username+"'"), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var q struct {
		TotalSize int `json:"totalSize"`
	}
	err = json.NewDecoder(resp.Body).Decode(&q)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || q.TotalSize != 1 {
		t.Fatalf("query with the session: %d %v %+v", resp.StatusCode, err, q)
	}

	// Another key is refused as Salesforce refuses it.
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	if status, body := jwtBearer(t, hc, s, other); status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("a key serve did not print: %d %v", status, body)
	}

	// The Microsoft identity endpoint takes a client assertion signed with the registered key.
	assertion, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": "", "sub": "", "aud": s.url + "/oauth2/v2.0/token", "exp": time.Now().Add(5 * time.Minute).Unix(), "jti": "1",
	}).SignedString(entraKey)
	if err != nil {
		t.Fatal(err)
	}
	resp, err = hc.PostForm(s.msTokenURL, url.Values{"grant_type": {"client_credentials"}, "client_id": {s.msClientID}, "scope": {"https://graph.microsoft.com/.default"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "access_token") {
		t.Fatalf("client-certificate sign-in: %d %s", resp.StatusCode, b)
	}

	// A certificate that was not registered is refused.
	bad, _ := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"aud": s.msTokenURL, "exp": time.Now().Add(5 * time.Minute).Unix()}).SignedString(other)
	resp, err = hc.PostForm(s.msTokenURL, url.Values{"grant_type": {"client_credentials"}, "client_id": {s.msClientID}, "scope": {"https://graph.microsoft.com/.default"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {bad}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("client assertion of an unregistered certificate: %d", resp.StatusCode)
	}

	// The key outlives a restart: a client configured once keeps signing in.
	s.stop()
	s2 := serveSandbox(t, bin, dir)
	if s2.keyFile != s.keyFile {
		t.Fatalf("key file moved: %s -> %s", s.keyFile, s2.keyFile)
	}
	if status, body := jwtBearer(t, trusting(t, s2.caFile), s2, key); status != 200 {
		t.Fatalf("JWT bearer sign-in after a restart with the first key: %d %v", status, body)
	}
}
