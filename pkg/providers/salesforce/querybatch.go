package salesforce

import (
	"context"
	"fmt"
	"net/url"
	"strings"
)

// Salesforce refuses a REST request whose URI and headers together exceed 16,384 bytes: 431
// Request Header Fields Too Large, or 414 URI Too Long when the URI alone does (Salesforce Help
// article 000386264, "Maximum number of rows returned by SOQL queries over the REST API", and the
// Platform API limits cheat sheet). A SOQL query travels in the URI (GET .../query?q=SOQL), so a
// query whose IN (...) list grows with the configuration is split by the size of its encoded
// request target, not by a count of values.
//
// maxQueryTarget is the most bytes c4sctl lets a query's request target (path and ?q=...) take:
// half the limit, which leaves the other 8,192 bytes to the request line's method and protocol
// and to the headers (Authorization with a session id or a JWT access token, Accept,
// User-Agent, tracing). The same article recommends about 8,000 bytes of headers; a value alone
// larger than the budget is sent in a query of its own and Salesforce's refusal is reported.
const maxQueryTarget = 8192

// queryTarget is the request target simpleforce's Query sends for soql (path under the
// instance URL, then ?q= with url.QueryEscape, as in simpleforce force.go).
func (c *Client) queryTarget(soql string) string {
	path := "/services/data/v" + c.version + "/query"
	if u, err := url.Parse(c.instance); err == nil {
		path = strings.TrimSuffix(u.Path, "/") + path
	}
	return path + "?q=" + url.QueryEscape(soql)
}

// inQueries builds the SOQL queries head + "(" + quoted values + ")" + tail, as few as fit each
// request target within maxQueryTarget bytes, in the order of values. No values: no query.
func (c *Client) inQueries(head string, values []string, tail string) []string {
	var out []string
	base := len(c.queryTarget(head + "()" + tail))
	cur, size := []string(nil), base
	for _, v := range values {
		q := soqlQuote(v)
		n := len(url.QueryEscape(q))
		if len(cur) > 0 {
			n += len(url.QueryEscape(", "))
		}
		if len(cur) > 0 && size+n > maxQueryTarget {
			out = append(out, head+"("+strings.Join(cur, ", ")+")"+tail)
			cur, size = nil, base
			n = len(url.QueryEscape(q))
		}
		cur = append(cur, q)
		size += n
	}
	if len(cur) > 0 {
		out = append(out, head+"("+strings.Join(cur, ", ")+")"+tail)
	}
	return out
}

// queryIn runs head IN (values) tail in as many queries as the URI limit needs, in parallel up to
// the provider's limit (fanOut), and returns every record in the order of the queries; what
// names the call in errors.
func (c *Client) queryIn(ctx context.Context, what, head string, values []string, tail string) ([]map[string]any, error) {
	qs := c.inQueries(head, values, tail)
	found := make([][]map[string]any, len(qs))
	if err := c.fanOut(ctx, len(qs), func(ctx context.Context, i int) error {
		recs, err := c.query(ctx, qs[i])
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		found[i] = recs
		return nil
	}); err != nil {
		return nil, err
	}
	var out []map[string]any
	for _, recs := range found {
		out = append(out, recs...)
	}
	return out, nil
}
