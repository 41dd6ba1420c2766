package providers

import (
	"context"
	"fmt"
)

// Handler serves one resource type of a provider.
type Handler struct {
	Read func(context.Context, ReadRequest) (ReadResponse, error)
	// Apply is nil for data sources and read-only types.
	Apply func(context.Context, ApplyRequest) (ApplyResponse, error)
	// Plan is nil where the engine's proposed change needs no refinement.
	Plan func(context.Context, PlanRequest) (PlanResponse, error)
}

// Dispatch is a Client and ChangePlanner that routes each call to its resource type's Handler.
// Adapters embed it, so that adding a type is one map entry rather than three switch cases.
type Dispatch struct {
	Provider string
	Handlers map[string]Handler
}

// Read implements Client. An orphan (Config null, Prior set) reaches the type's Read with its
// prior value as the configuration (ReadRequest.Locator): every type then finds the object its
// address held the way it found it while the block existed (its environment, its Salesforce org,
// its declared map keys and set members), rather than by defaults that may name another object
// or none (two Salesforce orgs' settings in one msdyn_viva: "set salesforce_org_id").
func (d Dispatch) Read(ctx context.Context, req ReadRequest) (ReadResponse, error) {
	h, ok := d.Handlers[req.Type]
	if !ok || h.Read == nil {
		return ReadResponse{}, fmt.Errorf("the %s provider has no resource type %q", d.Provider, req.Type)
	}
	req.Config = req.Locator()
	return h.Read(ctx, req)
}

// Apply implements Client.
func (d Dispatch) Apply(ctx context.Context, req ApplyRequest) (ApplyResponse, error) {
	h, ok := d.Handlers[req.Type]
	if !ok || h.Apply == nil {
		return ApplyResponse{}, fmt.Errorf("the %s provider cannot change %q objects", d.Provider, req.Type)
	}
	return h.Apply(ctx, req)
}

// PlanChange implements ChangePlanner; types without a Plan keep the engine's proposal.
func (d Dispatch) PlanChange(ctx context.Context, req PlanRequest) (PlanResponse, error) {
	if h, ok := d.Handlers[req.Type]; ok && h.Plan != nil {
		return h.Plan(ctx, req)
	}
	return PlanResponse{}, nil
}
