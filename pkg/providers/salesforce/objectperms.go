package salesforce

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/attrs"
	"github.com/zclconf/go-cty/cty"
)

// Guide step 4: "users need permission to view, update and create records". A permission set
// grants that per object through ObjectPermissions rows, one per object, whose permissions depend
// on each other as Salesforce documents (ObjectPermissions in the Object Reference).

// objectPerm is one permission of an ObjectPermissions row: its name in the configuration, its
// field, and the permissions Salesforce requires with it.
type objectPerm struct {
	name, field string
	needs       []string
}

var objectPerms = []objectPerm{
	{"read", "PermissionsRead", nil},
	{"create", "PermissionsCreate", []string{"read"}},
	{"edit", "PermissionsEdit", []string{"read"}},
	{"delete", "PermissionsDelete", []string{"read", "edit"}},
	{"view_all", "PermissionsViewAllRecords", []string{"read"}},
	{"modify_all", "PermissionsModifyAllRecords", []string{"read", "edit", "delete", "view_all"}},
}

// objectNameRe is an object API name: a standard object ("Account"), or a custom one with its
// suffix (__c, big objects __b, platform events __e, external objects __x, custom metadata
// __mdt), maybe in a managed package's namespace ("ns__Invoice__c"). A name begins with a letter
// and has no double or trailing underscore; it is at most 40 characters before the suffix, and a
// namespace at most 15.
var objectNameRe = regexp.MustCompile(`^(?:[A-Za-z](?:[A-Za-z0-9]|_[A-Za-z0-9]){0,39}|(?:[A-Za-z][A-Za-z0-9]{0,14}__)?[A-Za-z](?:[A-Za-z0-9]|_[A-Za-z0-9]){0,39}__(?:c|b|e|x|mdt))$`)

func objectPermNames() []string {
	out := make([]string, len(objectPerms))
	for i, p := range objectPerms {
		out[i] = p.name
	}
	return out
}

// validateObjectPerms checks object names, permission names and the dependencies, so that a
// configuration Salesforce would refuse is refused at plan time, at its line.
func validateObjectPerms(v cty.Value) error {
	if v.IsNull() || !v.IsKnown() {
		return nil
	}
	known := map[string]objectPerm{}
	for _, p := range objectPerms {
		known[p.name] = p
	}
	seen := map[string]string{}
	for it := v.ElementIterator(); it.Next(); {
		k, set := it.Element()
		obj := k.AsString()
		if !objectNameRe.MatchString(obj) {
			return fmt.Errorf("object_permissions: %q is not an object API name (such as \"Account\" or \"Invoice__c\")", obj)
		}
		// Salesforce's object names are case-insensitive: two spellings are one row.
		if other, dup := seen[strings.ToLower(obj)]; dup {
			return fmt.Errorf("object_permissions: %q and %q name the same object; keep one", other, obj)
		}
		seen[strings.ToLower(obj)] = obj
		if set.IsNull() || !set.IsWhollyKnown() {
			continue
		}
		have := map[string]bool{}
		for _, p := range elems(set) {
			if _, ok := known[p]; !ok {
				return fmt.Errorf("object_permissions[%q]: unknown permission %q; use %s", obj, p, strings.Join(objectPermNames(), ", "))
			}
			have[p] = true
		}
		for _, p := range objectPerms {
			if !have[p.name] {
				continue
			}
			for _, n := range p.needs {
				if !have[n] {
					return fmt.Errorf("object_permissions[%q]: %q needs %q (Salesforce requires %s for %s); add %q", obj, p.name, n, strings.Join(p.needs, ", "), p.name, n)
				}
			}
		}
	}
	return nil
}

// elems returns the strings of a set value.
func elems(set cty.Value) []string {
	out, _ := attrs.Strings(cty.ObjectVal(map[string]cty.Value{"v": set}), "v")
	return out
}

// objectRow is a permission set's ObjectPermissions row.
type objectRow struct {
	id, obj string
	on      map[string]bool // by configuration name
}

// objectRows reads a permission set's ObjectPermissions rows, by object name.
func (c *Client) objectRows(ctx context.Context, psID string) (map[string]objectRow, error) {
	fields := []string{"Id", "SobjectType"}
	for _, p := range objectPerms {
		fields = append(fields, p.field)
	}
	recs, err := c.query(ctx, "SELECT "+strings.Join(fields, ", ")+" FROM ObjectPermissions WHERE ParentId = "+soqlQuote(psID))
	if err != nil {
		return nil, fmt.Errorf("read the permission set's object permissions: %w", err)
	}
	out := map[string]objectRow{}
	for _, r := range recs {
		row := objectRow{id: str(r, "Id"), obj: str(r, "SobjectType"), on: map[string]bool{}}
		for _, p := range objectPerms {
			if b, _ := boolean(r, p.field); b {
				row.on[p.name] = true
			}
		}
		out[strings.ToLower(str(r, "SobjectType"))] = row
	}
	return out, nil
}

// configuredObjectPerms returns the object_permissions of a value: object -> permissions.
func configuredObjectPerms(v cty.Value) (map[string][]string, bool) {
	m := attrs.Get(v, "object_permissions")
	if m == cty.NilVal || m.IsNull() || !m.IsWhollyKnown() {
		return nil, false
	}
	out := map[string][]string{}
	for it := m.ElementIterator(); it.Next(); {
		k, set := it.Element()
		out[k.AsString()] = elems(set)
	}
	return out, true
}

// liveObjectPerms is what read reports: for each configured object, those of its configured
// permissions that are on (others are left as they are, as with user_permissions).
func liveObjectPerms(rows map[string]objectRow, cfg map[string][]string) cty.Value {
	if len(cfg) == 0 {
		return cty.MapValEmpty(cty.Set(cty.String))
	}
	vals := map[string]cty.Value{}
	for obj, want := range cfg {
		row := rows[strings.ToLower(obj)]
		on := []string{}
		for _, p := range want {
			if row.on[p] {
				on = append(on, p)
			}
		}
		vals[obj] = attrs.StringSet(on)
	}
	return cty.MapVal(vals)
}

// exportedObjectPerms is every object row with a permission on.
func exportedObjectPerms(rows map[string]objectRow) cty.Value {
	vals := map[string]cty.Value{}
	for _, row := range rows {
		var on []string
		for _, p := range objectPerms {
			if row.on[p.name] {
				on = append(on, p.name)
			}
		}
		if len(on) > 0 {
			vals[row.obj] = attrs.StringSet(on)
		}
	}
	if len(vals) == 0 {
		return cty.NullVal(cty.Map(cty.Set(cty.String)))
	}
	return cty.MapVal(vals)
}

// reconcileObjectPerms turns on the planned object permissions: a new row per object that has
// none (sObject Collections), a PATCH per row that lacks some. It reads the rows first, so that
// after a lost answer running it again creates only what is still missing.
func (c *Client) reconcileObjectPerms(ctx context.Context, psID, name string, planned cty.Value) error {
	cfg, ok := configuredObjectPerms(planned)
	if !ok || len(cfg) == 0 {
		return nil
	}
	rows, err := c.objectRows(ctx, psID)
	if err != nil {
		return err
	}
	objs := make([]string, 0, len(cfg))
	for obj := range cfg {
		objs = append(objs, obj)
	}
	sort.Strings(objs)
	var recs []map[string]any
	var labels []string
	for _, obj := range objs {
		fields := map[string]any{}
		row, exists := rows[strings.ToLower(obj)]
		for _, p := range cfg[obj] {
			if !row.on[p] {
				fields[fieldOf(p)] = true
			}
		}
		if len(fields) == 0 {
			continue
		}
		if !exists {
			fields["ParentId"], fields["SobjectType"] = psID, c.canonicalObject(ctx, obj)
			recs, labels = append(recs, fields), append(labels, obj)
			continue
		}
		// An update sets fields to given values: sending it again cannot apply a change twice.
		if err := c.rest(ctx, http.MethodPatch, "sobjects/ObjectPermissions/"+row.id, fields, nil); err != nil {
			return fmt.Errorf("update the %s permissions of permission set %s: %w", obj, name, err)
		}
	}
	return c.createRecords(ctx, "grant object permissions of permission set "+name, "ObjectPermissions", recs, labels)
}

func fieldOf(name string) string {
	for _, p := range objectPerms {
		if p.name == name {
			return p.field
		}
	}
	return ""
}

// reconcileObjectPermsRetrying runs reconcileObjectPerms again while a create's outcome is
// unknown (it re-reads first, so nothing is created twice), through providers.CreateOnce.
func (c *Client) reconcileObjectPermsRetrying(ctx context.Context, psID, name string, planned cty.Value) error {
	_, err := providers.CreateOnce(ctx, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, c.reconcileObjectPerms(ctx, psID, name, planned)
	}, nil)
	return err
}
