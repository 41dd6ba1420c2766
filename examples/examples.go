// Package examples holds the example configurations. The quickstart is also compiled into c4sctl:
// `c4sctl status` in a directory without a configuration checks the tenant and the org against
// it (the deployment guide's defaults), so that its rules are written once.
package examples

import _ "embed"

// QuickstartName is the file name the built-in quickstart is loaded under (it appears in
// diagnostics).
const QuickstartName = "quickstart/main.c4s.hcl"

// Quickstart is examples/quickstart/main.c4s.hcl.
//
//go:embed quickstart/main.c4s.hcl
var Quickstart []byte
