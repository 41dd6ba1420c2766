package httpx

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
)

// TrustPEMFile returns a copy of c that also trusts the PEM certificates in path (a provider's
// ca_file: the standalone sandbox's ca.pem, a TLS-inspecting proxy), keeping the authorities c
// already trusts. With an httpx client the copy shares the limits and counters of c.
func TrustPEMFile(c *http.Client, path string) (*http.Client, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ca_file: %v", err)
	}
	if bytes.Contains(b, []byte("PRIVATE KEY-----")) {
		// A file with a key is a server's, not a certificate to trust (the sandbox keeps its key
		// in server-key.pem and the certificate alone in ca.pem). Its content is not shown.
		return nil, fmt.Errorf("ca_file %s holds a private key: point ca_file at a file with certificates only (for the sandbox, its ca.pem), and keep the key file private", path)
	}
	pool := currentPool(c)
	if pool == nil {
		if pool, _ = x509.SystemCertPool(); pool == nil {
			pool = x509.NewCertPool()
		}
	} else {
		pool = pool.Clone()
	}
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("ca_file %s holds no PEM certificate", path)
	}
	return WithRootCAs(c, pool)
}

func currentPool(c *http.Client) *x509.CertPool {
	if c == nil {
		return nil
	}
	rt := c.Transport
	if t, ok := rt.(*Transport); ok {
		rt = t.base
	}
	if t, ok := rt.(*http.Transport); ok && t.TLSClientConfig != nil {
		return t.TLSClientConfig.RootCAs
	}
	return nil
}
