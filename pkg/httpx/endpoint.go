package httpx

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// CheckEndpoint checks an endpoint setting before a provider uses it: it must be an absolute
// URL with a host, and use https unless its host is loopback (localhost, 127.0.0.0/8, ::1),
// because tokens and secrets travel in the requests. The error says why and what to do.
func CheckEndpoint(raw string) error {
	shown := RedactURLString(raw)
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("endpoint %q is not a valid URL: %s", shown, Redact(err.Error()))
	}
	if u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("endpoint %q must be an absolute URL such as https://host/path", shown)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if IsLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("endpoint %q must use https: plain http is allowed only for loopback addresses (localhost, 127.0.0.1, ::1), because access tokens and secrets are sent with every request; use https://%s%s", shown, u.Host, u.EscapedPath())
	default:
		return fmt.Errorf("endpoint %q has scheme %q; use https", shown, u.Scheme)
	}
}

// IsLoopback reports whether host (without port) names the local machine.
func IsLoopback(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
