package providers

import (
	"context"
	"errors"

	"github.com/zclconf/go-cty/cty"
)

// Exporter is implemented by clients that can list the live objects of their resource types,
// for `c4sctl export`: the exported configuration must reproduce them, so that `plan` on it
// shows no change.
type Exporter interface {
	// Export lists the live objects of the resource type typ (never a data source). A type the
	// client cannot export yet returns an error wrapping ErrExportNotImplemented; objects that
	// exist but cannot be expressed in configuration are returned with Skipped set.
	Export(ctx context.Context, typ string) ([]ExportedObject, error)
}

// ExportedObject is one live object as export writes it.
type ExportedObject struct {
	// Name is the suggested resource name (export turns it into an HCL identifier and makes it
	// unique), e.g. the display name or identity.
	Name string
	// ID is the remote identity (written in a comment, and what `c4sctl import` takes).
	ID string
	// Value holds the attributes to write: an object of the schema's type (or with a subset of
	// its attributes) where only settable attributes are non-null. Null attributes are left
	// out; computed-only and sensitive attributes are never written.
	Value cty.Value
	// Comment, when set, is written above the block (e.g. why an attribute is left out).
	Comment string
	// Skipped, when set, says why the object is not exported: export writes it as a comment
	// and reports it instead of writing a block.
	Skipped string
	// Live, when set, is the object as read, for a Value that leaves out computed attributes
	// its identity depends on (the policies a connector rule edits): export compares the
	// identities of what it writes (schema Identity) on Value and Live.
	Live cty.Value
}

// ErrExportNotImplemented is wrapped by Exporter.Export for types it cannot export yet.
var ErrExportNotImplemented = errors.New("export is not implemented yet")
