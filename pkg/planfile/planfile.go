// Package planfile reads and writes saved plans (`c4sctl plan --out FILE`, `c4sctl apply FILE`).
//
// A plan file is one header line followed by a gzip stream of one JSON object:
//
//	c4sctl-plan 1\n
//	<gzip(JSON)>
//
// so that `tail -n +2 FILE | gunzip | jq .` shows it. The JSON object (File) holds the format
// version, the c4sctl version, hashes of the configuration and variable inputs, the options the
// plan was made with, the machine-readable plan document (docs/json-plan.md) and, per address, a
// fingerprint of the live object the change was planned from. No secret is in it: sensitive
// attribute values are left out of the plan document and of the fingerprints, and sensitive
// variables only enter the combined configuration hash.
package planfile

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/c4sctl/c4sctl/pkg/plan"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/state"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
	"golang.org/x/crypto/argon2"
)

// FormatVersion is the plan file format this build reads and writes.
const FormatVersion = 1

// Magic starts every plan file; the format version follows it on the first line.
const Magic = "c4sctl-plan "

// MaxSize bounds the decompressed JSON of a plan file (a guard against a corrupt or hostile file).
const MaxSize = 64 << 20

// File is a saved plan.
type File struct {
	FormatVersion int       `json:"format_version"`
	C4sctlVersion string    `json:"c4sctl_version"`
	CreatedAt     time.Time `json:"created_at"`
	// Sandbox records whether the plan was made against the built-in sandbox.
	Sandbox bool `json:"sandbox"`
	// Config identifies the configuration the plan was made from.
	Config ConfigHash `json:"config"`
	// Options are the planning options apply must plan with again.
	Options Options `json:"options"`
	// Fingerprints hold, per address, the fingerprint of the live object (Fingerprint of Before)
	// each change was planned from.
	Fingerprints map[string]string `json:"fingerprints"`
	// Plan is the machine-readable plan (docs/json-plan.md).
	Plan *plan.JSONPlan `json:"plan"`
	// Target records, per provider, where the plan signed in (providers.Identity: tenant, org,
	// instance, endpoints, client ids, sandbox or not). `apply PLAN_FILE` refuses to apply it
	// anywhere else.
	Target map[string]providers.Identity `json:"target"`
}

// Options are the options a saved plan was made with.
type Options struct {
	Targets     []string `json:"targets"`
	Exclude     []string `json:"exclude"`
	RefreshOnly bool     `json:"refresh_only"`
	// Destroy: `plan --destroy`.
	Destroy bool `json:"destroy,omitempty"`
}

// ConfigHash identifies a configuration: its *.c4s.hcl files and resolved variable inputs.
type ConfigHash struct {
	// Hash covers every file and every variable, sensitive ones included (through their hash):
	// two plans with the same Hash were made from the same configuration and inputs.
	Hash string `json:"hash"`
	// Files maps each file's base name to the SHA-256 of its bytes.
	Files map[string]string `json:"files"`
	// Variables maps each non-sensitive variable to the SHA-256 of its JSON value; sensitive
	// variables read "sensitive" (their value only enters Hash, through SensitiveKDF).
	Variables map[string]string `json:"variables"`
	// Salt (hex, 16 random bytes per saved plan) salts the slow hash of the sensitive values.
	Salt string `json:"salt,omitempty"`
}

// The sensitive variables' values enter Hash only through Argon2id (RFC 9106) with a random
// salt per plan and these costs (OWASP's recommended minimum for Argon2id: 19 MiB, 2 passes, 1
// lane), so that a plan file is not an offline oracle for guessing them: each guess costs an
// attacker this much, and no two plan files share the work.
const (
	kdfTime    = 2
	kdfMemory  = 19 * 1024 // KiB
	kdfThreads = 1
	kdfKeyLen  = 32
	saltLen    = 16
)

// Variable is a resolved input variable.
type Variable struct {
	Value     cty.Value
	Sensitive bool
}

// HashConfig hashes the configuration files (name -> bytes; only names ending in suffix are
// taken, by base name, so the plan can be applied from another checkout) and the resolved
// variables. saltHex is the salt of the saved plan being compared with; "" makes a new one (a
// plan being saved).
func HashConfig(sources map[string][]byte, suffix string, vars map[string]Variable, saltHex string) (ConfigHash, error) {
	ch := ConfigHash{Files: map[string]string{}, Variables: map[string]string{}}
	var salt []byte
	if saltHex == "" {
		salt = make([]byte, saltLen)
		if _, err := rand.Read(salt); err != nil {
			return ch, fmt.Errorf("plan salt: %w", err)
		}
	} else {
		var err error
		if salt, err = hex.DecodeString(saltHex); err != nil || len(salt) < 8 {
			return ch, errors.New("the plan file's salt is not valid hex of 8 bytes or more")
		}
	}
	ch.Salt = hex.EncodeToString(salt)
	secret := sha256.New() // the sensitive values, fed to the KDF at the end
	all := sha256.New()
	var names []string
	base := map[string][]byte{}
	for name, src := range sources {
		if !strings.HasSuffix(name, suffix) {
			continue // var files and values from flags: only their resolved values count
		}
		b := filepath.Base(name)
		names = append(names, b)
		base[b] = src
	}
	sort.Strings(names)
	for _, n := range names {
		sum := sha256.Sum256(base[n])
		ch.Files[n] = hex.EncodeToString(sum[:])
		fmt.Fprintf(all, "file %q %x\n", n, sum)
	}
	vnames := make([]string, 0, len(vars))
	for n := range vars {
		vnames = append(vnames, n)
	}
	sort.Strings(vnames)
	for _, n := range vnames {
		v := vars[n]
		val, _ := v.Value.UnmarkDeep()
		var raw []byte
		if val != cty.NilVal && val.IsWhollyKnown() {
			var err error
			if raw, err = ctyjson.Marshal(val, cty.DynamicPseudoType); err != nil {
				return ch, fmt.Errorf("variable %s: %w", n, err)
			}
		}
		sum := sha256.Sum256(raw)
		if v.Sensitive {
			ch.Variables[n] = "sensitive"
			fmt.Fprintf(secret, "var %q %x\n", n, sum)
			fmt.Fprintf(all, "var %q sensitive\n", n)
		} else {
			ch.Variables[n] = hex.EncodeToString(sum[:])
			fmt.Fprintf(all, "var %q %x\n", n, sum)
		}
	}
	// One KDF call for all sensitive values together: a guess at any of them costs a full call.
	fmt.Fprintf(all, "sensitive %x\n", argon2.IDKey(secret.Sum(nil), salt, kdfTime, kdfMemory, kdfThreads, kdfKeyLen))
	ch.Hash = hex.EncodeToString(all.Sum(nil))
	return ch, nil
}

// Differences explains, for people, how the configuration cur differs from the saved one.
func (saved ConfigHash) Differences(cur ConfigHash) []string {
	var out []string
	diffMaps := func(kind string, a, b map[string]string) {
		keys := map[string]bool{}
		for k := range a {
			keys[k] = true
		}
		for k := range b {
			keys[k] = true
		}
		var ks []string
		for k := range keys {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		for _, k := range ks {
			av, aok := a[k]
			bv, bok := b[k]
			switch {
			case aok && !bok:
				out = append(out, fmt.Sprintf("%s %s was removed", kind, k))
			case !aok && bok:
				out = append(out, fmt.Sprintf("%s %s was added", kind, k))
			case av != bv:
				out = append(out, fmt.Sprintf("%s %s changed", kind, k))
			}
		}
	}
	diffMaps("file", saved.Files, cur.Files)
	diffMaps("variable", saved.Variables, cur.Variables)
	if len(out) == 0 && saved.Hash != cur.Hash {
		out = append(out, "the value of a sensitive variable changed")
	}
	return out
}

// Fingerprint hashes the non-sensitive part of a live value: the SHA-256 of its JSON with
// sensitive attributes (by name) set to null. A null or absent value has the fingerprint
// "absent".
func Fingerprint(v cty.Value, sensitive func(string) bool) string {
	if v == cty.NilVal {
		return "absent"
	}
	v, _ = v.UnmarkDeep()
	if !v.IsKnown() {
		return "unknown"
	}
	if v.IsNull() {
		return "absent"
	}
	if v.Type().IsObjectType() {
		vals := map[string]cty.Value{}
		for name, ty := range v.Type().AttributeTypes() {
			if sensitive != nil && sensitive(name) {
				vals[name] = cty.NullVal(ty)
				continue
			}
			vals[name] = v.GetAttr(name)
		}
		v = cty.ObjectVal(vals)
	}
	raw, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return "unknown"
	}
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Fingerprints computes the fingerprint of every change's live value.
func Fingerprints(p *plan.Plan) map[string]string {
	out := map[string]string{}
	for _, rc := range p.Changes {
		out[rc.Addr] = Fingerprint(rc.Before, rc.IsSensitive)
	}
	return out
}

// Encode writes f in the plan file format.
func Encode(w io.Writer, f *File) error {
	payload, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("encode plan: %w", err)
	}
	if _, err := fmt.Fprintf(w, "%s%d\n", Magic, FormatVersion); err != nil {
		return err
	}
	zw := gzip.NewWriter(w)
	zw.Name = "plan.json"
	if _, err := zw.Write(payload); err != nil {
		return err
	}
	return zw.Close()
}

// Write saves f to path atomically, mode 0600.
func Write(path string, f *File) error {
	var buf bytes.Buffer
	if err := Encode(&buf, f); err != nil {
		return err
	}
	if err := state.WriteFileAtomic(path, buf.Bytes()); err != nil {
		return fmt.Errorf("write plan file %s: %w", path, err)
	}
	return nil
}

// ErrNotPlanFile is returned for a file that does not start with the plan file header.
var ErrNotPlanFile = errors.New("not a c4sctl plan file (it does not start with \"c4sctl-plan\"); make one with `c4sctl plan --out FILE`")

// FormatError is a plan file of another format version.
type FormatError struct{ Version int }

func (e *FormatError) Error() string {
	return fmt.Sprintf("the plan file has format version %d, but this c4sctl reads format %d: make the plan again with this c4sctl (`c4sctl plan --out FILE`)", e.Version, FormatVersion)
}

// Decode reads a plan file. A truncated, corrupt or foreign file gives an error, never a panic.
func Decode(r io.Reader) (*File, error) {
	br := bufio.NewReader(io.LimitReader(r, MaxSize))
	header, err := readLine(br, 64)
	if err != nil {
		return nil, ErrNotPlanFile
	}
	if !strings.HasPrefix(header, Magic) {
		return nil, ErrNotPlanFile
	}
	ver, err := strconv.Atoi(strings.TrimPrefix(header, Magic))
	if err != nil {
		return nil, ErrNotPlanFile
	}
	if ver != FormatVersion {
		return nil, &FormatError{Version: ver}
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, corrupt(err)
	}
	zr.Multistream(false)
	payload, err := io.ReadAll(io.LimitReader(zr, MaxSize+1))
	if err != nil {
		return nil, corrupt(err)
	}
	if len(payload) > MaxSize {
		return nil, corrupt(fmt.Errorf("more than %d bytes of plan", MaxSize))
	}
	var f File
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, corrupt(err)
	}
	if err := f.validate(); err != nil {
		return nil, corrupt(err)
	}
	return &f, nil
}

// Read decodes the plan file at path.
func Read(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read plan file: %w", err)
	}
	defer fh.Close()
	f, err := Decode(fh)
	if err != nil {
		return nil, fmt.Errorf("plan file %s: %w", path, err)
	}
	return f, nil
}

func corrupt(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("the file is truncated (%v): make the plan again with `c4sctl plan --out FILE`", err)
	}
	return fmt.Errorf("the file is corrupt (%v): make the plan again with `c4sctl plan --out FILE`", err)
}

func readLine(br *bufio.Reader, max int) (string, error) {
	var b []byte
	for len(b) <= max {
		c, err := br.ReadByte()
		if err != nil {
			return "", err
		}
		if c == '\n' {
			return string(b), nil
		}
		b = append(b, c)
	}
	return "", errors.New("header line too long")
}

func (f *File) validate() error {
	if f.FormatVersion != FormatVersion {
		return fmt.Errorf("format_version %d inside a format %d file", f.FormatVersion, FormatVersion)
	}
	if f.Plan == nil {
		return errors.New("no plan in the file")
	}
	if f.Config.Hash == "" {
		return errors.New("no configuration hash in the file")
	}

	seen := map[string]bool{}
	for i, rc := range f.Plan.ResourceChanges {
		if rc.Address == "" {
			return fmt.Errorf("resource_changes[%d] has no address", i)
		}
		if seen[rc.Address] {
			return fmt.Errorf("resource_changes lists %s twice", rc.Address)
		}
		seen[rc.Address] = true
		if _, ok := f.Fingerprints[rc.Address]; !ok {
			return fmt.Errorf("no fingerprint for %s", rc.Address)
		}
	}
	return nil
}
