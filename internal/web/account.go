package web

import (
	"net/http"
	"slices"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
)

type accountData struct {
	Sites    []auth.Site
	Tokens   []auth.APIToken
	Sessions int
	// NewToken is shown once, right after it was created.
	NewToken     string
	NewTokenName string
	TokenName    string
	// TokenExpiresOn refills the new token's optional end date.
	TokenExpiresOn string
	// Now tells expired tokens from live ones.
	Now time.Time
	// HasPassword shows the change-password form to local accounts.
	HasPassword bool
	// PasswordKeepsTokens refills the password form when its owner
	// unticked "also revoke my API tokens" (ticked by default).
	PasswordKeepsTokens bool
	// Delegations the user gave and received; approvers may delegate to
	// Candidates with the form that Deleg refills.
	Given, Received []delegationRow
	CanDelegate     bool
	Candidates      []*auth.User
	Deleg           delegationForm
}

func (s *Server) renderAccount(w http.ResponseWriter, r *http.Request, u *auth.User, status int, d accountData, p *Page) {
	var err error
	d.Now = s.Now()
	if d.Tokens, err = auth.ListAPITokens(r.Context(), s.DB.SQL, u.ID); err != nil {
		s.serverFault(w, r, "list API tokens", err)
		return
	}
	for i, t := range d.Tokens {
		if at, ok := s.touches.TokenUsedAt(t.ID); ok && (t.LastUsedAt == nil || at.After(*t.LastUsedAt)) {
			d.Tokens[i].LastUsedAt = &at
		}
	}
	if d.Sites, err = userSites(r, s, u); err != nil {
		s.serverFault(w, r, "list sites", err)
		return
	}
	if d.HasPassword, err = auth.HasPassword(r.Context(), s.DB.SQL, u.ID); err != nil {
		s.serverFault(w, r, "load user", err)
		return
	}
	if d.Sessions, err = auth.CountUserSessions(r.Context(), s.DB.SQL, u.ID); err != nil {
		s.serverFault(w, r, "count sessions", err)
		return
	}
	if err = s.fillDelegations(r, u, &d); err != nil {
		s.serverFault(w, r, "list delegations", err)
		return
	}
	if p == nil {
		p = &Page{}
	}
	p.Title, p.Data = "Your account", d
	if p.Flash == "" {
		p.Flash = r.URL.Query().Get("done")
		if !slices.Contains([]string{"Token revoked.", "Delegation saved.", "Delegation revoked."}, p.Flash) {
			p.Flash = ""
		}
	}
	s.render(w, r, status, "account.html", p)
}

func userSites(r *http.Request, s *Server, u *auth.User) ([]auth.Site, error) {
	all, err := auth.ListSites(r.Context(), s.DB.SQL)
	if err != nil {
		return nil, err
	}
	var out []auth.Site
	for _, site := range all {
		if !u.AllSites && u.OnSite(site.ID) {
			out = append(out, site)
		}
	}
	return out, nil
}

func (s *Server) pageShowAccount(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	var d accountData
	// The page showing a new token is not cached: withUser marks every
	// signed-in answer no-store.
	d.NewTokenName, d.NewToken = s.takeNewToken(w, r)
	s.renderAccount(w, r, u, http.StatusOK, d, nil)
}
