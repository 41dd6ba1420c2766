// Package cli is c4sctl's command line: cobra commands over the engine packages.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// Version is set at build time (-ldflags "-X github.com/c4sctl/c4sctl/pkg/cli.Version=...").
var Version = "0.1.0-dev"

// Commit is the git commit the binary was built from, set at build time (-ldflags "-X
// github.com/c4sctl/c4sctl/pkg/cli.Commit=..."; make build, make release and the Dockerfile set
// it). Without it, the commit Go stamps into the build (vcs.revision), if any.
var Commit = ""

// Main runs c4sctl with the process's arguments and streams, and returns the exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return run(ctx, &Globals{Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: os.Getenv}, args)
}

// run executes args with g (whose Stdin, Stdout, Stderr and Getenv are set) and returns the
// exit code.
func run(ctx context.Context, g *Globals, args []string) int {
	stdin, stdout, stderr := g.Stdin, g.Stdout, g.Stderr
	root := NewRoot(g)
	root.SetArgs(normalizeArgs(root, args))
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if cerr := g.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("save sandbox data: %w", cerr)
	}
	if err != nil {
		var de *diagError
		var ee *exitError
		switch {
		case errors.As(err, &de):
			// already printed with source snippets
		case errors.As(err, &ee) && ee.err == nil:
		default:
			fmt.Fprintf(stderr, "Error: %v\n", err)
		}
	}
	return ExitCode(err)
}

// NewRoot builds the command tree.
func NewRoot(g *Globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "c4sctl",
		Short: "Deploy Microsoft Copilot for Sales for Salesforce, and keep it deployed",
		Long: `c4sctl reads the desired state of a Copilot for Sales deployment from *.c4s.hcl files,
reads the live state of the Microsoft 365 tenant, Teams, Power Platform and the Salesforce org,
plans the difference and applies it.

Try it against the built-in sandbox:  c4sctl --dir examples/quickstart --sandbox plan`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.Dir, "dir", ".", "directory holding the configuration (*.c4s.hcl)")
	pf.BoolVar(&g.Sandbox, "sandbox", false, "run against the built-in sandbox (kept in DIR/.c4sctl/sandbox) instead of the real clouds")
	pf.StringArrayVar(&g.Vars, "var", nil, "set a variable: --var name=value (repeatable; wins over --var-file)")
	pf.StringArrayVar(&g.VarFiles, "var-file", nil, "read variables from an HCL file of name = value lines (repeatable)")
	pf.BoolVar(&g.NoColor, "no-color", false, "never color the output (also: NO_COLOR=1)")
	pf.StringVar(&g.Workspace, "workspace", "", "use this workspace's state (default: $"+WorkspaceEnv+", else the one `workspace select` chose, else default)")
	pf.DurationVar(&g.LockTimeout, "lock-timeout", 0, "wait this long for another run's state lock, e.g. 5m (default: fail at once, naming the holder)")
	pf.StringVar(&g.LogLevel, "log-level", "", "log HTTP requests and decisions to stderr: error, warn, info or debug (secrets are never logged)")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if v := g.Getenv("C4S_SANDBOX"); v == "1" || v == "true" {
			if !g.Sandbox {
				g.sandboxVia = "C4S_SANDBOX=" + v
			}
			g.Sandbox = true
		}
		switch g.LogLevel {
		case "", "off", "error", "warn", "info", "debug", "trace":
		default:
			return fmt.Errorf("--log-level %q: use error, warn, info or debug", g.LogLevel)
		}
		if st, err := os.Stat(g.Dir); err != nil || !st.IsDir() {
			return fmt.Errorf("--dir %s is not a directory", g.Dir)
		}
		return nil
	}
	for _, f := range commandFactories() {
		root.AddCommand(f(g))
	}
	registerAddressCompletion(root, g)
	root.Version = Version
	root.SetVersionTemplate(versionLine())
	root.SetFlagErrorFunc(flagError)
	requireSubcommand(root)
	return root
}

func newVersionCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the c4sctl version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprint(g.Stdout, versionLine())
			return nil
		},
	}
}
