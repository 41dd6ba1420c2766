package m365

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
)

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// Member is a user member of a group: object id and user principal name.
type Member struct{ ID, UPN string }

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
		members = append(members, Member{ID: u.ID, UPN: u.UPN})
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
