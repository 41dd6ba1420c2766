package m365

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestReadPageStreamsTheNextLinkFirst(t *testing.T) {
	stop := errors.New("stop")
	for _, tt := range []struct {
		name, body string
		stopAt     string // each fails on this id
		want       string // events in order
		wantErr    string
	}{
		{"next link before the items (Graph's order)", `{"@odata.context":"c","@odata.nextLink":"https://h/next","value":[{"id":"a"},{"id":"b"}]}`, "", "next a b", ""},
		{"next link after the items", `{"value":[{"id":"a"}],"@odata.nextLink":"https://h/next"}`, "", "a next", ""},
		{"last page", `{"value":[{"id":"a"}]}` + "\n", "", "a", ""},
		{"an item of another shape is skipped", `{"value":[{"id":"a"},{"id":7,"assignedLicenses":"x"},{"id":"b"}]}`, "", "a b", ""},
		{"truncated answer", `{"@odata.nextLink":"https://h/next","value":[{"id":"a"},{"id":`, "", "next a", "unexpected answer"},
		{"value is not a list", `{"value":"x"}`, "", "", "value is not an array"},
		{"not an object", `[1]`, "", "", "not a JSON object"},
		{"each stops the read", `{"value":[{"id":"a"},{"id":"b"},{"id":"c"}]}`, "b", "a b", "stop"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u, _ := url.Parse("https://h/v1.0/groups/g/members")
			resp := &http.Response{Body: io.NopCloser(strings.NewReader(tt.body)), Request: &http.Request{URL: u}}
			if tt.name == "truncated answer" {
				resp.Request = nil // a transport that does not fill it in: the URL asked for names the call
			}
			var ev []string
			_, err := readPage(resp, u.String(), func(next string) error {
				ev = append(ev, "next")
				return nil
			}, func(u rawUser) error {
				ev = append(ev, u.ID)
				if u.ID == tt.stopAt {
					return stop
				}
				return nil
			})
			if got := strings.Join(ev, " "); got != tt.want {
				t.Errorf("events %q, want %q", got, tt.want)
			}
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
			if err != nil && tt.wantErr != "stop" && !strings.Contains(err.Error(), "GET /v1.0/groups/g/members") {
				t.Errorf("error %v does not name the call", err)
			}
		})
	}
}
