package m365

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/c4sctl/c4sctl/internal/atomicfile"
	htmltemplate "html/template"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	texttemplate "text/template"
	"time"

	"github.com/c4sctl/c4sctl/internal/flock"
	"github.com/c4sctl/c4sctl/pkg/httpx"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/entra"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"
)

// DefaultWelcomeTemplate is the built-in welcome message: a "Subject: ..." line, a blank line,
// then the HTML body. Fields: .FirstName, .Name, .Email, .AppName, .Hours, .SenderName.
//
//go:embed welcome.tmpl
var DefaultWelcomeTemplate string

// VisibilityHours is the guide's hint (step 9): the app can take up to 48 hours to show.
const VisibilityHours = 48

// Mailbox limits of Exchange Online that welcome keeps within.
const (
	MailsPerMinute   = 30
	MailsConcurrency = 4
)

// WelcomeData is what a template sees.
type WelcomeData struct {
	FirstName, Name, Email, AppName, SenderName string
	Hours                                       int
}

// WelcomeTemplate is a parsed welcome message.
type WelcomeTemplate struct {
	subject *texttemplate.Template
	body    *htmltemplate.Template
}

// ParseWelcome parses a template ("" means the built-in one).
func ParseWelcome(src string) (*WelcomeTemplate, error) {
	if strings.TrimSpace(src) == "" {
		src = DefaultWelcomeTemplate
	}
	src = strings.ReplaceAll(src, "\r\n", "\n")
	first, rest, _ := strings.Cut(src, "\n")
	subj, ok := strings.CutPrefix(first, "Subject:")
	if !ok {
		return nil, errors.New("welcome template: the first line must be \"Subject: ...\", then a blank line, then the HTML body")
	}
	st, err := texttemplate.New("subject").Option("missingkey=error").Parse(strings.TrimSpace(subj))
	if err != nil {
		return nil, fmt.Errorf("welcome template subject: %v", err)
	}
	bt, err := htmltemplate.New("body").Option("missingkey=error").Parse(strings.TrimLeft(rest, "\n"))
	if err != nil {
		return nil, fmt.Errorf("welcome template body: %v", err)
	}
	return &WelcomeTemplate{subject: st, body: bt}, nil
}

// Render renders the subject and HTML body for one recipient.
func (t *WelcomeTemplate) Render(d WelcomeData) (subject, html string, err error) {
	var s, b bytes.Buffer
	if err := t.subject.Execute(&s, d); err != nil {
		return "", "", fmt.Errorf("welcome template subject: %v", err)
	}
	if err := t.body.Execute(&b, d); err != nil {
		return "", "", fmt.Errorf("welcome template body: %v", err)
	}
	return strings.TrimSpace(strings.ReplaceAll(s.String(), "\n", " ")), b.String(), nil
}

// WelcomeOptions configure Welcome.
type WelcomeOptions struct {
	Group      string // display name or object id of the seller group
	Sender     string // principal name of the mailbox that sends (needed with Send)
	SenderName string // signature; default: the sender's display name
	Template   string // template text; "" = DefaultWelcomeTemplate
	AppName    string // default Defaults.AppName
	Send       bool   // false: preview only
	// RecordPath is the file recording whom the message was sent to (JSON, 0600): a rerun never
	// mails anyone twice. Required with Send.
	RecordPath  string
	PerMinute   int // default MailsPerMinute
	Concurrency int // default MailsConcurrency
	Progress    io.Writer
	// Resolve settles the messages an earlier run could not tell had left (their answer was
	// lost): "sent" records them as sent (the admin found them in the sender's Sent Items),
	// "resend" forgets them so that this run (with Send) or the next mails them again.
	Resolve string
	// NotReady names the sellers not to mail in this run (`welcome --ready-only`): lower-case
	// user object id -> why the seller is not ready. They stay unrecorded, so a later run mails
	// them once they are ready.
	NotReady map[string]string
}

// Resolutions are the values of WelcomeOptions.Resolve.
var Resolutions = []string{"sent", "resend"}

// WelcomeResult reports a preview or a send.
type WelcomeResult struct {
	Group        string
	Recipients   int
	AlreadySent  []string // skipped: recorded as mailed before
	Sent         []string
	Failed       []string // "address: reason"
	NoMail       []string // members without a mail address
	PreviewTo    string
	PreviewSubj  string
	PreviewHTML  string
	PendingCount int // would be sent (preview) or were attempted (send)
	// Unknown lists the recipients whose message may or may not have left, in an earlier run or
	// this one, and that no Resolve settled yet.
	Unknown []string
	// Resolved lists the recipients Resolve settled in this run.
	Resolved []string
	// NotReady counts the members left out because they are not ready (WelcomeOptions.NotReady),
	// by reason.
	NotReady map[string]int
}

// welcomeRecord is the file that remembers whom the message went to.
type welcomeRecord struct {
	Version int                    `json:"version"`
	Tenant  string                 `json:"tenant,omitempty"`
	Sent    map[string]welcomeSent `json:"sent"`
}

type welcomeSent struct {
	At    time.Time `json:"at"`
	Group string    `json:"group,omitempty"`
	// Unknown: the answer to the send was lost, so the message may or may not have left; it is
	// never sent again (check the sender's Sent Items).
	Unknown bool `json:"outcome_unknown,omitempty"`
}

func loadRecord(path string) (*welcomeRecord, error) {
	rec := &welcomeRecord{Version: 1, Sent: map[string]welcomeSent{}}
	if path == "" {
		return rec, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return rec, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(b, rec); err != nil {
		return nil, fmt.Errorf("%s is not a welcome record (%v); fix or remove it: c4sctl will not risk mailing anyone twice", path, err)
	}
	if rec.Sent == nil {
		rec.Sent = map[string]welcomeSent{}
	}
	return rec, nil
}

// WelcomedAt reads the welcome record at path (WelcomeOptions.RecordPath) without locking or
// changing it: lower-case address -> when the message was sent. Messages whose answer was lost
// (may or may not have left) are left out. A missing file is an empty record.
func WelcomedAt(path string) (map[string]time.Time, error) {
	rec, err := loadRecord(path)
	if err != nil {
		return nil, err
	}
	out := make(map[string]time.Time, len(rec.Sent))
	for addr, s := range rec.Sent {
		if !s.Unknown {
			out[strings.ToLower(addr)] = s.At
		}
	}
	return out, nil
}

func saveRecord(path string, rec *welcomeRecord) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, b)
}

func firstName(display, addr string) string {
	if f := strings.Fields(display); len(f) > 0 {
		return f[0]
	}
	local, _, _ := strings.Cut(addr, "@")
	return local
}

// Welcome renders the sellers' welcome message for the members of the group and, with Send,
// sends it through POST /users/{sender}/sendMail to those not yet mailed, within the mailbox
// limits (PerMinute messages a minute, Concurrency requests at once), recording each success.
func (c *Client) Welcome(ctx context.Context, o WelcomeOptions) (*WelcomeResult, error) {
	if o.Group == "" {
		return nil, errors.New("welcome: no seller group (declare one, or pass --group)")
	}
	tmpl, err := ParseWelcome(o.Template)
	if err != nil {
		return nil, err
	}
	if o.AppName == "" {
		o.AppName = Defaults.AppName
	}
	if o.PerMinute <= 0 {
		o.PerMinute = MailsPerMinute
	}
	if o.Concurrency <= 0 {
		o.Concurrency = MailsConcurrency
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if o.Send && (o.Sender == "" || o.RecordPath == "") {
		return nil, errors.New("welcome --send needs a sender mailbox (--from) and a record file")
	}
	g, err := c.findGroup(ctx, o.Group, !looksLikeID(o.Group))
	if err != nil {
		return nil, fmt.Errorf("welcome: %w", err)
	}
	if g == nil {
		return nil, fmt.Errorf("welcome: group %q does not exist", o.Group)
	}
	members, err := c.groupMembers(ctx, g.ID)
	if err != nil {
		return nil, fmt.Errorf("welcome: %w", err)
	}
	if o.SenderName == "" {
		o.SenderName = "Your Copilot for Sales team"
		if o.Sender != "" {
			if found, _, err := c.usersByUPN(ctx, []string{o.Sender}); err == nil && len(found) == 1 && found[0].Name != "" {
				o.SenderName = found[0].Name
			}
		}
	}
	switch o.Resolve {
	case "", "sent", "resend":
	default:
		return nil, fmt.Errorf("welcome: resolve %q: use sent or resend", o.Resolve)
	}
	if (o.Send || o.Resolve != "") && o.RecordPath != "" {
		// One run at a time changes the record, and it is read again under the lock: two runs
		// at once would each mail whoever the other had not recorded yet.
		if err := os.MkdirAll(filepath.Dir(o.RecordPath), 0o700); err != nil {
			return nil, fmt.Errorf("welcome: %w", err)
		}
		lock, err := flock.Lock(o.RecordPath + ".lock")
		if err != nil {
			var he *flock.HeldError
			if errors.As(err, &he) {
				return nil, fmt.Errorf("welcome: another `c4sctl welcome` is sending or resolving with this record (pid %s); wait for it to finish: two at once could mail someone twice", he.Holder)
			}
			return nil, fmt.Errorf("welcome: %w", err)
		}
		defer lock.Close()
	}
	rec, err := loadRecord(o.RecordPath)
	if err != nil {
		return nil, fmt.Errorf("welcome: %w", err)
	}
	if who, err := c.WhoAmI(ctx); err == nil && who.TenantID != "" {
		if rec.Tenant != "" && !strings.EqualFold(rec.Tenant, who.TenantID) {
			return nil, fmt.Errorf("welcome: %s records messages sent in tenant %s, not %s; use the configuration's own directory", o.RecordPath, rec.Tenant, who.TenantID)
		}
		rec.Tenant = who.TenantID
	}
	res := &WelcomeResult{Group: g.Name, Recipients: len(members)}
	for addr, s := range rec.Sent {
		if !s.Unknown {
			continue
		}
		switch o.Resolve {
		case "sent":
			s.Unknown = false
			rec.Sent[addr] = s
			res.Resolved = append(res.Resolved, addr)
		case "resend":
			delete(rec.Sent, addr)
			res.Resolved = append(res.Resolved, addr)
		default:
			res.Unknown = append(res.Unknown, addr)
		}
	}
	sort.Strings(res.Unknown)
	sort.Strings(res.Resolved)
	if len(res.Resolved) > 0 {
		if err := saveRecord(o.RecordPath, rec); err != nil {
			return nil, fmt.Errorf("welcome: record the resolution in %s: %w", o.RecordPath, err)
		}
	}
	type job struct {
		addr string
		data WelcomeData
	}
	var jobs []job
	seen := map[string]bool{}
	for _, m := range members {
		addr := m.Mail
		if addr == "" {
			addr = m.UPN
		}
		if addr == "" {
			res.NoMail = append(res.NoMail, m.ID)
			continue
		}
		key := strings.ToLower(addr)
		if seen[key] {
			continue
		}
		seen[key] = true
		if _, done := rec.Sent[key]; done {
			res.AlreadySent = append(res.AlreadySent, addr)
			continue
		}
		if why, skip := o.NotReady[strings.ToLower(m.ID)]; skip {
			if res.NotReady == nil {
				res.NotReady = map[string]int{}
			}
			res.NotReady[why]++
			continue
		}
		jobs = append(jobs, job{addr, WelcomeData{FirstName: firstName(m.Name, addr), Name: m.Name, Email: addr, AppName: o.AppName, SenderName: o.SenderName, Hours: VisibilityHours}})
	}
	res.PendingCount = len(jobs)
	preview := WelcomeData{FirstName: "Alex", Name: "Alex Example", Email: "alex@example.com", AppName: o.AppName, SenderName: o.SenderName, Hours: VisibilityHours}
	if len(jobs) > 0 {
		preview = jobs[0].data
		res.PreviewTo = jobs[0].addr
	}
	if res.PreviewSubj, res.PreviewHTML, err = tmpl.Render(preview); err != nil {
		return nil, err
	}
	if !o.Send || len(jobs) == 0 {
		return res, nil
	}
	// Render every message before sending any, so a template error mails nobody.
	type msg struct{ addr, name, subj, html string }
	msgs := make([]msg, len(jobs))
	for i, j := range jobs {
		s, h, err := tmpl.Render(j.data)
		if err != nil {
			return nil, err
		}
		msgs[i] = msg{j.addr, j.data.Name, s, h}
	}
	lim := rate.NewLimiter(rate.Every(time.Minute/time.Duration(o.PerMinute)), 1)
	var mu sync.Mutex
	// A definite failure of the sender (401, 403, 404) stops new sends, but the ones in flight
	// finish with their own answers: cancelling them would turn definite refusals into "may
	// have left".
	var stop atomic.Bool
	var eg errgroup.Group
	eg.SetLimit(o.Concurrency)
	var thisRunUnknown int
	for _, m := range msgs {
		if stop.Load() || ctx.Err() != nil {
			break
		}
		// The token is taken once a concurrency slot is held: taken before, it would refill while
		// waiting for the slot and let two messages leave back to back.
		providers.Go(&eg, func() error {
			if stop.Load() {
				return nil
			}
			if err := lim.Wait(ctx); err != nil {
				return nil // stopped: ctx's error is reported below
			}
			if stop.Load() {
				return nil
			}
			err := c.sendMail(ctx, o.Sender, m.addr, m.name, m.subj, m.html)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && httpx.IsOutcomeUnknown(err) {
				// The message may have left: record it, so that no later run mails it twice.
				res.Failed = append(res.Failed, m.addr+": the answer to the send was lost, so it may or may not have left; it is not sent again (check the sender's Sent Items)")
				res.Unknown = append(res.Unknown, strings.ToLower(m.addr))
				thisRunUnknown++
				rec.Sent[strings.ToLower(m.addr)] = welcomeSent{At: time.Now().UTC(), Group: g.Name, Unknown: true}
				if err := saveRecord(o.RecordPath, rec); err != nil {
					return fmt.Errorf("welcome: could not record in %s that the mail to %s may have left: %w", o.RecordPath, m.addr, err)
				}
				return nil
			}
			if err != nil {
				res.Failed = append(res.Failed, m.addr+": "+err.Error())
				var ge *GraphError
				if errors.As(err, &ge) && (ge.Status == 401 || ge.Status == 403 || (ge.Status == 404 && ge.Code != "ErrorInvalidRecipients")) {
					stop.Store(true)
					return err // the sender cannot send at all: stop
				}
				return nil
			}
			res.Sent = append(res.Sent, m.addr)
			rec.Sent[strings.ToLower(m.addr)] = welcomeSent{At: time.Now().UTC(), Group: g.Name}
			if err := saveRecord(o.RecordPath, rec); err != nil {
				return fmt.Errorf("welcome: mailed %s but could not record it in %s: %w", m.addr, o.RecordPath, err)
			}
			fmt.Fprintf(o.Progress, "sent %d/%d: %s\n", len(res.Sent), len(msgs), m.addr)
			return nil
		})
	}
	werr := eg.Wait()
	sort.Strings(res.Sent)
	sort.Strings(res.Unknown)
	if werr == nil && ctx.Err() != nil {
		werr = ctx.Err()
	}
	if werr != nil {
		return res, fmt.Errorf("welcome: stopped after %d messages: %w", len(res.Sent), werr)
	}
	if thisRunUnknown > 0 {
		return res, &UnknownOutcomeError{N: thisRunUnknown}
	}
	return res, nil
}

func (c *Client) sendMail(ctx context.Context, sender, to, name, subject, html string) error {
	body := users.NewItemSendMailPostRequestBody()
	m := models.NewMessage()
	m.SetSubject(&subject)
	b := models.NewItemBody()
	ct := models.HTML_BODYTYPE
	b.SetContentType(&ct)
	b.SetContent(&html)
	m.SetBody(b)
	r := models.NewRecipient()
	ea := models.NewEmailAddress()
	ea.SetAddress(&to)
	if name != "" {
		ea.SetName(&name)
	}
	r.SetEmailAddress(ea)
	m.SetToRecipients([]models.Recipientable{r})
	body.SetMessage(m)
	save := true
	body.SetSaveToSentItems(&save)
	ctx, note := entra.WithReauthNote(ctx)
	if err := c.sdk.Users().ByUserId(sender).SendMail().Post(ctx, body, nil); err != nil {
		return sdkErr(note, "POST", "/v1.0/users/{sender}/sendMail", err)
	}
	return nil
}

// UnknownOutcomeError says some messages of this run may or may not have left (their answer was
// lost): they are not sent again until an admin settles them (WelcomeOptions.Resolve).
type UnknownOutcomeError struct{ N int }

func (e *UnknownOutcomeError) Error() string {
	return fmt.Sprintf("welcome: %d message(s) may or may not have left (the answer was lost); look in the sender's Sent Items, then run `c4sctl welcome --resolve-unknown sent` if they are there or `--resolve-unknown resend` if not", e.N)
}
