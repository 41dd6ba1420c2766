// Package spec decodes and validates a c4sctl configuration: the *.c4s.hcl files of one
// directory. It knows resource shapes only through a SchemaSource, never through providers.
package spec

import (
	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/zclconf/go-cty/cty"
)

// FileSuffix is the suffix of configuration files.
const FileSuffix = ".c4s.hcl"

// SchemaSource answers schema questions (providers.Registry implements it).
type SchemaSource interface {
	ProviderNames() []string
	ProviderSchema(name string) *schema.Block
	ResourceSchema(typ string, data bool) *schema.Resource
	ResourceTypes() []string // data sources prefixed "data."
}

// Config is a decoded configuration.
type Config struct {
	Dir string
	// Sources holds each file's bytes by file name, for diagnostic snippets.
	Sources   map[string][]byte
	Variables map[string]*Variable
	Locals    map[string]*Local
	Providers map[string]*Provider // by provider name; providers without a block are absent
	Resources map[string]*Resource // by address: "TYPE.NAME" or "data.TYPE.NAME"
	Outputs   map[string]*Output
	// Backend is the c4sctl block's backend, or nil (the local backend).
	Backend *Backend
	// Moved are the moved blocks, in file order.
	Moved []*Moved
}

// Variable is a `variable "NAME"` block.
type Variable struct {
	Name        string
	Type        cty.Type  // cty.DynamicPseudoType when not declared
	Default     cty.Value // cty.NilVal when no default (then the variable is required)
	Description string
	Sensitive   bool
	Validations []*Validation
	DeclRange   hcl.Range

	typeDefaults *typeexpr.Defaults // optional() attribute defaults of Type, or nil
}

// Validation is a `validation { condition, error_message }` block of a variable.
type Validation struct {
	Condition    hcl.Expression
	ErrorMessage hcl.Expression
	DeclRange    hcl.Range
}

// Local is one attribute of a `locals` block.
type Local struct {
	Name      string
	Expr      hcl.Expression
	DeclRange hcl.Range
}

// Provider is a `provider "NAME"` block.
type Provider struct {
	Name      string
	Schema    *schema.Block
	Config    hcl.Body // the block body, meta-arguments removed
	DeclRange hcl.Range

	attrs   hcl.Attributes // decoded from Config by Load
	missing hcl.Range      // where a missing required attribute is reported
}

// Mode tells resources from data sources.
type Mode int

const (
	ManagedResource Mode = iota
	DataResource
)

// Resource is a `resource "TYPE" "NAME"` or `data "TYPE" "NAME"` block.
type Resource struct {
	Mode   Mode
	Type   string
	Name   string
	Schema *schema.Resource
	// Config is the block body without depends_on and lifecycle.
	Config hcl.Body
	// DependsOn holds the addresses named by depends_on.
	DependsOn      []string
	PreventDestroy bool
	// IgnoreChanges lists attribute names whose differences are not planned.
	IgnoreChanges []string
	DeclRange     hcl.Range

	attrs           hcl.Attributes // decoded from Config by Load
	missing         hcl.Range      // where a missing required attribute is reported
	dependsOnRanges []hcl.Range    // parallel to DependsOn
}

// Addr is the resource's address: "TYPE.NAME", or "data.TYPE.NAME" for a data source.
func (r *Resource) Addr() string {
	if r.Mode == DataResource {
		return "data." + r.Type + "." + r.Name
	}
	return r.Type + "." + r.Name
}

// Output is an `output "NAME"` block.
type Output struct {
	Name        string
	Expr        hcl.Expression
	Description string
	Sensitive   bool
	DeclRange   hcl.Range
}

// Inputs are the variable values given from outside the configuration, applied in Terraform's
// order of precedence, lowest first: defaults, C4S_VAR_name environment variables, --var-file
// files in the order given, then --var flags in the order given.
type Inputs struct {
	Env      []string // "KEY=value" (os.Environ())
	VarFiles []string // paths of HCL files of name = value
	Vars     []string // "name=value"
	// Workspace is the selected workspace, readable as c4sctl.workspace ("" means "default").
	Workspace string
	// UnsetIsUnknown makes a variable with neither a default nor a value an unknown value of its
	// declared type instead of an error: `validate` checks types without secrets or values.
	UnsetIsUnknown bool
}
