package salesforceapi

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// The sandbox parses only the SOQL c4sctl needs:
//   SELECT field[, field...] FROM Object [WHERE expr] [ORDER BY field [ASC|DESC][, ...]] [LIMIT n]
// or SELECT COUNT() FROM Object [WHERE expr] [LIMIT n],
// where expr is conditions joined by AND or by OR, each a cond, `NOT factor` or `( expr )`
// (parentheses are required whenever the operators are mixed, as Salesforce requires), a cond is
// `field op value` (op one of = != < > <= >= LIKE), `field IN (values)` or `field NOT IN
// (values)`, values are 'strings', numbers, true, false or null, and fields may follow one
// relationship (Profile.Name). Anything else is MALFORMED_QUERY.

type soqlError struct{ code, msg string }

func (e *soqlError) Error() string { return e.msg }

func malformed(format string, a ...any) error {
	return &soqlError{"MALFORMED_QUERY", fmt.Sprintf(format, a...)}
}

type token struct {
	kind string // ident, string, number, punct
	text string
}

func lex(q string) ([]token, error) {
	var out []token
	r := []rune(q)
	for i := 0; i < len(r); {
		c := r[i]
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			closed := false
			for j < len(r) {
				if r[j] == '\\' && j+1 < len(r) {
					b.WriteRune(r[j+1])
					j += 2
					continue
				}
				if r[j] == '\'' {
					closed = true
					j++
					break
				}
				b.WriteRune(r[j])
				j++
			}
			if !closed {
				return nil, malformed("unterminated string literal")
			}
			out = append(out, token{"string", b.String()})
			i = j
		case c == '(' || c == ')' || c == ',':
			out = append(out, token{"punct", string(c)})
			i++
		case c == '=' || c == '<' || c == '>' || c == '!':
			j := i + 1
			if j < len(r) && (r[j] == '=' || (c == '<' && r[j] == '>')) {
				j++
			}
			op := string(r[i:j])
			if op == "!" {
				return nil, malformed("unexpected token '!'")
			}
			if op == "<>" {
				op = "!="
			}
			out = append(out, token{"punct", op})
			i = j
		case unicode.IsDigit(c) || c == '-':
			j := i + 1
			for j < len(r) && (unicode.IsDigit(r[j]) || r[j] == '.') {
				j++
			}
			out = append(out, token{"number", string(r[i:j])})
			i = j
		case unicode.IsLetter(c) || c == '_':
			j := i + 1
			for j < len(r) && (unicode.IsLetter(r[j]) || unicode.IsDigit(r[j]) || r[j] == '_' || r[j] == '.') {
				j++
			}
			out = append(out, token{"ident", string(r[i:j])})
			i = j
		default:
			return nil, malformed("unexpected token '%c'", c)
		}
	}
	return out, nil
}

type cond struct {
	field string
	op    string // = != < > <= >= LIKE IN NOTIN
	vals  []any
}

type orderBy struct {
	field string
	desc  bool
}

type query struct {
	user   string // id of the session's user (UserPermissionAccess answers for it)
	count  bool   // SELECT COUNT()
	fields []string
	object string
	where  expr // nil without WHERE
	order  []orderBy
	limit  int
}

// expr is a WHERE expression: *cond, andOr or not.
type expr interface{ isExpr() }

func (*cond) isExpr() {}
func (andOr) isExpr() {}
func (not) isExpr()   {}

type andOr struct {
	or   bool
	kids []expr
}

type not struct{ x expr }

type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return token{}
}

func (p *parser) next() token { t := p.peek(); p.i++; return t }

func (p *parser) keyword(k string) bool {
	if t := p.peek(); t.kind == "ident" && strings.EqualFold(t.text, k) {
		p.i++
		return true
	}
	return false
}

func parseSOQL(q string) (*query, error) {
	toks, err := lex(q)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	if !p.keyword("SELECT") {
		return nil, malformed("unexpected token: '%s'; a query starts with SELECT", p.peek().text)
	}
	out := &query{limit: -1}
	// SELECT COUNT() FROM ...: the number of matching rows, in totalSize, with no records (SOQL
	// and SOSL Reference, "COUNT()"). COUNT(field) is an aggregate function the sandbox lacks.
	if t := p.peek(); t.kind == "ident" && strings.EqualFold(t.text, "COUNT") && p.i+2 < len(p.toks) && p.toks[p.i+1].text == "(" && p.toks[p.i+2].text == ")" {
		p.i += 3
		out.count = true
		if p.peek().text == "," {
			return nil, malformed("COUNT() must be the only element in the SELECT list")
		}
	}
	for !out.count {
		t := p.next()
		if t.kind != "ident" || strings.EqualFold(t.text, "FROM") {
			return nil, malformed("unexpected token: '%s' in the field list", t.text)
		}
		if p.peek().text == "(" {
			return nil, malformed("functions and subqueries are not supported by the sandbox: '%s('", t.text)
		}
		out.fields = append(out.fields, t.text)
		if p.peek().text != "," {
			break
		}
		p.next()
	}
	if !p.keyword("FROM") {
		return nil, malformed("unexpected token: '%s'; expecting FROM", p.peek().text)
	}
	obj := p.next()
	if obj.kind != "ident" || strings.Contains(obj.text, ".") {
		return nil, malformed("unexpected token: '%s' after FROM", obj.text)
	}
	out.object = obj.text
	if p.keyword("WHERE") {
		if out.where, err = p.expr(); err != nil {
			return nil, err
		}
	}
	if p.keyword("ORDER") {
		if !p.keyword("BY") {
			return nil, malformed("expecting BY after ORDER")
		}
		for {
			f := p.next()
			if f.kind != "ident" {
				return nil, malformed("unexpected token: '%s' in ORDER BY", f.text)
			}
			ob := orderBy{field: f.text}
			if p.keyword("DESC") {
				ob.desc = true
			} else {
				p.keyword("ASC")
			}
			out.order = append(out.order, ob)
			if p.peek().text != "," {
				break
			}
			p.next()
		}
	}
	if p.keyword("LIMIT") {
		t := p.next()
		n, err := strconv.Atoi(t.text)
		if t.kind != "number" || err != nil || n < 0 {
			return nil, malformed("LIMIT needs a non-negative integer, got '%s'", t.text)
		}
		out.limit = n
	}
	if p.i != len(p.toks) {
		return nil, malformed("unexpected token: '%s'", p.peek().text)
	}
	return out, nil
}

// expr parses conditions joined by one operator, AND or OR.
func (p *parser) expr() (expr, error) {
	first, bareNot, err := p.factor()
	if err != nil {
		return nil, err
	}
	group := andOr{kids: []expr{first}}
	op := ""
	for {
		t := p.peek()
		word := strings.ToUpper(t.text)
		if t.kind != "ident" || (word != "AND" && word != "OR") {
			break
		}
		if op != "" && word != op {
			return nil, malformed("unexpected token: '%s'; use parentheses when mixing AND and OR", t.text)
		}
		op = word
		p.next()
		x, n, err := p.factor()
		if err != nil {
			return nil, err
		}
		bareNot = bareNot || n
		group.kids = append(group.kids, x)
	}
	if len(group.kids) == 1 {
		return first, nil
	}
	if bareNot {
		return nil, malformed("unexpected token: 'NOT'; use parentheses around NOT when mixing it with %s", op)
	}
	group.or = op == "OR"
	return group, nil
}

// factor parses a cond, NOT factor or ( expr ); bareNot says it was a NOT without parentheses.
func (p *parser) factor() (x expr, bareNot bool, err error) {
	if p.keyword("NOT") {
		x, _, err := p.factor()
		if err != nil {
			return nil, false, err
		}
		return not{x}, true, nil
	}
	if p.peek().text == "(" {
		p.next()
		x, err := p.expr()
		if err != nil {
			return nil, false, err
		}
		if t := p.next(); t.text != ")" {
			return nil, false, malformed("unexpected token: '%s'; expecting )", t.text)
		}
		return x, false, nil
	}
	c, err := p.cond()
	if err != nil {
		return nil, false, err
	}
	return &c, false, nil
}

func (p *parser) value() (any, error) {
	t := p.next()
	switch t.kind {
	case "string":
		return t.text, nil
	case "number":
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, malformed("bad number '%s'", t.text)
		}
		return f, nil
	case "ident":
		switch strings.ToLower(t.text) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		}
	}
	return nil, malformed("unexpected token: '%s'; expecting a value", t.text)
}

func (p *parser) cond() (cond, error) {
	f := p.next()
	if f.kind != "ident" {
		return cond{}, malformed("unexpected token: '%s'; expecting a field", f.text)
	}
	c := cond{field: f.text}
	switch t := p.next(); {
	case t.kind == "punct" && (t.text == "=" || t.text == "!=" || t.text == "<" || t.text == ">" || t.text == "<=" || t.text == ">="):
		c.op = t.text
	case t.kind == "ident" && strings.EqualFold(t.text, "LIKE"):
		c.op = "LIKE"
	case t.kind == "ident" && strings.EqualFold(t.text, "IN"):
		c.op = "IN"
	case t.kind == "ident" && strings.EqualFold(t.text, "NOT") && p.keyword("IN"):
		c.op = "NOTIN"
	default:
		return cond{}, malformed("unexpected token: '%s' after %s", t.text, f.text)
	}
	if c.op == "IN" || c.op == "NOTIN" {
		if p.next().text != "(" {
			return cond{}, malformed("expecting ( after IN")
		}
		for {
			v, err := p.value()
			if err != nil {
				return cond{}, err
			}
			c.vals = append(c.vals, v)
			t := p.next()
			if t.text == ")" {
				break
			}
			if t.text != "," {
				return cond{}, malformed("unexpected token: '%s' in IN list", t.text)
			}
		}
		return c, nil
	}
	v, err := p.value()
	if err != nil {
		return cond{}, err
	}
	c.vals = []any{v}
	return c, nil
}

// --- evaluation over the org's records -------------------------------------------------------

// object describes one queryable sObject type: its canonical field names and its relationships.
type object struct {
	name   string
	fields []string
	rels   map[string]string // relationship name -> object name
	rows   func(o *Org) []map[string]any
}

func permFields() []string {
	var out []string
	for _, p := range UserPermissions {
		out = append(out, "Permissions"+p)
	}
	return out
}

func (s *Service) objects() map[string]*object {
	objs := map[string]*object{
		"user": {name: "User", fields: []string{"Id", "Username", "Name", "Email", "IsActive", "ProfileId", "FederationIdentifier"}, rels: map[string]string{"Profile": "Profile"},
			rows: func(o *Org) []map[string]any {
				var out []map[string]any
				for _, u := range o.Users {
					out = append(out, map[string]any{"Id": u.ID, "Username": u.Username, "Name": u.Name, "Email": u.Email, "IsActive": u.IsActive, "ProfileId": u.ProfileID, "FederationIdentifier": nilIfEmpty(u.FederationIdentifier)})
				}
				return out
			}},
		"profile": {name: "Profile", fields: append([]string{"Id", "Name"}, permFields()...),
			rows: func(o *Org) []map[string]any {
				var out []map[string]any
				for _, p := range o.Profiles {
					m := map[string]any{"Id": p.ID, "Name": o.profileName(p)}
					for _, k := range UserPermissions {
						m["Permissions"+k] = p.Perms[k]
					}
					out = append(out, m)
				}
				return out
			}},
		"permissionset": {name: "PermissionSet", fields: append([]string{"Id", "Name", "Label", "Description", "IsOwnedByProfile", "ProfileId", "NamespacePrefix"}, permFields()...), rels: map[string]string{"Profile": "Profile"},
			rows: func(o *Org) []map[string]any {
				var out []map[string]any
				for _, p := range o.PermissionSets {
					m := map[string]any{"Id": p.ID, "Name": p.Name, "Label": p.Label, "Description": nilIfEmpty(p.Description), "IsOwnedByProfile": p.ProfileID != "", "ProfileId": nilIfEmpty(p.ProfileID), "NamespacePrefix": nil}
					perms := p.Perms
					if p.ProfileID != "" {
						if pr := o.Profile(p.ProfileID); pr != nil {
							perms = pr.Perms
						}
					}
					for _, k := range UserPermissions {
						m["Permissions"+k] = perms[k]
					}
					out = append(out, m)
				}
				return out
			}},
		"permissionsetassignment": {name: "PermissionSetAssignment", fields: []string{"Id", "AssigneeId", "PermissionSetId"}, rels: map[string]string{"Assignee": "User", "PermissionSet": "PermissionSet"},
			rows: func(o *Org) []map[string]any {
				var out []map[string]any
				for _, a := range o.Assignments {
					out = append(out, map[string]any{"Id": a.ID, "AssigneeId": a.AssigneeID, "PermissionSetId": a.PermissionSetID})
				}
				return out
			}},
		"setupentityaccess": {name: "SetupEntityAccess", fields: []string{"Id", "ParentId", "SetupEntityId", "SetupEntityType"}, rels: map[string]string{"Parent": "PermissionSet"},
			rows: func(o *Org) []map[string]any {
				var out []map[string]any
				for _, e := range o.EntityAccess {
					out = append(out, map[string]any{"Id": e.ID, "ParentId": e.ParentID, "SetupEntityId": e.SetupEntityID, "SetupEntityType": e.SetupEntityType})
				}
				return out
			}},
		"objectpermissions": {name: "ObjectPermissions", fields: append([]string{"Id", "ParentId", "SobjectType"}, objectPermFields...), rels: map[string]string{"Parent": "PermissionSet"},
			rows: func(o *Org) []map[string]any {
				var out []map[string]any
				for _, op := range o.ObjectPerms {
					m := map[string]any{"Id": op.ID, "ParentId": op.ParentID, "SobjectType": op.SobjectType}
					for k, v := range op.fields() {
						m[k] = *v
					}
					out = append(out, m)
				}
				return out
			}},
		// UserPermissionAccess: "Represents the permissions accessibility for a current user"
		// (query and describe only; fields LastCacheUpdate and Permissions<PermissionName>; API
		// users without View Setup may read it). One row: the session user's profile and
		// assigned permission sets together. Salesforce object reference, UserPermissionAccess
		// (API 41.0 and later). Its rows depend on the session: run fills them in.
		"userpermissionaccess": {name: "UserPermissionAccess", fields: append([]string{"LastCacheUpdate"}, permFields()...),
			rows: func(*Org) []map[string]any { return nil }},
		"connectedapplication": {name: "ConnectedApplication", fields: []string{"Id", "Name", "OptionsAllowAdminApprovedUsersOnly", "OptionsRefreshTokenValidityMetric", "RefreshTokenValidityPeriod", "OptionsHasSessionLevelPolicy"},
			rows: func(o *Org) []map[string]any {
				var out []map[string]any
				for _, a := range o.Apps {
					if !a.Installed {
						continue
					}
					var period any
					metric := false
					if parts := strings.Split(a.RefreshTokenPolicy, ":"); len(parts) == 3 {
						n, _ := strconv.Atoi(parts[1])
						period, metric = n, parts[0] == "specific_inactivity"
					}
					out = append(out, map[string]any{"Id": a.ID, "Name": a.Name, "OptionsAllowAdminApprovedUsersOnly": a.IsAdminApproved,
						"OptionsRefreshTokenValidityMetric": metric, "RefreshTokenValidityPeriod": period, "OptionsHasSessionLevelPolicy": false})
				}
				return out
			}},
	}
	return objs
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func canonical(obj *object, name string) (string, bool) {
	for _, f := range obj.fields {
		if strings.EqualFold(f, name) {
			return f, true
		}
	}
	return "", false
}

// run evaluates q against the org, returning REST-shaped records.
func (s *Service) run(q *query, apiPath string, tooling bool) ([]map[string]any, error) {
	objs := s.objects()
	obj := objs[strings.ToLower(q.object)]
	if obj == nil || (tooling && obj.name != "PermissionSet" && obj.name != "Profile" && obj.name != "User") {
		return nil, &soqlError{"INVALID_TYPE", fmt.Sprintf("sObject type '%s' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name.", q.object)}
	}
	type fieldRef struct {
		rel, relObj, name string // rel "" for a direct field
	}
	resolve := func(f string) (fieldRef, error) {
		if rel, sub, ok := strings.Cut(f, "."); ok {
			var relName, target string
			for r, t := range obj.rels {
				if strings.EqualFold(r, rel) {
					relName, target = r, t
				}
			}
			if relName == "" || strings.Contains(sub, ".") {
				return fieldRef{}, &soqlError{"INVALID_FIELD", fmt.Sprintf("Didn't understand relationship '%s' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name.", rel)}
			}
			to := objs[strings.ToLower(target)]
			name, ok := canonical(to, sub)
			if !ok {
				return fieldRef{}, &soqlError{"INVALID_FIELD", fmt.Sprintf("No such column '%s' on entity '%s'.", sub, to.name)}
			}
			return fieldRef{rel: relName, relObj: target, name: name}, nil
		}
		name, ok := canonical(obj, f)
		if !ok {
			return fieldRef{}, &soqlError{"INVALID_FIELD", fmt.Sprintf("No such column '%s' on entity '%s'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name.", f, obj.name)}
		}
		return fieldRef{name: name}, nil
	}
	// Related rows by id, built once per related object.
	relIndex := map[string]map[string]map[string]any{}
	related := func(target, id string) map[string]any {
		idx := relIndex[target]
		if idx == nil {
			idx = map[string]map[string]any{}
			for _, r := range objs[strings.ToLower(target)].rows(s.org) {
				idx[r["Id"].(string)] = r
			}
			relIndex[target] = idx
		}
		return idx[id]
	}
	relKey := func(rel string) string { // the id field of a relationship
		return rel + "Id"
	}
	get := func(row map[string]any, f fieldRef) any {
		if f.rel == "" {
			return row[f.name]
		}
		id, _ := row[relKey(f.rel)].(string)
		r := related(f.relObj, id)
		if r == nil {
			return nil
		}
		return r[f.name]
	}
	sel := make([]fieldRef, len(q.fields))
	for i, f := range q.fields {
		r, err := resolve(f)
		if err != nil {
			return nil, err
		}
		sel[i] = r
	}
	where := map[*cond]fieldRef{}
	var walk func(x expr) error
	walk = func(x expr) error {
		switch x := x.(type) {
		case *cond:
			r, err := resolve(x.field)
			where[x] = r
			if r.name == "Id" || strings.HasSuffix(r.name, "Id") {
				// An id field takes the 15-character form of an id too.
				for i, v := range x.vals {
					if s, ok := v.(string); ok && len(s) == 15 {
						x.vals[i] = id15(s)
					}
				}
			}
			return err
		case andOr:
			for _, k := range x.kids {
				if err := walk(k); err != nil {
					return err
				}
			}
		case not:
			return walk(x.x)
		}
		return nil
	}
	if err := walk(q.where); err != nil {
		return nil, err
	}
	var eval func(row map[string]any, x expr) bool
	eval = func(row map[string]any, x expr) bool {
		switch x := x.(type) {
		case *cond:
			return match(get(row, where[x]), *x)
		case andOr:
			for _, k := range x.kids {
				if eval(row, k) == x.or {
					return x.or
				}
			}
			return !x.or
		case not:
			return !eval(row, x.x)
		}
		return true // no WHERE
	}
	all := obj.rows(s.org)
	if obj.name == "UserPermissionAccess" {
		all = s.org.userPermissionAccess(q.user)
	}
	var rows []map[string]any
	for _, row := range all {
		if eval(row, q.where) {
			rows = append(rows, row)
		}
	}
	var order []fieldRef
	for _, o := range q.order {
		r, err := resolve(o.field)
		if err != nil {
			return nil, err
		}
		order = append(order, r)
	}
	if len(order) > 0 {
		sort.SliceStable(rows, func(i, j int) bool {
			for k, o := range order {
				a, b := fmt.Sprint(get(rows[i], o)), fmt.Sprint(get(rows[j], o))
				if a != b {
					return (a < b) != q.order[k].desc
				}
			}
			return false
		})
	}
	if q.limit >= 0 && len(rows) > q.limit {
		rows = rows[:q.limit]
	}
	attrs := func(typ string, id any) map[string]any {
		s, ok := id.(string)
		if !ok {
			// An object without an Id (UserPermissionAccess): the record has no URL of its own
			// (assumed: the reference documents no Id field, so no sobjects/{Id} resource).
			return map[string]any{"type": typ}
		}
		return map[string]any{"type": typ, "url": apiPath + "/sobjects/" + typ + "/" + s}
	}
	out := make([]map[string]any, 0, len(rows))
	for _, row := range rows {
		rec := map[string]any{"attributes": attrs(obj.name, row["Id"])}
		for _, f := range sel {
			if f.rel == "" {
				rec[f.name] = row[f.name]
				continue
			}
			id, _ := row[relKey(f.rel)].(string)
			r := related(f.relObj, id)
			if r == nil {
				rec[f.rel] = nil
				continue
			}
			m, _ := rec[f.rel].(map[string]any)
			if m == nil {
				m = map[string]any{"attributes": attrs(f.relObj, id)}
				rec[f.rel] = m
			}
			m[f.name] = r[f.name]
		}
		out = append(out, rec)
	}
	return out, nil
}

// id15 is a 15-character id literal compared with an id field (SameID).
type id15 string

func match(v any, c cond) bool {
	eq := func(a, b any) bool {
		if y, ok := b.(id15); ok {
			x, _ := a.(string)
			return SameID(x, string(y))
		}
		if a == nil || b == nil {
			return a == nil && b == nil
		}
		switch x := a.(type) {
		case string:
			y, ok := b.(string)
			return ok && strings.EqualFold(x, y)
		case bool:
			y, ok := b.(bool)
			return ok && x == y
		case int:
			y, ok := b.(float64)
			return ok && float64(x) == y
		}
		return false
	}
	switch c.op {
	case "=":
		return eq(v, c.vals[0])
	case "!=":
		return !eq(v, c.vals[0])
	case "IN", "NOTIN":
		in := false
		for _, x := range c.vals {
			in = in || eq(v, x)
		}
		return in == (c.op == "IN")
	case "LIKE":
		s, ok1 := v.(string)
		pat, ok2 := c.vals[0].(string)
		return ok1 && ok2 && like(strings.ToLower(s), strings.ToLower(pat))
	default: // < > <= >=
		a, b := fmt.Sprint(v), fmt.Sprint(c.vals[0])
		if x, ok := v.(int); ok {
			if y, ok := c.vals[0].(float64); ok {
				a, b = fmt.Sprintf("%020.4f", float64(x)), fmt.Sprintf("%020.4f", y)
			}
		}
		switch c.op {
		case "<":
			return a < b
		case ">":
			return a > b
		case "<=":
			return a <= b
		}
		return a >= b
	}
}

// like matches a SOQL LIKE pattern (% any run, _ one character).
func like(s, pat string) bool {
	if pat == "" {
		return s == ""
	}
	switch pat[0] {
	case '%':
		for i := 0; i <= len(s); i++ {
			if like(s[i:], pat[1:]) {
				return true
			}
		}
		return false
	case '_':
		return s != "" && like(s[1:], pat[1:])
	}
	return s != "" && s[0] == pat[0] && like(s[1:], pat[1:])
}
