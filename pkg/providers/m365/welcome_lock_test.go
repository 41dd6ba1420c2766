package m365_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/c4sctl/c4sctl/pkg/providers/m365"
	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/graphapi"
)

func welcomeGroup(t *testing.T, sb *sandbox.Server, svc *graphapi.Service, name string, n int) {
	t.Helper()
	var members []string
	for i := 1; i <= n; i++ {
		members = append(members, graphapi.UserID(i))
	}
	if err := sb.Mutate(func() error {
		svc.Tenant().Groups = append(svc.Tenant().Groups, &graphapi.Group{ID: "5a11e500-0000-4000-8000-0000000000c" + string(rune('0'+n)), DisplayName: name, Members: members})
		svc.Reindex()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func sentTo(sb *sandbox.Server, svc *graphapi.Service) map[string]int {
	out := map[string]int{}
	sb.View(func() {
		for _, m := range svc.Sent() {
			for _, to := range m.To {
				out[strings.ToLower(to)]++
			}
		}
	})
	return out
}

// Two `welcome --send` at once with one record: the second is refused while the first sends
// (its holder named), and nobody is mailed twice.
func TestWelcomeTwoSendsAtOnceMailNobodyTwice(t *testing.T) {
	c, sb, svc, _ := startHTTPX(t)
	welcomeGroup(t, sb, svc, "Lock sellers", 3)
	opts := m365.WelcomeOptions{Group: "Lock sellers", Sender: graphapi.SenderUPN, RecordPath: filepath.Join(t.TempDir(), "welcome-sent.json"), PerMinute: 120, Send: true}
	done := make(chan error, 1)
	go func() { _, err := c.Welcome(context.Background(), opts); done <- err }()
	for deadline := time.Now().Add(20 * time.Second); len(sentTo(sb, svc)) == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	_, err := c.Welcome(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "another `c4sctl welcome`") || !strings.Contains(err.Error(), "pid ") {
		t.Fatalf("second run at once: %v, want a refusal naming the holder", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := sentTo(sb, svc)
	if len(got) != 3 {
		t.Fatalf("mailed %v, want 3 recipients", got)
	}
	for to, n := range got {
		if n != 1 {
			t.Errorf("%s mailed %d times", to, n)
		}
	}
}

// A definite failure (a --from without a mailbox: 404 for every send) records nobody: no one is
// listed as "may have left", and a run with the right sender mails everyone.
func TestWelcomeDefiniteFailureRecordsNobody(t *testing.T) {
	c, sb, svc, _ := startHTTPX(t)
	welcomeGroup(t, sb, svc, "Wrong sender sellers", 6)
	record := filepath.Join(t.TempDir(), "welcome-sent.json")
	opts := m365.WelcomeOptions{Group: "Wrong sender sellers", Sender: "nobody@contoso-sandbox.onmicrosoft.com", RecordPath: record, PerMinute: 6000, Send: true}
	res, err := c.Welcome(context.Background(), opts)
	if err == nil || res == nil || len(res.Sent) != 0 || len(res.Unknown) != 0 {
		t.Fatalf("wrong sender: %v %+v, want an error and nobody sent or unknown", err, res)
	}
	if b, err := os.ReadFile(record); err == nil {
		var rec struct{ Sent map[string]json.RawMessage }
		if json.Unmarshal(b, &rec) != nil || len(rec.Sent) != 0 {
			t.Fatalf("the record lists %s after a definite failure", b)
		}
	}
	opts.Sender = graphapi.SenderUPN
	if res, err := c.Welcome(context.Background(), opts); err != nil || len(res.Sent) != 6 {
		t.Fatalf("with the right sender: %v %+v", err, res)
	}
}

// A lost answer: the run fails (exit non-zero), the next run lists the recipient as unknown and
// does not mail it, and --resolve-unknown resend mails it again on the admin's word.
func TestWelcomeUnknownOutcomeIsListedAndResolved(t *testing.T) {
	c, sb, svc, _ := startHTTPX(t)
	welcomeGroup(t, sb, svc, "Lost sellers", 3)
	opts := m365.WelcomeOptions{Group: "Lost sellers", Sender: graphapi.SenderUPN, RecordPath: filepath.Join(t.TempDir(), "welcome-sent.json"), PerMinute: 6000, Send: true}
	providertest.LoseAnswers(sb, "POST", "/sendMail", 1, false) // lost, and not delivered
	_, err := c.Welcome(context.Background(), opts)
	var ue *m365.UnknownOutcomeError
	if !errors.As(err, &ue) || ue.N != 1 {
		t.Fatalf("first run: %v, want an UnknownOutcomeError for 1 message", err)
	}
	res, err := c.Welcome(context.Background(), opts)
	if err != nil || len(res.Unknown) != 1 || len(res.Sent) != 0 {
		t.Fatalf("next run: %v %+v, want the unknown listed and nothing sent", err, res)
	}
	lost := res.Unknown[0]
	if n := sentTo(sb, svc)[lost]; n != 0 {
		t.Fatalf("%s received %d messages, want 0 (the answer was lost before delivery)", lost, n)
	}
	opts.Resolve = "resend"
	res, err = c.Welcome(context.Background(), opts)
	if err != nil || len(res.Resolved) != 1 || len(res.Unknown) != 0 || len(res.Sent) != 1 || res.Sent[0] != lost && strings.ToLower(res.Sent[0]) != lost {
		t.Fatalf("resolve resend: %v %+v", err, res)
	}
	if n := sentTo(sb, svc)[lost]; n != 1 {
		t.Errorf("%s received %d messages, want 1", lost, n)
	}
}
