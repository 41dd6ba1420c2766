package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/graphapi"
	"github.com/c4sctl/c4sctl/pkg/sandbox/salesforceapi"
)

// TestNaiveClient is the naive per-record client the benchmark compares c4sctl with, run by the
// benchmark in a child process (it does nothing otherwise): what a script does with plain
// net/http, one request per user. It lists the Sellers group's members and the org's Standard
// User users (paged, as anyone would), then
//   - plan:  GET /users/{id} for each seller; one SOQL query per Salesforce user for its
//     permission set assignments;
//   - apply: POST /users/{id}/assignLicense for each seller without the licence; creates the
//     permission set, then POST sobjects/PermissionSetAssignment for each user.
//
// It keeps NaiveConcurrency requests in flight per API (what c4sctl's HTTP layer allows), and
// talks to both APIs at once.
func TestNaiveClient(t *testing.T) {
	mode := os.Getenv("BENCH_NAIVE_MODE")
	if mode == "" {
		t.Skip("run by the benchmark (BENCH_NAIVE_MODE)")
	}
	n := &naive{base: os.Getenv("BENCH_NAIVE_URL")}
	tr := http.DefaultTransport.(*http.Transport).Clone() // trusts SSL_CERT_FILE
	tr.MaxIdleConnsPerHost = 2 * NaiveConcurrency
	n.hc = &http.Client{Transport: tr}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Add(2)
	go func() { defer wg.Done(); errs[0] = n.graph(mode == "apply") }()
	go func() { defer wg.Done(); errs[1] = n.salesforce(mode == "apply") }()
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	fmt.Printf("naive %s: %d requests\n", mode, n.requests.Load())
}

type naive struct {
	base     string
	hc       *http.Client
	requests atomic.Int64
}

// call sends one request and decodes a 2xx JSON answer into out.
func (n *naive) call(method, u, token string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	n.requests.Add(1)
	resp, err := n.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, u, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func (n *naive) token(u string, form url.Values) (string, error) {
	n.requests.Add(1)
	resp, err := n.hc.PostForm(u, form)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("token from %s: status %d", u, resp.StatusCode)
	}
	return tok.AccessToken, nil
}

// each runs fn on every item, NaiveConcurrency at a time; the first error wins.
func each[T any](items []T, fn func(T) error) error {
	var mu sync.Mutex
	var first error
	ch := make(chan T)
	var wg sync.WaitGroup
	for range NaiveConcurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range ch {
				if err := fn(it); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, it := range items {
		ch <- it
	}
	close(ch)
	wg.Wait()
	return first
}

type graphUser struct {
	ID       string  `json:"id"`
	Loc      *string `json:"usageLocation"`
	Licenses []struct {
		SkuID string `json:"skuId"`
	} `json:"assignedLicenses"`
}

func (u graphUser) licensed() bool {
	for _, l := range u.Licenses {
		if strings.EqualFold(l.SkuID, graphapi.CopilotSkuID) {
			return true
		}
	}
	return false
}

func (n *naive) graph(apply bool) error {
	tok, err := n.token(n.base+"/"+sandbox.TenantID+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {sandbox.ClientID}, "client_secret": {secret}, "scope": {graphapi.Audience + "/.default"}})
	if err != nil {
		return err
	}
	api := n.base + "/graph/v1.0"
	var members []graphUser
	next := api + "/groups/" + graphapi.SellersGroupID + "/members?$select=id,usageLocation,assignedLicenses&$top=999"
	for next != "" {
		var pg struct {
			Value []graphUser `json:"value"`
			Next  string      `json:"@odata.nextLink"`
		}
		if err := n.call(http.MethodGet, next, tok, nil, &pg); err != nil {
			return err
		}
		members = append(members, pg.Value...)
		next = pg.Next
	}
	if !apply {
		return each(members, func(u graphUser) error {
			var x graphUser
			return n.call(http.MethodGet, api+"/users/"+u.ID+"?$select=id,usageLocation,assignedLicenses", tok, nil, &x)
		})
	}
	var todo []graphUser
	for _, u := range members {
		if !u.licensed() && u.Loc != nil && *u.Loc != "" {
			todo = append(todo, u)
		}
	}
	body := map[string]any{"addLicenses": []any{map[string]any{"skuId": graphapi.CopilotSkuID, "disabledPlans": []string{}}}, "removeLicenses": []string{}}
	return each(todo, func(u graphUser) error {
		return n.call(http.MethodPost, api+"/users/"+u.ID+"/assignLicense", tok, body, nil)
	})
}

func (n *naive) salesforce(apply bool) error {
	root := n.base + "/salesforce"
	tok, err := n.token(root+"/services/oauth2/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {salesforceapi.ConsumerKey}, "client_secret": {secret}})
	if err != nil {
		return err
	}
	api := root + "/services/data/v62.0"
	type page struct {
		Records []map[string]any `json:"records"`
		Next    string           `json:"nextRecordsUrl"`
	}
	var ids []string
	next := api + "/query?q=" + url.QueryEscape("SELECT Id FROM User WHERE Profile.Name = 'Standard User' AND IsActive = true")
	for next != "" {
		var pg page
		if err := n.call(http.MethodGet, next, tok, nil, &pg); err != nil {
			return err
		}
		for _, r := range pg.Records {
			if id, _ := r["Id"].(string); id != "" {
				ids = append(ids, id)
			}
		}
		next = ""
		if pg.Next != "" {
			next = root + pg.Next
		}
	}
	if !apply {
		return each(ids, func(id string) error {
			var pg page
			return n.call(http.MethodGet, api+"/query?q="+url.QueryEscape("SELECT Id, PermissionSetId FROM PermissionSetAssignment WHERE AssigneeId = '"+id+"'"), tok, nil, &pg)
		})
	}
	var ps struct {
		ID string `json:"id"`
	}
	if err := n.call(http.MethodPost, api+"/sobjects/PermissionSet", tok, map[string]any{"Name": "Copilot_for_Sales_Users", "Label": "Copilot_for_Sales_Users", "PermissionsApiEnabled": true}, &ps); err != nil {
		return err
	}
	return each(ids, func(id string) error {
		return n.call(http.MethodPost, api+"/sobjects/PermissionSetAssignment", tok, map[string]any{"AssigneeId": id, "PermissionSetId": ps.ID}, nil)
	})
}
