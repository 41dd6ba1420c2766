package salesforceapi

import "testing"

// The suffix of an 18-character id is the case checksum of its 15 characters, as clients compute
// it (CASESAFEID): ids the sandbox makes carry the right one, so a client that turns a 15-character
// id into 18 characters finds the record.
func TestIDsCarryTheirCaseChecksum(t *testing.T) {
	for in, want := range map[string]string{
		"0055g0000000010": "0055g0000000010AAA",
		"0PS5g0000000513": "0PS5g0000000513GAA",
		"0H45g0000000512": "0H45g0000000512CAA",
		"001D000000IqhSL": "001D000000IqhSLIAZ",
		"00D5g00000SBXOR": "00D5g00000SBXOREA5",
	} {
		if got := ID18(in); got != want {
			t.Errorf("ID18(%s) = %s, want %s", in, got, want)
		}
	}
	o := &Org{}
	if id := o.nextID("0PS"); id != ID18(id[:15]) {
		t.Errorf("nextID made %s, whose suffix is not its checksum", id)
	}
}
