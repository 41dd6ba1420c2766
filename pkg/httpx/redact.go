package httpx

import (
	"net/url"
	"regexp"
	"strings"
)

const redacted = "REDACTED"

var (
	reBearer = regexp.MustCompile(`(?i)\b(bearer|basic)(\s+)([A-Za-z0-9\-._~+/]+=*)`)
	reJWT    = regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*`)
	// key=value in form bodies, query strings and messages.
	reKV = regexp.MustCompile(`(?i)\b(client_secret|client_assertion|password|passwd|access_token|refresh_token|id_token|assertion|secret|api_key|apikey|session_id|sig|signature)=([^&\s"',;]+)`)
	// "key": "value" in JSON.
	reJSON = regexp.MustCompile(`(?i)"(client_secret|client_assertion|password|access_token|refresh_token|id_token|assertion|secret|token|sessionId|session_id)"\s*:\s*"(?:[^"\\]|\\.)*"`)
)

// Redact masks secrets in any text (an error message, a response excerpt): bearer and basic
// credentials, JWTs, and the values of client_secret=, password=, access_token= and similar
// key=value or "key":"value" pairs.
func Redact(s string) string {
	if s == "" {
		return s
	}
	s = reBearer.ReplaceAllStringFunc(s, redactCredential)
	s = reJWT.ReplaceAllString(s, redacted+"-JWT")
	s = reKV.ReplaceAllString(s, "$1="+redacted)
	s = reJSON.ReplaceAllString(s, `"$1":"`+redacted+`"`)
	return s
}

// sensitiveQueryKey reports whether a query-string key may carry a secret.
func sensitiveQueryKey(k string) bool {
	k = strings.ToLower(k)
	switch k {
	case "code", "sig", "signature", "key", "assertion", "client_assertion", "password", "pwd":
		return true
	}
	for _, part := range []string{"secret", "token", "password", "passwd", "assertion", "apikey", "api_key", "credential", "session"} {
		if strings.Contains(k, part) {
			return true
		}
	}
	return false
}

// RedactURL returns u with user information and the values of sensitive-looking query keys
// (client_secret, code, token, sig, assertion, ...) masked, for logs and messages.
func RedactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	if c.User != nil {
		c.User = url.User(redacted)
	}
	if c.RawQuery != "" {
		// Keep the query's order and encoding; mask the values of sensitive keys only.
		parts := strings.Split(c.RawQuery, "&")
		for i, p := range parts {
			k, _, hasValue := strings.Cut(p, "=")
			key, err := url.QueryUnescape(k)
			if err != nil {
				key = k
			}
			if hasValue && sensitiveQueryKey(key) {
				parts[i] = k + "=" + redacted
			}
		}
		c.RawQuery = strings.Join(parts, "&")
	}
	c.Fragment = ""
	c.RawFragment = ""
	return Redact(c.String())
}

// RedactURLString is RedactURL for a URL in text form; text that does not parse is redacted
// with Redact.
func RedactURLString(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return Redact(s)
	}
	return RedactURL(u)
}

// proseAfterScheme are words that follow "bearer" or "basic" in prose, not credentials.
var proseAfterScheme = map[string]bool{
	"token": true, "tokens": true, "auth": true, "authentication": true, "authorization": true, "scheme": true,
	"header": true, "realm": true, "credentials": true, "is": true, "was": true, "and": true, "or": true, "the": true,
	"a": true, "an": true, "licence": true, "license": true, "licences": true, "licenses": true, "plan": true,
	"information": true, "settings": true, "access": true, "user": true, "users": true, "mode": true, "of": true, "to": true,
}

// redactCredential masks the credential of "Bearer X" / "Basic X". A lowercase English word after
// the scheme is prose and kept; anything else (tokens have digits, capitals or punctuation, and an
// unknown lowercase word may be a secret) is masked.
func redactCredential(m string) string {
	sub := reBearer.FindStringSubmatch(m)
	if len(sub) != 4 {
		return m
	}
	if proseAfterScheme[sub[3]] {
		return m
	}
	return sub[1] + sub[2] + redacted
}
