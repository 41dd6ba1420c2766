package cli

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/faults"
	"github.com/c4sctl/c4sctl/pkg/sandbox/salesforceapi"
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
	var entraCerts []string
	var ff faultFlags
	serve := &cobra.Command{
		Use:   "serve",
		Short: "Run the sandbox standalone until interrupted",
		Long: `Run the sandbox on a loopback address until interrupted, for c4sctl and for any other client.

Its data (tenant, org, certificate authority) lives in DIR/.c4sctl/sandbox. On start it prints
where things are:

  - the CA certificate to trust (ca_file in provider blocks, SSL_CERT_FILE, curl --cacert);
  - the Salesforce JWT bearer material: the connected app's certificate and the private key of
    the test user admin@contoso-sandbox.example (kept in the data directory, so a client set up
    once keeps working), with the consumer key (iss), username (sub), audience (aud) and token
    URL a JWT bearer client needs;
  - the Microsoft identity endpoint for client-certificate sign-in: --entra-cert FILE registers an
    X.509 certificate (PEM) on the c4sctl app registration, so that a client assertion signed
    with its key gets a token.

A JWT bearer sign-in from any client, e.g. with openssl and curl (README, "Sandbox"):

  POST {sandbox}/salesforce/services/oauth2/token
    grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=JWT
  JWT: RS256 over {"iss": consumer key, "sub": "admin@contoso-sandbox.example",
       "aud": "{sandbox}/salesforce", "exp": now + 3 minutes}, signed with the printed key.
  The answer's access_token is a session id for Authorization: Bearer on
  {instance_url}/services/data/v67.0/...`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return fmt.Errorf("--addr %q: %v (expected HOST:PORT)", addr, err)
			}
			if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
				return fmt.Errorf("--addr %q: the sandbox only listens on loopback addresses (127.0.0.1, ::1, localhost)", addr)
			}
			svcs := newSandboxServices()
			dir := filepath.Join(g.StateDir(), "sandbox")
			fo, on, err := ff.options()
			if err != nil {
				return err
			}
			if err := checkDown(fo.Down, svcs); err != nil {
				return fmt.Errorf("--%v", err)
			}
			sb, err := sandbox.Start(sandbox.Options{Addr: addr, Dir: dir}, svcs...)
			if err != nil {
				return err
			}
			if on {
				faults.Install(sb, fo)
				fmt.Fprintf(g.Stdout, "Fault injection: latency %s, fault rate %.2f, throttle %.0f req/s per API, seed %d\n", fo.Latency, fo.FaultRate, fo.Throttle, fo.Seed)
			}
			keyFile, certFile, err := salesforceapi.LoadOrWriteJWTMaterial(dir)
			if err != nil {
				_ = sb.Close()
				return fmt.Errorf("write the Salesforce JWT bearer material: %v", err)
			}
			for _, f := range entraCerts {
				if err := registerEntraCert(sb, f); err != nil {
					_ = sb.Close()
					return err
				}
			}
			// Absolute paths: the provider blocks and variables printed here (and by sandbox env)
			// are pasted into a configuration elsewhere, and ca_file is read relative to the
			// working directory of the run that uses it, not to this one.
			caFile, secretsDir := absPath(sandbox.CACertFile(dir)), absPath(filepath.Join(dir, "secrets"))
			reach, err := computeReach(g.Registry(), sb.URL, caFile, secretsDir)
			if err == nil {
				err = reach.writeSecrets(secretsDir)
			}
			if err == nil {
				err = writeServeInfo(dir, serveInfo{URL: sb.URL, CAFile: caFile, PID: os.Getpid()})
			}
			if err != nil {
				_ = sb.Close()
				return fmt.Errorf("write how to reach the sandbox: %v", err)
			}
			defer os.Remove(filepath.Join(dir, serveInfoFile))
			interruptNotice.Store(&[2]string{
				"\nInterrupt received: stopping the sandbox and saving its tenant and org to " + dir + ".",
				"Second interrupt: stopping the sandbox now; changes since its last save may be lost.",
			})
			fmt.Fprintf(g.Stdout, "Sandbox listening on %s\nTrust its certificate with ca_file = %q in provider blocks.\nTenant %s, client id %s; the client secrets are in %s (one file per variable). Press Ctrl+C to stop.\n",
				sb.URL, caFile, sandbox.TenantID, sandbox.ClientID, filepath.Join(dir, "secrets"))
			fmt.Fprintf(g.Stdout, "Salesforce JWT bearer sign-in:\n  token URL        %s/salesforce/services/oauth2/token\n  consumer key     %s (iss)\n  username         %s (sub)\n  audience         %s/salesforce (aud; https://login.salesforce.com and https://test.salesforce.com are accepted too)\n  private key      %s\n  app certificate  %s\n",
				sb.URL, salesforceapi.ConsumerKey, salesforceapi.AdminUser, sb.URL, keyFile, certFile)
			fmt.Fprintf(g.Stdout, "Microsoft client-certificate sign-in: POST %s/%s/oauth2/v2.0/token (client_id %s, client_assertion signed with the key of a certificate registered with --entra-cert: %d registered now)\n",
				sb.URL, sandbox.TenantID, sandbox.ClientID, len(entraCerts))
			// How to reach it as a real tenant: the same as `c4sctl sandbox env` prints.
			fmt.Fprintf(g.Stdout, "\nReach it as a real tenant and org (no --sandbox): `c4sctl --dir %s sandbox env` prints these again.\nEnvironment variables:\n", g.Dir)
			reach.writeEnv(g.Stdout, "sh")
			fmt.Fprintln(g.Stdout, "Provider blocks:")
			reach.writeBlocks(g.Stdout)
			// cmd/c4sctl turns Ctrl+C into the end of the context, after printing the notice set
			// above (a handler of its own here raced it: the process ended before the notice).
			<-cmd.Context().Done()
			if err := sb.Close(); err != nil {
				return err
			}
			fmt.Fprintf(g.Stderr, "The sandbox stopped; its tenant and org are saved in %s.\n", dir)
			return nil
		},
	}
	ff.register(serve)
	serve.Flags().StringVar(&addr, "addr", "127.0.0.1:8443", "loopback address to listen on")
	serve.Flags().StringArrayVar(&entraCerts, "entra-cert", nil, "X.509 certificate (PEM file) to register on the c4sctl app registration for client-certificate sign-in (repeatable)")
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
	cmd.AddCommand(serve, reset, newSandboxEnvCmd(g))
	for _, f := range sandboxSubcommandFactories() {
		cmd.AddCommand(f(g))
	}
	return cmd
}

// registerEntraCert adds the PEM certificate in file to the c4sctl app registration's
// certificates (for this run of the sandbox), refusing what is not an X.509 certificate.
func registerEntraCert(sb *sandbox.Server, file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("--entra-cert: %v", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return fmt.Errorf("--entra-cert %s: no PEM CERTIFICATE block", file)
	}
	if _, err := x509.ParseCertificate(blk.Bytes); err != nil {
		return fmt.Errorf("--entra-cert %s: %v", file, err)
	}
	return sb.Mutate(func() error {
		app := sb.Apps().Get(sandbox.ClientID)
		if app == nil {
			return fmt.Errorf("--entra-cert: the sandbox has no c4sctl app registration")
		}
		app.CertificatesPEM = append(app.CertificatesPEM, pem.EncodeToMemory(blk))
		return nil
	})
}

// sandboxService returns the sandbox and its service name as T, for the hand-made changes of
// `c4sctl sandbox ...` (what an admin would do in an admin centre); what names the API in the
// error a sandbox without that service answers.
func sandboxService[T any](g *Globals, name, what string) (*sandbox.Server, T, error) {
	var zero T
	sb, err := g.SandboxServer()
	if err != nil {
		return nil, zero, err
	}
	svc, ok := sb.Service(name).(T)
	if !ok {
		return nil, zero, fmt.Errorf("this sandbox does not serve %s", what)
	}
	return sb, svc, nil
}
