package teams

import (
	"strings"
	"testing"
)

// A plan that pins an app between others shows the whole order apply leaves (the others are
// renumbered), naming the built-in apps; one that moves no undeclared app adds nothing.
func TestPinOrderNoteShowsTheWholeResultingOrder(t *testing.T) {
	const copilot = "b1b0c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d"
	live := []pin{{"14d6962d-6eeb-4f48-8890-de55454bb136", 1}, {"86fcd49b-61a2-4701-b771-54728cd291fb", 2}, {"2a84919f-59d8-4441-a975-2a8c2643b741", 3}}
	declared := []pin{{copilot, 2}}
	merged, err := mergePins(live, declared)
	if err != nil {
		t.Fatal(err)
	}
	want := "1. 14d6962d-6eeb-4f48-8890-de55454bb136 (Activity), 2. " + copilot + ", 3. 86fcd49b-61a2-4701-b771-54728cd291fb (Chat), 4. 2a84919f-59d8-4441-a975-2a8c2643b741 (Teams)"
	if n := pinOrderNote(live, merged, declared); !strings.HasSuffix(n, want) || !strings.Contains(n, "renumbers") {
		t.Errorf("note %q, want it to end %q", n, want)
	}

	// Pinned last: nobody else moves.
	declared = []pin{{copilot, 4}}
	merged, err = mergePins(live, declared)
	if err != nil {
		t.Fatal(err)
	}
	if n := pinOrderNote(live, merged, declared); n != "" {
		t.Errorf("no app moves, note %q", n)
	}
}
