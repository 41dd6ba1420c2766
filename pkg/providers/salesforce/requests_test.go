package salesforce

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/salesforceapi"
	"github.com/zclconf/go-cty/cty"
)

// longUsernames are n usernames of exactly 76 characters.
func longUsernames(n int) []string {
	out := make([]string, n)
	for i := range out {
		u := fmt.Sprintf("copilot.seller.%04d@", i)
		domain := "emea-north.field-sales.contoso-sandbox.example"
		u += strings.Repeat("x", 76-len(u)-len(domain)-1) + "." + domain
		out[i] = u
	}
	return out
}

// IN lists are split by the encoded size of the request target, never over the budget, every
// value once and in order; a list that fits is one query.
func TestInQueriesSplitByEncodedSize(t *testing.T) {
	c := &Client{version: "62.0", instance: "https://contoso.my.salesforce.com"}
	names := longUsernames(250)
	if len(names[0]) != 76 {
		t.Fatalf("username of %d characters", len(names[0]))
	}
	names[7] = "o'brien+" + names[7][8:] // quotes and pluses grow when encoded
	head := "SELECT Id, Username, ProfileId FROM User WHERE Username IN "
	qs := c.inQueries(head, names, "")
	var got []string
	for _, q := range qs {
		if n := len(c.queryTarget(q)); n > maxQueryTarget {
			t.Fatalf("request target of %d bytes", n)
		}
		list := strings.TrimSuffix(strings.TrimPrefix(q, head+"("), ")")
		for _, v := range strings.Split(list, ", ") {
			got = append(got, strings.ReplaceAll(strings.Trim(v, "'"), `\'`, "'"))
		}
	}
	if strings.Join(got, "\n") != strings.Join(names, "\n") {
		t.Fatalf("values lost or reordered: %d of %d", len(got), len(names))
	}
	// 250 values of about 88 encoded bytes need 3 queries of 8 KiB, not 2 (the count of 200
	// used before would have sent 2, the first 17.6 KB long).
	if len(qs) != 3 {
		t.Fatalf("%d queries, want 3", len(qs))
	}
	if qs := c.inQueries(head, names[:5], ""); len(qs) != 1 {
		t.Fatalf("5 names: %d queries", len(qs))
	}
	if qs := c.inQueries(head, nil, ""); len(qs) != 0 {
		t.Fatalf("no names: %d queries", len(qs))
	}
}

// 250 assignees with 76-character usernames are read, assigned and exported against a sandbox
// that refuses requests over Salesforce's 16,384-byte limit; one query with all of them would be
// refused.
func TestLongUsernamesWithinTheURILimit(t *testing.T) {
	c, sb, svc := start(t)
	names := longUsernames(250)
	mutate(t, sb, func() error { return svc.AddNamedUsers(names, salesforceapi.ProfileStandardUser) })

	var all []string
	for _, n := range names {
		all = append(all, soqlQuote(n))
	}
	_, err := c.query(ctx, "SELECT Id FROM User WHERE Username IN ("+strings.Join(all[:200], ", ")+")")
	if err == nil || !strings.Contains(err.Error(), "431") && !strings.Contains(err.Error(), "414") {
		t.Fatalf("200 names in one query: %v, want the sandbox's 414/431", err)
	}

	config := cfg(permissionSetSchema, map[string]cty.Value{"name": cty.StringVal("Copilot_Long_Names"), "api_enabled": cty.True, "assignees": strs(names...)})
	sb.RequestLog().Reset()
	resp, _ := converge(t, c, permissionSetSchema, config)
	if resp.ID == "" {
		t.Fatal("no id")
	}
	sb.View(func() {
		if got := len(svc.Org().AssignedUsernames("Copilot_Long_Names")); got != 250 {
			t.Errorf("%d assigned, want 250", got)
		}
	})
	for _, o := range exportOf(t, c, permissionSetSchema.Type) {
		if o.Name != "Copilot_Long_Names" {
			continue
		}
		got := o.Value.GetAttr("assignees").AsValueSet()
		if got.Length() != 250 {
			t.Fatalf("export has %d assignees", got.Length())
		}
		if changes := planOfExport(t, c, permissionSetSchema, o); len(changes) > 0 {
			t.Fatalf("plan of the export: %v", changes)
		}
		return
	}
	t.Fatal("the permission set is not exported")
}

// A standalone sandbox (`c4sctl sandbox serve`) is trusted through ca_file, as with the
// Microsoft providers; a missing file is an error naming ca_file.
func TestCAFile(t *testing.T) {
	dir := t.TempDir()
	sb, err := sandbox.Start(sandbox.Options{Dir: dir}, salesforceapi.New())
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	env := providertest.Env(sb)
	env.HTTPClient = &http.Client{Timeout: 30 * time.Second} // trusts only the system roots
	p := New()
	if _, err := p.Configure(ctx, providertest.ConfigValue(p, sb.URL, nil), env); err == nil {
		t.Fatal("without ca_file the sandbox certificate should not be trusted")
	}
	c, err := p.Configure(ctx, providertest.ConfigValue(p, sb.URL, map[string]cty.Value{"ca_file": cty.StringVal(sandbox.CACertFile(dir))}), env)
	if err != nil {
		t.Fatalf("with ca_file: %v", err)
	}
	if _, err := c.Read(ctx, providers.ReadRequest{Type: permissionSetSchema.Type, Config: cfg(permissionSetSchema, map[string]cty.Value{"name": cty.StringVal("Sales_Operations")})}); err != nil {
		t.Fatalf("read with ca_file: %v", err)
	}
	if _, err := p.Configure(ctx, providertest.ConfigValue(p, sb.URL, map[string]cty.Value{"ca_file": cty.StringVal(dir + "/nope.pem")}), env); err == nil || !strings.Contains(err.Error(), "ca_file") {
		t.Errorf("missing ca_file: %v", err)
	}
}
