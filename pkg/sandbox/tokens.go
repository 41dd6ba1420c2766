package sandbox

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims are the claims of a sandbox access token. They follow the Microsoft identity platform's
// v1 access token claims where they exist, so that code reading them (preflight) is real.
type Claims struct {
	TenantID string   `json:"tid,omitempty"`
	AppID    string   `json:"appid,omitempty"`
	ObjectID string   `json:"oid,omitempty"`
	Roles    []string `json:"roles,omitempty"`
	// Subject-specific extras (e.g. the Salesforce username).
	Username string `json:"preferred_username,omitempty"`
	jwt.RegisteredClaims
}

// TokenIssuer signs and verifies sandbox bearer tokens (HS256 with a per-process key: tokens do
// not outlive the sandbox process, as cached tokens do not outlive a c4sctl run).
type TokenIssuer struct {
	key []byte
	ttl time.Duration

	mu       sync.Mutex
	revoked  map[string]bool
	issued   int
	sessions map[string]Claims // opaque session ids (IssueSession) and their claims
	// revokedUpTo: every token whose sequence number (the last part of its jti) is at most
	// this was revoked by RevokeAll.
	revokedUpTo int
}

func newTokenIssuer(string) (*TokenIssuer, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	return &TokenIssuer{key: key, ttl: time.Hour, revoked: map[string]bool{}, sessions: map[string]Claims{}}, nil
}

// SetTTL changes the lifetime of tokens issued from now on (tests of expiry use a short one).
func (t *TokenIssuer) SetTTL(d time.Duration) { t.mu.Lock(); t.ttl = d; t.mu.Unlock() }

// Issue signs a token for the claims, setting iat, exp and a unique id.
func (t *TokenIssuer) Issue(c Claims) (token string, expiresIn int, err error) {
	t.mu.Lock()
	ttl := t.ttl
	t.issued++
	n := t.issued
	t.mu.Unlock()
	now := time.Now()
	c.IssuedAt = jwt.NewNumericDate(now)
	c.NotBefore = jwt.NewNumericDate(now.Add(-time.Minute))
	c.ExpiresAt = jwt.NewNumericDate(now.Add(ttl))
	c.ID = fmt.Sprintf("sbx-%d-%d", now.UnixNano(), n)
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.key)
	return s, int(ttl.Seconds()), err
}

// sessionChars are the characters of a session id's secret part (Salesforce session ids are
// base64-like: letters, digits, '.' and '_').
const sessionChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._"

// IssueSession issues an opaque session id for the claims, prefix + "!" + 96 random characters,
// as a Salesforce org's session ids are (the org id, "!", a secret with no readable structure),
// valid for the issuer's TTL. Verify, Revoke and SetTTL apply to it as to signed tokens; sessions
// do not outlive the sandbox process.
func (t *TokenIssuer) IssueSession(prefix string, c Claims) (token string, expiresIn int, err error) {
	b := make([]byte, 96)
	if _, err := rand.Read(b); err != nil {
		return "", 0, err
	}
	for i := range b {
		b[i] = sessionChars[int(b[i])%len(sessionChars)]
	}
	token = prefix + "!" + string(b)
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.issued++
	c.IssuedAt = jwt.NewNumericDate(now)
	c.ExpiresAt = jwt.NewNumericDate(now.Add(t.ttl))
	c.ID = fmt.Sprintf("sbx-%d-%d", now.UnixNano(), t.issued)
	for k, old := range t.sessions { // forget expired sessions, so that the map stays small
		if old.ExpiresAt.Before(now) {
			delete(t.sessions, k)
		}
	}
	t.sessions[token] = c
	return token, int(t.ttl.Seconds()), nil
}

// Revoke makes a token invalid before it expires (tests of re-authentication).
func (t *TokenIssuer) Revoke(token string) {
	t.mu.Lock()
	t.revoked[token] = true
	t.mu.Unlock()
}

// RevokeAll makes every token issued so far invalid, as an admin who revokes the app's sessions
// (or a continuous access evaluation event) does mid-run; tokens issued later are valid.
func (t *TokenIssuer) RevokeAll() {
	t.mu.Lock()
	t.revokedUpTo = t.issued
	t.mu.Unlock()
}

// Issued is the number of tokens issued so far.
func (t *TokenIssuer) Issued() int { t.mu.Lock(); defer t.mu.Unlock(); return t.issued }

// ErrNoToken, ErrBadToken and ErrWrongAudience tell the services which 401/403 to answer.
var (
	ErrNoToken       = errors.New("no bearer token")
	ErrBadToken      = errors.New("invalid or expired token")
	ErrWrongAudience = errors.New("token audience is not this API")
)

// Verify checks the request's bearer token and that its audience is one of audiences (any
// audience when none are given).
func (t *TokenIssuer) Verify(r *http.Request, audiences ...string) (*Claims, error) {
	return t.verify(r, false, audiences)
}

// VerifySession is Verify for APIs whose only credential is an opaque session id (IssueSession):
// a signed token is refused.
func (t *TokenIssuer) VerifySession(r *http.Request, audiences ...string) (*Claims, error) {
	return t.verify(r, true, audiences)
}

func (t *TokenIssuer) verify(r *http.Request, sessionOnly bool, audiences []string) (*Claims, error) {
	h := r.Header.Get("Authorization")
	raw, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || raw == "" {
		// Salesforce clients also send "OAuth <token>".
		if raw, ok = strings.CutPrefix(h, "OAuth "); !ok || raw == "" {
			return nil, ErrNoToken
		}
	}
	t.mu.Lock()
	revoked := t.revoked[raw]
	c, isSession := t.sessions[raw]
	t.mu.Unlock()
	if revoked {
		return nil, ErrBadToken
	}
	if sessionOnly && !isSession {
		return nil, ErrBadToken
	}
	if isSession {
		if c.ExpiresAt == nil || !time.Now().Before(c.ExpiresAt.Time) {
			return nil, ErrBadToken
		}
	} else if _, err := jwt.ParseWithClaims(raw, &c, func(*jwt.Token) (any, error) { return t.key, nil }, jwt.WithValidMethods([]string{"HS256"})); err != nil {
		return nil, ErrBadToken
	}
	t.mu.Lock()
	upTo := t.revokedUpTo
	t.mu.Unlock()
	if i := strings.LastIndexByte(c.ID, '-'); upTo > 0 && i >= 0 {
		if n, err := strconv.Atoi(c.ID[i+1:]); err != nil || n <= upTo {
			return nil, ErrBadToken
		}
	}
	if len(audiences) == 0 {
		return &c, nil
	}
	for _, a := range audiences {
		for _, have := range c.Audience {
			if strings.EqualFold(strings.TrimSuffix(a, "/"), strings.TrimSuffix(have, "/")) {
				return &c, nil
			}
		}
	}
	return nil, ErrWrongAudience
}
