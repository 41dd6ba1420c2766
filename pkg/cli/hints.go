package cli

import (
	"sort"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/plan"
)

// command is a c4sctl command line to print as a hint, with the global flags this run was given
// that the next command needs to act on the same configuration, state and target: --dir (when
// not "."), --sandbox, --workspace, each --var-file, and each --var of a variable that is not
// sensitive (a sensitive one is never printed: sensitiveVars lists them, for the caller to say
// so). Arguments are quoted for POSIX shells where they need it, so the line can be pasted.
func (g *Globals) command(args ...string) string {
	return g.commandWith(hintAll, args...)
}

// Which global flags a hint keeps (commandWith).
const (
	hintDir       = 1 << iota // --dir
	hintWorkspace             // --workspace: commands on state
	hintRun                   // --sandbox, --var-file, --var: commands that sign in and evaluate
	hintAll       = hintDir | hintWorkspace | hintRun
)

// commandWith is command keeping only the given flags: `fmt` needs --dir alone, `state list`
// --dir and --workspace, `workspace new NAME` --dir.
func (g *Globals) commandWith(keep int, args ...string) string {
	parts := []string{"c4sctl"}
	if keep&hintDir != 0 && g.Dir != "" && g.Dir != "." {
		parts = append(parts, "--dir", g.Dir)
	}
	if keep&hintRun != 0 && g.Sandbox {
		parts = append(parts, "--sandbox")
	}
	if keep&hintWorkspace != 0 && g.Workspace != "" {
		parts = append(parts, "--workspace", g.Workspace)
	}
	if keep&hintRun == 0 {
		for i, p := range parts {
			parts[i] = shellArg(p)
		}
		return strings.Join(append(parts, quoteAll(args)...), " ")
	}
	for _, f := range g.VarFiles {
		parts = append(parts, "--var-file", f)
	}
	sens := map[string]bool{}
	for _, n := range g.sensitiveVars() {
		sens[n] = true
	}
	for _, kv := range g.Vars {
		name, _, _ := strings.Cut(kv, "=")
		if !sens[strings.TrimSpace(name)] {
			parts = append(parts, "--var", kv)
		}
	}
	parts = append(parts, args...)
	for i, p := range parts {
		parts[i] = shellArg(p)
	}
	return strings.Join(parts, " ")
}

// sensitiveVars lists the variables set with --var that are sensitive: command leaves them out.
func (g *Globals) sensitiveVars() []string {
	if len(g.Vars) == 0 || g.eval == nil {
		return nil
	}
	vars := g.eval.Variables()
	seen := map[string]bool{}
	var out []string
	for _, kv := range g.Vars {
		name, _, _ := strings.Cut(kv, "=")
		name = strings.TrimSpace(name)
		if v, ok := vars[name]; ok && v.Sensitive && !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// commandNote is what follows a printed command when sensitive --var values were left out.
func (g *Globals) commandNote() string {
	if s := g.sensitiveVars(); len(s) > 0 {
		return "  (add --var for " + strings.Join(s, ", ") + " with the same value: sensitive values are not printed)\n"
	}
	return ""
}

func quoteAll(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = shellArg(x)
	}
	return out
}

// shellArg leaves a word of safe characters as it is and quotes any other with shellQuote
// (POSIX), so that hints read naturally and paste correctly.
func shellArg(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@,+%", r))
	}) < 0 {
		return s
	}
	return shellQuote(s)
}

// sandboxSteps puts each manual action's sandbox command (providers.ManualAction.Sandbox) into
// its steps on a --sandbox run, as a command with this run's flags, and drops it otherwise: the
// real tenant's steps never mention the sandbox. (A configuration pointed at a `sandbox serve`
// server gets none either: those commands act on the in-process sandbox's data.)
func (g *Globals) sandboxSteps(pl *plan.Plan) {
	for _, rc := range pl.Changes {
		m := rc.Manual
		if m == nil || len(m.Sandbox) == 0 {
			continue
		}
		if g.Sandbox {
			m.Steps = append(m.Steps, "In the sandbox, this does the same: "+g.command(append([]string{"sandbox"}, m.Sandbox...)...))
		}
		m.Sandbox = nil
	}
}
