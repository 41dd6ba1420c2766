package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/c4sctl/c4sctl/pkg/apply"
	"github.com/c4sctl/c4sctl/pkg/plan"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/state"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

type planFlags struct {
	detailedExitcode bool
	targets          []string
	refreshOnly      bool
	concurrency      int
}

func (f *planFlags) register(cmd *cobra.Command, withExitcode bool) {
	if withExitcode {
		cmd.Flags().BoolVar(&f.detailedExitcode, "detailed-exitcode", false, "exit 0 when there are no changes, 2 when there are, 1 on error")
	}
	cmd.Flags().StringArrayVar(&f.targets, "target", nil, "plan only this resource address and what it depends on (repeatable)")
	cmd.Flags().BoolVar(&f.refreshOnly, "refresh-only", false, "only compare live objects with state and configuration; change nothing")
	cmd.Flags().IntVar(&f.concurrency, "parallelism", 8, "how many resources are read or changed at once")
}

// session is what plan and apply share: the loaded configuration, the locked state.
type session struct {
	g       *Globals
	backend *state.Local
	state   *state.State
	unlock  func() error
}

func openSession(g *Globals, op string) (*session, error) {
	if _, err := g.LoadConfig(); err != nil {
		return nil, err
	}
	if _, err := g.Evaluator(); err != nil {
		return nil, err
	}
	b := g.Backend()
	unlock, err := b.Lock(op, Version)
	if err != nil {
		return nil, err
	}
	st, err := b.Load()
	if err != nil {
		_ = unlock()
		return nil, err
	}
	if g.Sandbox {
		if _, err := g.SandboxServer(); err != nil {
			_ = unlock()
			return nil, err
		}
	}
	return &session{g: g, backend: b, state: st, unlock: unlock}, nil
}

func (s *session) close() error {
	if s.unlock == nil {
		return nil
	}
	err := s.unlock()
	s.unlock = nil
	return err
}

func (s *session) plan(ctx context.Context, f *planFlags) (*plan.Plan, error) {
	g := s.g
	p := &plan.Planner{Config: g.config, Eval: g.eval, State: s.state, Registry: g.Registry(), Clients: g,
		Options: plan.Options{Concurrency: f.concurrency, Targets: f.targets, RefreshOnly: f.refreshOnly, Progress: g.refreshProgress()}}
	pl, diags := p.Plan(ctx)
	if err := g.printDiags(diags); err != nil {
		return nil, err
	}
	return pl, nil
}

// refreshProgress prints which resources are being read, on a terminal only.
func (g *Globals) refreshProgress() func(string, bool) {
	f, ok := g.Stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	var mu sync.Mutex
	return func(addr string, done bool) {
		if done {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(g.Stderr, "%s: Refreshing state...\n", addr)
	}
}

func newPlanCmd(g *Globals) *cobra.Command {
	var f planFlags
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what apply would change",
		Long: `plan reads the live state of every declared resource, compares it with the configuration and
the last-applied state, and prints the changes apply would make. Changes made outside c4sctl since
the last apply are shown first.

Exit codes: 0 success, 1 error; with --detailed-exitcode, 2 when there are changes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := openSession(g, "plan")
			if err != nil {
				return err
			}
			defer s.close()
			pl, err := s.plan(cmd.Context(), &f)
			if err != nil {
				return err
			}
			plan.Render(g.Stdout, pl, g.colors(g.Stdout))
			if f.detailedExitcode && pl.HasChanges() {
				return &exitError{code: 2}
			}
			return nil
		},
	}
	f.register(cmd, true)
	return cmd
}

func newApplyCmd(g *Globals) *cobra.Command {
	var f planFlags
	var autoApprove bool
	cmd := &cobra.Command{
		Use:   "apply",
		Short: "Make the changes a plan shows",
		Long: `apply plans, shows the plan and, once approved, makes the changes. Each completed change is
recorded in state at once; a failing change does not stop independent ones.

Approval: type "yes" at the prompt, or pass --auto-approve. Without a terminal, --auto-approve is
required.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openSession(g, "apply")
			if err != nil {
				return err
			}
			defer s.close()
			ctx := cmd.Context()
			pl, err := s.plan(ctx, &f)
			if err != nil {
				return err
			}
			plan.Render(g.Stdout, pl, g.colors(g.Stdout))
			if !pl.HasChanges() && !pl.RefreshOnly {
				// Still record the live values, so that the next plan measures drift from now.
				return s.apply(ctx, pl, &f)
			}
			if !autoApprove {
				ok, err := g.confirm()
				if err != nil {
					return err
				}
				if !ok {
					return errors.New("apply cancelled: nothing was changed")
				}
			}
			return s.apply(ctx, pl, &f)
		},
	}
	f.register(cmd, false)
	cmd.Flags().BoolVar(&autoApprove, "auto-approve", false, "apply without asking for confirmation")
	return cmd
}

// confirm asks for "yes" on a terminal.
func (g *Globals) confirm() (bool, error) {
	in, ok := g.Stdin.(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) {
		return false, errors.New("apply needs approval, and standard input is not a terminal: review the plan and run again with --auto-approve")
	}
	fmt.Fprintf(g.Stdout, "\nDo you want to perform these actions?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ")
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		return false, nil
	}
	return strings.TrimSpace(line) == "yes", nil
}

func (s *session) apply(ctx context.Context, pl *plan.Plan, f *planFlags) error {
	g := s.g
	verb := map[providers.Action][2]string{
		providers.Create: {"Creating...", "Creation complete"},
		providers.Update: {"Modifying...", "Modifications complete"},
		providers.Delete: {"Destroying...", "Destruction complete"},
		providers.Forget: {"Forgetting...", "Removed from state"},
	}
	var mu sync.Mutex
	a := &apply.Applier{Plan: pl, Config: g.config, Eval: g.eval, State: s.state, Backend: s.backend, Clients: g, Concurrency: f.concurrency,
		Progress: func(e apply.Event) {
			mu.Lock()
			defer mu.Unlock()
			v := verb[e.Action]
			switch {
			case !e.Done:
				fmt.Fprintf(g.Stdout, "%s: %s\n", e.Addr, v[0])
			case e.Err != nil:
				fmt.Fprintf(g.Stdout, "%s: failed after %s\n", e.Addr, e.Elapsed.Round(time.Second))
			default:
				id := ""
				if e.ID != "" {
					id = fmt.Sprintf(" [id=%s]", e.ID)
				}
				fmt.Fprintf(g.Stdout, "%s: %s after %s%s\n", e.Addr, v[1], e.Elapsed.Round(time.Second), id)
			}
		}}
	res, err := a.Apply(ctx)
	if err != nil {
		return fmt.Errorf("state could not be saved: %w; the changes listed above were made, run plan to see where things stand", err)
	}
	if pl.RefreshOnly {
		fmt.Fprintf(g.Stdout, "\nApply complete! State refreshed from the live objects; nothing was changed.\n")
		return nil
	}
	for _, addr := range res.Failed {
		fmt.Fprintf(g.Stderr, "\nError: %s: %v\n", addr, res.Errors[addr])
	}
	for addr, notes := range res.Notes {
		for _, n := range notes {
			fmt.Fprintf(g.Stdout, "Note: %s: %s\n", addr, n)
		}
	}
	sum := pl.Summary()
	if res.OK() {
		if len(res.Applied) > 0 || !pl.HasChanges() {
			fmt.Fprintf(g.Stdout, "\nApply complete! Resources: %d added, %d changed, %d destroyed.\n", sum.Add, sum.Change, sum.Destroy)
		}
	} else {
		fmt.Fprintf(g.Stdout, "\nApply incomplete: %d change(s) made, %d failed, %d not attempted (%s).\nRun apply again after fixing the errors: completed changes are in state and will not be made twice.\n",
			len(res.Applied), len(res.Failed), len(res.Skipped), strings.Join(append(append([]string{}, res.Failed...), res.Skipped...), ", "))
	}
	if len(res.Manual) > 0 {
		fmt.Fprintf(g.Stdout, "\n%d change(s) must be made by hand (steps above): %s. Run plan again once done.\n", len(res.Manual), strings.Join(res.Manual, ", "))
	}
	if !res.OK() {
		return &exitError{code: 1}
	}
	return nil
}
