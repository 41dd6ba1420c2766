package plan

import (
	"sort"

	"github.com/c4sctl/c4sctl/pkg/spec"
)

// Excluded lists, sorted, the configured resources --exclude leaves out of a plan: the excluded
// addresses themselves and every resource that depends on one of them, directly or not (it
// could not be planned without them). Addresses not in the configuration (resources only in
// state) are returned as given.
func Excluded(cfg *spec.Config, excludes []string) []string {
	if len(excludes) == 0 {
		return nil
	}
	out := map[string]bool{}
	for _, e := range excludes {
		out[e] = true
	}
	if cfg != nil {
		// Repeat until nothing more is added: a dependent of a dependent is excluded too.
		for changed := true; changed; {
			changed = false
			for addr := range cfg.Resources {
				if out[addr] {
					continue
				}
				for _, d := range cfg.Dependencies(addr) {
					if out[d] {
						out[addr] = true
						changed = true
						break
					}
				}
			}
		}
	}
	list := make([]string, 0, len(out))
	for a := range out {
		list = append(list, a)
	}
	sort.Strings(list)
	return list
}
