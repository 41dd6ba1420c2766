package spec

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
)

// sensitive marks values derived from sensitive variables while expressions are evaluated.
type markKind string

const sensitive markKind = "sensitive"

// EnvPrefix prefixes environment variables that set input variables (C4S_VAR_name).
const EnvPrefix = "C4S_VAR_"

// Evaluator evaluates a configuration's expressions once its input variables are known.
type Evaluator struct {
	cfg   *Config
	vars  map[string]cty.Value // sensitive ones marked
	funcs map[string]function.Function
	// workspace is c4sctl.workspace: the selected workspace, unknown in Load's static checks.
	workspace cty.Value
	// unsetIsUnknown is Inputs.UnsetIsUnknown.
	unsetIsUnknown bool
}

// OutputValue is an evaluated output.
type OutputValue struct {
	Value     cty.Value
	Sensitive bool
}

type rawValue struct {
	val cty.Value
	rng *hcl.Range
}

// NewEvaluator resolves the input variables, lowest precedence first: defaults, C4S_VAR_name
// environment variables, var files in order, --var flags in order. Var files and values parsed
// from flags are added to cfg.Sources so their diagnostics show snippets.
func NewEvaluator(cfg *Config, in Inputs) (*Evaluator, hcl.Diagnostics) {
	if cfg == nil {
		cfg = newConfig("")
	}
	ws := in.Workspace
	if ws == "" {
		ws = "default"
	}
	e := &Evaluator{cfg: cfg, vars: map[string]cty.Value{}, funcs: functions(), workspace: cty.StringVal(ws), unsetIsUnknown: in.UnsetIsUnknown}
	if cfg.Sources == nil {
		cfg.Sources = map[string][]byte{}
	}
	var diags hcl.Diagnostics
	raw := map[string]rawValue{}
	for _, kv := range in.Env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, EnvPrefix) {
			continue
		}
		name := strings.TrimPrefix(k, EnvPrefix)
		// Like Terraform, environment values for undeclared variables are ignored: the
		// environment is shared with other configurations.
		if decl := cfg.Variables[name]; decl != nil {
			val, d := e.parseRaw(decl, v, "<value for environment variable "+k+">")
			diags = append(diags, d...)
			raw[name] = val
		}
	}
	for _, path := range in.VarFiles {
		diags = append(diags, e.readVarFile(path, raw)...)
	}
	for _, kv := range in.Vars {
		name, v, ok := strings.Cut(kv, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid --var option",
				Detail: fmt.Sprintf("The option --var %q is not correctly specified: expected name=value, like --var region=emea.", kv)})
			continue
		}
		decl := cfg.Variables[name]
		if decl == nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Value for undeclared variable",
				Detail: fmt.Sprintf("A value was given with --var for the variable %q, which is not declared.%s",
					name, didYouMean(name, sortedKeys(cfg.Variables)))})
			continue
		}
		val, d := e.parseRaw(decl, v, "<value for var."+name+">")
		diags = append(diags, d...)
		raw[name] = val
	}
	for _, name := range sortedKeys(cfg.Variables) {
		decl := cfg.Variables[name]
		val, d := e.resolve(decl, raw)
		diags = append(diags, d...)
		if decl.Sensitive {
			val = val.Mark(sensitive)
		}
		e.vars[name] = val
	}
	// Variables whose value was wrong are unknown now, so their conditions are skipped.
	for _, name := range sortedKeys(cfg.Variables) {
		diags = append(diags, e.checkValidations(cfg.Variables[name])...)
	}
	return e, diags
}

// parseRaw turns a string from the environment or a flag into a value: taken literally for
// string (and untyped) variables, otherwise parsed as an HCL expression, e.g. ["a", "b"].
func (e *Evaluator) parseRaw(decl *Variable, s, filename string) (rawValue, hcl.Diagnostics) {
	if decl.Type == cty.String || decl.Type == cty.DynamicPseudoType {
		return rawValue{val: cty.StringVal(s)}, nil
	}
	src := []byte(s)
	// A secret's text is kept out of diagnostic snippets.
	if !decl.Sensitive {
		e.cfg.Sources[filename] = src
	}
	if d := CheckNesting(src, filename); d.HasErrors() {
		return rawValue{val: cty.DynamicVal}, d
	}
	expr, diags := hclsyntax.ParseExpression(src, filename, hcl.InitialPos)
	if !diags.HasErrors() {
		var v cty.Value
		if v, diags = expr.Value(nil); !diags.HasErrors() {
			return rawValue{val: v, rng: rangePtr(expr.Range())}, nil
		}
	}
	// The parser's message ("Variables not allowed" for a bare word) misleads here.
	rng := hcl.Range{Filename: filename, Start: hcl.InitialPos, End: hcl.Pos{Line: 1, Column: len(src) + 1, Byte: len(src)}}
	return rawValue{val: cty.DynamicVal}, hcl.Diagnostics{errorf(&rng, "Invalid value for input variable",
		"The value given for variable %q is not a valid %s. Values of variables that are not strings are written as HCL expressions, like 3, true, [\"a\", \"b\"] or { key = \"value\" }.",
		decl.Name, decl.Type.FriendlyNameForConstraint())}
}

func (e *Evaluator) readVarFile(path string, raw map[string]rawValue) hcl.Diagnostics {
	src, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Failed to read variables file",
			Detail: fmt.Sprintf("Cannot read %s: %v.", path, err)}}
	}
	// A file that sets a sensitive variable is kept out of diagnostic snippets (diagnostics still
	// name file:line): a mistake on or near that line would print the secret.
	if !e.setsSensitive(src) {
		e.cfg.Sources[path] = src
	}
	if d := CheckNesting(src, path); d.HasErrors() {
		return d
	}
	p := hclparse.NewParser()
	var f *hcl.File
	var diags hcl.Diagnostics
	if strings.HasSuffix(path, ".json") {
		f, diags = p.ParseJSON(src, path)
	} else {
		f, diags = p.ParseHCL(src, path)
	}
	if diags.HasErrors() || f == nil {
		return diags
	}
	attrs, d := f.Body.JustAttributes()
	diags = append(diags, d...)
	for _, a := range sortedAttrs(attrs) {
		if e.cfg.Variables[a.Name] == nil {
			diags = append(diags, errorf(rangePtr(a.NameRange), "Value for undeclared variable",
				"The variables file sets %q, which is not declared.%s", a.Name, didYouMean(a.Name, sortedKeys(e.cfg.Variables))))
			continue
		}
		v, d := a.Expr.Value(nil)
		diags = append(diags, d...)
		if !d.HasErrors() {
			raw[a.Name] = rawValue{val: v, rng: rangePtr(a.Expr.Range())}
		}
	}
	return diags
}

func (e *Evaluator) resolve(decl *Variable, raw map[string]rawValue) (cty.Value, hcl.Diagnostics) {
	given, ok := raw[decl.Name]
	if !ok || given.val.IsNull() {
		if decl.Default != cty.NilVal {
			return decl.Default, nil
		}
		if ok {
			return cty.NullVal(decl.Type), nil
		}
		if e.unsetIsUnknown {
			return cty.UnknownVal(decl.Type), nil
		}
		return cty.UnknownVal(decl.Type), hcl.Diagnostics{errorf(rangePtr(decl.DeclRange), "No value for required variable",
			"The input variable %q has no default value and is not set; give it with --var %s=..., in a --var-file, or in %s%s.",
			decl.Name, decl.Name, EnvPrefix, decl.Name)}
	}
	v := given.val
	if decl.typeDefaults != nil {
		v = decl.typeDefaults.Apply(v)
	}
	conv, err := convert.Convert(v, decl.Type)
	if err != nil {
		rng := given.rng
		if rng == nil {
			rng = rangePtr(decl.DeclRange)
		}
		return cty.UnknownVal(decl.Type), hcl.Diagnostics{errorf(rng, "Invalid value for input variable",
			"The value given for variable %q is not compatible with its type constraint: %s.", decl.Name, errText(err))}
	}
	return conv, nil
}

func (e *Evaluator) checkValidations(decl *Variable) hcl.Diagnostics {
	var diags hcl.Diagnostics
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{decl.Name: e.vars[decl.Name]})},
		Functions: e.funcs,
	}
	for _, v := range decl.Validations {
		cond, d := v.Condition.Value(ctx)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		cond, _ = cond.Unmark()
		cond, err := convert.Convert(cond, cty.Bool)
		if err != nil || cond.IsNull() {
			diags = append(diags, errorf(rangePtr(v.Condition.Range()), "Invalid validation condition",
				"The condition of a validation rule must be true or false."))
			continue
		}
		if !cond.IsKnown() || cond.True() {
			continue
		}
		msg, d := v.ErrorMessage.Value(ctx)
		diags = append(diags, d...)
		msg, pvm := msg.UnmarkDeepWithPaths()
		text := fmt.Sprintf("The value of variable %q is not valid.", decl.Name)
		if len(pvm) > 0 {
			text += " The error message refers to a sensitive value, so it is not shown."
		} else if m, err := convert.Convert(msg, cty.String); err == nil && m.IsKnown() && !m.IsNull() {
			text = m.AsString()
		}
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
			Detail:  text + fmt.Sprintf("\n\nThis was checked by the validation rule at %s.", v.DeclRange),
			Subject: rangePtr(v.Condition.Range())})
	}
	return diags
}

// context builds the evaluation context for exprs: variables, the locals they need (evaluated
// now, since locals may read resources), and every declared resource from known.
func (e *Evaluator) context(exprs []hcl.Expression, known map[string]cty.Value) (*hcl.EvalContext, hcl.Diagnostics) {
	cfg := e.cfg
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{}, Functions: e.funcs}
	ctx.Variables["var"] = objectOrEmpty(e.vars)
	ws := e.workspace
	if ws == cty.NilVal {
		ws = cty.UnknownVal(cty.String)
	}
	ctx.Variables["c4sctl"] = cty.ObjectVal(map[string]cty.Value{"workspace": ws})
	managed := map[string]map[string]cty.Value{}
	data := map[string]map[string]cty.Value{}
	// Only the resources the expressions (and the locals they use) refer to: references are
	// always TYPE.NAME or data.TYPE.NAME, so nothing else can be read, and building every
	// resource into each block's context made loading quadratic (94 s for 10,000 resources).
	for _, addr := range cfg.referencedAddrs(exprs) {
		r := cfg.Resources[addr]
		if r == nil {
			continue // undeclared: reported by Load's reference checks
		}
		v, ok := known[r.Addr()]
		if !ok || v == cty.NilVal {
			v = cty.DynamicVal
		}
		v = markSensitiveAttrs(v, r)
		m := managed
		if r.Mode == DataResource {
			m = data
		}
		if m[r.Type] == nil {
			m[r.Type] = map[string]cty.Value{}
		}
		m[r.Type][r.Name] = v
	}
	for typ, byName := range managed {
		if typ == "var" || typ == "local" || typ == "data" || typ == "c4sctl" {
			continue
		}
		ctx.Variables[typ] = cty.ObjectVal(byName)
	}
	dataObj := map[string]cty.Value{}
	for typ, byName := range data {
		dataObj[typ] = cty.ObjectVal(byName)
	}
	ctx.Variables["data"] = objectOrEmpty(dataObj)

	// Locals needed, dependencies first (a cycle was reported by Load; it ends the walk).
	locals := map[string]cty.Value{}
	for name := range cfg.Locals {
		locals[name] = cty.DynamicVal
	}
	var diags hcl.Diagnostics
	state := map[string]int{}
	var eval func(name string)
	eval = func(name string) {
		l := cfg.Locals[name]
		if l == nil || state[name] != 0 {
			return
		}
		state[name] = 1
		deps, _ := cfg.localRefs(name)
		for _, d := range deps {
			eval(d)
		}
		ctx.Variables["local"] = objectOrEmpty(locals)
		v, d := l.Expr.Value(ctx)
		diags = append(diags, d...)
		if d.HasErrors() {
			v = cty.DynamicVal
		}
		locals[name] = v
		state[name] = 2
	}
	for _, expr := range exprs {
		ls, _ := cfg.exprRefs(expr)
		for _, l := range ls {
			eval(l)
		}
	}
	ctx.Variables["local"] = objectOrEmpty(locals)
	return ctx, diags
}

// MarkSensitiveAttrs marks the named attributes of an object value sensitive, so that values
// derived from them (an output of a resource attribute that a sensitive variable set) are
// sensitive too. The engine marks a planned or applied value's sensitive attributes with it
// before later expressions read the value.
func MarkSensitiveAttrs(v cty.Value, names []string) cty.Value {
	if len(names) == 0 || v == cty.NilVal || !v.Type().IsObjectType() {
		return v
	}
	u, marks := v.Unmark()
	if !u.IsKnown() || u.IsNull() {
		return v
	}
	m := u.AsValueMap()
	for _, n := range names {
		if a, ok := m[n]; ok {
			m[n] = a.Mark(sensitive)
		}
	}
	return cty.ObjectVal(m).WithMarks(marks)
}

// markSensitiveAttrs marks r's sensitive attributes in v, so values derived from them (an
// output of a client secret) are flagged like those derived from sensitive variables. It is
// MarkSensitiveAttrs with the names from r's schema, so the two cannot drift apart.
func markSensitiveAttrs(v cty.Value, r *Resource) cty.Value {
	if r.Schema == nil {
		return v
	}
	return MarkSensitiveAttrs(v, r.Schema.SensitivePaths())
}

func objectOrEmpty(m map[string]cty.Value) cty.Value {
	if len(m) == 0 {
		return cty.EmptyObjectVal
	}
	return cty.ObjectVal(m)
}

// staticEvaluator is an Evaluator, and resource values, in which every variable and resource is
// unknown (of its type), for Load's checks of constant values.
func (l *loader) staticEvaluator() (*Evaluator, map[string]cty.Value) {
	cfg := l.cfg
	e := &Evaluator{cfg: cfg, vars: map[string]cty.Value{}, funcs: functions()}
	for name, v := range cfg.Variables {
		e.vars[name] = cty.UnknownVal(v.Type)
	}
	known := map[string]cty.Value{}
	for addr, r := range cfg.Resources {
		known[addr] = cty.UnknownVal(r.Schema.ImpliedType())
	}
	return e, known
}

// ProviderConfig evaluates the provider block of that name against s. A provider without a
// block gets defaults and nulls, never diagnostics.
func (e *Evaluator) ProviderConfig(name string, s *schema.Block) (cty.Value, hcl.Diagnostics) {
	if s == nil {
		return cty.EmptyObjectVal, nil
	}
	p := e.cfg.Providers[name]
	if p == nil {
		// No block: defaults and nulls, without errors even for required attributes, since the
		// engine may supply them (sandbox mode) or never need this provider.
		v, _, _ := checkObject(nil, s.Attributes, nil, nil, hcl.Range{}, "provider "+name)
		return v, nil
	}
	attrs := p.attributes()
	ctx, diags := e.context(exprsOf(attrs), nil)
	v, _, d := checkObject(attrs, s.Attributes, nil, ctx, p.missing, "provider "+name)
	return v, append(diags, d...)
}

// ResourceConfig evaluates r's body to an object of r.Schema.ImpliedType(). It also returns the
// names of attributes whose value derives from a sensitive variable.
func (e *Evaluator) ResourceConfig(r *Resource, known map[string]cty.Value) (cty.Value, []string, hcl.Diagnostics) {
	if r == nil || r.Schema == nil {
		return cty.DynamicVal, nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Resource without schema"}}
	}
	attrs := r.attributes()
	ctx, diags := e.context(exprsOf(attrs), known)
	v, sens, d := checkObject(attrs, r.Schema.Attributes, r.Schema.Distinct, ctx, r.missing, r.Type)
	return v, sens, append(diags, d...)
}

// Outputs evaluates every output; those declared sensitive or derived from sensitive
// variables are flagged.
func (e *Evaluator) Outputs(known map[string]cty.Value) (map[string]OutputValue, hcl.Diagnostics) {
	out := map[string]OutputValue{}
	var diags hcl.Diagnostics
	for _, name := range sortedKeys(e.cfg.Outputs) {
		o := e.cfg.Outputs[name]
		ctx, d := e.context([]hcl.Expression{o.Expr}, known)
		diags = append(diags, d...)
		v, d := o.Expr.Value(ctx)
		diags = append(diags, d...)
		v, pvm := v.UnmarkDeepWithPaths()
		out[name] = OutputValue{Value: v, Sensitive: o.Sensitive || len(pvm) > 0}
	}
	return out, diags
}

func exprsOf(attrs hcl.Attributes) []hcl.Expression {
	out := make([]hcl.Expression, 0, len(attrs))
	for _, a := range sortedAttrs(attrs) {
		out = append(out, a.Expr)
	}
	return out
}

// checkObject evaluates attrs against the schema attributes: conversion to each attribute's
// type, defaults for absent ones, required/computed rules, enums and validators. It returns
// the unmarked object and the names of attributes that carried sensitive marks. ctx may be nil
// when attrs is empty. what names the block in messages. Keys, elements and distinct things
// (see checkRepeats) said twice are errors.
func checkObject(attrs hcl.Attributes, sattrs []*schema.Attribute, distinct []schema.Distinct, ctx *hcl.EvalContext, missing hcl.Range, what string) (cty.Value, []string, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	var sens []string
	vals := make(map[string]cty.Value, len(sattrs))
	raw := make(map[string]cty.Value, len(attrs))
	for _, sa := range sattrs {
		a := attrs[sa.Name]
		if a == nil {
			v := cty.NullVal(sa.Type)
			if sa.Default != cty.NilVal {
				if conv, err := convert.Convert(sa.Default, sa.Type); err == nil {
					v = conv
				}
			}
			if sa.Required && v.IsNull() {
				var rng *hcl.Range
				if missing.Filename != "" { // not for hand-built blocks without ranges
					rng = rangePtr(missing)
				}
				diags = append(diags, errorf(rng, "Missing required argument",
					"The argument %q is required by %s, but no definition was found.", sa.Name, what))
			}
			vals[sa.Name] = v
			continue
		}
		if sa.Computed && !sa.Optional && !sa.Required {
			diags = append(diags, errorf(rangePtr(a.NameRange), "Read-only attribute",
				"%s.%s is computed by the provider and cannot be set in configuration; remove it.", what, sa.Name))
			vals[sa.Name] = cty.NullVal(sa.Type)
			continue
		}
		diags = append(diags, duplicateKeys(a.Expr)...)
		v, d := a.Expr.Value(ctx)
		diags = append(diags, d...)
		if d.HasErrors() {
			vals[sa.Name] = cty.UnknownVal(sa.Type)
			continue
		}
		v, pvm := v.UnmarkDeepWithPaths()
		raw[sa.Name] = v
		if len(pvm) > 0 {
			sens = append(sens, sa.Name)
		}
		conv, err := convert.Convert(v, sa.Type)
		if err != nil {
			diags = append(diags, errorf(rangePtr(a.Expr.Range()), "Incorrect attribute value type",
				"Inappropriate value for attribute %q: %s.", sa.Name, errText(err)))
			vals[sa.Name] = cty.UnknownVal(sa.Type)
			continue
		}
		if conv.IsNull() && sa.Default != cty.NilVal {
			if def, err := convert.Convert(sa.Default, sa.Type); err == nil {
				conv = def
			}
		}
		if conv.IsNull() && sa.Required {
			diags = append(diags, errorf(rangePtr(a.Expr.Range()), "Required attribute is null",
				"The argument %q is required by %s and cannot be null.", sa.Name, what))
		}
		if conv.IsWhollyKnown() && !conv.IsNull() {
			// Both messages may quote the value, which must not show when it is secret.
			secret := len(pvm) > 0 || sa.Sensitive
			if err := sa.CheckEnum(conv); err != nil {
				detail := strings.TrimSuffix(err.Error(), ".") + "."
				if secret {
					detail = fmt.Sprintf("The value of %s is not one of its allowed values (%s); it is sensitive, so it is not shown.", sa.Name, strings.Join(sa.Enum, ", "))
				}
				diags = append(diags, errorf(rangePtr(a.Expr.Range()), "Invalid value for "+sa.Name, "%s", detail))
			} else if sa.Validate != nil {
				if err := sa.Validate(conv); err != nil {
					detail := err.Error()
					if secret {
						detail = fmt.Sprintf("The value of %s is not valid; it is sensitive, so the details are not shown.", sa.Name)
					}
					diags = append(diags, errorf(rangePtr(a.Expr.Range()), "Invalid value for "+sa.Name, "%s", detail))
				}
			}
		}
		vals[sa.Name] = conv
	}
	// The values as written, before a set merges equal elements.
	diags = append(diags, checkRepeats(attrs, sattrs, distinct, raw)...)
	if len(vals) == 0 {
		return cty.EmptyObjectVal, sens, diags
	}
	return cty.ObjectVal(vals), sens, diags
}

// Variables returns the resolved input variables (values unmarked, with their sensitivity), for
// callers that fingerprint the inputs of a plan.
func (e *Evaluator) Variables() map[string]OutputValue {
	out := make(map[string]OutputValue, len(e.vars))
	for name, v := range e.vars {
		unmarked, marks := v.UnmarkDeep()
		sensitive := len(marks) > 0
		if decl := e.cfg.Variables[name]; decl != nil && decl.Sensitive {
			sensitive = true
		}
		out[name] = OutputValue{Value: unmarked, Sensitive: sensitive}
	}
	return out
}

// setsSensitive reports whether a variables file's text names a sensitive variable as a key
// (HCL `name =` or JSON `"name":`), read lexically so that it holds for files that do not parse.
func (e *Evaluator) setsSensitive(src []byte) bool {
	for name, v := range e.cfg.Variables {
		if !v.Sensitive {
			continue
		}
		re := regexp.MustCompile(`(?m)(^|[\s{,])"?` + regexp.QuoteMeta(name) + `"?[ \t]*[=:]`)
		if re.Match(src) {
			return true
		}
	}
	return false
}
