package salesforce

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/httpx"
)

// The Metadata API has no Go library: its SOAP calls are written here with encoding/xml. Only
// readMetadata and updateMetadata of ConnectedApp are used. updateMetadata replaces the
// component, so c4sctl sends back what readMetadata returned with only its own fields changed.

const (
	soapEnvNS = "http://schemas.xmlsoap.org/soap/envelope/"
	mdNS      = "http://soap.sforce.com/2006/04/metadata"
	xsiNS     = "http://www.w3.org/2001/XMLSchema-instance"
)

// xnode is a generic XML element, kept so that fields c4sctl does not know survive an update.
type xnode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Nodes   []xnode    `xml:",any"`
	Text    string     `xml:",chardata"`
}

func (n *xnode) child(local string) *xnode {
	for i := range n.Nodes {
		if n.Nodes[i].XMLName.Local == local {
			return &n.Nodes[i]
		}
	}
	return nil
}

func (n *xnode) text(path ...string) (string, bool) {
	cur := n
	for _, p := range path {
		if cur = cur.child(p); cur == nil {
			return "", false
		}
	}
	return strings.TrimSpace(cur.Text), true
}

func (n *xnode) texts(local string) []string {
	var out []string
	for _, c := range n.Nodes {
		if c.XMLName.Local == local {
			if t := strings.TrimSpace(c.Text); t != "" {
				out = append(out, t)
			}
		}
	}
	return out
}

func (n *xnode) isNil() bool {
	for _, a := range n.Attrs {
		if a.Name.Local == "nil" && a.Value == "true" {
			return true
		}
	}
	return false
}

// ensure returns the child named local, inserting it (in alphabetical position, the order of the
// Metadata WSDL's sequences for the types used) when missing.
func (n *xnode) ensure(local string) *xnode {
	if c := n.child(local); c != nil {
		return c
	}
	i := len(n.Nodes)
	for j, c := range n.Nodes {
		if c.XMLName.Local != "fullName" && c.XMLName.Local > local {
			i = j
			break
		}
	}
	n.Nodes = append(n.Nodes, xnode{})
	copy(n.Nodes[i+1:], n.Nodes[i:])
	n.Nodes[i] = xnode{XMLName: xml.Name{Local: local}}
	return &n.Nodes[i]
}

func (n *xnode) set(value string, path ...string) {
	cur := n
	for _, p := range path {
		cur = cur.ensure(p)
	}
	cur.Nodes, cur.Text = nil, value
}

func (n *xnode) remove(local string) {
	kept := n.Nodes[:0]
	for _, c := range n.Nodes {
		if c.XMLName.Local != local {
			kept = append(kept, c)
		}
	}
	n.Nodes = kept
}

// write serialises the element's children in the metadata namespace (set by the enclosing
// element), dropping nil elements.
func (n *xnode) write(b *bytes.Buffer) {
	for _, c := range n.Nodes {
		if c.isNil() {
			continue
		}
		b.WriteString("<" + c.XMLName.Local + ">")
		if len(c.Nodes) > 0 {
			c.write(b)
		} else {
			_ = xml.EscapeText(b, []byte(strings.TrimSpace(c.Text)))
		}
		b.WriteString("</" + c.XMLName.Local + ">")
	}
}

// SOAPFault is a Metadata API SOAP fault.
type SOAPFault struct {
	Code, Message string
	Reauthed      bool
}

func (f *SOAPFault) Error() string {
	msg := fmt.Sprintf("Salesforce Metadata API: %s: %s", f.Code, truncate(f.Message, 400))
	if strings.HasSuffix(f.Code, "INVALID_SESSION_ID") && f.Reauthed {
		msg += ". The org refused a fresh session too: check that the user is active and has API Enabled"
	} else if strings.HasSuffix(f.Code, "INVALID_SESSION_ID") {
		msg += ". The session expired and cannot be renewed with this auth method: get a new access token and run again"
	}
	return msg
}

// MetadataError is a per-component failure of updateMetadata.
type MetadataError struct {
	FullName, StatusCode, Message string
}

func (e *MetadataError) Error() string {
	return fmt.Sprintf("Salesforce Metadata API refused to update %s: %s: %s", e.FullName, e.StatusCode, truncate(e.Message, 400))
}

// refusedForManaged tells whether the failure means the component cannot be changed through the
// Metadata API at all (an installed, managed app) rather than a bad value.
func (e *MetadataError) refusedForManaged() bool {
	switch e.StatusCode {
	case "CANNOT_MODIFY_MANAGED_OBJECT", "INSUFFICIENT_ACCESS", "INSUFFICIENT_ACCESS_OR_READONLY", "INVALID_CROSS_REFERENCE_KEY", "CANNOT_EXECUTE_FLOW_TRIGGER":
		return true
	}
	return false
}

// soapCall sends one Metadata API operation (body: the operation element) and returns the
// operation's response element. A refused session is answered by signing in again once.
func (c *Client) soapCall(ctx context.Context, op, body string) (*xnode, error) {
	for attempt := 0; ; attempt++ {
		tok, gen := c.current()
		var env bytes.Buffer
		env.WriteString(`<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="` + soapEnvNS + `" xmlns:xsi="` + xsiNS + `"><soapenv:Header><SessionHeader xmlns="` + mdNS + `"><sessionId>`)
		_ = xml.EscapeText(&env, []byte(tok))
		env.WriteString(`</sessionId></SessionHeader></soapenv:Header><soapenv:Body>` + body + `</soapenv:Body></soapenv:Envelope>`)
		rctx := context.WithValue(ctx, rawKey{}, true)
		if op == "readMetadata" || op == "updateMetadata" {
			// A read, or an update of a component's fields to given values: sending it again
			// cannot apply a change twice, so the HTTP layer may replay it when its answer is lost.
			rctx = httpx.ReplaySafe(rctx)
		}
		req, err := http.NewRequestWithContext(rctx, http.MethodPost, c.instance+"/services/Soap/m/"+c.version, bytes.NewReader(env.Bytes()))
		if err != nil {
			return nil, fmt.Errorf("Salesforce Metadata API %s: %v", op, err)
		}
		req.Header.Set("Content-Type", "text/xml; charset=UTF-8")
		req.Header.Set("SOAPAction", `""`)
		resp, err := c.hc.Do(req)
		if err != nil {
			return nil, fmt.Errorf("Salesforce Metadata API %s: %w", op, unwrapURLError(err))
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("Salesforce Metadata API %s: reading the answer: %v", op, err)
		}
		var out xnode
		if err := xml.Unmarshal(b, &out); err != nil || out.XMLName.Local != "Envelope" {
			return nil, fmt.Errorf("Salesforce Metadata API %s: %d, unexpected answer (not a SOAP envelope)", op, resp.StatusCode)
		}
		bodyNode := out.child("Body")
		if bodyNode == nil {
			return nil, fmt.Errorf("Salesforce Metadata API %s: SOAP answer without a Body", op)
		}
		if f := bodyNode.child("Fault"); f != nil {
			code, _ := f.text("faultcode")
			msg, _ := f.text("faultstring")
			fault := &SOAPFault{Code: code, Message: msg, Reauthed: attempt > 0}
			if strings.HasSuffix(code, "INVALID_SESSION_ID") && c.canReauth && attempt == 0 {
				if err := c.reauth(ctx, gen); err != nil {
					return nil, err
				}
				continue
			}
			return nil, fault
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("Salesforce Metadata API %s: %d without a SOAP fault", op, resp.StatusCode)
		}
		r := bodyNode.child(op + "Response")
		if r == nil {
			return nil, fmt.Errorf("Salesforce Metadata API %s: the answer has no %sResponse", op, op)
		}
		return r, nil
	}
}

func xmlText(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// readConnectedApp reads a ConnectedApp component; nil when the org returns no record for it.
func (c *Client) readConnectedApp(ctx context.Context, fullName string) (*xnode, error) {
	r, err := c.soapCall(ctx, "readMetadata", `<readMetadata xmlns="`+mdNS+`"><type>ConnectedApp</type><fullNames>`+xmlText(fullName)+`</fullNames></readMetadata>`)
	if err != nil {
		return nil, err
	}
	res := r.child("result")
	if res == nil {
		return nil, nil
	}
	rec := res.child("records")
	if rec == nil || rec.isNil() || len(rec.Nodes) == 0 {
		return nil, nil
	}
	return rec, nil
}

// updateConnectedApp sends the component back (profile and permission set lists are left out:
// c4sctl grants access through SetupEntityAccess rows).
func (c *Client) updateConnectedApp(ctx context.Context, rec *xnode) error {
	rec.remove("profileName")
	rec.remove("permissionSetName")
	var b bytes.Buffer
	b.WriteString(`<updateMetadata xmlns="` + mdNS + `"><metadata xsi:type="ConnectedApp">`)
	rec.write(&b)
	b.WriteString(`</metadata></updateMetadata>`)
	r, err := c.soapCall(ctx, "updateMetadata", b.String())
	if err != nil {
		return err
	}
	res := r.child("result")
	if res == nil {
		return fmt.Errorf("Salesforce Metadata API updateMetadata: the answer has no result")
	}
	if ok, _ := res.text("success"); ok == "true" {
		return nil
	}
	fullName, _ := rec.text("fullName")
	e := &MetadataError{FullName: fullName, StatusCode: "UNKNOWN", Message: "no error detail"}
	if er := res.child("errors"); er != nil {
		e.StatusCode, _ = er.text("statusCode")
		e.Message, _ = er.text("message")
	}
	return e
}
