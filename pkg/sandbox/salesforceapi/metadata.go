package salesforceapi

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// The Metadata API SOAP endpoint (/services/Soap/m/XX.X): readMetadata and updateMetadata of
// ConnectedApp, with the session in the SOAP header and errors as SOAP faults (session, unknown
// operation) or as per-component results (validation, managed components).

const (
	soapEnvNS = "http://schemas.xmlsoap.org/soap/envelope/"
	mdNS      = "http://soap.sforce.com/2006/04/metadata"
	xsiNS     = "http://www.w3.org/2001/XMLSchema-instance"
)

// node is a generic XML element.
type node struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Nodes   []node     `xml:",any"`
	Text    string     `xml:",chardata"`
}

func (n *node) child(local string) *node {
	for i := range n.Nodes {
		if n.Nodes[i].XMLName.Local == local {
			return &n.Nodes[i]
		}
	}
	return nil
}

func (n *node) children(local string) []*node {
	var out []*node
	for i := range n.Nodes {
		if n.Nodes[i].XMLName.Local == local {
			out = append(out, &n.Nodes[i])
		}
	}
	return out
}

func (n *node) text(path ...string) (string, bool) {
	cur := n
	for _, p := range path {
		if cur = cur.child(p); cur == nil {
			return "", false
		}
	}
	return strings.TrimSpace(cur.Text), true
}

func soapFault(w http.ResponseWriter, code, msg string) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="` + soapEnvNS + `" xmlns:sf="` + mdNS + `"><soapenv:Body><soapenv:Fault><faultcode>`)
	xml.EscapeText(&b, []byte(code))
	b.WriteString(`</faultcode><faultstring>`)
	xml.EscapeText(&b, []byte(msg))
	b.WriteString(`</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>`)
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write(b.Bytes())
}

func soapOK(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="`+soapEnvNS+`" xmlns="`+mdNS+`" xmlns:xsi="`+xsiNS+`"><soapenv:Body>`+body+`</soapenv:Body></soapenv:Envelope>`)
}

func esc(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

func (s *Service) soap(w http.ResponseWriter, r *http.Request) {
	if !servedVersion("v" + r.PathValue("v")) {
		soapFault(w, "sf:UNSUPPORTED_API_VERSION", "UNSUPPORTED_API_VERSION: Invalid Api version specified on URL")
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	var env node
	if err == nil {
		err = xml.Unmarshal(raw, &env)
	}
	if err != nil || env.XMLName.Local != "Envelope" {
		soapFault(w, "soapenv:Client", "Unable to parse the request body as a SOAP envelope")
		return
	}
	sid, _ := env.text("Header", "SessionHeader", "sessionId")
	check := r.Clone(r.Context())
	check.Header.Set("Authorization", "Bearer "+sid)
	if _, err := s.srv.Tokens.VerifySession(check, Audience); sid == "" || err != nil {
		soapFault(w, "sf:INVALID_SESSION_ID", "INVALID_SESSION_ID: Invalid Session ID found in SessionHeader: Illegal Session")
		return
	}
	body := env.child("Body")
	if body == nil || len(body.Nodes) == 0 {
		soapFault(w, "soapenv:Client", "No operation in the SOAP body")
		return
	}
	op := &body.Nodes[0]
	switch op.XMLName.Local {
	case "readMetadata":
		s.readMetadata(w, op)
	case "updateMetadata":
		s.updateMetadata(w, op)
	default:
		soapFault(w, "soapenv:Client", "No operation available for request {"+mdNS+"}"+op.XMLName.Local+" (the sandbox serves readMetadata and updateMetadata)")
	}
}

func (s *Service) readMetadata(w http.ResponseWriter, op *node) {
	typ, _ := op.text("type")
	if typ != "ConnectedApp" {
		soapFault(w, "sf:INVALID_TYPE", "INVALID_TYPE: The sandbox's readMetadata serves ConnectedApp only, not "+typ)
		return
	}
	var b strings.Builder
	b.WriteString("<readMetadataResponse><result>")
	for _, fn := range op.children("fullNames") {
		app := s.org.App(strings.TrimSpace(fn.Text))
		if app == nil || !app.Installed || app.MetadataHidden {
			b.WriteString(`<records xsi:nil="true"/>`)
			continue
		}
		b.WriteString(s.appXML(app))
	}
	b.WriteString("</result></readMetadataResponse>")
	soapOK(w, b.String())
}

func (s *Service) appXML(app *ConnectedApp) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<records xsi:type="ConnectedApp"><fullName>%s</fullName><contactEmail>%s</contactEmail><label>%s</label>`, esc(app.FullName), esc(app.ContactMail), esc(app.Name))
	fmt.Fprintf(&b, `<oauthConfig><callbackUrl>%s</callbackUrl><isAdminApproved>%t</isAdminApproved><isConsumerSecretOptional>false</isConsumerSecretOptional><scopes>Api</scopes><scopes>RefreshToken</scopes></oauthConfig>`, esc(app.CallbackURL), app.IsAdminApproved)
	fmt.Fprintf(&b, `<oauthPolicy><ipRelaxation>%s</ipRelaxation><refreshTokenPolicy>%s</refreshTokenPolicy></oauthPolicy>`, esc(app.IPRelaxation), esc(app.RefreshTokenPolicy))
	profiles, permSets := s.org.AppAccess(app.Name)
	for _, p := range permSets {
		fmt.Fprintf(&b, `<permissionSetName>%s</permissionSetName>`, esc(p))
	}
	for _, p := range profiles {
		fmt.Fprintf(&b, `<profileName>%s</profileName>`, esc(p))
	}
	if app.SessionTimeout > 0 {
		fmt.Fprintf(&b, `<sessionPolicy><sessionTimeout>%d</sessionTimeout></sessionPolicy>`, app.SessionTimeout)
	}
	b.WriteString(`</records>`)
	return b.String()
}

func saveResultXML(fullName, code, msg string) string {
	if code == "" {
		return fmt.Sprintf(`<result><fullName>%s</fullName><success>true</success></result>`, esc(fullName))
	}
	return fmt.Sprintf(`<result><errors><message>%s</message><statusCode>%s</statusCode></errors><fullName>%s</fullName><success>false</success></result>`, esc(msg), esc(code), esc(fullName))
}

func (s *Service) updateMetadata(w http.ResponseWriter, op *node) {
	var b strings.Builder
	b.WriteString("<updateMetadataResponse>")
	for _, md := range op.children("metadata") {
		fullName, _ := md.text("fullName")
		code, msg := s.updateApp(md)
		b.WriteString(saveResultXML(fullName, code, msg))
	}
	b.WriteString("</updateMetadataResponse>")
	soapOK(w, b.String())
}

// updateApp applies one ConnectedApp component (full replacement of the policies it carries;
// profileName / permissionSetName lists replace the access when present).
func (s *Service) updateApp(md *node) (code, msg string) {
	isType := false
	for _, a := range md.Attrs {
		if a.Name.Local == "type" && strings.HasSuffix(a.Value, "ConnectedApp") {
			isType = true
		}
	}
	if !isType {
		return "INVALID_TYPE", "The sandbox's updateMetadata accepts ConnectedApp components only (xsi:type=\"ConnectedApp\")."
	}
	fullName, _ := md.text("fullName")
	app := s.org.App(fullName)
	if app == nil || !app.Installed || app.FullName != fullName {
		return "INVALID_CROSS_REFERENCE_KEY", "In field: fullName - no ConnectedApp named " + fullName + " found"
	}
	if app.PoliciesLocked {
		return "CANNOT_MODIFY_MANAGED_OBJECT", "Cannot modify managed object: entity=ConnectedApplication, component=" + app.ID + ", field=OauthPolicy, state=installed"
	}
	ip, ok1 := md.text("oauthPolicy", "ipRelaxation")
	rt, ok2 := md.text("oauthPolicy", "refreshTokenPolicy")
	if !ok1 || !ok2 {
		return "FIELD_INTEGRITY_EXCEPTION", "oauthPolicy: ipRelaxation and refreshTokenPolicy are required"
	}
	if !validIPRelaxation(ip) {
		return "FIELD_INTEGRITY_EXCEPTION", "ipRelaxation: bad value for restricted picklist field: " + ip
	}
	if !validRefreshPolicy(rt) {
		return "FIELD_INTEGRITY_EXCEPTION", "refreshTokenPolicy: bad value: " + rt
	}
	timeout := 0
	if t, ok := md.text("sessionPolicy", "sessionTimeout"); ok && t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 {
			return "FIELD_INTEGRITY_EXCEPTION", "sessionTimeout: not a number of minutes: " + t
		}
		timeout = n
	}
	admin := false
	if v, ok := md.text("oauthConfig", "isAdminApproved"); ok {
		admin = v == "true"
	}
	// Access lists: resolve everything before changing anything.
	type grant struct{ psID string }
	var want []grant
	replace := false
	for _, p := range md.children("profileName") {
		replace = true
		if n := strings.TrimSpace(p.Text); n != "" {
			pr := s.org.Profile(n)
			if pr == nil {
				return "FIELD_INTEGRITY_EXCEPTION", "profileName: no profile named " + n
			}
			if ps := s.org.ProfilePermissionSet(pr.ID); ps != nil {
				want = append(want, grant{ps.ID})
			}
		}
	}
	for _, p := range md.children("permissionSetName") {
		replace = true
		if n := strings.TrimSpace(p.Text); n != "" {
			ps := s.org.PermissionSet(n)
			if ps == nil || ps.ProfileID != "" {
				return "FIELD_INTEGRITY_EXCEPTION", "permissionSetName: no permission set named " + n
			}
			want = append(want, grant{ps.ID})
		}
	}
	app.IPRelaxation, app.RefreshTokenPolicy, app.SessionTimeout, app.IsAdminApproved = ip, rt, timeout, admin
	if replace {
		kept := s.org.EntityAccess[:0]
		for _, e := range s.org.EntityAccess {
			if e.SetupEntityID != app.ID {
				kept = append(kept, e)
			}
		}
		s.org.EntityAccess = kept
		for _, g := range want {
			s.org.EntityAccess = append(s.org.EntityAccess, &EntityAccess{ID: s.org.nextID("0J0"), ParentID: g.psID, SetupEntityID: app.ID, SetupEntityType: "ConnectedApplication"})
		}
	}
	return "", ""
}
