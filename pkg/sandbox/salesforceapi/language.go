package salesforceapi

import "fmt"

// Salesforce answers standard profiles' names in the language of the signed-in user: "If you do
// a SOQL query for a profile named "System Administrator", it will fail if the user's language is
// set to something other than English" (salesforce.stackexchange.com/questions/156802). The
// German names below are assumed (no public source lists them); what matters to clients is that
// they differ from the English ones, in query answers and in WHERE Profile.Name filters alike.
var profileNames = map[string]map[string]string{
	"de": {
		ProfileSystemAdministrator: "Systemadministrator",
		ProfileStandardUser:        "Standardbenutzer",
		ProfileReadOnly:            "Schreibgeschützt",
		ProfileMinimumAccess:       "Minimaler Zugriff - Salesforce",
	},
}

// profileName is a profile's name as the API user reads it.
func (o *Org) profileName(p *Profile) string {
	if n := profileNames[o.Language][p.Name]; n != "" {
		return n
	}
	return p.Name
}

// SetLanguage sets the language the API user reads ("" or "en": English, "de": German), as an
// admin would on the integration user's record. Call it under Server.Mutate.
func (s *Service) SetLanguage(lang string) error {
	switch lang {
	case "", "en":
		s.org.Language = ""
	case "de":
		s.org.Language = lang
	default:
		return fmt.Errorf("the sandbox knows the languages en and de, not %q", lang)
	}
	return nil
}
