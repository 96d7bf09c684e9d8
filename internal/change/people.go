package change

import (
	"context"

	"github.com/mocpcr/mocpcr/internal/auth"
)

// People returns up to limit people the forms of change ref may name
// whose name or email contains text: the change's site's enabled users,
// holding role when role is set (a reviewer or approver, who is then
// never the initiator). A change actor cannot see is not found.
func (s *Service) People(ctx context.Context, actor *auth.User, ref, text string, role auth.Role, limit int) ([]*auth.User, error) {
	id, err := s.Resolve(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	c, err := loadChange(ctx, s.DB.SQL, id)
	if err != nil {
		return nil, err
	}
	// One more than asked, so leaving the initiator out still fills the list.
	users, err := auth.FindSiteUsers(ctx, s.DB.SQL, c.SiteID, text, role, limit+1)
	if err != nil {
		return nil, err
	}
	out := users[:0]
	for _, u := range users {
		if role != "" && u.ID == c.InitiatorID {
			continue
		}
		out = append(out, u)
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
