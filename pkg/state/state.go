// Package state holds what c4sctl last applied: for each resource address, its remote identity
// and the attributes it had after apply (sensitive values never stored). Plan compares live
// objects with it to tell drift (changed outside c4sctl) from configuration changes.
package state

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/c4sctl/c4sctl/internal/atomicfile"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// FormatVersion is the state file format this build reads and writes.
const FormatVersion = 1

// State is the decoded state file.
type State struct {
	Version       int         `json:"version"`
	Serial        uint64      `json:"serial"`
	Lineage       string      `json:"lineage"`
	C4sctlVersion string      `json:"c4sctl_version,omitempty"`
	Resources     []*Resource `json:"resources"`
	// Targets records, per provider, where the runs that wrote this state signed in (tenant,
	// org, instance, endpoints, client ids, sandbox or not; never a secret). A run that signs in
	// elsewhere is refused (docs/security.md).
	Targets map[string]map[string]string `json:"targets,omitempty"`
	// Outputs are the configuration's output values as of the last apply, by name (`c4sctl
	// output` prints them). State files written before outputs were kept have none.
	Outputs map[string]*Output `json:"outputs,omitempty"`
}

// Output is one output value in state. Type is the value's cty type in its JSON form (as
// Terraform's state and `terraform output -json` write it: "string", ["list","string"], ...),
// Value the value encoded with that type. A sensitive output keeps no value: secrets never
// reach state (docs/security.md), so Value is absent and only Type and Sensitive are kept.
type Output struct {
	Value     json.RawMessage `json:"value,omitempty"`
	Type      json.RawMessage `json:"type"`
	Sensitive bool            `json:"sensitive,omitempty"`
}

// SetOutput records an output value after apply; a sensitive one without its value. v must be
// wholly known.
func (s *State) SetOutput(name string, v cty.Value, sensitive bool) error {
	ty, err := ctyjson.MarshalType(v.Type())
	if err != nil {
		return fmt.Errorf("state: encode the type of output %s: %w", name, err)
	}
	o := &Output{Type: ty, Sensitive: sensitive}
	if !sensitive {
		raw, err := ctyjson.Marshal(v, v.Type())
		if err != nil {
			return fmt.Errorf("state: encode output %s: %w", name, err)
		}
		o.Value = raw
	}
	if s.Outputs == nil {
		s.Outputs = map[string]*Output{}
	}
	s.Outputs[name] = o
	return nil
}

// OutputValue decodes a stored output. A sensitive output has no value: it returns
// cty.NilVal and no error.
func (o *Output) OutputValue() (cty.Value, error) {
	if o.Sensitive || len(o.Value) == 0 {
		return cty.NilVal, nil
	}
	ty, err := ctyjson.UnmarshalType(o.Type)
	if err != nil {
		return cty.NilVal, fmt.Errorf("state: output type: %w", err)
	}
	return ctyjson.Unmarshal(o.Value, ty)
}

// Resource is one managed object in state.
type Resource struct {
	Address  string `json:"address"`
	Type     string `json:"type"`
	Provider string `json:"provider"`
	ID       string `json:"id"`
	// Attributes is the object as applied, JSON-encoded with its schema type; sensitive
	// attributes are null.
	Attributes json.RawMessage `json:"attributes"`
	// Sensitive names the attributes that were removed because they are sensitive.
	Sensitive []string `json:"sensitive_attributes,omitempty"`
	// Partial, when set, is the error of the last apply, which made this change only in part:
	// Attributes hold what was made. The next successful change clears it.
	Partial string `json:"partial,omitempty"`
}

// New returns an empty state with a fresh lineage.
func New() *State {
	return &State{Version: FormatVersion, Lineage: newLineage()}
}

// Get returns the resource at addr or nil.
func (s *State) Get(addr string) *Resource {
	for _, r := range s.Resources {
		if r.Address == addr {
			return r
		}
	}
	return nil
}

// Addresses lists the resource addresses, sorted.
func (s *State) Addresses() []string {
	out := make([]string, 0, len(s.Resources))
	for _, r := range s.Resources {
		out = append(out, r.Address)
	}
	sort.Strings(out)
	return out
}

// Set records a resource after apply. Sensitive attributes (by name) are nulled before the value
// is stored.
func (s *State) Set(addr, typ, provider, id string, v cty.Value, sensitive []string) error {
	v = stripSensitive(v, sensitive)
	raw, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return fmt.Errorf("state: encode %s: %w", addr, err)
	}
	r := &Resource{Address: addr, Type: typ, Provider: provider, ID: id, Attributes: raw, Sensitive: sortedCopy(sensitive)}
	for i, old := range s.Resources {
		if old.Address == addr {
			s.Resources[i] = r
			return nil
		}
	}
	s.Resources = append(s.Resources, r)
	sort.Slice(s.Resources, func(i, j int) bool { return s.Resources[i].Address < s.Resources[j].Address })
	return nil
}

// MarkPartial records that the last change of addr was made only in part, and why.
func (s *State) MarkPartial(addr, why string) {
	if r := s.Get(addr); r != nil {
		r.Partial = why
	}
}

// Remove forgets a resource; it reports whether it was there.
func (s *State) Remove(addr string) bool {
	for i, r := range s.Resources {
		if r.Address == addr {
			s.Resources = append(s.Resources[:i], s.Resources[i+1:]...)
			return true
		}
	}
	return false
}

// Move records that the object held at from now belongs to the address to (a moved block, or
// `c4sctl state mv`). It refuses a from that holds nothing, a to that already holds an object,
// and addresses of different resource types.
func (s *State) Move(from, to string) error {
	r := s.Get(from)
	if r == nil {
		return fmt.Errorf("state holds no object at %s", from)
	}
	if from == to {
		return fmt.Errorf("%s and the destination are the same address", from)
	}
	if other := s.Get(to); other != nil {
		return fmt.Errorf("state already holds an object at %s (id %s): an address holds one object; `c4sctl state rm %s` first if that object is no longer managed", to, other.ID, to)
	}
	if typ, _, _ := strings.Cut(to, "."); typ != r.Type {
		return fmt.Errorf("%s is a %s, and %s names a %s: an object keeps its resource type", from, r.Type, to, typ)
	}
	moved := *r
	moved.Address = to
	s.Remove(from)
	s.Resources = append(s.Resources, &moved)
	sort.Slice(s.Resources, func(i, j int) bool { return s.Resources[i].Address < s.Resources[j].Address })
	return nil
}

// Clone returns a copy of s whose resources can be added, removed and moved without changing s.
func (s *State) Clone() *State {
	c := *s
	c.Resources = make([]*Resource, len(s.Resources))
	if s.Outputs != nil {
		c.Outputs = make(map[string]*Output, len(s.Outputs))
		for k, o := range s.Outputs {
			co := *o
			c.Outputs[k] = &co
		}
	}
	for i, r := range s.Resources {
		cr := *r
		c.Resources[i] = &cr
	}
	return &c
}

// Value decodes the stored attributes with the resource's current schema type. Attributes the
// schema gained since are null; attributes it lost are dropped.
func (r *Resource) Value(ty cty.Type) (cty.Value, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(r.Attributes, &m); err != nil {
		return cty.NilVal, fmt.Errorf("state: %s: attributes are not a JSON object: %w", r.Address, err)
	}
	vals := map[string]cty.Value{}
	for name, at := range ty.AttributeTypes() {
		raw, ok := m[name]
		if !ok {
			vals[name] = cty.NullVal(at)
			continue
		}
		v, err := ctyjson.Unmarshal(raw, at)
		if err != nil {
			return cty.NilVal, fmt.Errorf("state: %s: attribute %s: %w", r.Address, name, err)
		}
		vals[name] = v
	}
	return cty.ObjectVal(vals), nil
}

func stripSensitive(v cty.Value, names []string) cty.Value {
	if len(names) == 0 || v.IsNull() || !v.Type().IsObjectType() {
		return v
	}
	vals := v.AsValueMap()
	for _, n := range names {
		if at, ok := vals[n]; ok {
			vals[n] = cty.NullVal(at.Type())
		}
	}
	return cty.ObjectVal(vals)
}

func sortedCopy(xs []string) []string {
	if len(xs) == 0 {
		return nil
	}
	out := append([]string(nil), xs...)
	sort.Strings(out)
	return out
}

func newLineage() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// Decode parses a state file's bytes; name is used in errors.
func Decode(name string, b []byte) (*State, error) {
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("state file %s is not valid JSON (%v); restore it from a backup (%s.backup) or remove it to start over", name, err, filepath.Base(name))
	}
	if s.Version != FormatVersion {
		return nil, fmt.Errorf("state file %s has format version %d; this c4sctl reads version %d", name, s.Version, FormatVersion)
	}
	if s.Lineage == "" {
		return nil, fmt.Errorf("state file %s has no lineage; it was not written by c4sctl", name)
	}
	for _, r := range s.Resources {
		if r == nil || r.Address == "" {
			return nil, fmt.Errorf("state file %s has a resource without an address", name)
		}
	}
	return &s, nil
}

// ErrNoState is returned by Load when there is no state file yet.
var ErrNoState = errors.New("no state")

// Local is the default backend: a JSON file beside the configuration, written atomically with
// mode 0600, and a lock file next to it.
type Local struct {
	// Path of the state file, e.g. ./.c4sctl/state.json.
	Path string
}

// Load reads the state; a missing file yields a new empty state.
func (l *Local) Load() (*State, error) {
	b, err := os.ReadFile(l.Path)
	if errors.Is(err, os.ErrNotExist) {
		return New(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	return Decode(l.Path, b)
}

// Write stores s with serial+1: a temp file in the same directory, fsync, rename, fsync of the
// directory, so a crash leaves either the old or the new state, never a torn one. The previous
// file is kept as PATH.backup.
func (l *Local) Write(s *State) error {
	s.Serial++
	b, err := Encode(s)
	if err != nil {
		s.Serial--
		return err
	}
	if err := os.MkdirAll(filepath.Dir(l.Path), 0o700); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if old, err := os.ReadFile(l.Path); err == nil {
		if err := WriteFileAtomic(l.Path+".backup", old); err != nil {
			return fmt.Errorf("write state backup: %w", err)
		}
	}
	if err := WriteFileAtomic(l.Path, b); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	return nil
}

// WriteFileAtomic writes b to path through a synced temp file and a rename; the file is 0600.
func WriteFileAtomic(path string, b []byte) error { return atomicfile.Write(path, b) }
