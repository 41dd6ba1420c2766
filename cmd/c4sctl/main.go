// Command c4sctl deploys Microsoft Copilot for Sales for Salesforce CRM customers and keeps it
// deployed: see README.md.
package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/c4sctl/c4sctl/pkg/cli"
)

func main() {
	// Reading the system's certificate authorities takes about 8 ms, and every provider needs
	// them before its first request: read them while the configuration is being loaded (the
	// result is cached).
	go func() { _, _ = x509.SystemCertPool() }()
	// A reader that goes away (`c4sctl plan | head -1`) must not kill the process mid-run: Go's
	// default for a write to a broken stdout or stderr pipe is to die of SIGPIPE, leaving the
	// state lock behind and, during apply, changes unrecorded. Ignored, such writes fail with
	// EPIPE, output is dropped, and the run ends normally (lock released, state saved).
	signal.Ignore(syscall.SIGPIPE)
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		// The first interrupt stops starting new work: in-flight requests finish and state is
		// saved. A second one quits at once (state files are replaced atomically, so the last
		// saved state stays readable).
		<-sigs
		first, second, own := cli.InterruptNotice()
		if !own {
			first = "\nInterrupt received: finishing the changes in flight and saving state. Press Ctrl+C again to quit at once."
			second = "Second interrupt: quitting now. Run `c4sctl plan` to see where things stand; `c4sctl force-unlock` clears the lock."
		}
		fmt.Fprintln(os.Stderr, first)
		cancel()
		<-sigs
		fmt.Fprintln(os.Stderr, second)
		os.Exit(130)
	}()
	stop := startProfile(os.Getenv("C4S_CPUPROFILE"))
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// startProfile writes a CPU profile of the run to path (C4S_CPUPROFILE, for `go tool pprof`;
// the benchmark's plan budget in the README comes from it) and returns what ends it; with no
// path it does nothing. A file that cannot be written is reported and the run goes on.
func startProfile(path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "C4S_CPUPROFILE: %v\n", err)
		if f != nil {
			_ = f.Close()
		}
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}
}
