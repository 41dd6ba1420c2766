package spec

import (
	"strings"
	"testing"
)

func TestCheckNesting(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("(", n) + "1" + strings.Repeat(")", n) }
	cases := []struct {
		name, src string
		line      int // 0: accepted
	}{
		{"shallow", "a = " + deep(MaxNesting) + "\n", 0},
		{"one too deep", "a = 1\nb = " + deep(MaxNesting+1) + "\n", 2},
		{"100,000 parentheses", "\n\nx = " + deep(100000) + "\n", 3},
		{"brackets and braces", "x = " + strings.Repeat("[{a=", MaxNesting) + "1" + strings.Repeat("}]", MaxNesting) + "\n", 1},
		{"inside interpolations", "x = \"" + strings.Repeat("${\"", MaxNesting+1) + "\"\n", 1},
		{"parentheses in a string do not count", "x = \"" + strings.Repeat("(", 5000) + "\"\ny = 1\n", 0},
		{"in a comment", "# " + strings.Repeat("(", 5000) + "\n/* " + strings.Repeat("[", 5000) + " */\nx = 1\n", 0},
		{"in a heredoc", "x = <<EOT\n" + strings.Repeat("{", 5000) + "\nEOT\ny = [1]\n", 0},
		{"escaped interpolation", "x = \"" + strings.Repeat("$${", 5000) + "\"\n", 0},
	}
	for _, tc := range cases {
		d := CheckNesting([]byte(tc.src), "f.c4s.hcl")
		switch {
		case tc.line == 0 && d.HasErrors():
			t.Errorf("%s: refused: %v", tc.name, d)
		case tc.line != 0 && !d.HasErrors():
			t.Errorf("%s: accepted", tc.name)
		case tc.line != 0 && (d[0].Subject == nil || d[0].Subject.Start.Line != tc.line || d[0].Subject.Filename != "f.c4s.hcl"):
			t.Errorf("%s: at %v, want line %d", tc.name, d[0].Subject, tc.line)
		}
	}
}

// The whole loader refuses a hostile file with file:line instead of crashing the process.
func TestLoadRefusesDeepNesting(t *testing.T) {
	src := "locals {\n  x = " + strings.Repeat("(", 100000) + "1" + strings.Repeat(")", 100000) + "\n}\n"
	_, diags := LoadFiles(".", map[string][]byte{"main.c4s.hcl": []byte(src)}, nil)
	if !diags.HasErrors() || diags[0].Subject == nil || diags[0].Subject.Start.Line != 2 || !strings.Contains(diags[0].Summary, "Nesting too deep") {
		t.Fatalf("diags = %v", diags)
	}
	var sb strings.Builder
	if err := WriteDiagnostics(&sb, diags, map[string][]byte{"main.c4s.hcl": []byte(src)}, 100, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sb.String(), "main.c4s.hcl line 2") {
		t.Errorf("rendered without file:line:\n%.300s", sb.String())
	}
	// The 200,000-character line is not printed as a snippet.
	if sb.Len() > 2000 {
		t.Errorf("the diagnostic is %d bytes long:\n%.300s", sb.Len(), sb.String())
	}
}
