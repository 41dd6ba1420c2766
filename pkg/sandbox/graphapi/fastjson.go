package graphapi

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"unicode/utf8"
)

// writePage writes a collection page as encoding/json would write the map {"@odata.context",
// "@odata.nextLink" (when next is not empty), "value"}, without its reflection: pages of 999
// users are the sandbox's hottest answers. Like Graph, it sends the head, next page link
// included, before the items, and it streams the items as it encodes them, so that a client can
// ask for the next page while this one is still arriving.
func writePage(w http.ResponseWriter, context, next string, n int, item func(i int) map[string]any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	b := make([]byte, 0, 32<<10)
	b = append(b, `{"@odata.context":`...)
	b = appendString(b, context)
	if next != "" {
		b = append(b, `,"@odata.nextLink":`...)
		b = appendString(b, next)
	}
	b = append(b, `,"value":[`...)
	flush := func() {
		_, _ = w.Write(b)
		// Through any middleware that wraps w (Unwrap).
		_ = http.NewResponseController(w).Flush()
		b = b[:0]
	}
	flush()
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSON(b, item(i))
		if len(b) >= 16<<10 {
			_, _ = w.Write(b)
			b = b[:0]
		}
	}
	b = append(b, "]}\n"...)
	_, _ = w.Write(b)
}

// appendJSON appends v's JSON encoding; types it does not know go through encoding/json.
func appendJSON(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendString(b, x)
	case bool:
		return strconv.AppendBool(b, x)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendJSON(b, x[k])
		}
		return append(b, '}')
	case []map[string]any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, e)
		}
		return append(b, ']')
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, e)
		}
		return append(b, ']')
	case []string:
		if x == nil {
			return append(b, "null"...)
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, e)
		}
		return append(b, ']')
	}
	j, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, j...)
}

// appendString quotes s as encoding/json does (HTML characters escaped, invalid UTF-8 replaced).
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
