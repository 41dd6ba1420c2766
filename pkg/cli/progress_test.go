package cli

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestThousands(t *testing.T) {
	for _, tt := range []struct {
		n    int
		want string
	}{{0, "0"}, {999, "999"}, {1000, "1,000"}, {20000, "20,000"}, {1234567, "1,234,567"}, {-4200, "-4,200"}} {
		if got := thousands(tt.n); got != tt.want {
			t.Errorf("thousands(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

// fakeClock is a clock the test moves.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// The refresh progress prints, per tick, one line for each provider with reads in flight (none
// for a provider that is done), and at the end the total and the time it took; off a terminal,
// no line per resource.
func TestReadProgressLinesPerProviderAndTotal(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	var out bytes.Buffer
	rp := newReadProgress(&out, clk.now, func(addr string) string { p, _, _ := strings.Cut(addr, "_"); return p }, false)
	rp.event("teams_meeting_policy.global", false)
	rp.event("teams_app_setup_policy.global", false)
	rp.event("salesforce_permission_set.x", false)
	rp.event("salesforce_permission_set.x", true)
	clk.t = clk.t.Add(10 * time.Second)
	rp.tick()
	rp.event("teams_meeting_policy.global", true)
	clk.t = clk.t.Add(10 * time.Second)
	rp.tick()
	rp.event("teams_app_setup_policy.global", true)
	clk.t = clk.t.Add(1500 * time.Millisecond)
	rp.tick() // nothing in flight: no line
	rp.finish()
	want := "teams: Still reading... [10s elapsed; 0 read, 2 in progress]\n" +
		"teams: Still reading... [20s elapsed; 1 read, 1 in progress]\n" +
		"Read 3 resources in 21.5s.\n"
	if out.String() != want {
		t.Errorf("progress:\n%s\nwant:\n%s", out.String(), want)
	}

	// The ticks come from the channel run is given (time.Ticker's in plan); finish waits for a
	// tick being printed.
	out.Reset()
	clk.t = time.Unix(1000, 0)
	rp = newReadProgress(&out, clk.now, func(string) string { return "powerplatform" }, false)
	ticks := make(chan time.Time)
	rp.run(ticks)
	rp.event("powerplatform_environment.viva", false)
	clk.t = clk.t.Add(30 * time.Second)
	ticks <- clk.t
	rp.finish()
	if want := "powerplatform: Still reading... [30s elapsed; 0 read, 1 in progress]\n"; out.String() != want {
		t.Errorf("ticked progress %q, want %q", out.String(), want)
	}

	// Nothing read (every resource excluded): no total line; on a terminal, a line per read.
	out.Reset()
	rp = newReadProgress(&out, clk.now, func(string) string { return "p" }, true)
	rp.finish()
	if out.Len() != 0 {
		t.Errorf("nothing read, printed %q", out.String())
	}
	rp.event("p_x.a", false)
	rp.event("p_x.a", true)
	rp.finish()
	if want := "p_x.a: Refreshing state...\nRead 1 resource in 0.0s.\n"; out.String() != want {
		t.Errorf("terminal progress %q, want %q", out.String(), want)
	}
}

// plan prints the total on stderr off a terminal too, and nothing with --json.
func TestPlanReadProgressOnStderrQuietWithJSON(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": transcription})
	_, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "plan")
	if code != 0 || !regexp.MustCompile(`(?m)^Read 1 resource in \d+\.\ds\.$`).MatchString(stderr) {
		t.Errorf("plan: exit %d, stderr:\n%s", code, stderr)
	}
	_, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "plan", "--json")
	if code != 0 || strings.Contains(stderr, "Read ") || strings.Contains(stderr, "Refreshing") {
		t.Errorf("plan --json: exit %d, stderr:\n%s", code, stderr)
	}
}
