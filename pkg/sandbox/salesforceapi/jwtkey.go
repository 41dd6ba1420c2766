package salesforceapi

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// The JWT bearer flow's key pair: the connected app holds the certificate, the client signs its
// assertion with the private key (Salesforce help, "OAuth 2.0 JWT Bearer Flow for Server-to-Server
// Integration": the app's "Use digital signatures" certificate verifies the assertion's RS256
// signature). In tests the pair lives for the process; `sandbox serve` keeps it in its data
// directory (LoadOrWriteJWTMaterial), so that a client configured once keeps working.

var jwtKey struct {
	mu      sync.Mutex
	keyPEM  []byte
	certPEM []byte
	pub     *rsa.PublicKey
}

// JWT material file names in a sandbox data directory.
const (
	JWTKeyFile  = "salesforce-jwt-user.key"
	JWTCertFile = "salesforce-jwt-connected-app.crt"
)

func selfSigned(k *rsa.PrivateKey) ([]byte, error) {
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "c4sctl sandbox JWT bearer"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(10 * 365 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// setJWTKey installs k (and its certificate, made when certPEM is nil). Call with jwtKey.mu held.
func setJWTKey(k *rsa.PrivateKey, certPEM []byte) error {
	if certPEM == nil {
		var err error
		if certPEM, err = selfSigned(k); err != nil {
			return err
		}
	}
	jwtKey.keyPEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	jwtKey.certPEM = certPEM
	jwtKey.pub = &k.PublicKey
	return nil
}

func loadJWTKey() error {
	jwtKey.mu.Lock()
	defer jwtKey.mu.Unlock()
	if jwtKey.pub != nil {
		return nil
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	return setJWTKey(k, nil)
}

func jwtPublicKey() (*rsa.PublicKey, error) {
	if err := loadJWTKey(); err != nil {
		return nil, err
	}
	jwtKey.mu.Lock()
	defer jwtKey.mu.Unlock()
	return jwtKey.pub, nil
}

// JWTPrivateKeyPEM is the private key whose certificate the sandbox's connected app holds for the
// JWT bearer flow (tests write it to a file for private_key_file).
func JWTPrivateKeyPEM() ([]byte, error) {
	if err := loadJWTKey(); err != nil {
		return nil, err
	}
	jwtKey.mu.Lock()
	defer jwtKey.mu.Unlock()
	return jwtKey.keyPEM, nil
}

// JWTCertificatePEM is the certificate the sandbox checks JWT bearer assertions against.
func JWTCertificatePEM() ([]byte, error) {
	if err := loadJWTKey(); err != nil {
		return nil, err
	}
	jwtKey.mu.Lock()
	defer jwtKey.mu.Unlock()
	return jwtKey.certPEM, nil
}

// LoadOrWriteJWTMaterial makes the JWT bearer key pair last in dir: the private key of
// dir/JWTKeyFile (PKCS#1 PEM, 0600) is used when the file exists, else the current pair is
// written there; the connected app's certificate goes to dir/JWTCertFile. It returns both paths.
// The key is a test key of the sandbox org, not a secret of any real org.
func LoadOrWriteJWTMaterial(dir string) (keyFile, certFile string, err error) {
	keyFile, certFile = filepath.Join(dir, JWTKeyFile), filepath.Join(dir, JWTCertFile)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", err
	}
	b, err := os.ReadFile(keyFile)
	switch {
	case err == nil:
		blk, _ := pem.Decode(b)
		if blk == nil {
			return "", "", fmt.Errorf("%s holds no PEM private key; delete it to get a new one", keyFile)
		}
		k, perr := x509.ParsePKCS1PrivateKey(blk.Bytes)
		if perr != nil {
			return "", "", fmt.Errorf("%s: not a PKCS#1 RSA private key (%v); delete it to get a new one", keyFile, perr)
		}
		var cert []byte
		if c, cerr := os.ReadFile(certFile); cerr == nil {
			if blk, _ := pem.Decode(c); blk != nil {
				if x, xerr := x509.ParseCertificate(blk.Bytes); xerr == nil {
					if pub, ok := x.PublicKey.(*rsa.PublicKey); ok && pub.Equal(&k.PublicKey) {
						cert = c
					}
				}
			}
		}
		jwtKey.mu.Lock()
		err = setJWTKey(k, cert)
		jwtKey.mu.Unlock()
		if err != nil {
			return "", "", err
		}
	case errors.Is(err, os.ErrNotExist):
		key, kerr := JWTPrivateKeyPEM()
		if kerr != nil {
			return "", "", kerr
		}
		if err := os.WriteFile(keyFile, key, 0o600); err != nil {
			return "", "", err
		}
	default:
		return "", "", err
	}
	cert, err := JWTCertificatePEM()
	if err != nil {
		return "", "", err
	}
	if err := os.WriteFile(certFile, cert, 0o644); err != nil {
		return "", "", err
	}
	return keyFile, certFile, nil
}
