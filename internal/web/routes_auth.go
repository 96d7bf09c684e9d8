package web

import (
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/config"
)

// authRoutes registers the routes for sign-in, sessions, accounts, API tokens and user/site administration.
func (s *Server) authRoutes() {
	if s.Config.AuthProvider == config.AuthEntra && s.Entra == nil {
		s.Entra = auth.NewEntra(auth.EntraConfig{
			AuthorityHost: s.Config.AuthorityHost,
			TenantID:      s.Config.TenantID,
			ClientID:      s.Config.ClientID,
			ClientSecret:  s.Config.ClientSecret.Value(),
			RedirectURL:   s.Config.BaseURL + "/auth/callback",
			Now:           func() time.Time { return s.Now() },
		})
	}
	s.pageFillers = append(s.pageFillers, s.fillAuthPage)

	// Sign-in and sessions.
	s.handle("GET /auth/login", s.loginPage)
	s.handle("POST /auth/login", s.loginPassword)
	s.handle("GET /auth/entra", s.entraStart)
	s.handle("GET /auth/callback", s.entraCallback)
	s.handle("POST /auth/logout", s.logout)
	s.handle("POST /auth/logout-everywhere", s.logoutEverywhere)

	// Own account and API tokens.
	s.handle("GET /account", s.accountPage)
	s.handle("POST /account/tokens", s.accountCreateToken)
	s.handle("POST /account/tokens/{id}/revoke", s.accountRevokeToken)
	s.handle("POST /account/password", s.accountChangePassword)
	s.handle("POST /account/delegations", s.accountCreateDelegation)
	s.handle("POST /account/delegations/{id}/revoke", s.accountRevokeDelegation)

	// Administration.
	s.handle("GET /admin", s.adminIndex)
	s.handle("GET /admin/users", s.adminUsers)
	s.handle("POST /admin/users", s.adminCreateUser)
	s.handle("GET /admin/users/{id}", s.adminUserEdit)
	s.handle("POST /admin/users/{id}", s.adminUserSave)
	s.handle("POST /admin/users/{id}/password", s.adminSetPassword)
	s.handle("GET /admin/sites", s.adminSites)
	s.handle("POST /admin/sites", s.adminCreateSite)
	s.handle("GET /admin/sites/{id}", s.adminSiteEdit)
	s.handle("POST /admin/sites/{id}", s.adminSiteSave)

	// JSON API.
	s.handle("GET /api/v1/me", s.apiMe)
	s.handle("GET /api/v1/users", s.apiListUsers)
	s.handle("POST /api/v1/users", s.apiCreateUser)
	s.handle("GET /api/v1/users/{id}", s.apiGetUser)
	s.handle("PATCH /api/v1/users/{id}", s.apiUpdateUser)
	s.handle("GET /api/v1/sites", s.apiListSites)
	s.handle("POST /api/v1/sites", s.apiCreateSite)
	s.handle("PATCH /api/v1/sites/{id}", s.apiUpdateSite)
}
