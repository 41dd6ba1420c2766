package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/m365"
	"github.com/c4sctl/c4sctl/pkg/sandbox/graphapi"
	"github.com/c4sctl/c4sctl/pkg/spec"
	"github.com/c4sctl/c4sctl/pkg/status"
	"github.com/spf13/cobra"
	"github.com/zclconf/go-cty/cty"
	"golang.org/x/term"
)

// stdinIsTerminal tells whether a person can answer a question.
func (g *Globals) stdinIsTerminal() bool {
	in, ok := g.Stdin.(*os.File)
	return ok && term.IsTerminal(int(in.Fd()))
}

func m365Client(ctx context.Context, g *Globals) (*m365.Client, error) {
	cl, err := g.Client(ctx, "microsoft365")
	if err != nil {
		return nil, err
	}
	c, ok := cl.(*m365.Client)
	if !ok {
		return nil, fmt.Errorf("provider microsoft365 is not the Graph client")
	}
	return c, nil
}

func sortedResources(cfg *spec.Config) []*spec.Resource {
	var out []*spec.Resource
	for _, r := range cfg.Resources {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Addr() < out[j].Addr() })
	return out
}

func newPreflightCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "preflight",
		Short: "Check who c4sctl runs as, its roles, permissions and licence seats against what the configuration needs",
		Long: `preflight reads the identity c4sctl signs in with (token claims), its directory roles and Graph
permissions, the tenant's licences and free seats, and prints a checklist against what the
configuration's resources need. It exits 1 when something blocks apply. See docs/permissions.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runPreflight(cmd.Context(), g) },
	}
}

// runPreflight is `c4sctl preflight` (and `bootstrap --check`): the Microsoft 365 checks (Graph
// token, directory roles, permissions, licence seats) for the microsoft365 and teams resources,
// then each other provider's own check (providers.Preflighter) for its resources. What no check
// covers is listed as not checked, and the verdict says so.
func runPreflight(ctx context.Context, g *Globals) error {
	cfg, err := g.LoadConfig()
	if err != nil {
		return err
	}
	byProvider := map[string]map[string][]string{}
	var microsoft []m365.PreflightResource
	for _, r := range sortedResources(cfg) {
		prov := ""
		if r.Schema != nil {
			prov = r.Schema.Provider
		}
		if prov == "microsoft365" || prov == "teams" {
			v := cty.NullVal(cty.DynamicPseudoType)
			if r.Type == "m365_license_assignment" {
				if ev, err := g.ResourceConfig(ctx, r.Addr()); err == nil {
					v = ev
				}
			}
			microsoft = append(microsoft, m365.PreflightResource{Addr: r.Addr(), Type: r.Type, Config: v})
			continue
		}
		if byProvider[prov] == nil {
			byProvider[prov] = map[string][]string{}
		}
		byProvider[prov][r.Type] = append(byProvider[prov][r.Type], r.Addr())
	}
	rep := &m365.PreflightReport{Identity: "(no microsoft365 or teams resources: Microsoft Graph not checked)"}
	if len(microsoft) > 0 {
		c, err := m365Client(ctx, g)
		if err == nil {
			var r *m365.PreflightReport
			extra := []string{"welcome"}
			if measuresTeamsCoverage(microsoft) {
				extra = append(extra, m365.SellerCoverage)
			}
			if r, err = c.Preflight(ctx, microsoft, extra...); err == nil {
				rep = r
			}
		}
		if err != nil {
			addrs := make([]string, len(microsoft))
			for i, r := range microsoft {
				addrs[i] = r.Addr
			}
			rep.Identity = "(the Microsoft 365 sign-in failed: Microsoft Graph not checked)"
			rep.Lines = append(rep.Lines, signInLine("microsoft365", addrs, err))
		}
	}
	names := make([]string, 0, len(byProvider))
	for name := range byProvider {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		var addrs []string
		for _, as := range byProvider[name] {
			addrs = append(addrs, as...)
		}
		sort.Strings(addrs)
		cl, err := g.Client(ctx, name)
		if err != nil {
			rep.Lines = append(rep.Lines, signInLine(name, addrs, err))
			continue
		}
		pf, ok := cl.(providers.Preflighter)
		if !ok {
			rep.Lines = append(rep.Lines, m365.CheckLine{Status: providers.CheckUnchecked, Text: fmt.Sprintf("provider %q has no preflight check: %s", name, strings.Join(addrs, ", "))})
			continue
		}
		rep.Lines = append(rep.Lines, pf.Preflight(ctx, byProvider[name])...)
	}
	rep.Sandbox = g.SandboxRun()
	rep.Write(g.Stdout)
	if n := rep.Blocking(); n > 0 {
		return &exitError{code: 1}
	}
	return nil
}

// signInLine is preflight's line for a provider that could not sign in: missing when the
// service refused (wrong credentials, a configuration error), not checked when it gave no verdict
// (a 5xx, a timeout, an answer of another shape: providers.Inconclusive).
func signInLine(name string, addrs []string, err error) m365.CheckLine {
	if providers.Inconclusive(err) {
		return m365.CheckLine{Status: providers.CheckUnchecked, Text: fmt.Sprintf("provider %q: not checked: the sign-in got no usable answer, so nothing of %s could be checked: %v", name, strings.Join(addrs, ", "), err)}
	}
	return m365.CheckLine{Status: providers.CheckMissing, Text: fmt.Sprintf("provider %q cannot sign in, so nothing of %s can be read: %v", name, strings.Join(addrs, ", "), err)}
}

// sellerGroup is the group of the first licence assignment of the configuration.
func sellerGroup(ctx context.Context, g *Globals) (string, error) {
	group, _, err := sellerLicence(ctx, g)
	return group, err
}

// sellerLicence is the group and SKU part number of the first licence assignment of the
// configuration that names a group.
func sellerLicence(ctx context.Context, g *Globals) (group, sku string, err error) {
	cfg, err := g.LoadConfig()
	if err != nil {
		return "", "", err
	}
	for _, r := range sortedResources(cfg) {
		if r.Type != "m365_license_assignment" || r.Mode != spec.ManagedResource {
			continue
		}
		v, err := g.ResourceConfig(ctx, r.Addr())
		if err != nil || v.IsNull() || !v.IsKnown() {
			continue
		}
		sku := m365.Defaults.SkuPartNumber
		if x := v.GetAttr("sku_part_number"); !x.IsNull() && x.IsKnown() && x.Type() == cty.String && x.AsString() != "" {
			sku = x.AsString()
		}
		for _, a := range []string{"group_name", "group_id", "users_from_group"} {
			if x := v.GetAttr(a); !x.IsNull() && x.IsKnown() && x.Type() == cty.String && x.AsString() != "" {
				return x.AsString(), sku, nil
			}
		}
	}
	return "", "", fmt.Errorf("no seller group: declare an m365_license_assignment with group_name, group_id or users_from_group, or pass --group")
}

func newWelcomeCmd(g *Globals) *cobra.Command {
	var group, from, tmplPath, appName, resolve string
	var send, readyOnly bool
	var perMinute int
	cmd := &cobra.Command{
		Use:   "welcome",
		Short: "Preview (or --send) the sellers' welcome message (guide step 9)",
		Long: `welcome renders the welcome message for each member of the seller group (by default the group
of the configuration's m365_license_assignment) from the built-in template or --template FILE
(first line "Subject: ...", a blank line, then HTML), and previews it. With --send it mails each
seller not mailed before through Graph sendMail from --from, at most 30 messages a minute and 4
at a time, and records whom it mailed in .c4sctl/welcome-sent.json so a rerun never mails anyone
twice. The app can take up to 48 hours to show for sellers.

--ready-only mails only the sellers ` + "`c4sctl status`" + ` finds ready (licensed, the Outlook add-in
deployed to them, a Teams setup policy that installs the app, transcription on, their Salesforce
user ready) and prints how many it skipped and why; they are not recorded, so a later run mails
them once they are ready. Ready means known to be ready: while a check cannot be made (Salesforce
or Graph cannot be read, the app availability API refuses), no seller is ready and none is mailed;
send without --ready-only to mail them anyway, deliberately. Skipping sellers is what
--ready-only asks for: the exit code is 0 (c4sctl status exits 2 while a seller is not ready).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if group == "" {
				var err error
				if group, err = sellerGroup(ctx, g); err != nil {
					return err
				}
			}
			var tmpl string
			if tmplPath != "" {
				b, err := os.ReadFile(tmplPath)
				if err != nil {
					return fmt.Errorf("--template: %w", err)
				}
				tmpl = string(b)
			}
			if from == "" && g.Sandbox {
				from = graphapi.SenderUPN
			}
			if perMinute < 1 || (perMinute > m365.MailsPerMinute && !g.Sandbox) {
				return fmt.Errorf("--per-minute must be between 1 and %d (Exchange Online's limit per mailbox); only the sandbox allows more", m365.MailsPerMinute)
			}
			if send && from == "" {
				return fmt.Errorf("--send needs --from: the mailbox (user principal name) the welcome is sent from")
			}
			var notReady map[string]string
			if readyOnly {
				// The per-seller checks of `c4sctl status`, for the configuration's seller group.
				rep, err := readiness(ctx, g)
				if err != nil {
					return err
				}
				if rep.Sellers == nil {
					return fmt.Errorf("--ready-only: the sellers could not be checked (%s); nobody was mailed", strings.Join(rep.Notes, "; "))
				}
				if !strings.EqualFold(rep.Sellers.Group, group) {
					return fmt.Errorf("--ready-only checks the configuration's seller group %s, not %s: drop --group", rep.Sellers.Group, group)
				}
				notReady = rep.Sellers.NotReady()
				// A check that could not be made holds every seller back: --ready-only means known
				// to be ready, and what was not checked is not known.
				for _, c := range rep.Sellers.Checks {
					if c.Readiness && c.Status == status.NotChecked {
						fmt.Fprintf(g.Stderr, "Warning: --ready-only: %q was not checked (%s): no seller is known to be ready, so none is mailed. Make the check possible (see why), or, if you know the sellers are ready by other means, send deliberately without --ready-only.\n", c.Title, c.Detail)
					}
				}
			}
			c, err := m365Client(ctx, g)
			if err != nil {
				return err
			}
			opts := m365.WelcomeOptions{Group: group, Sender: from, Template: tmpl, AppName: appName, Send: send,
				RecordPath: welcomeRecordPath(g), Progress: g.Stdout, PerMinute: perMinute, Resolve: resolve, NotReady: notReady}
			if send && g.stdinIsTerminal() {
				// Who and how long, then "yes": the preview reads the record too (the send reads it
				// again under its lock).
				pre := opts
				pre.Send, pre.Resolve = false, ""
				res, err := c.Welcome(ctx, pre)
				if err != nil {
					return err
				}
				if res.PendingCount == 0 {
					printWelcome(g, res, false)
					return nil
				}
				minutes := (res.PendingCount + perMinute - 1) / perMinute
				fmt.Fprintf(g.Stdout, "About to mail %d seller(s) of %s from %s, at most %d a minute: about %d minute(s).\nOnly 'yes' will be accepted to send.\n\n  Enter a value: ", res.PendingCount, res.Group, from, perMinute, minutes)
				line, _ := bufio.NewReader(g.Stdin).ReadString('\n')
				if strings.TrimSpace(line) != "yes" {
					return errors.New("welcome cancelled: nobody was mailed")
				}
			}
			res, err := c.Welcome(ctx, opts)
			if res != nil {
				printWelcome(g, res, send)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&group, "group", "", "seller group (display name or id); default: the group of the configuration's licence assignment")
	f.StringVar(&from, "from", "", "mailbox that sends the message (user principal name); needed with --send")
	f.StringVar(&tmplPath, "template", "", "template file replacing the built-in message")
	f.StringVar(&appName, "app-name", "", "app name used in the message (default: "+m365.Defaults.AppName+")")
	f.BoolVar(&send, "send", false, "send the message (default: preview only); on a terminal, asks first, showing how many and how long")
	f.StringVar(&resolve, "resolve-unknown", "", "settle the messages an earlier run may or may not have sent (lost answers): sent (found in the sender's Sent Items) or resend")
	f.BoolVar(&readyOnly, "ready-only", false, "mail only the sellers `c4sctl status` finds ready (licensed, add-in deployed, Teams app installed, transcription on, their Salesforce user ready); says how many were skipped and why")
	f.IntVar(&perMinute, "per-minute", m365.MailsPerMinute, "messages a minute (at most 30, the mailbox limit; the sandbox allows more for demos)")
	return cmd
}

// welcomeRecordPath keeps the sandbox's record apart from the real tenant's.
func welcomeRecordPath(g *Globals) string {
	if g.Sandbox {
		return filepath.Join(g.StateDir(), "sandbox", "welcome-sent.json")
	}
	return filepath.Join(g.StateDir(), "welcome-sent.json")
}

func printWelcome(g *Globals, res *m365.WelcomeResult, send bool) {
	w := g.Stdout
	fmt.Fprintf(w, "Seller group %s: %d members, %d mailed before, %d to mail.\n", res.Group, res.Recipients, len(res.AlreadySent), res.PendingCount)
	if len(res.NoMail) > 0 {
		fmt.Fprintf(w, "%d members have no mail address and are skipped.\n", len(res.NoMail))
	}
	if len(res.NotReady) > 0 {
		n := 0
		var whys []string
		for why, k := range res.NotReady {
			n += k
			whys = append(whys, why)
		}
		sort.Slice(whys, func(i, j int) bool {
			if res.NotReady[whys[i]] != res.NotReady[whys[j]] {
				return res.NotReady[whys[i]] > res.NotReady[whys[j]]
			}
			return whys[i] < whys[j]
		})
		fmt.Fprintf(w, "Skipped %d seller(s) not ready (--ready-only; a later run mails them once they are):\n", n)
		for _, why := range whys {
			fmt.Fprintf(w, "  %d: %s\n", res.NotReady[why], why)
		}
	}
	for _, a := range res.Resolved {
		fmt.Fprintf(w, "Settled (--resolve-unknown): %s\n", a)
	}
	if len(res.Unknown) > 0 {
		fmt.Fprintf(w, "%d message(s) may or may not have left (their answer was lost), and are not sent again: %s.\nLook in the sender's Sent Items, then run `%s` if they are there, or `%s` if not.\n", len(res.Unknown), strings.Join(res.Unknown, ", "), g.command("welcome", "--resolve-unknown", "sent"), g.command("welcome", "--resolve-unknown", "resend"))
	}
	if !send {
		to := res.PreviewTo
		if to == "" {
			to = "(example recipient)"
		}
		fmt.Fprintf(w, "\nPreview for %s\nSubject: %s\n\n%s\n", to, res.PreviewSubj, res.PreviewHTML)
		if res.PendingCount > 0 {
			fmt.Fprintln(w, "Run again with --send --from MAILBOX to send it.")
		}
		return
	}
	fmt.Fprintf(w, "Sent %d, failed %d.\n", len(res.Sent), len(res.Failed))
	for _, f := range res.Failed {
		fmt.Fprintf(w, "  failed: %s\n", f)
	}
	fmt.Fprintf(w, "It can take up to %d hours for the app to show for sellers in Outlook and the other Microsoft 365 apps; if it is still missing after %d hours, check the deployment and Outlook on the web's attachment handling policy.\n", m365.VisibilityHours, m365.VisibilityHours)
}

// measuresTeamsCoverage tells whether plan, drift and status compute the sellers' Teams policies
// for these resources: a teams_* resource and an m365_license_assignment (the sellers' group).
func measuresTeamsCoverage(rs []m365.PreflightResource) bool {
	teamsRes, sellers := false, false
	for _, r := range rs {
		teamsRes = teamsRes || strings.HasPrefix(r.Type, "teams_")
		sellers = sellers || r.Type == "m365_license_assignment"
	}
	return teamsRes && sellers
}
