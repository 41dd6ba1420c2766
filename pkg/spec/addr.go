package spec

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// ParseAddr parses a resource address given on the command line: "TYPE.NAME" or
// "data.TYPE.NAME".
func ParseAddr(s string) (mode Mode, typ, name string, err error) {
	parts := strings.Split(s, ".")
	mode = ManagedResource
	if len(parts) == 3 && parts[0] == "data" {
		mode, parts = DataResource, parts[1:]
	}
	if len(parts) != 2 || !hclsyntax.ValidIdentifier(parts[0]) || !hclsyntax.ValidIdentifier(parts[1]) || parts[0] == "data" {
		return 0, "", "", fmt.Errorf("invalid resource address %q: expected TYPE.NAME or data.TYPE.NAME", s)
	}
	return mode, parts[0], parts[1], nil
}
