package spec

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Backend is the `backend "TYPE"` block of the `c4sctl` settings block (Terraform's
// `terraform { backend "TYPE" {} }`): where state is kept. Its values are literals, read before
// any variable is known, as Terraform requires.
type Backend struct {
	Type string
	// Attrs holds the arguments given, converted to their declared types.
	Attrs     map[string]cty.Value
	DeclRange hcl.Range
}

// String returns a string argument, or "".
func (b *Backend) String(name string) string {
	if v, ok := b.Attrs[name]; ok && !v.IsNull() && v.Type() == cty.String {
		return v.AsString()
	}
	return ""
}

// Bool returns a bool argument, or false.
func (b *Backend) Bool(name string) bool {
	if v, ok := b.Attrs[name]; ok && !v.IsNull() && v.Type() == cty.Bool {
		return v.True()
	}
	return false
}

type backendArg struct {
	name     string
	ty       cty.Type
	required bool
}

// backendSchemas are the backend types this build has, with Terraform's argument names for
// azurerm (hashicorp/terraform internal/backend/remote-state/azure/backend.go).
var backendSchemas = map[string][]backendArg{
	"local": {},
	"azurerm": {
		{name: "storage_account_name", ty: cty.String, required: true},
		{name: "container_name", ty: cty.String, required: true},
		{name: "key", ty: cty.String, required: true},
		{name: "use_azuread_auth", ty: cty.Bool},
		{name: "endpoint", ty: cty.String},
	},
}

// backendSecrets are Terraform azurerm arguments that are secrets: c4sctl takes them only from
// the environment, so that they are never committed with the configuration.
var backendSecrets = map[string]string{"access_key": "ARM_ACCESS_KEY", "sas_token": "ARM_SAS_TOKEN"}

var settingsSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "backend", LabelNames: []string{"type"}}}}

// decodeSettings decodes a `c4sctl { backend "TYPE" { ... } }` block.
func (l *loader) decodeSettings(b *hcl.Block) hcl.Diagnostics {
	content, diags := b.Body.Content(settingsSchema)
	for _, bb := range content.Blocks {
		if prev := l.cfg.Backend; prev != nil {
			diags = append(diags, errorf(rangePtr(bb.DefRange), "Duplicate backend configuration",
				"A backend was already configured at %s. A configuration has at most one backend block.", prev.DeclRange))
			continue
		}
		typ := bb.Labels[0]
		args, ok := backendSchemas[typ]
		if !ok {
			diags = append(diags, errorf(rangePtr(bb.LabelRanges[0]), "Unsupported backend type",
				"There is no backend type named %q: this c4sctl has \"local\" (the default) and \"azurerm\".%s", typ, didYouMean(typ, []string{"azurerm", "local"})))
			continue
		}
		be := &Backend{Type: typ, Attrs: map[string]cty.Value{}, DeclRange: bb.DefRange}
		attrs, d := bb.Body.JustAttributes()
		diags = append(diags, d...)
		known := map[string]backendArg{}
		var names []string
		for _, a := range args {
			known[a.name] = a
			names = append(names, a.name)
		}
		for _, a := range sortedAttrs(attrs) {
			if env, secret := backendSecrets[a.Name]; secret && typ == "azurerm" {
				d := errorf(rangePtr(a.NameRange), "Secret in backend configuration",
					"%s must not be written in the configuration, where it would be committed: set the environment variable %s instead (or use use_azuread_auth = true).", a.Name, env)
				// The snippet shows the line: not the value, which may be a real key.
				d.Extra = SecretRange(a.Expr.Range())
				diags = append(diags, d)
				continue
			}
			arg, ok := known[a.Name]
			if !ok {
				diags = append(diags, errorf(rangePtr(a.NameRange), "Unsupported argument",
					"The %q backend has no argument named %q.%s", typ, a.Name, didYouMean(a.Name, names)))
				continue
			}
			if len(a.Expr.Variables()) > 0 {
				diags = append(diags, errorf(a.Expr.Range().Ptr(), "Variables not allowed",
					"The backend block is read before variables are known: %s must be a literal value.", a.Name))
				continue
			}
			v, d := a.Expr.Value(nil)
			diags = append(diags, d...)
			if d.HasErrors() {
				continue
			}
			cv, err := convert.Convert(v, arg.ty)
			if err != nil || cv.IsNull() {
				diags = append(diags, errorf(a.Expr.Range().Ptr(), "Incorrect attribute value type",
					"%s must be a %s.", a.Name, arg.ty.FriendlyName()))
				continue
			}
			if arg.ty == cty.String && cv.AsString() == "" {
				diags = append(diags, errorf(a.Expr.Range().Ptr(), "Empty value", "%s must not be empty.", a.Name))
				continue
			}
			be.Attrs[a.Name] = cv
		}
		for _, arg := range args {
			if _, ok := attrs[arg.name]; arg.required && !ok {
				diags = append(diags, errorf(rangePtr(bb.Body.MissingItemRange()), "Missing required argument",
					"The %q backend needs the argument %q.", typ, arg.name))
			}
		}
		l.cfg.Backend = be
	}
	return diags
}
