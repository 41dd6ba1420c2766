package providers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/httpx"
)

func lost() error {
	return fmt.Errorf("create x: %w", &httpx.OutcomeUnknownError{Method: "POST", URL: "https://api.example/x", StatusCode: 504})
}

func TestCreateOnce(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name      string
		sends     []error // what each send returns
		exists    []bool  // what each lookup finds
		lookupErr error
		wantSends int
		wantID    string
		wantErr   string
	}{
		{name: "made at once", sends: []error{nil}, wantSends: 1, wantID: "sent-1"},
		{name: "refused: no lookup, no resend", sends: []error{errors.New("400 duplicate name")}, wantSends: 1, wantErr: "400 duplicate name"},
		{name: "answer lost, object there: not sent again", sends: []error{lost()}, exists: []bool{true}, wantSends: 1, wantID: "found"},
		{name: "answer lost, object absent: sent again", sends: []error{lost(), nil}, exists: []bool{false}, wantSends: 2, wantID: "sent-2"},
		{name: "lost every time: bounded, last answer looked up too", sends: []error{lost(), lost(), lost(), nil}, exists: []bool{false, false, false}, wantSends: CreateAttempts, wantErr: "outcome is unknown"},
		{name: "lost, then found after the last send", sends: []error{lost(), lost(), lost()}, exists: []bool{false, false, true}, wantSends: 3, wantID: "found"},
		{name: "lookup fails: both errors", sends: []error{lost()}, lookupErr: errors.New("403 forbidden"), wantSends: 1, wantErr: "reading it back to learn whether it was made failed too: 403 forbidden"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sends, lookups := 0, 0
			id, err := CreateOnce(ctx, func(context.Context) (string, error) {
				sends++
				if err := tc.sends[sends-1]; err != nil {
					return "", err
				}
				return fmt.Sprintf("sent-%d", sends), nil
			}, func(context.Context) (string, bool, error) {
				lookups++
				if tc.lookupErr != nil {
					return "", false, tc.lookupErr
				}
				if tc.exists[lookups-1] {
					return "found", true, nil
				}
				return "", false, nil
			})
			if sends != tc.wantSends {
				t.Errorf("%d sends, want %d", sends, tc.wantSends)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || id != tc.wantID {
				t.Fatalf("id %q err %v, want %q", id, err, tc.wantID)
			}
		})
	}
	// Without a lookup (send reconciles), a lost answer is simply sent again.
	sends := 0
	_, err := CreateOnce(ctx, func(context.Context) (struct{}, error) {
		sends++
		if sends < 2 {
			return struct{}{}, lost()
		}
		return struct{}{}, nil
	}, nil)
	if err != nil || sends != 2 {
		t.Errorf("reconcile: %d sends, err %v", sends, err)
	}
}
