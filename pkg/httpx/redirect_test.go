package httpx

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

const redirectCanary = "CANARY-SECRET-7f3a"

// sink is a loopback server that must never be reached: it counts what reaches it and whether
// the canary came along.
type sink struct {
	*httptest.Server
	hits, leaks atomic.Int64
}

func newSink(t *testing.T) *sink {
	s := &sink{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		b, _ := io.ReadAll(r.Body)
		if strings.Contains(string(b), redirectCanary) || strings.Contains(r.Header.Get("Authorization"), redirectCanary) || strings.Contains(r.URL.String(), redirectCanary) {
			s.leaks.Add(1)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func redirecting(t *testing.T, status int, to func(r *http.Request) string) *server {
	return newServer(t, false, func(_ *server, _ int64, w http.ResponseWriter, r *http.Request) {
		if target := to(r); target != "" {
			http.Redirect(w, r, target, status)
			return
		}
		_, _ = w.Write([]byte("arrived " + r.Header.Get("Authorization")))
	})
}

func TestTokenRequestsAreNeverRedirected(t *testing.T) {
	for _, status := range []int{301, 302, 307, 308} {
		dst := newSink(t)
		var src *server
		src = redirecting(t, status, func(r *http.Request) string {
			if strings.HasSuffix(r.URL.Path, "/token") {
				return dst.URL + "/tenant/oauth2/v2.0/token"
			}
			return ""
		})
		c := NewClient(fastOpts(src))
		body := url.Values{"grant_type": {"client_credentials"}, "client_secret": {redirectCanary}}.Encode()
		req, _ := http.NewRequest(http.MethodPost, src.URL+"/tenant/oauth2/v2.0/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := c.Do(req)
		if resp != nil {
			resp.Body.Close()
		}
		var re *RedirectError
		if !errors.As(err, &re) {
			t.Fatalf("%d: err = %v, want a RedirectError", status, err)
		}
		if !strings.Contains(err.Error(), src.URL) || !strings.Contains(err.Error(), dst.URL) {
			t.Errorf("%d: the error does not name both URLs: %v", status, err)
		}
		if dst.hits.Load() != 0 || dst.leaks.Load() != 0 {
			t.Errorf("%d: the redirect target got %d requests (%d with the secret)", status, dst.hits.Load(), dst.leaks.Load())
		}
	}
}

func TestTokenRequestRedirectOnSameHostRefused(t *testing.T) {
	src := redirecting(t, 307, func(r *http.Request) string {
		if r.URL.Path == "/t/oauth2/v2.0/token" {
			return "/elsewhere"
		}
		return ""
	})
	c := NewClient(fastOpts(src))
	resp, err := c.Post(src.URL+"/t/oauth2/v2.0/token", "application/x-www-form-urlencoded", strings.NewReader("client_secret="+redirectCanary))
	if resp != nil {
		resp.Body.Close()
	}
	if err == nil || src.hits.Load() != 1 {
		t.Fatalf("err = %v, hits = %d: want the redirect refused after one request", err, src.hits.Load())
	}
}

func TestAPIRedirectToAnotherHostCarriesNoToken(t *testing.T) {
	dst := newSink(t)
	src := redirecting(t, 302, func(r *http.Request) string { return dst.URL + r.URL.Path })
	c := NewClient(fastOpts(src))
	req, _ := http.NewRequest(http.MethodGet, src.URL+"/v1.0/users", nil)
	req.Header.Set("Authorization", "Bearer "+redirectCanary)
	resp, err := c.Do(req)
	if resp != nil {
		resp.Body.Close()
	}
	if err == nil || !strings.Contains(err.Error(), src.URL+"/v1.0/users") || !strings.Contains(err.Error(), dst.URL+"/v1.0/users") {
		t.Fatalf("err = %v, want a refusal naming both URLs", err)
	}
	if dst.hits.Load() != 0 {
		t.Errorf("the other host got %d requests", dst.hits.Load())
	}
}

func TestAPIRedirectOnSameHostFollowed(t *testing.T) {
	src := redirecting(t, 301, func(r *http.Request) string {
		if r.URL.Path == "/old" {
			return "/new"
		}
		return ""
	})
	c := NewClient(fastOpts(src))
	req, _ := http.NewRequest(http.MethodGet, src.URL+"/old", nil)
	req.Header.Set("Authorization", "Bearer x")
	resp, body, err := func() (*http.Response, string, error) {
		resp, err := c.Do(req)
		if err != nil {
			return nil, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b), nil
	}()
	if err != nil || resp.StatusCode != 200 || body != "arrived Bearer x" {
		t.Fatalf("resp = %v, body %q, err = %v: want the same-host redirect followed", resp, body, err)
	}
}

// A client built over the Transport with another redirect policy (as SDKs do) still sends
// nothing where a redirect may not go: the Transport checks each hop itself.
func TestTransportChecksHopsWhateverTheClientPolicy(t *testing.T) {
	dst := newSink(t)
	src := redirecting(t, 307, func(r *http.Request) string { return dst.URL + r.URL.Path })
	c := &http.Client{Transport: New(fastOpts(src))} // default CheckRedirect: follow 10
	req, _ := http.NewRequest(http.MethodGet, src.URL+"/api", nil)
	req.Header.Set("Authorization", "Bearer "+redirectCanary)
	resp, err := c.Do(req)
	if resp != nil {
		resp.Body.Close()
	}
	var re *RedirectError
	if !errors.As(err, &re) || dst.hits.Load() != 0 {
		t.Fatalf("err = %v, target hits %d: want a RedirectError and nothing sent", err, dst.hits.Load())
	}
}

func TestCheckHopURLs(t *testing.T) {
	cases := []struct {
		from, to string
		ok       bool
	}{
		{"https://graph.microsoft.com/v1.0/a", "https://graph.microsoft.com/v1.0/b", true},
		{"https://graph.microsoft.com/v1.0/a", "https://GRAPH.microsoft.com:443/v1.0/b", true},
		{"https://graph.microsoft.com/v1.0/a", "http://graph.microsoft.com/v1.0/b", false},
		{"https://graph.microsoft.com/v1.0/a", "https://evil.example.com/v1.0/b", false},
		{"https://graph.microsoft.com/v1.0/a", "https://graph.microsoft.com:8443/v1.0/b", false},
		{"https://login.microsoftonline.com/t/oauth2/v2.0/token", "https://login.microsoftonline.com/t/oauth2/v2.0/token2", false},
		{"https://x.my.salesforce.com/services/oauth2/token", "https://x.my.salesforce.com/services/oauth2/token", false},
		{"https://127.0.0.1:8443/a", "http://127.0.0.1:8443/b", false},
		{"http://127.0.0.1:8443/a", "http://127.0.0.1:8443/b", true},
		{"https://x.example/a", "ftp://x.example/b", false},
	}
	for _, tc := range cases {
		from, _ := url.Parse(tc.from)
		to, _ := url.Parse(tc.to)
		err := CheckHopURLs(from, to)
		if (err == nil) != tc.ok {
			t.Errorf("%s -> %s: err = %v, want ok=%v", tc.from, tc.to, err, tc.ok)
		}
	}
}
