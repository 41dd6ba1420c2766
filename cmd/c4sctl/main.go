// Command c4sctl deploys Microsoft Copilot for Sales for Salesforce CRM customers and keeps it
// deployed: see README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/c4sctl/c4sctl/pkg/cli"
)

func main() {
	// The first SIGINT cancels the context: in-flight requests finish and state is saved.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
