package graphapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/graphapi"
	"github.com/golang-jwt/jwt/v5"
)

type env struct {
	t   *testing.T
	sb  *sandbox.Server
	svc *graphapi.Service
	tok string
}

func setup(t *testing.T) *env {
	t.Helper()
	svc := graphapi.New()
	sb, err := sandbox.Start(sandbox.Options{}, svc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	tok, _, err := sb.Tokens.Issue(sandbox.Claims{TenantID: sandbox.TenantID, AppID: sandbox.ClientID, ObjectID: sandbox.AppObjectID, Roles: graphapi.GraphRoles,
		RegisteredClaims: jwt.RegisteredClaims{Audience: jwt.ClaimStrings{graphapi.Audience}}})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t, sb, svc, tok}
}

func (e *env) call(method, path string, body any) (int, map[string]any) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.sb.URL+"/graph"+path, rd)
	if e.tok != "" {
		req.Header.Set("Authorization", "Bearer "+e.tok)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.sb.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func errCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func TestAuthAndErrorBodies(t *testing.T) {
	e := setup(t)
	tok := e.tok
	e.tok = ""
	if st, body := e.call("GET", "/v1.0/users", nil); st != 401 || errCode(body) != "InvalidAuthenticationToken" {
		t.Fatalf("no token: %d %v", st, body)
	}
	e.tok = tok
	st, body := e.call("GET", "/v1.0/users/nobody@x", nil)
	inner, _ := body["error"].(map[string]any)["innerError"].(map[string]any)
	if st != 404 || errCode(body) != "Request_ResourceNotFound" || inner["request-id"] == nil {
		t.Fatalf("not found: %d %v", st, body)
	}
	if st, body := e.call("GET", "/v1.0/users?$top=1000", nil); st != 400 || !strings.Contains(fmt.Sprint(body), "between 1 and 999") {
		t.Fatalf("$top: %d %v", st, body)
	}
}

func TestPagingAndSelect(t *testing.T) {
	e := setup(t)
	seen := 0
	next := "/v1.0/groups/" + graphapi.AllSalesGroupID + "/members?$select=id,usageLocation&$top=120"
	pages := 0
	for next != "" {
		st, body := e.call("GET", next, nil)
		if st != 200 {
			t.Fatalf("%d %v", st, body)
		}
		pages++
		vals, _ := body["value"].([]any)
		for _, v := range vals {
			m := v.(map[string]any)
			if _, ok := m["displayName"]; ok {
				t.Fatal("$select ignored")
			}
			seen++
		}
		link, _ := body["@odata.nextLink"].(string)
		next = strings.TrimPrefix(link, e.sb.URL+"/graph")
	}
	if seen != 300 || pages != 3 {
		t.Fatalf("seen %d members in %d pages", seen, pages)
	}
}

func TestAssignLicenseErrorsAndSeats(t *testing.T) {
	e := setup(t)
	add := map[string]any{"addLicenses": []any{map[string]any{"skuId": graphapi.CopilotSkuID, "disabledPlans": []string{}}}, "removeLicenses": []string{}}
	st, body := e.call("POST", "/v1.0/users/"+graphapi.UserUPN(250)+"/assignLicense", add)
	if st != 400 || !strings.Contains(fmt.Sprint(body), "invalid usage location") {
		t.Fatalf("no usage location: %d %v", st, body)
	}
	st, body = e.call("POST", "/v1.0/users/"+graphapi.UserUPN(1)+"/assignLicense", map[string]any{"addLicenses": []any{}})
	if st != 400 || !strings.Contains(fmt.Sprint(body), "removeLicenses") {
		t.Fatalf("missing parameter: %d %v", st, body)
	}
	// 250 free seats: the 251st direct assignment fails with the seats message.
	e.sb.RequestLog().Reset()
	var reqs []any
	ok, fail := 0, 0
	for i := 1; i <= 260; i++ {
		if i == 250 {
			continue
		}
		reqs = append(reqs, map[string]any{"id": fmt.Sprint(i), "method": "POST", "url": "/users/" + graphapi.UserID(i) + "/assignLicense", "body": add, "headers": map[string]string{"Content-Type": "application/json"}})
		if len(reqs) == 20 || i == 260 {
			st, body := e.call("POST", "/v1.0/$batch", map[string]any{"requests": reqs})
			if st != 200 {
				t.Fatalf("batch: %d %v", st, body)
			}
			for _, r := range body["responses"].([]any) {
				rm := r.(map[string]any)
				if rm["status"].(float64) == 200 {
					ok++
				} else if strings.Contains(fmt.Sprint(rm["body"]), "does not have any available licenses") {
					fail++
				}
			}
			reqs = nil
		}
	}
	if ok != 250 || fail != 9 {
		t.Fatalf("ok %d fail %d, want 250 and 9", ok, fail)
	}
	if n := e.sb.RequestLog().Count("POST /graph/v1.0/users/{id}/assignLicense"); n != 0 {
		t.Fatalf("batch sub-requests counted as %d requests", n)
	}
	_, skus := e.call("GET", "/v1.0/subscribedSkus", nil)
	for _, s := range skus["value"].([]any) {
		m := s.(map[string]any)
		if m["skuPartNumber"] == graphapi.CopilotSkuPartNumber && m["consumedUnits"].(float64) != 300 {
			t.Fatalf("consumed %v", m["consumedUnits"])
		}
	}
}

func TestBatchLimitsAndDependsOn(t *testing.T) {
	e := setup(t)
	var reqs []any
	for i := 0; i < 21; i++ {
		reqs = append(reqs, map[string]any{"id": fmt.Sprint(i), "method": "GET", "url": "/users/" + graphapi.UserID(1)})
	}
	if st, _ := e.call("POST", "/v1.0/$batch", map[string]any{"requests": reqs}); st != 400 {
		t.Fatalf("21 requests: %d", st)
	}
	st, body := e.call("POST", "/v1.0/$batch", map[string]any{"requests": []any{
		map[string]any{"id": "1", "method": "GET", "url": "/users/missing@x"},
		map[string]any{"id": "2", "method": "GET", "url": "/users/" + graphapi.UserID(2), "dependsOn": []string{"1"}},
		map[string]any{"id": "3", "method": "GET", "url": "/nowhere"},
	}})
	if st != 200 {
		t.Fatal(st, body)
	}
	rs := body["responses"].([]any)
	if rs[0].(map[string]any)["status"].(float64) != 404 || rs[1].(map[string]any)["status"].(float64) != 424 || rs[2].(map[string]any)["status"].(float64) != 404 {
		t.Fatalf("%v", rs)
	}
}

func TestThrottleAndPersistence(t *testing.T) {
	e := setup(t)
	e.svc.Throttle(1, 2e9)
	req, _ := http.NewRequest("GET", e.sb.URL+"/graph/v1.0/subscribedSkus", nil)
	req.Header.Set("Authorization", "Bearer "+e.tok)
	resp, err := e.sb.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" {
		t.Fatalf("%d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if st, _ := e.call("GET", "/v1.0/subscribedSkus", nil); st != 200 {
		t.Fatalf("second request: %d", st)
	}
	b, err := e.svc.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	other := graphapi.New()
	if err := other.UnmarshalState(b); err != nil {
		t.Fatal(err)
	}
	if other.Tenant().Consumed(graphapi.CopilotSkuID) != 50 || len(other.Tenant().Users) != 2001 {
		t.Fatalf("restored: consumed %d users %d", other.Tenant().Consumed(graphapi.CopilotSkuID), len(other.Tenant().Users))
	}
	if err := other.UnmarshalState([]byte("{")); err == nil {
		t.Fatal("garbage accepted")
	}
}

func TestSeedLargeIsCompact(t *testing.T) {
	svc := graphapi.New()
	began := time.Now()
	svc.SeedLarge(50000, 10000)
	took := time.Since(began)
	tn := svc.Tenant()
	if len(tn.Users) != 50001 || tn.Consumed(graphapi.CopilotSkuID) != 50 || tn.Consumed(graphapi.E5SkuID) != 50001 {
		t.Fatalf("users %d, copilot %d, e5 %d", len(tn.Users), tn.Consumed(graphapi.CopilotSkuID), tn.Consumed(graphapi.E5SkuID))
	}
	b, _ := svc.MarshalState()
	t.Logf("50,000 users seeded in %v; saved state %d KB", took, len(b)/1024)
	if took > 5*time.Second {
		t.Fatalf("seeding 50,000 users took %v", took)
	}
}
