package spec

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

// MaxNesting is how deeply brackets, braces, parentheses and template interpolations may nest in
// a configuration file, a variables file or a value given on the command line. The HCL parser
// recurses once per level, so a hostile file (100,000 nested parentheses) would exhaust the
// stack and crash the process; configurations nest a few levels deep.
const MaxNesting = 200

// CheckNesting scans src without parsing it and returns an error diagnostic at the first
// opening that goes deeper than MaxNesting. It follows HCL's lexical structure closely enough
// for that purpose: comments (#, //, /* */) and the text of quoted strings and heredocs do not
// count, their ${ } and %{ } interpolations do. Unbalanced input is left to the parser.
func CheckNesting(src []byte, filename string) hcl.Diagnostics {
	const (
		code = iota
		str
		heredoc
	)
	type frame struct {
		kind   int
		marker string // heredoc end marker
	}
	stack := []frame{{kind: code}}
	depth := 0 // openings in the stack (code frames above the file's own)
	line, col := 1, 1
	advance := func(b byte) {
		if b == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	tooDeep := func(i int) hcl.Diagnostics {
		pos := hcl.Pos{Line: line, Column: col, Byte: i}
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Nesting too deep",
			Detail:  fmt.Sprintf("This expression nests brackets, parentheses or interpolations more than %d levels deep; c4sctl refuses it before parsing. Split it up, for example with locals.", MaxNesting),
			Subject: &hcl.Range{Filename: filename, Start: pos, End: hcl.Pos{Line: line, Column: col + 1, Byte: i + 1}}}}
	}
	atLineStart := true
	for i := 0; i < len(src); i++ {
		b := src[i]
		top := &stack[len(stack)-1]
		switch top.kind {
		case str, heredoc:
			if top.kind == heredoc && atLineStart {
				// The end marker: a line holding only it (after optional indentation).
				j := i
				for j < len(src) && (src[j] == ' ' || src[j] == '\t') {
					j++
				}
				m := top.marker
				if len(src)-j >= len(m) && string(src[j:j+len(m)]) == m && (j+len(m) == len(src) || src[j+len(m)] == '\n' || src[j+len(m)] == '\r') {
					stack = stack[:len(stack)-1]
					for ; i < j+len(m)-1; i++ {
						advance(src[i])
					}
					advance(src[i])
					atLineStart = false
					continue
				}
			}
			atLineStart = false
			switch {
			case b == '\\' && top.kind == str && i+1 < len(src):
				advance(b)
				i++
				b = src[i]
			case b == '"' && top.kind == str:
				stack = stack[:len(stack)-1]
			case (b == '$' || b == '%') && i+1 < len(src) && src[i+1] == '{':
				if i > 0 && src[i-1] == b { // $${ and %%{ are escapes
					break
				}
				depth++
				if depth > MaxNesting {
					return tooDeep(i)
				}
				stack = append(stack, frame{kind: code})
				advance(b)
				i++
				b = src[i]
			case b == '\n':
				atLineStart = true
			}
		default: // code
			atLineStart = false
			switch b {
			case '#':
				for i < len(src) && src[i] != '\n' {
					advance(src[i])
					i++
				}
				if i < len(src) {
					atLineStart = true
				}
			case '/':
				if i+1 < len(src) && src[i+1] == '/' {
					for i < len(src) && src[i] != '\n' {
						advance(src[i])
						i++
					}
				} else if i+1 < len(src) && src[i+1] == '*' {
					advance(b)
					i++
					for i+1 < len(src) && !(src[i] == '*' && src[i+1] == '/') {
						advance(src[i])
						i++
					}
					if i+1 < len(src) {
						advance(src[i])
						i++
					}
				}
			case '"':
				stack = append(stack, frame{kind: str})
			case '<':
				if i+2 < len(src) && src[i+1] == '<' {
					j := i + 2
					if j < len(src) && src[j] == '-' {
						j++
					}
					k := j
					for k < len(src) && (src[k] == '_' || src[k] == '-' || src[k] >= 'A' && src[k] <= 'Z' || src[k] >= 'a' && src[k] <= 'z' || src[k] >= '0' && src[k] <= '9') {
						k++
					}
					if k > j && k < len(src) && (src[k] == '\n' || src[k] == '\r') {
						stack = append(stack, frame{kind: heredoc, marker: string(src[j:k])})
						for ; i < k; i++ {
							advance(src[i])
						}
						if src[i] == '\r' && i+1 < len(src) {
							advance(src[i])
							i++
						}
						advance(src[i])
						atLineStart = true
						continue
					}
				}
			case '(', '[', '{':
				depth++
				if depth > MaxNesting {
					return tooDeep(i)
				}
				stack = append(stack, frame{kind: code})
			case ')', ']', '}':
				if len(stack) > 1 {
					stack = stack[:len(stack)-1]
					depth--
				}
			case '\n':
				atLineStart = true
			}
		}
		if i < len(src) {
			advance(src[i])
		}
	}
	return nil
}
