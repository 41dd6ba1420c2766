package m365

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// Member is a user member of a group: object id, user principal name, mail address ("" when
// the user has none), display name, and the ids (lower case) of the SKUs assigned to the user
// (Graph user.assignedLicenses, directly or through a group).
type Member struct {
	ID, UPN, Mail, Name string
	SkuIDs              []string
}

// Licensed tells whether the member holds the SKU skuID (any case).
func (m Member) Licensed(skuID string) bool {
	for _, s := range m.SkuIDs {
		if strings.EqualFold(s, skuID) {
			return true
		}
	}
	return false
}

// SkuID is the id of the tenant's SKU with that part number (or id): an error names the SKUs the
// tenant has when none matches.
func (c *Client) SkuID(ctx context.Context, part string) (string, error) {
	if part == "" {
		part = Defaults.SkuPartNumber
	}
	s, err := c.findSku(ctx, part)
	if err != nil {
		return "", err
	}
	return s.ID, nil
}

// GroupMembers resolves a group by object id or display name and lists its direct user members
// through the licence reads' paging (999 a page): the seller coverage's input.
func (c *Client) GroupMembers(ctx context.Context, ref string) (groupID string, members []Member, err error) {
	g, err := c.findGroup(ctx, ref, !guidRE.MatchString(ref))
	if err != nil {
		return "", nil, err
	}
	if g == nil {
		return "", nil, fmt.Errorf("group %q was not found in the tenant", ref)
	}
	us, err := c.groupMembers(ctx, g.ID)
	if err != nil {
		return "", nil, err
	}
	for _, u := range us {
		m := Member{ID: u.ID, UPN: u.UPN, Mail: u.Mail, Name: u.Name}
		for _, l := range u.Licenses {
			m.SkuIDs = append(m.SkuIDs, strings.ToLower(l.SkuID))
		}
		members = append(members, m)
	}
	return g.ID, members, nil
}

// GroupMemberIDs lists the object ids of a group's direct user members (paged). A group that
// does not exist (404: deleted while a Teams policy is still assigned to it) has none: found is
// false.
func (c *Client) GroupMemberIDs(ctx context.Context, groupID string) (ids []string, found bool, err error) {
	us, err := c.groupMembers(ctx, groupID)
	var ge *GraphError
	if errors.As(err, &ge) && ge.Status == http.StatusNotFound {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	ids = make([]string, len(us))
	for i, u := range us {
		ids[i] = u.ID
	}
	return ids, true, nil
}
