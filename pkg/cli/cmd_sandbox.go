package cli

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/faults"
	"github.com/spf13/cobra"
)

func newSandboxCmd(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Run and reset the built-in emulator of the Microsoft and Salesforce APIs",
		Long: `The sandbox emulates the Microsoft identity platform, Microsoft Graph, the Teams policy service,
the Power Platform admin API, Dataverse and Salesforce over HTTPS on 127.0.0.1. --sandbox runs it
in-process; its tenant data lives in DIR/.c4sctl/sandbox so that runs build on each other.`,
	}
	var addr string
	var ff faultFlags
	serve := &cobra.Command{
		Use:   "serve",
		Short: "Run the sandbox standalone until interrupted",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return fmt.Errorf("--addr %q: %v (expected HOST:PORT)", addr, err)
			}
			if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
				return fmt.Errorf("--addr %q: the sandbox only listens on loopback addresses (127.0.0.1, ::1, localhost)", addr)
			}
			var svcs []sandbox.Service
			for _, f := range sandboxServices {
				svcs = append(svcs, f())
			}
			dir := filepath.Join(g.StateDir(), "sandbox")
			fo, on, err := ff.options()
			if err != nil {
				return err
			}
			sb, err := sandbox.Start(sandbox.Options{Addr: addr, Dir: dir}, svcs...)
			if err != nil {
				return err
			}
			if on {
				faults.Install(sb, fo)
				fmt.Fprintf(g.Stdout, "Fault injection: latency %s, fault rate %.2f, throttle %.0f req/s per API, seed %d\n", fo.Latency, fo.FaultRate, fo.Throttle, fo.Seed)
			}
			fmt.Fprintf(g.Stdout, "Sandbox listening on %s\nTrust its certificate with ca_file = %q in provider blocks.\nTenant %s, client id %s (secret: see the sandbox package). Press Ctrl+C to stop.\n",
				sb.URL, sandbox.CACertFile(dir), sandbox.TenantID, sandbox.ClientID)
			ch := make(chan os.Signal, 1)
			signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
			select {
			case <-ch:
			case <-cmd.Context().Done():
			}
			return sb.Close()
		},
	}
	ff.register(serve)
	serve.Flags().StringVar(&addr, "addr", "127.0.0.1:8443", "loopback address to listen on")
	reset := &cobra.Command{
		Use:   "reset",
		Short: "Restore the seed: a fresh tenant and org in which none of the guide's steps are done",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sb, err := g.SandboxServer()
			if err != nil {
				return err
			}
			sb.Reset()
			fmt.Fprintf(g.Stdout, "The sandbox in %s was reset to its seed.\n", filepath.Join(g.StateDir(), "sandbox"))
			return nil
		},
	}
	cmd.AddCommand(serve, reset)
	for _, f := range extraSandboxCommands {
		cmd.AddCommand(f(g))
	}
	return cmd
}
