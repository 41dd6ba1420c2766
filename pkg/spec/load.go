package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

var fileSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "variable", LabelNames: []string{"name"}},
	{Type: "locals"},
	{Type: "provider", LabelNames: []string{"name"}},
	{Type: "resource", LabelNames: []string{"type", "name"}},
	{Type: "data", LabelNames: []string{"type", "name"}},
	{Type: "output", LabelNames: []string{"name"}},
	{Type: "c4sctl"},
	{Type: "moved"},
}}

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "type"}, {Name: "default"}, {Name: "description"}, {Name: "sensitive"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "validation"}},
}

var validationSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "condition", Required: true}, {Name: "error_message", Required: true},
}}

var outputSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "value", Required: true}, {Name: "description"}, {Name: "sensitive"},
}}

var managedMetaSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "depends_on"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "lifecycle"}},
}

var dataMetaSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "depends_on"}}}

var lifecycleSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "prevent_destroy"}, {Name: "ignore_changes"}}}

// Load parses every *.c4s.hcl file of dir (sorted by name), decodes its blocks and validates
// them statically: block shapes, names, references, attribute types and enums of constant values.
func Load(dir string, schemas SchemaSource) (*Config, hcl.Diagnostics) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return newConfig(dir), hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Failed to read configuration directory", Detail: err.Error()}}
	}
	files := map[string][]byte{}
	var diags hcl.Diagnostics
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), FileSuffix) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		src, err := os.ReadFile(p)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Failed to read configuration file", Detail: err.Error()})
			continue
		}
		files[p] = src
	}
	if diags.HasErrors() {
		return newConfig(dir), diags
	}
	return LoadFiles(dir, files, schemas)
}

// LoadFiles is Load on in-memory sources (file name -> bytes).
func LoadFiles(dir string, files map[string][]byte, schemas SchemaSource) (*Config, hcl.Diagnostics) {
	cfg := newConfig(dir)
	if len(files) == 0 {
		return cfg, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "No configuration files",
			Detail: fmt.Sprintf("The directory %s contains no %s files.", dir, FileSuffix)}}
	}
	l := &loader{cfg: cfg, schemas: schemas, unknownAddrs: map[string]bool{}}
	var diags hcl.Diagnostics
	for _, name := range sortedKeys(files) {
		src := files[name]
		cfg.Sources[name] = src
		if d := CheckNesting(src, name); d.HasErrors() {
			diags = append(diags, d...)
			continue
		}
		f, d := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
		diags = append(diags, d...)
		if f == nil || f.Body == nil {
			continue
		}
		content, d := f.Body.Content(fileSchema)
		diags = append(diags, d...)
		for _, b := range content.Blocks {
			diags = append(diags, l.decodeBlock(b)...)
		}
	}
	diags = append(diags, l.validate()...)
	diags = append(diags, cfg.validateMoved()...)
	if !diags.HasErrors() {
		_, d := cfg.Order()
		diags = append(diags, d...)
	}
	sortDiags(diags)
	return cfg, diags
}

// sortDiags orders diagnostics by position (those without one first). hcl reports unsupported
// arguments in map order; sorting makes output stable and reads top to bottom.
func sortDiags(diags hcl.Diagnostics) {
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i].Subject, diags[j].Subject
		switch {
		case a == nil || b == nil:
			return a == nil && b != nil
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		default:
			return a.Start.Byte < b.Start.Byte
		}
	})
}

// newConfig is an empty configuration; Load returns one even on errors, so callers can always
// use the result (its Sources for diagnostics).
func newConfig(dir string) *Config {
	return &Config{
		Dir:       dir,
		Sources:   map[string][]byte{},
		Variables: map[string]*Variable{},
		Locals:    map[string]*Local{},
		Providers: map[string]*Provider{},
		Resources: map[string]*Resource{},
		Outputs:   map[string]*Output{},
	}
}

type loader struct {
	cfg     *Config
	schemas SchemaSource
	// unknownAddrs are resources whose type is unknown (already reported): references to them
	// are not reported again.
	unknownAddrs map[string]bool
}

func (l *loader) decodeBlock(b *hcl.Block) hcl.Diagnostics {
	for i, lbl := range b.Labels {
		if !hclsyntax.ValidIdentifier(lbl) {
			return hcl.Diagnostics{errorf(rangePtr(b.LabelRanges[i]), "Invalid name",
				"%q is not a valid name: a name must start with a letter or underscore and may contain only letters, digits, underscores and dashes.", lbl)}
		}
	}
	switch b.Type {
	case "variable":
		return l.decodeVariable(b)
	case "locals":
		return l.decodeLocals(b)
	case "provider":
		return l.decodeProvider(b)
	case "resource":
		return l.decodeResource(b, ManagedResource)
	case "data":
		return l.decodeResource(b, DataResource)
	case "output":
		return l.decodeOutput(b)
	case "c4sctl":
		return l.decodeSettings(b)
	case "moved":
		return l.decodeMoved(b)
	}
	return nil
}

func duplicate(what, name string, prev hcl.Range, b *hcl.Block) *hcl.Diagnostic {
	article := "A"
	if strings.ContainsRune("aeiou", rune(what[0])) {
		article = "An"
	}
	return errorf(rangePtr(b.DefRange), "Duplicate "+what,
		"%s %s named %q was already declared at %s. Each %s must have a unique name.", article, what, name, prev, what)
}

func (l *loader) decodeVariable(b *hcl.Block) hcl.Diagnostics {
	name := b.Labels[0]
	if prev, ok := l.cfg.Variables[name]; ok {
		return hcl.Diagnostics{duplicate("variable", name, prev.DeclRange, b)}
	}
	v := &Variable{Name: name, Type: cty.DynamicPseudoType, DeclRange: b.DefRange}
	content, diags := b.Body.Content(variableSchema)
	if a := content.Attributes["type"]; a != nil {
		ty, defs, d := typeexpr.TypeConstraintWithDefaults(a.Expr)
		diags = append(diags, d...)
		if !d.HasErrors() {
			v.Type, v.typeDefaults = ty, defs
		}
	}
	if a := content.Attributes["description"]; a != nil {
		s, d := constString(a)
		v.Description, diags = s, append(diags, d...)
	}
	if a := content.Attributes["sensitive"]; a != nil {
		s, d := constBool(a)
		v.Sensitive, diags = s, append(diags, d...)
	}
	if a := content.Attributes["default"]; a != nil {
		val, d := a.Expr.Value(nil)
		diags = append(diags, d...)
		if !d.HasErrors() {
			if v.typeDefaults != nil {
				val = v.typeDefaults.Apply(val)
			}
			conv, err := convert.Convert(val, v.Type)
			if err != nil {
				diags = append(diags, errorf(rangePtr(a.Expr.Range()), "Invalid default value for variable",
					"This default value is not compatible with the variable's type constraint: %s.", errText(err)))
			} else {
				v.Default = conv
			}
		}
	}
	for _, vb := range content.Blocks {
		vc, d := vb.Body.Content(validationSchema)
		diags = append(diags, d...)
		if vc.Attributes["condition"] == nil || vc.Attributes["error_message"] == nil {
			continue
		}
		v.Validations = append(v.Validations, &Validation{
			Condition:    vc.Attributes["condition"].Expr,
			ErrorMessage: vc.Attributes["error_message"].Expr,
			DeclRange:    vb.DefRange,
		})
	}
	l.cfg.Variables[name] = v
	return diags
}

func (l *loader) decodeLocals(b *hcl.Block) hcl.Diagnostics {
	attrs, diags := b.Body.JustAttributes()
	for _, a := range sortedAttrs(attrs) {
		if prev, ok := l.cfg.Locals[a.Name]; ok {
			diags = append(diags, errorf(rangePtr(a.NameRange), "Duplicate local value",
				"A local value named %q was already defined at %s. Local value names must be unique.", a.Name, prev.DeclRange))
			continue
		}
		l.cfg.Locals[a.Name] = &Local{Name: a.Name, Expr: a.Expr, DeclRange: a.Range}
	}
	return diags
}

func (l *loader) decodeProvider(b *hcl.Block) hcl.Diagnostics {
	name := b.Labels[0]
	s := l.schemas.ProviderSchema(name)
	if s == nil {
		return hcl.Diagnostics{errorf(rangePtr(b.LabelRanges[0]), "Unknown provider",
			"There is no provider named %q; known providers are %s.%s", name, strings.Join(l.schemas.ProviderNames(), ", "),
			didYouMean(name, l.schemas.ProviderNames()))}
	}
	if prev, ok := l.cfg.Providers[name]; ok {
		return hcl.Diagnostics{errorf(rangePtr(b.DefRange), "Duplicate provider configuration",
			"The provider %q was already configured at %s.", name, prev.DeclRange)}
	}
	content, diags := b.Body.Content(attrSchema(s.Attributes))
	l.cfg.Providers[name] = &Provider{Name: name, Schema: s, Config: b.Body, DeclRange: b.DefRange, attrs: content.Attributes,
		missing: b.Body.MissingItemRange()}
	return diags
}

func (l *loader) decodeResource(b *hcl.Block, mode Mode) hcl.Diagnostics {
	r := &Resource{Mode: mode, Type: b.Labels[0], Name: b.Labels[1], DeclRange: b.DefRange, missing: b.Body.MissingItemRange()}
	addr := r.Addr()
	if prev, ok := l.cfg.Resources[addr]; ok {
		return hcl.Diagnostics{errorf(rangePtr(b.DefRange), "Duplicate resource",
			"A resource %s was already declared at %s. Resource names must be unique per type.", addr, prev.DeclRange)}
	}
	r.Schema = l.schemas.ResourceSchema(r.Type, mode == DataResource)
	if r.Schema == nil {
		l.unknownAddrs[addr] = true
		var types []string
		for _, t := range l.schemas.ResourceTypes() {
			if strings.HasPrefix(t, "data.") == (mode == DataResource) {
				types = append(types, strings.TrimPrefix(t, "data."))
			}
		}
		kind := "resource type"
		if mode == DataResource {
			kind = "data source"
		}
		return hcl.Diagnostics{errorf(rangePtr(b.LabelRanges[0]), "Unknown "+kind,
			"There is no %s named %q.%s", kind, r.Type, didYouMean(r.Type, types))}
	}
	meta := dataMetaSchema
	if mode == ManagedResource {
		meta = managedMetaSchema
	}
	mc, remain, diags := b.Body.PartialContent(meta)
	content, d := remain.Content(attrSchema(r.Schema.Attributes))
	diags = append(diags, d...)
	r.attrs = content.Attributes
	r.Config = attrsBody{Body: remain, attrs: content.Attributes}
	if a := mc.Attributes["depends_on"]; a != nil {
		diags = append(diags, l.decodeDependsOn(r, a)...)
	}
	for i, lb := range mc.Blocks {
		if i > 0 {
			diags = append(diags, errorf(rangePtr(lb.DefRange), "Duplicate lifecycle block", "A resource may have only one lifecycle block."))
			continue
		}
		diags = append(diags, l.decodeLifecycle(r, lb)...)
	}
	l.cfg.Resources[addr] = r
	return diags
}

func (l *loader) decodeDependsOn(r *Resource, a *hcl.Attribute) hcl.Diagnostics {
	exprs, diags := hcl.ExprList(a.Expr)
	for _, e := range exprs {
		t, d := hcl.AbsTraversalForExpr(e)
		addr, ok := "", !d.HasErrors()
		if ok {
			addr, ok = traversalAddr(t)
		}
		if !ok || len(t) != strings.Count(addr, ".")+1 {
			diags = append(diags, errorf(rangePtr(e.Range()), "Invalid depends_on reference",
				"depends_on entries must be resource addresses like teams_app.sales or data.teams_app.copilot, without attributes or quotes."))
			continue
		}
		r.DependsOn = append(r.DependsOn, addr)
		r.dependsOnRanges = append(r.dependsOnRanges, e.Range())
	}
	return diags
}

func (l *loader) decodeLifecycle(r *Resource, b *hcl.Block) hcl.Diagnostics {
	content, diags := b.Body.Content(lifecycleSchema)
	if a := content.Attributes["prevent_destroy"]; a != nil {
		v, d := constBool(a)
		r.PreventDestroy, diags = v, append(diags, d...)
	}
	a := content.Attributes["ignore_changes"]
	if a == nil {
		return diags
	}
	if hcl.ExprAsKeyword(a.Expr) == "all" {
		r.IgnoreChanges = r.Schema.AttributeNames()
		return diags
	}
	exprs, d := hcl.ExprList(a.Expr)
	diags = append(diags, d...)
	for _, e := range exprs {
		name := hcl.ExprAsKeyword(e)
		if name == "" {
			if v, d := e.Value(nil); !d.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
				name = v.AsString()
			}
		}
		if name == "" {
			diags = append(diags, errorf(rangePtr(e.Range()), "Invalid ignore_changes entry",
				"ignore_changes entries must be attribute names of %s, like [description].", r.Type))
			continue
		}
		if r.Schema.Attribute(name) == nil {
			diags = append(diags, errorf(rangePtr(e.Range()), "Unsupported attribute",
				"%s has no attribute named %q.%s", r.Type, name, didYouMean(name, r.Schema.AttributeNames())))
			continue
		}
		r.IgnoreChanges = append(r.IgnoreChanges, name)
	}
	return diags
}

func (l *loader) decodeOutput(b *hcl.Block) hcl.Diagnostics {
	name := b.Labels[0]
	if prev, ok := l.cfg.Outputs[name]; ok {
		return hcl.Diagnostics{duplicate("output", name, prev.DeclRange, b)}
	}
	content, diags := b.Body.Content(outputSchema)
	o := &Output{Name: name, DeclRange: b.DefRange, Expr: hcl.StaticExpr(cty.NullVal(cty.DynamicPseudoType), b.DefRange)}
	if a := content.Attributes["value"]; a != nil {
		o.Expr = a.Expr
	}
	if a := content.Attributes["description"]; a != nil {
		s, d := constString(a)
		o.Description, diags = s, append(diags, d...)
	}
	if a := content.Attributes["sensitive"]; a != nil {
		s, d := constBool(a)
		o.Sensitive, diags = s, append(diags, d...)
	}
	l.cfg.Outputs[name] = o
	return diags
}

// attrSchema lists every schema attribute as optional: required and computed-only attributes
// are checked by checkObject, which gives better messages than hcl's.
func attrSchema(attrs []*schema.Attribute) *hcl.BodySchema {
	s := &hcl.BodySchema{}
	for _, a := range attrs {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: a.Name})
	}
	return s
}

func sortedAttrs(attrs hcl.Attributes) []*hcl.Attribute {
	out := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool {
		ri, rj := out[i].Range, out[j].Range
		if ri.Filename != rj.Filename {
			return ri.Filename < rj.Filename
		}
		return ri.Start.Byte < rj.Start.Byte
	})
	return out
}

func constString(a *hcl.Attribute) (string, hcl.Diagnostics) {
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		return "", diags
	}
	v, err := convert.Convert(v, cty.String)
	if err != nil || v.IsNull() || !v.IsKnown() {
		return "", hcl.Diagnostics{errorf(rangePtr(a.Expr.Range()), "Invalid "+a.Name, "%s must be a string.", a.Name)}
	}
	return v.AsString(), nil
}

func constBool(a *hcl.Attribute) (bool, hcl.Diagnostics) {
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		return false, diags
	}
	v, err := convert.Convert(v, cty.Bool)
	if err != nil || v.IsNull() || !v.IsKnown() {
		return false, hcl.Diagnostics{errorf(rangePtr(a.Expr.Range()), "Invalid "+a.Name, "%s must be true or false.", a.Name)}
	}
	return v.True(), nil
}

// errText is a conversion error as a sentence fragment, with the path when there is one.
func errText(err error) string {
	if pe, ok := err.(cty.PathError); ok && len(pe.Path) > 0 {
		return fmt.Sprintf("at %s: %s", pathString(pe.Path), pe.Error())
	}
	return err.Error()
}

func pathString(p cty.Path) string {
	var sb strings.Builder
	for _, s := range p {
		switch s := s.(type) {
		case cty.GetAttrStep:
			sb.WriteString("." + s.Name)
		case cty.IndexStep:
			if s.Key.Type() == cty.String && s.Key.IsKnown() {
				fmt.Fprintf(&sb, "[%q]", s.Key.AsString())
			} else if s.Key.Type() == cty.Number && s.Key.IsKnown() {
				fmt.Fprintf(&sb, "[%s]", s.Key.AsBigFloat().String())
			} else {
				sb.WriteString("[...]")
			}
		}
	}
	return strings.TrimPrefix(sb.String(), ".")
}

// attrsBody is a resource body without its meta-arguments. hclsyntax's remain body hides the
// lifecycle block from Content but not from JustAttributes, so JustAttributes is answered here.
type attrsBody struct {
	hcl.Body
	attrs hcl.Attributes
}

func (b attrsBody) JustAttributes() (hcl.Attributes, hcl.Diagnostics) {
	out := make(hcl.Attributes, len(b.attrs))
	for k, v := range b.attrs {
		out[k] = v
	}
	return out, nil
}
