// Package providers is the boundary between the engine and the clouds. The engine (plan, apply)
// only knows these interfaces; each adapter family lives in its own sub-package and is the only
// place that imports its cloud client.
package providers

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/zclconf/go-cty/cty"
)

// Provider is an adapter family (teams, microsoft365, salesforce, powerplatform), configured by
// the `provider "NAME"` block of the same name.
type Provider interface {
	// Name is the provider block label, e.g. "teams".
	Name() string
	// ConfigSchema describes the provider block.
	ConfigSchema() *schema.Block
	// Resources lists the resource types and data sources it serves.
	Resources() []*schema.Resource
	// SandboxConfig returns provider-block values that point this provider at the c4sctl sandbox
	// served at baseURL (endpoints and the sandbox's test credentials). They override the
	// configuration's values when c4sctl runs with --sandbox.
	SandboxConfig(baseURL string) map[string]cty.Value
	// Configure validates the provider block's value (an object of ConfigSchema's type, absent
	// attributes null) and returns a client. It must not print or keep secrets anywhere but in memory.
	Configure(ctx context.Context, config cty.Value, env *Env) (Client, error)
}

// Env is what the engine hands every provider.
type Env struct {
	// HTTPClient is the one HTTP layer every adapter must use (retries, throttling, redacted
	// request logging, trust of the sandbox's CA). Never nil.
	HTTPClient *http.Client
	// Getenv reads the process environment (replaced in tests).
	Getenv func(string) string
	// Log receives debug records; it must never be given a secret.
	Log *slog.Logger
}

// Client is a configured provider.
type Client interface {
	// Read returns the live object. A missing object is not an error: ID "" and a null Value.
	Read(ctx context.Context, req ReadRequest) (ReadResponse, error)
	// Apply makes one planned change (Create, Update or Delete) and returns the object's identity.
	// The engine re-reads the object afterwards to check that the change stuck.
	Apply(ctx context.Context, req ApplyRequest) (ApplyResponse, error)
}

// ChangePlanner is implemented by clients that refine the engine's proposed change for some
// resource types: turn it into a manual action where no API can make it, add warnings or notes.
type ChangePlanner interface {
	PlanChange(ctx context.Context, req PlanRequest) (PlanResponse, error)
}

// Action is what a planned change does.
type Action string

const (
	NoOp     Action = "no-op"
	Create   Action = "create"
	Update   Action = "update"
	Delete   Action = "delete"
	Manual   Action = "manual"   // no API can make it: the admin does it by hand, following Steps
	Forget   Action = "forget"   // stop managing (removed from configuration, but cannot be deleted)
	Read     Action = "read"     // data sources
	Deferred Action = "deferred" // cannot be planned yet (a prerequisite does not exist); see Reason
)

// ReadRequest asks for one object's live state.
type ReadRequest struct {
	Type string
	// ID is the remote identity recorded in state; "" when the object is not in state yet, in
	// which case the provider locates it from Config (by name, identity, ...).
	ID string
	// Config is the resource's configuration as an object of the schema's type: absent
	// attributes are null, and values that depend on unapplied changes are unknown. Null when
	// the resource was removed from configuration and is only in state (an orphan).
	Config cty.Value
	// Prior is what state recorded about the object after the last apply (an object of the
	// schema's type, sensitive attributes null); cty.NilVal or null when state does not hold it.
	// An orphan is read from it, as Terraform reads a resource whose block is gone with its
	// prior state and a null configuration: it says which object the address held (the
	// environment, the Salesforce org, the declared keys) where the configuration no longer
	// can. Dispatch hands it to the type's Read in place of the null Config (see Dispatch.Read).
	Prior cty.Value
}

// Locator is the value an object is located by: the configuration, or for an orphan (Config
// null) the prior value state recorded. Both are objects of the schema's type; the result is
// null when neither is known (export, import by id).
func (r ReadRequest) Locator() cty.Value {
	if r.Config != cty.NilVal && !r.Config.IsNull() {
		return r.Config
	}
	if r.Prior != cty.NilVal && !r.Prior.IsNull() && r.Prior.IsWhollyKnown() {
		return r.Prior
	}
	return r.Config
}

// ReadResponse is one object's live state.
type ReadResponse struct {
	// ID is the remote identity; "" when the object does not exist.
	ID string
	// Value is the live object (the schema's type, every attribute set where the API tells it);
	// cty.NullVal(type) when the object does not exist.
	Value cty.Value
	// Deferred, when non-empty, says why the object cannot be read or planned yet (for example
	// "environment msdyn_viva does not exist yet: it is created by the first seller's sign-in").
	Deferred string
	// Warnings are shown with the plan (e.g. "nobody can use the app").
	Warnings []string
	// Labels name ids the read learned on its way, at no request of their own (object id ->
	// display name: the group a licence assignment reads, the profiles a connected app's access
	// is resolved through). The plan shows each name beside its id wherever the id appears.
	Labels map[string]string
	// Unnamed are ids the plan shows whose names the read does not know, by kind (KindEntraGroup:
	// a Teams policy's group assignments): the plan asks a Namer for them, in one batched lookup
	// for the whole plan.
	Unnamed map[string][]string
}

// KindEntraGroup is the kind of Microsoft Entra group object ids (ReadResponse.Unnamed, Namer).
const KindEntraGroup = "entra_group"

// Namer is a client that can name objects of some kinds by id, for the plan's labels (names
// beside ids). Names makes as few requests as it can for all ids at once (the microsoft365
// client: Graph $batch, 20 ids a request); they count among the plan's requests like any other.
// It returns the names it found (ids it cannot name are left out) and nil for a kind it does not
// know.
type Namer interface {
	Names(ctx context.Context, kind string, ids []string) (map[string]string, error)
}

// PlanRequest carries the engine's proposed change for a provider to refine.
type PlanRequest struct {
	Type    string
	ID      string
	Action  Action    // proposed by the engine's diff
	Config  cty.Value // configuration
	Prior   cty.Value // live value (null when absent)
	Planned cty.Value // the value the object will have after the change (null for delete)
}

// PlanResponse refines a proposed change. Zero value: keep the engine's proposal.
type PlanResponse struct {
	// Action replaces the proposed action when non-empty (e.g. Manual).
	Action Action
	// Manual describes what the admin must do by hand when Action is Manual.
	Manual *ManualAction
	// Warnings and Notes are shown under the change in the plan and after apply.
	Warnings []string
	Notes    []string
}

// ManualAction is a change no API can make, with the admin-centre steps to make it by hand.
type ManualAction struct {
	Summary string
	Steps   []string
	// Sandbox, when set, is the `c4sctl sandbox` subcommand (its arguments after "sandbox", e.g.
	// ["salesforce", "install-app"]) that does in the built-in sandbox what Steps do by hand. The
	// CLI shows it only on --sandbox runs, as a command with that run's flags; a real tenant's
	// steps never mention the sandbox.
	Sandbox []string
}

// ApplyRequest is one change to make.
type ApplyRequest struct {
	Type    string
	Action  Action // Create, Update or Delete
	ID      string
	Prior   cty.Value // live value read at plan time (null for Create)
	Planned cty.Value // desired value (null for Delete)
}

// ApplyResponse reports the object's identity after the change.
type ApplyResponse struct {
	ID    string
	Notes []string // shown after apply, e.g. "visibility can take up to 24 hours"
}
