package attrs

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

func TestReaders(t *testing.T) {
	obj := cty.ObjectVal(map[string]cty.Value{
		"s":       cty.StringVal("x"),
		"null":    cty.NullVal(cty.String),
		"unknown": cty.UnknownVal(cty.String),
		"b":       cty.False,
		"set":     cty.SetVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")}),
		"empty":   cty.SetValEmpty(cty.String),
	})
	if String(obj, "s") != "x" || String(obj, "null") != "" || String(obj, "unknown") != "" || String(obj, "missing") != "" || String(cty.NullVal(obj.Type()), "s") != "" {
		t.Error("String")
	}
	if v, set := Bool(obj, "b"); v || !set {
		t.Error("Bool of false should be set")
	}
	if _, set := Bool(obj, "null"); set {
		t.Error("Bool of a null should not be set")
	}
	if xs, set := Strings(obj, "set"); !set || strings.Join(xs, ",") != "a,b" {
		t.Errorf("Strings = %v %v", xs, set)
	}
	if xs, set := Strings(obj, "empty"); !set || xs == nil || len(xs) != 0 {
		t.Errorf("an empty set is set: %v %v", xs, set)
	}
	if _, set := Strings(obj, "unknown"); set {
		t.Error("an unknown collection is not set")
	}
	if !StringOrNull("").IsNull() || StringSet(nil).LengthInt() != 0 {
		t.Error("builders")
	}
}

func TestHTTPSURL(t *testing.T) {
	check := HTTPSURL("https://graph.microsoft.com")
	for in, ok := range map[string]bool{
		"https://graph.microsoft.com":     true,
		"https://127.0.0.1:8443/graph":    true,
		"http://graph.microsoft.com":      false,
		"https://":                        false,
		"https://x.example/?token=secret": false,
		"graph.microsoft.com":             false,
	} {
		if err := check(cty.StringVal(in)); (err == nil) != ok {
			t.Errorf("%q: %v", in, err)
		}
	}
}

// Key content pasted in a path setting is refused without echoing it: PEM, and also base64 (a
// CI secret often holds the key base64-encoded, on one line) of a PEM or of a DER key, whose
// open error ("open MIIEv...: file name too long") would print the whole key.
func TestPathNotContentRefusesKeyContent(t *testing.T) {
	pem := "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgHJmpV8J15akaKjps\n-----END PRIVATE KEY-----\n"
	der := "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgHJmpV8J15akaKjps57QKU4Qy6BBUWf5ENTueeoMKPfahRANCAASd2vyzD1085WiICu/kI/wIm"
	for name, v := range map[string]string{
		"PEM":                pem,
		"base64 of the PEM":  base64.StdEncoding.EncodeToString([]byte(pem)),
		"base64url, no pad":  base64.RawURLEncoding.EncodeToString([]byte(pem)),
		"DER key as base64":  der,
		"a name too long":    "/keys/" + strings.Repeat("k", 300) + ".pem",
		"base64 with spaces": "  " + base64.StdEncoding.EncodeToString([]byte(pem)) + " ",
	} {
		err := PathNotContent("private_key_file", v, "use SF_PRIVATE_KEY")
		if err == nil {
			t.Errorf("%s: accepted as a path", name)
			continue
		}
		if strings.Contains(err.Error(), strings.TrimSpace(v)[:20]) {
			t.Errorf("%s: the error shows the value: %v", name, err)
		}
	}
	for _, p := range []string{"/home/ci/.keys/sf-jwt.key", "server.key", "C:\\keys\\sf.pem", "./MIGHAgEAMBMG.pem", "/run/secrets/salesforce_private_key"} {
		if err := PathNotContent("private_key_file", p, "x"); err != nil {
			t.Errorf("%s: refused: %v", p, err)
		}
	}
}
