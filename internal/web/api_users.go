package web

import (
	"net/http"
	"slices"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/problem"
)

// userJSON is a user in the API (schema User in openapi/auth.json).
type userJSON struct {
	ID         int64    `json:"id"`
	Email      string   `json:"email"`
	Name       string   `json:"name"`
	JobTitle   string   `json:"job_title"`
	Roles      []string `json:"roles"`
	EntraRoles []string `json:"entra_roles"`
	SiteIDs    []int64  `json:"site_ids"`
	AllSites   bool     `json:"all_sites"`
	ManagerID  *int64   `json:"manager_id"`
	Disabled   bool     `json:"disabled"`
	EntraLink  bool     `json:"entra_linked"`
}

func toUserJSON(u *auth.User) userJSON {
	j := userJSON{ID: u.ID, Email: u.Email, Name: u.Name, JobTitle: u.JobTitle, Roles: []string{}, EntraRoles: []string{}, SiteIDs: u.SiteIDs,
		AllSites: u.AllSites, Disabled: u.Disabled, EntraLink: u.EntraOID != ""}
	for _, r := range u.Roles {
		j.Roles = append(j.Roles, string(r))
	}
	for _, r := range u.EntraRoles {
		j.EntraRoles = append(j.EntraRoles, string(r))
	}
	if j.SiteIDs == nil {
		j.SiteIDs = []int64{}
	}
	if u.ManagerID != 0 {
		j.ManagerID = &u.ManagerID
	}
	return j
}

func parseRoles(names []string) ([]auth.Role, error) {
	var roles []auth.Role
	for _, n := range names {
		r, err := auth.ParseRole(n)
		if err != nil {
			return nil, problem.Invalidf("roles", "%v", err)
		}
		roles = append(roles, r)
	}
	return roles, nil
}

func (s *Server) apiGetMe(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	writeJSON(w, http.StatusOK, toUserJSON(u))
}

func (s *Server) apiListUsers(w http.ResponseWriter, r *http.Request) {
	users, err := scopedUsers(r.Context(), s.DB, auth.UserFrom(r.Context()))
	if err != nil {
		s.serverFault(w, r, "list users", err)
		return
	}
	out := make([]userJSON, 0, len(users))
	for _, u := range users {
		out = append(out, toUserJSON(u))
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out})
}

func (s *Server) apiGetUser(w http.ResponseWriter, r *http.Request) {
	u, ok := s.pathUser(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, toUserJSON(u))
}

type createUserJSON struct {
	Email    string   `json:"email"`
	Name     string   `json:"name"`
	JobTitle string   `json:"job_title"`
	Password string   `json:"password"`
	Roles    []string `json:"roles"`
	SiteIDs  []int64  `json:"site_ids"`
	// AllSites must be true for a user of every site: an empty site_ids
	// alone is refused rather than read as the broadest access.
	AllSites bool `json:"all_sites"`
}

// apiAccessProblem is auth.AccessProblems worded for the API's field
// names; nil when the access is complete.
func apiAccessProblem(roles []auth.Role, siteIDs []int64, allSites, needRole bool) error {
	p := auth.AccessProblems(roles, siteIDs, allSites, needRole)
	if msg := p["roles"]; msg != "" {
		return problem.Field("roles", msg)
	}
	switch {
	case p["sites"] == "":
		return nil
	case allSites:
		return problem.Field("site_ids", "site_ids: give either \"all_sites\": true or site ids, not both")
	}
	return problem.Field("site_ids", "site_ids: give the user's site ids, or \"all_sites\": true for every site")
}

func (s *Server) apiCreateUser(w http.ResponseWriter, r *http.Request) {
	var in createUserJSON
	if !decodeBody(w, r, &in) {
		return
	}
	roles, err := parseRoles(in.Roles)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := apiAccessProblem(roles, in.SiteIDs, in.AllSites, true); err != nil {
		s.fail(w, r, err)
		return
	}
	if msg := auth.UserFrom(r.Context()).GrantProblem(in.AllSites, in.SiteIDs); msg != "" {
		s.fail(w, r, problem.Field("site_ids", msg))
		return
	}
	nu := auth.NewUser{Email: in.Email, Name: in.Name, Roles: roles, AllSites: in.AllSites, SiteIDs: in.SiteIDs, JobTitle: in.JobTitle}
	if s.Entra == nil || in.Password != "" {
		if in.Password == "" {
			s.fail(w, r, problem.Invalidf("password", "required for a local account (at least 10 characters)"))
			return
		}
		if nu.PasswordHash, err = auth.HashPassword(in.Password); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	for _, id := range in.SiteIDs {
		if _, err := auth.SiteByID(r.Context(), s.DB.SQL, id); err != nil {
			s.fail(w, r, problem.Invalidf("site_ids", "there is no site with id %d", id))
			return
		}
	}
	u, err := auth.AddUser(r.Context(), s.DB, nu)
	if err != nil {
		s.serverFault(w, r, "create user", err)
		return
	}
	writeJSON(w, http.StatusCreated, toUserJSON(u))
}

// updateUserJSON: absent fields are left as they are.
type updateUserJSON struct {
	Name      *string   `json:"name"`
	JobTitle  *string   `json:"job_title"`
	Roles     *[]string `json:"roles"`
	SiteIDs   *[]int64  `json:"site_ids"`
	AllSites  *bool     `json:"all_sites"`
	ManagerID *int64    `json:"manager_id"`
	Disabled  *bool     `json:"disabled"`
}

func (s *Server) apiUpdateUser(w http.ResponseWriter, r *http.Request) {
	admin, u, ok := s.adminAndPathUser(w, r)
	if !ok {
		return
	}
	var in updateUserJSON
	if !decodeBody(w, r, &in) {
		return
	}
	up := auth.UserUpdate{Name: u.Name, AllSites: u.AllSites, SiteIDs: u.SiteIDs, ManagerID: u.ManagerID, Disabled: u.Disabled}
	for _, role := range u.Roles {
		if !slices.Contains(u.EntraRoles, role) {
			up.Roles = append(up.Roles, role)
		}
	}
	if in.Name != nil {
		up.Name = *in.Name
	}
	up.JobTitle = in.JobTitle
	if in.Roles != nil {
		roles, err := parseRoles(*in.Roles)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		// The same rule as creating: no user is left without a role,
		// unless Entra ID gives them some.
		if len(roles) == 0 && auth.RoleNeeded(u) {
			s.fail(w, r, problem.Field("roles", auth.AccessProblems(nil, nil, true, true)["roles"]))
			return
		}
		up.Roles = roles
	}
	if in.SiteIDs != nil || in.AllSites != nil {
		// Sites change only with an explicit choice: site ids, or
		// all_sites true (site_ids [] alone no longer means every site).
		var ids []int64
		if in.SiteIDs != nil {
			ids = *in.SiteIDs
		}
		all := in.AllSites != nil && *in.AllSites
		if err := apiAccessProblem(nil, ids, all, false); err != nil {
			s.fail(w, r, err)
			return
		}
		if msg := admin.GrantProblem(all, ids); msg != "" {
			s.fail(w, r, problem.Field("site_ids", msg))
			return
		}
		up.AllSites, up.SiteIDs = all, ids
	}
	if in.ManagerID != nil {
		up.ManagerID = *in.ManagerID
	}
	if in.Disabled != nil {
		up.Disabled = *in.Disabled
	}
	if u.ID == admin.ID && (up.Disabled || !slices.Contains(up.Roles, auth.RoleAdmin) && !slices.Contains(u.EntraRoles, auth.RoleAdmin)) {
		s.fail(w, r, problem.Invalidf("roles", "you cannot remove your own admin role or disable yourself"))
		return
	}
	err := auth.UpdateUser(r.Context(), s.DB, u.ID, up, s.Now())
	if problem.KindOf(err) == problem.Invalid {
		s.fail(w, r, err)
		return
	}
	if err != nil {
		s.serverFault(w, r, "update user", err)
		return
	}
	if u, ok = s.pathUser(w, r); ok {
		writeJSON(w, http.StatusOK, toUserJSON(u))
	}
}
