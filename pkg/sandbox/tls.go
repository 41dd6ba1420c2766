package sandbox

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/c4sctl/c4sctl/internal/atomicfile"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

const (
	certFile = "server-key.pem" // certificate and private key, for the server only
	caFile   = "ca.pem"         // the certificate alone, for clients' ca_file
	// legacyCertFile held the certificate and key of earlier versions, whose certificate was a
	// general CA: it is removed, and a new certificate made.
	legacyCertFile = "tls.pem"
)

// loadOrCreateCert returns a self-signed certificate for the loopback names. It is kept in dir
// (mode 0600) so that a standalone `sandbox serve` keeps one certificate clients can trust.
//
// The certificate is a leaf, not a certificate authority (basic constraints CA:FALSE, no
// certSign key usage), valid for localhost, 127.0.0.1 and ::1 only: a client that trusts it (a
// ca_file left in a provider block) trusts the sandbox on loopback and nothing else, even when
// someone reads the key, since TLS clients refuse a chain through a non-CA certificate.
func loadOrCreateCert(dir string) (tls.Certificate, []byte, error) {
	if dir != "" {
		if err := os.Remove(filepath.Join(dir, legacyCertFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return tls.Certificate{}, nil, fmt.Errorf("sandbox: remove the old certificate: %w", err)
		}
		b, err := os.ReadFile(filepath.Join(dir, certFile))
		if err == nil {
			cert, certPEM, perr := parseCertBundle(b)
			if perr == nil && cert.Leaf != nil && !cert.Leaf.IsCA && time.Now().Before(cert.Leaf.NotAfter.Add(-24*time.Hour)) {
				if err := atomicfile.Write(filepath.Join(dir, caFile), certPEM); err != nil {
					return tls.Certificate{}, nil, fmt.Errorf("sandbox: save certificate: %w", err)
				}
				return cert, certPEM, nil
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			return tls.Certificate{}, nil, fmt.Errorf("sandbox: read certificate: %w", err)
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "c4sctl sandbox", Organization: []string{"c4sctl sandbox"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  false,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	if dir != "" {
		if err := atomicfile.Write(filepath.Join(dir, certFile), append(append([]byte{}, certPEM...), keyPEM...)); err != nil {
			return tls.Certificate{}, nil, fmt.Errorf("sandbox: save certificate: %w", err)
		}
		if err := atomicfile.Write(filepath.Join(dir, caFile), certPEM); err != nil {
			return tls.Certificate{}, nil, fmt.Errorf("sandbox: save certificate: %w", err)
		}
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	return cert, certPEM, err
}

func parseCertBundle(b []byte) (tls.Certificate, []byte, error) {
	var certPEM, keyPEM []byte
	for rest := b; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type == "CERTIFICATE" {
			certPEM = pem.EncodeToMemory(blk)
		} else {
			keyPEM = pem.EncodeToMemory(blk)
		}
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	return cert, certPEM, err
}

// CACertFile is where a sandbox with a Dir keeps its certificate for clients to trust (ca_file).
func CACertFile(dir string) string { return filepath.Join(dir, caFile) }
