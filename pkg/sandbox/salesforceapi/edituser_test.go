package salesforceapi

import (
	"strings"
	"testing"
)

// EditUser changes what Setup > Users > Edit changes and refuses what Setup refuses: a Federation
// ID another user holds, an unknown profile or user; a refused edit changes nothing.
func TestEditUser(t *testing.T) {
	s := New()
	on, fed := true, SellerFederationID(UnfederatedSeller)
	if err := s.EditUser("seller097@contoso-sandbox.example", UserEdit{Active: &on, Profile: ProfileReadOnly}); err != nil {
		t.Fatal(err)
	}
	u := s.org.User("seller097@contoso-sandbox.example")
	if !u.IsActive || u.ProfileID != s.org.Profile(ProfileReadOnly).ID {
		t.Errorf("after the edit: %+v", u)
	}
	taken := SellerFederationID(1)
	if err := s.EditUser("seller013@contoso-sandbox.example", UserEdit{FederationID: &taken, Active: &on}); err == nil || !strings.Contains(err.Error(), "This Federation ID is already in use.") {
		t.Errorf("a Federation ID another user holds: %v", err)
	}
	if u := s.org.User("seller013@contoso-sandbox.example"); u.FederationIdentifier != "" {
		t.Errorf("a refused edit changed the user: %+v", u)
	}
	if err := s.EditUser("seller013@contoso-sandbox.example", UserEdit{FederationID: &fed}); err != nil {
		t.Fatal(err)
	}
	if u := s.org.User("seller013@contoso-sandbox.example"); u.FederationIdentifier != fed {
		t.Errorf("Federation ID %q", u.FederationIdentifier)
	}
	if err := s.EditUser("seller013@contoso-sandbox.example", UserEdit{Profile: "Nope"}); err == nil {
		t.Error("an unknown profile was accepted")
	}
	if err := s.EditUser("nobody@contoso-sandbox.example", UserEdit{Active: &on}); err == nil {
		t.Error("an unknown user was accepted")
	}
}
