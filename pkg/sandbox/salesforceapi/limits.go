package salesforceapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// MaxRequestHead is the most bytes a Salesforce REST request's URI and headers may take together:
// "In each REST call, the maximum length for the combined URI and headers is 16,384 bytes. A
// request exceeding this limit returns a 431 Request Header Fields Too Large error. If the URI
// itself exceeds this limit, the request returns a 414 URI Too Long error." (Salesforce Help
// article 000386264; the same text is in the Platform API limits cheat sheet,
// salesforce_app_limits_platform_api.htm).
const MaxRequestHead = 16384

// requestHeadSize is the size of the request line and headers as HTTP/1.1 sends them
// ("GET /path?q HTTP/1.1\r\n", "Name: value\r\n" for Host and every header, the blank line),
// whatever protocol carried the request.
func requestHeadSize(r *http.Request) int {
	n := len(r.Method) + 1 + len(r.RequestURI) + len(" HTTP/1.1\r\n")
	n += len("Host: ") + len(r.Host) + 2
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + 2 + len(v) + 2
		}
	}
	return n + 2
}

// refuseOversized answers a request over MaxRequestHead as Salesforce's front end does and
// reports whether it did. The body is the HTML page of Salesforce's Jetty front end as clients
// have logged it: `<h1>Bad Message 414</h1><pre>reason: URI Too Long</pre>`
// (simple-salesforce/simple-salesforce#271, jsforce/jsforce#1134, afawcett/dependencies-cli#24);
// the 431 page is assumed to follow the same template with the status's reason phrase.
func refuseOversized(w http.ResponseWriter, r *http.Request) bool {
	status := 0
	switch {
	case len(r.RequestURI) > MaxRequestHead:
		status = http.StatusRequestURITooLong
	case requestHeadSize(r) > MaxRequestHead:
		status = http.StatusRequestHeaderFieldsTooLarge
	default:
		return false
	}
	reason := map[int]string{http.StatusRequestURITooLong: "URI Too Long", http.StatusRequestHeaderFieldsTooLarge: "Request Header Fields Too Large"}[status]
	w.Header().Set("Content-Type", "text/html;charset=iso-8859-1")
	w.Header().Set("Connection", "close")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<h1>Bad Message %d</h1><pre>reason: %s</pre>", status, reason)
	return true
}

// singleAudience reports whether the assertion's aud claim is one string. Salesforce's JWT bearer
// flow names one audience, the authorization server's URL (login, test or the My Domain /
// Experience Cloud site URL; help article remoteaccess_oauth_jwt_flow.htm), and refuses an array
// with invalid_grant "audience is invalid" (forcedotcom/datacloud-jdbc#132: "Salesforce requires
// the audience to be a single string value in full URL format").
func singleAudience(assertion string) bool {
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return false
	}
	var claims struct {
		Aud json.RawMessage `json:"aud"`
	}
	if json.Unmarshal(b, &claims) != nil {
		return false
	}
	var s string
	return json.Unmarshal(claims.Aud, &s) == nil
}

// AddNamedUsers adds active users with these usernames and the profile (tests of long
// usernames and the URI limit). Call it under Server.Mutate.
func (s *Service) AddNamedUsers(usernames []string, profile string) error {
	p := s.org.Profile(profile)
	if p == nil {
		return fmt.Errorf("no profile %q", profile)
	}
	for _, u := range usernames {
		if s.org.User(u) != nil {
			return fmt.Errorf("user %q exists", u)
		}
		s.org.Seq++
		s.org.Users = append(s.org.Users, &User{ID: fmt.Sprintf("0055g%010dAAA", s.org.Seq), Username: u, Name: "User " + u, Email: u, IsActive: true, ProfileID: p.ID})
	}
	return nil
}
