package spec

import (
	"errors"

	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// functions is the function table of every expression. No function touches the file system or
// the network, so evaluation is pure and safe on untrusted configuration.
func functions() map[string]function.Function {
	return map[string]function.Function{
		"abs":             stdlib.AbsoluteFunc,
		"can":             tryfunc.CanFunc,
		"ceil":            stdlib.CeilFunc,
		"chomp":           stdlib.ChompFunc,
		"coalesce":        stdlib.CoalesceFunc,
		"coalescelist":    stdlib.CoalesceListFunc,
		"compact":         stdlib.CompactFunc,
		"concat":          stdlib.ConcatFunc,
		"contains":        stdlib.ContainsFunc,
		"distinct":        stdlib.DistinctFunc,
		"element":         stdlib.ElementFunc,
		"flatten":         stdlib.FlattenFunc,
		"floor":           stdlib.FloorFunc,
		"format":          stdlib.FormatFunc,
		"formatlist":      stdlib.FormatListFunc,
		"indent":          stdlib.IndentFunc,
		"join":            stdlib.JoinFunc,
		"jsondecode":      sensitiveSafe(stdlib.JSONDecodeFunc, "decode this sensitive value as JSON"),
		"jsonencode":      stdlib.JSONEncodeFunc,
		"keys":            stdlib.KeysFunc,
		"length":          lengthFunc,
		"lookup":          stdlib.LookupFunc,
		"lower":           stdlib.LowerFunc,
		"max":             stdlib.MaxFunc,
		"merge":           stdlib.MergeFunc,
		"min":             stdlib.MinFunc,
		"range":           stdlib.RangeFunc,
		"regex":           stdlib.RegexFunc,
		"regexall":        stdlib.RegexAllFunc,
		"replace":         stdlib.ReplaceFunc,
		"reverse":         stdlib.ReverseListFunc,
		"setintersection": stdlib.SetIntersectionFunc,
		"setsubtract":     stdlib.SetSubtractFunc,
		"setunion":        stdlib.SetUnionFunc,
		"slice":           stdlib.SliceFunc,
		"sort":            stdlib.SortFunc,
		"split":           stdlib.SplitFunc,
		"strlen":          stdlib.StrlenFunc,
		"substr":          stdlib.SubstrFunc,
		"title":           stdlib.TitleFunc,
		"tobool":          sensitiveSafe(stdlib.MakeToFunc(cty.Bool), "convert this sensitive value to "+(cty.Bool).FriendlyNameForConstraint()),
		"tolist":          sensitiveSafe(stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)), "convert this sensitive value to "+(cty.List(cty.DynamicPseudoType)).FriendlyNameForConstraint()),
		"tomap":           sensitiveSafe(stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)), "convert this sensitive value to "+(cty.Map(cty.DynamicPseudoType)).FriendlyNameForConstraint()),
		"tonumber":        sensitiveSafe(stdlib.MakeToFunc(cty.Number), "convert this sensitive value to "+(cty.Number).FriendlyNameForConstraint()),
		"toset":           sensitiveSafe(stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)), "convert this sensitive value to "+(cty.Set(cty.DynamicPseudoType)).FriendlyNameForConstraint()),
		"tostring":        sensitiveSafe(stdlib.MakeToFunc(cty.String), "convert this sensitive value to "+(cty.String).FriendlyNameForConstraint()),
		"trim":            stdlib.TrimFunc,
		"trimprefix":      stdlib.TrimPrefixFunc,
		"trimspace":       stdlib.TrimSpaceFunc,
		"trimsuffix":      stdlib.TrimSuffixFunc,
		"try":             tryfunc.TryFunc,
		"upper":           stdlib.UpperFunc,
		"values":          stdlib.ValuesFunc,
		"zipmap":          stdlib.ZipmapFunc,
	}
}

// lengthFunc is stdlib's length, extended to strings (counting characters) like Terraform's.
var lengthFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "value", Type: cty.DynamicPseudoType, AllowDynamicType: true, AllowUnknown: true}},
	Type:   function.StaticReturnType(cty.Number),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		if args[0].Type() == cty.String {
			return stdlib.Strlen(args[0])
		}
		return stdlib.Length(args[0])
	},
})

// sensitiveSafe is a one-argument function (the conversions tonumber, tobool, ...; jsondecode)
// whose error never shows a sensitive argument: cty's own errors quote what they could not use
// (`cannot convert "s3cret" to number`; jsondecode's `invalid character 'C'` gives away the
// first character), and the function receives the value unmarked. With a sensitive argument
// the error says only that it could not <what>. The result keeps the argument's marks.
func sensitiveSafe(inner function.Function, what string) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "v", Type: cty.DynamicPseudoType, AllowNull: true, AllowDynamicType: true, AllowMarked: true}},
		Type: func(args []cty.Value) (cty.Type, error) {
			// jsondecode decodes while it works out its type: its errors come from here too.
			v, marks := args[0].UnmarkDeep()
			ty, err := inner.ReturnTypeForValues([]cty.Value{v})
			if err != nil && len(marks) > 0 {
				return cty.NilType, function.NewArgError(0, errors.New("cannot "+what+" (its value is not shown)"))
			}
			return ty, err
		},
		Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
			v, marks := args[0].UnmarkDeep()
			ret, err := inner.Call([]cty.Value{v})
			if err != nil {
				if len(marks) > 0 {
					return cty.NilVal, function.NewArgError(0, errors.New("cannot "+what+" (its value is not shown)"))
				}
				return cty.NilVal, err
			}
			return ret.WithMarks(marks), nil
		},
	})
}
