package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/c4sctl/c4sctl/pkg/apply"
	"github.com/c4sctl/c4sctl/pkg/plan"
	"github.com/c4sctl/c4sctl/pkg/report"
	"github.com/c4sctl/c4sctl/pkg/spec"
	"github.com/c4sctl/c4sctl/pkg/state"
	"github.com/c4sctl/c4sctl/pkg/state/azurerm"
	"github.com/spf13/cobra"
)

// historyRecord is one apply, as `c4sctl history` reads it. Values are the JSON plan's
// (docs/json-plan.md): sensitive attributes are never included.
type historyRecord struct {
	FormatVersion string    `json:"format_version"`
	Time          time.Time `json:"time"`
	Operation     string    `json:"operation"`
	Who           string    `json:"who"`
	Host          string    `json:"host"`
	PID           int       `json:"pid"`
	C4sctlVersion string    `json:"c4sctl_version"`
	Workspace     string    `json:"workspace"`
	Sandbox       bool      `json:"sandbox"`
	// PlanHash is the SHA-256 of the applied plan's JSON document.
	PlanHash string `json:"plan_hash"`
	// Serial is the state's serial after the apply.
	Serial  uint64 `json:"serial"`
	Outcome string `json:"outcome"` // complete, pending (manual or deferred work left), failed
	// StateError is set when the state could not be saved during the apply (outcome failed):
	// the changes listed as applied were made in the tenant but may be missing from state.
	StateError string          `json:"state_error,omitempty"`
	Changes    []historyChange `json:"changes"`
	// Manual are the manual actions the plan asked for and that are still pending.
	Manual []plan.JSONManualAction `json:"manual_actions,omitempty"`
	// Interrupted is the lock holder whose lock force-unlock removed (operation force-unlock):
	// an apply that did not reach its end (killed, crashed), so it has no record of its own.
	Interrupted *state.LockInfo `json:"interrupted,omitempty"`
	// Omitted is set when the attribute values were left out to keep the record under
	// state.MaxHistoryRecord.
	Omitted bool `json:"values_omitted,omitempty"`
}

type historyChange struct {
	Address string                `json:"address"`
	Action  string                `json:"action"`
	Result  string                `json:"result"` // applied, failed, partial, skipped, manual, deferred
	ID      string                `json:"id,omitempty"`
	Changed []plan.JSONAttrChange `json:"changed_attributes,omitempty"`
	Error   string                `json:"error,omitempty"`
}

// appendHistory records an apply next to the state, when the backend keeps a history. A
// failure is a warning: the changes are made and the state saved already.
func (s *session) appendHistory(pl *plan.Plan, res *apply.Result, stateErr error) {
	g := s.g
	hl, ok := s.backend.(state.HistoryLog)
	if !ok {
		return
	}
	if len(res.Applied)+len(res.Failed)+len(res.Partial)+len(res.Skipped)+len(res.Manual)+len(res.Deferred) == 0 {
		return // nothing was planned: not an apply worth a record
	}
	rec, err := s.historyRecord(pl, res, stateErr)
	if err == nil {
		err = hl.AppendHistory(rec)
	}
	if err != nil {
		fmt.Fprintf(g.Stderr, "Warning: the apply was not recorded in the history: %v\n", err)
	}
}

func (s *session) historyRecord(pl *plan.Plan, res *apply.Result, stateErr error) ([]byte, error) {
	g := s.g
	doc, err := plan.ToJSON(pl, plan.JSONOptions{C4sctlVersion: Version})
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(raw)
	info := state.NewLockInfo("apply", Version)
	ws, _ := g.CurrentWorkspace()
	rec := historyRecord{FormatVersion: "1", Time: time.Now().UTC().Truncate(time.Second), Operation: "apply", Who: info.Who, Host: info.Host, PID: os.Getpid(),
		C4sctlVersion: Version, Workspace: ws, Sandbox: g.Sandbox, PlanHash: "sha256:" + hex.EncodeToString(sum[:]), Serial: s.state.Serial}
	result := map[string]string{}
	for name, addrs := range map[string][]string{"applied": res.Applied, "failed": res.Failed, "partial": res.Partial, "skipped": res.Skipped, "manual": res.Manual, "deferred": res.Deferred} {
		for _, a := range addrs {
			result[a] = name
		}
	}
	for _, rc := range doc.ResourceChanges {
		r, ok := result[rc.Address]
		if !ok {
			continue // no-ops and data sources
		}
		hc := historyChange{Address: rc.Address, Action: rc.Action, Result: r, ID: rc.ID, Changed: rc.Changed}
		if e := res.Errors[rc.Address]; e != nil {
			// Provider texts quote the configuration they were given (as apply's own output,
			// redacted the same way): the record is kept next to the state, in the container.
			hc.Error = e.Error()
			if g.eval != nil {
				hc.Error = spec.Redact(hc.Error, g.eval.SensitiveStrings())
			}
		}
		rec.Changes = append(rec.Changes, hc)
	}
	pending := map[string]bool{}
	for _, a := range res.Manual {
		pending[a] = true
	}
	for _, m := range doc.ManualActions {
		if pending[m.Address] {
			rec.Manual = append(rec.Manual, m)
		}
	}
	switch {
	case stateErr != nil:
		rec.Outcome = "failed"
		rec.StateError = stateErr.Error()
		if g.eval != nil {
			rec.StateError = spec.Redact(rec.StateError, g.eval.SensitiveStrings())
		}
	case !res.OK():
		rec.Outcome = "failed"
	case !res.Complete():
		rec.Outcome = "pending"
	default:
		rec.Outcome = "complete"
	}
	b, err := json.Marshal(rec)
	if err == nil && len(b) > state.MaxHistoryRecord {
		for i := range rec.Changes {
			rec.Changes[i].Changed = nil
		}
		rec.Omitted = true
		b, err = json.Marshal(rec)
	}
	return b, err
}

func newHistoryCmd(g *Globals) *cobra.Command {
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "history [ADDR]",
		Short: "List the applies recorded next to the state (who, when, plan hash, each change); with ADDR, those that changed it",
		Long: `Every apply appends a record next to the state of its workspace (locally
.c4sctl/state.json.history.jsonl, with the azurerm backend the append blob KEY.history.jsonl): who
ran it, where, when, the SHA-256 of the plan, the state serial after it, and each change with its
result and the attributes it changed (before and after; sensitive values are never recorded).
--json prints the records as JSON lines.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := g.Backend()
			if err != nil {
				return err
			}
			hl, ok := b.(state.HistoryLog)
			if !ok {
				return fmt.Errorf("the backend %s keeps no history", b)
			}
			recs, err := hl.ReadHistory()
			if err != nil {
				return err
			}
			shown := 0
			for i, raw := range recs {
				var rec historyRecord
				if err := json.Unmarshal(raw, &rec); err != nil {
					fmt.Fprintf(g.Stderr, "Warning: history record %d is not valid JSON; skipped\n", i+1)
					continue
				}
				changes := rec.Changes
				if len(args) == 1 {
					changes = slices.DeleteFunc(slices.Clone(changes), func(c historyChange) bool { return c.Address != args[0] })
					if len(changes) == 0 {
						continue
					}
				}
				shown++
				if jsonOut {
					fmt.Fprintln(g.Stdout, string(raw))
					continue
				}
				writeHistoryRecord(g, rec, changes, len(args) == 1)
			}
			if shown == 0 && !jsonOut {
				if len(args) == 1 {
					fmt.Fprintf(g.Stdout, "No recorded apply changed %s.\n", args[0])
				} else {
					fmt.Fprintln(g.Stdout, "No applies recorded yet.")
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print the records as JSON lines")
	return cmd
}

// lockHolder is the run holding b's lock now, when the backend can tell (nil otherwise).
func lockHolder(b state.Backend) *state.LockInfo {
	switch l := b.(type) {
	case *state.Local:
		if h, err := l.ReadLock(); err == nil {
			return h
		}
	case *azurerm.Blob:
		if h, leased, _, err := l.ReadLock(); err == nil && leased {
			return h
		}
	}
	return nil
}

// recordForceUnlock adds to the history that an apply's lock was removed: that apply never
// reached its end (it was killed, or crashed), so it wrote no record, while the changes it made
// before are in the tenant and in state. A failure is a warning: the lock is removed.
func recordForceUnlock(g *Globals, b state.Backend, holder *state.LockInfo) {
	hl, ok := b.(state.HistoryLog)
	if !ok || holder == nil || holder.Operation != "apply" {
		return
	}
	me := state.NewLockInfo("force-unlock", Version)
	ws, _ := g.CurrentWorkspace()
	rec := historyRecord{FormatVersion: "1", Time: time.Now().UTC().Truncate(time.Second), Operation: "force-unlock", Who: me.Who, Host: me.Host, PID: os.Getpid(),
		C4sctlVersion: Version, Workspace: ws, Outcome: "interrupted", Changes: []historyChange{}, Interrupted: holder}
	raw, err := json.Marshal(rec)
	if err == nil {
		err = hl.AppendHistory(raw)
	}
	if err != nil {
		fmt.Fprintf(g.Stderr, "Warning: the removal of the lock was not recorded in the history: %v\n", err)
	}
}

func writeHistoryRecord(g *Globals, rec historyRecord, changes []historyChange, values bool) {
	if h := rec.Interrupted; h != nil {
		fmt.Fprintf(g.Stdout, "%s  %s by %s, workspace %s: removed the lock of the %s by %s on %s (pid %d) started %s, which never finished: any change it made before it stopped is in the tenant and in state\n",
			rec.Time.Format(time.RFC3339), rec.Operation, rec.Who, rec.Workspace, h.Operation, h.Who, h.Host, h.PID, h.Created.UTC().Format(time.RFC3339))
		return
	}
	where := ""
	if rec.Sandbox {
		where = " (sandbox)"
	}
	fmt.Fprintf(g.Stdout, "%s  %s by %s%s, workspace %s, serial %d: %s, %d change(s), plan %s\n",
		rec.Time.Format(time.RFC3339), rec.Operation, rec.Who, where, rec.Workspace, rec.Serial, rec.Outcome, len(rec.Changes), shortHash(rec.PlanHash))
	if rec.StateError != "" {
		fmt.Fprintf(g.Stdout, "  the state could not be saved (%s): changes marked applied were made but may be missing from state\n", rec.StateError)
	}
	for _, c := range changes {
		line := fmt.Sprintf("  %-8s %s: %s", c.Action, c.Address, c.Result)
		if c.ID != "" {
			line += " [id=" + c.ID + "]"
		}
		if c.Error != "" {
			line += " — " + c.Error
		}
		fmt.Fprintln(g.Stdout, line)
		if !values {
			continue
		}
		for _, a := range c.Changed {
			switch {
			case a.Sensitive:
				fmt.Fprintf(g.Stdout, "      %s: (sensitive)\n", a.Name)
			default:
				fmt.Fprintf(g.Stdout, "      %s: %s -> %s\n", a.Name, orNull(a.Before), orNull(a.After))
			}
		}
	}
	for _, m := range rec.Manual {
		fmt.Fprintf(g.Stdout, "  manual   %s: %s (pending)\n", m.Address, m.Summary)
	}
}

func orNull(b json.RawMessage) string {
	if len(b) == 0 {
		return "null"
	}
	return strings.TrimSpace(string(b))
}

func shortHash(h string) string {
	if len(h) > len("sha256:")+12 {
		return h[:len("sha256:")+12]
	}
	return h
}

// addHistory adds the workspace's apply history to a drift report: when the last apply was and
// who ran it, and for each failing resource what the newest recorded apply that changed it set
// (issue 15: drift says when the last apply was and what it set). A history that cannot be read
// is a warning: the drift check itself stands.
func addHistory(g *Globals, b state.Backend, rep *report.Report) {
	hl, ok := b.(state.HistoryLog)
	if !ok {
		return
	}
	raws, err := hl.ReadHistory()
	if err != nil {
		fmt.Fprintf(g.Stderr, "Warning: the apply history could not be read: %v\n", err)
		return
	}
	rep.History = true
	var recs []historyRecord
	for _, raw := range raws {
		var rec historyRecord
		if json.Unmarshal(raw, &rec) == nil && rec.Operation == "apply" {
			recs = append(recs, rec)
		}
	}
	if len(recs) == 0 {
		return
	}
	of := func(rec historyRecord) report.LastApply {
		return report.LastApply{Time: rec.Time, Who: rec.Who, Host: rec.Host, Outcome: rec.Outcome, PlanHash: rec.PlanHash}
	}
	last := of(recs[len(recs)-1])
	rep.LastApply = &last
	for i := range rep.Resources {
		res := &rep.Resources[i]
		if !res.Failing() {
			continue
		}
		res.LastApplied = lastAppliedChange(recs, res.Address, of)
	}
}

// lastAppliedChange finds the newest record that changed addr (applied, or partly).
func lastAppliedChange(recs []historyRecord, addr string, of func(historyRecord) report.LastApply) *report.AppliedChange {
	for j := len(recs) - 1; j >= 0; j-- {
		for _, c := range recs[j].Changes {
			if c.Address != addr || (c.Result != "applied" && c.Result != "partial") {
				continue
			}
			ac := &report.AppliedChange{LastApply: of(recs[j]), Action: c.Action, Result: c.Result, ValuesOmitted: recs[j].Omitted, Attributes: []report.AppliedAttribute{}}
			for _, a := range c.Changed {
				at := report.AppliedAttribute{Attribute: a.Name, Before: orNull(a.Before), After: orNull(a.After)}
				switch {
				case a.Sensitive:
					at.Before, at.After = "(sensitive value)", "(sensitive value)"
				case a.AfterUnknown:
					at.After = "(known after apply)"
				}
				ac.Attributes = append(ac.Attributes, at)
			}
			return ac
		}
	}
	return nil
}
