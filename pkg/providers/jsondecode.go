package providers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// DecodeJSON unmarshals an API answer into out. Its errors describe the answer in JSON terms
// ("field PolicyName is a number where a string was expected") and never name a Go type, so
// that what a user reads is about the service's answer, not about c4sctl's insides.
func DecodeJSON(raw []byte, out any) error {
	err := json.Unmarshal(raw, out)
	if err == nil {
		return nil
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return &ShapeError{"the answer is empty where JSON was expected"}
	}
	return DescribeJSONError(err)
}

// DescribeJSONError rewrites an encoding/json error (from Unmarshal or a Decoder) in JSON terms,
// without Go types; other errors (a broken connection) are returned as they are.
func DescribeJSONError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te):
		where := "the answer"
		if te.Field != "" {
			where = "field " + te.Field
		}
		return &ShapeError{fmt.Sprintf("%s is %s where %s was expected", where, article(te.Value), jsonKind(te.Type))}
	case errors.As(err, &se):
		return &ShapeError{fmt.Sprintf("the answer is not valid JSON (at byte %d)", se.Offset)}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &ShapeError{"the answer ends before its JSON does"}
	case strings.HasPrefix(err.Error(), "json: "):
		return &ShapeError{"the answer is not the JSON that was expected"}
	}
	return err
}

// ShapeError is an answer c4sctl cannot read: not JSON, or JSON of another shape than the one
// documented. It says nothing about what the identity may do (preflight: Inconclusive).
type ShapeError struct{ msg string }

func (e *ShapeError) Error() string { return e.msg }

// article turns encoding/json's value kinds ("array", "number 1.5", "string") into words.
func article(v string) string {
	switch {
	case v == "array", v == "object":
		return "an " + v
	case v == "":
		return "a value"
	}
	return "a " + v
}

// jsonKind is the JSON kind a Go type decodes from.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "another value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "another value"
}
