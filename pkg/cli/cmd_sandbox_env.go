package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/spf13/cobra"
	"github.com/zclconf/go-cty/cty"
)

// interruptNotice is what the process prints on its first and second Ctrl+C (cmd/c4sctl reads
// it through InterruptNotice). Commands that are not a plan or apply, such as `sandbox serve`,
// set their own: "finishing the changes in flight" means nothing to a server.
var interruptNotice atomic.Pointer[[2]string]

// InterruptNotice returns the messages for the first and second interrupt, or ok false for the
// defaults.
func InterruptNotice() (first, second string, ok bool) {
	if p := interruptNotice.Load(); p != nil {
		return p[0], p[1], true
	}
	return "", "", false
}

// serveInfoFile is written by `sandbox serve` into the sandbox directory while it runs, for
// `sandbox env` (which cannot open the directory itself: serve holds its lock).
const serveInfoFile = "serve.json"

// serveInfo is how to reach a running `sandbox serve`.
type serveInfo struct {
	URL    string `json:"url"`
	CAFile string `json:"ca_file"`
	PID    int    `json:"pid"`
}

// sandboxReach is what a client needs to reach a sandbox as if it were a real tenant and org:
// environment variables (values, or files holding the secret ones) and provider blocks holding
// the rest (endpoints, auth, ca_file). It is derived from each provider's SandboxConfig and its
// schema's Env and Sensitive declarations, so a new provider or attribute shows up by itself.
type sandboxReach struct {
	Env     []reachVar        // sorted by name
	Blocks  []reachBlock      // by provider name
	Secrets map[string]string // env name -> secret value, written to files, never printed
}

type reachVar struct {
	Name, Value string
	Secret      bool // Value is the path of the file holding it
}

type reachBlock struct {
	Provider string
	Attrs    [][2]string // name, HCL expression
}

// computeReach builds the reach of a sandbox at url whose CA certificate is caFile; secret
// values go to files under secretsDir.
func computeReach(reg *providers.Registry, url, caFile, secretsDir string) (*sandboxReach, error) {
	r := &sandboxReach{Secrets: map[string]string{}}
	env := map[string]reachVar{}
	for _, p := range reg.Providers() {
		vals := p.SandboxConfig(url)
		if vals == nil {
			continue
		}
		blk := reachBlock{Provider: p.Name()}
		hasCA := false
		for _, a := range p.ConfigSchema().Attributes {
			if a.Name == "ca_file" {
				hasCA = true
			}
			v, ok := vals[a.Name]
			if !ok || v.IsNull() || v.Type() != cty.String {
				continue
			}
			s := v.AsString()
			switch {
			case a.Env != "":
				rv := reachVar{Name: a.Env, Value: s}
				if a.Sensitive {
					rv = reachVar{Name: a.Env, Value: filepath.Join(secretsDir, a.Env), Secret: true}
					if old, ok := r.Secrets[a.Env]; ok && old != s {
						return nil, fmt.Errorf("providers disagree on %s", a.Env)
					}
					r.Secrets[a.Env] = s
				}
				if old, ok := env[a.Env]; ok && old != rv {
					return nil, fmt.Errorf("providers disagree on %s", a.Env)
				}
				env[a.Env] = rv
			case a.Sensitive:
				return nil, fmt.Errorf("provider %s: sensitive attribute %s has no environment variable", p.Name(), a.Name)
			default:
				blk.Attrs = append(blk.Attrs, [2]string{a.Name, fmt.Sprintf("%q", s)})
			}
		}
		if hasCA {
			blk.Attrs = append(blk.Attrs, [2]string{"ca_file", fmt.Sprintf("%q", caFile)})
		}
		r.Blocks = append(r.Blocks, blk)
	}
	sort.Slice(r.Blocks, func(i, j int) bool { return r.Blocks[i].Provider < r.Blocks[j].Provider })
	for _, v := range env {
		r.Env = append(r.Env, v)
	}
	sort.Slice(r.Env, func(i, j int) bool { return r.Env[i].Name < r.Env[j].Name })
	return r, nil
}

// writeSecrets writes each secret to its own file (mode 0600) in dir.
func (r *sandboxReach) writeSecrets(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for name, v := range r.Secrets {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// psQuote quotes s for PowerShell.
func psQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// writeEnv prints the environment variables for shell "sh" or "powershell". Secrets are read
// from their files by the shell, never printed.
func (r *sandboxReach) writeEnv(w io.Writer, shell string) {
	for _, v := range r.Env {
		switch {
		case shell == "powershell" && v.Secret:
			fmt.Fprintf(w, "$env:%s = Get-Content -Raw %s\n", v.Name, psQuote(v.Value))
		case shell == "powershell":
			fmt.Fprintf(w, "$env:%s = %s\n", v.Name, psQuote(v.Value))
		case v.Secret:
			fmt.Fprintf(w, "export %s=\"$(cat %s)\"\n", v.Name, shellQuote(v.Value))
		default:
			fmt.Fprintf(w, "export %s=%s\n", v.Name, shellQuote(v.Value))
		}
	}
}

// writeBlocks prints the provider blocks.
func (r *sandboxReach) writeBlocks(w io.Writer) {
	for i, b := range r.Blocks {
		if i > 0 {
			fmt.Fprintln(w)
		}
		width := 0
		for _, a := range b.Attrs {
			width = max(width, len(a[0]))
		}
		fmt.Fprintf(w, "provider %q {\n", b.Provider)
		for _, a := range b.Attrs {
			fmt.Fprintf(w, "  %-*s = %s\n", width, a[0], a[1])
		}
		fmt.Fprintln(w, "}")
	}
}

// writeServeInfo records how to reach the running serve (removed when it stops).
func writeServeInfo(dir string, info serveInfo) error {
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, serveInfoFile), append(b, '\n'), 0o600)
}

// readServeInfo returns how to reach the `sandbox serve` running on dir, or an error saying
// none is running.
func readServeInfo(dir string) (serveInfo, error) {
	var info serveInfo
	notRunning := fmt.Errorf("no `c4sctl sandbox serve` is running for %s: start it (in another terminal, with the same --dir), then run this again", dir)
	b, err := os.ReadFile(filepath.Join(dir, serveInfoFile))
	if errors.Is(err, os.ErrNotExist) {
		return info, notRunning
	}
	if err != nil {
		return info, err
	}
	if err := json.Unmarshal(b, &info); err != nil || info.URL == "" {
		return info, fmt.Errorf("%s: not what `sandbox serve` writes; stop serve, delete it and start serve again", filepath.Join(dir, serveInfoFile))
	}
	// A serve that died without removing its file no longer holds the directory's lock.
	if !sandbox.InUse(dir) {
		return info, notRunning
	}
	return info, nil
}

func newSandboxEnvCmd(g *Globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "env",
		Short: "Print how to reach the running `sandbox serve` as a real tenant: environment variables and provider blocks",
		Long: `env prints, for the ` + "`c4sctl sandbox serve`" + ` running on this directory, the environment
variables (AZURE_*, SF_*) and the provider blocks (endpoints, auth, ca_file) with which c4sctl, or
any other client, reaches it without --sandbox, as it would reach a real tenant and org.

Secrets are not printed: serve writes each one to a file of its own (mode 0600) in
DIR/.c4sctl/sandbox/secrets, and the variables read them from there, e.g.
  export AZURE_CLIENT_SECRET="$(cat '.../secrets/AZURE_CLIENT_SECRET')"

--format sh (default) prints both; powershell prints the variables for PowerShell and the blocks;
hcl prints only the provider blocks; vars prints only the variables (for eval "$(c4sctl sandbox
env --format vars)").`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			switch format {
			case "sh", "powershell", "hcl", "vars":
			default:
				return fmt.Errorf("--format %q: use sh, powershell, hcl or vars", format)
			}
			dir := filepath.Join(g.StateDir(), "sandbox")
			info, err := readServeInfo(dir)
			if err != nil {
				return err
			}
			r, err := computeReach(g.Registry(), info.URL, absPath(info.CAFile), absPath(filepath.Join(dir, "secrets")))
			if err != nil {
				return err
			}
			w := g.Stdout
			switch format {
			case "vars":
				r.writeEnv(w, "sh")
			case "hcl":
				r.writeBlocks(w)
			default:
				fmt.Fprintf(w, "# c4sctl sandbox serve at %s (pid %d). Environment variables:\n", info.URL, info.PID)
				r.writeEnv(w, format)
				fmt.Fprintln(w, "\n# Provider blocks (the variables above fill in tenant_id, client_id, the secrets and the Salesforce instance):")
				r.writeBlocks(w)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "sh", "sh, powershell, hcl (provider blocks only) or vars (variables only)")
	return cmd
}

// absPath is p made absolute (p itself when the working directory is unknown).
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
