package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/config"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
)

type userRow struct {
	*auth.User
	SiteCodes   []string
	ManagerName string
}

type adminUsersData struct {
	Users    []userRow
	Sites    []auth.Site
	Roles    []auth.Role
	Entra    bool
	Form     userForm
	Managers []*auth.User
	Edit     *auth.User
	// AllSitesAdmin offers "all sites": only such an admin may grant it.
	AllSitesAdmin bool
}

// userForm is the create/edit form's values, kept to refill the form.
type userForm struct {
	Email     string
	Name      string
	JobTitle  string
	Roles     []auth.Role
	SiteIDs   []int64
	ManagerID int64
	Disabled  bool
	// AllSites is the explicit choice of every site.
	AllSites bool
}

func (f userForm) HasRole(r auth.Role) bool { return slices.Contains(f.Roles, r) }
func (f userForm) HasSite(id int64) bool    { return slices.Contains(f.SiteIDs, id) }

func parseUserForm(r *http.Request) (userForm, map[string]string) {
	f := userForm{Email: strings.TrimSpace(r.PostFormValue("email")), Name: strings.TrimSpace(r.PostFormValue("name")),
		JobTitle: strings.TrimSpace(r.PostFormValue("job_title")), Disabled: r.PostFormValue("disabled") == "on", AllSites: r.PostFormValue("all_sites") == "on"}
	errs := map[string]string{}
	if msg := auth.JobTitleProblem(f.JobTitle); msg != "" {
		errs["job_title"] = "Job title" + strings.TrimPrefix(msg, "job_title:")
	}
	for _, v := range r.PostForm["roles"] {
		role, err := auth.ParseRole(v)
		if err != nil {
			errs["roles"] = "Roles: " + err.Error()
			continue
		}
		f.Roles = append(f.Roles, role)
	}
	for _, v := range r.PostForm["sites"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			errs["sites"] = "Sites: expected site ids, got " + strconv.Quote(v)
			continue
		}
		f.SiteIDs = append(f.SiteIDs, id)
	}
	if v := r.PostFormValue("manager"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			errs["manager"] = "Manager: choose a user from the list"
		}
		f.ManagerID = id
	}
	return f, errs
}

// accessErrors adds auth.AccessProblems to a form's errors, worded for
// the page ("Roles: choose at least one role").
func accessErrors(errs map[string]string, f userForm, needRole bool) {
	for field, msg := range auth.AccessProblems(f.Roles, f.SiteIDs, f.AllSites, needRole) {
		if errs[field] == "" {
			errs[field] = sentence(msg)
		}
	}
}

func (s *Server) usersData(ctx context.Context, admin *auth.User) (adminUsersData, error) {
	d := adminUsersData{Roles: auth.AllRoles, Entra: s.Entra != nil, AllSitesAdmin: admin.ManagesAllSites()}
	users, err := scopedUsers(ctx, s.DB, admin)
	if err != nil {
		return d, err
	}
	if d.Sites, err = scopedSites(ctx, s.DB, admin); err != nil {
		return d, err
	}
	codes := map[int64]string{}
	for _, site := range d.Sites {
		codes[site.ID] = site.Code
	}
	names := map[int64]string{}
	for _, u := range users {
		names[u.ID] = u.Name
	}
	for _, u := range users {
		row := userRow{User: u, ManagerName: names[u.ManagerID]}
		for _, id := range u.SiteIDs {
			row.SiteCodes = append(row.SiteCodes, codes[id])
		}
		d.Users = append(d.Users, row)
	}
	d.Managers = users
	return d, nil
}

func (s *Server) pageListUsers(w http.ResponseWriter, r *http.Request) {
	s.renderUsers(w, r, http.StatusOK, userForm{}, nil, r.URL.Query().Get("created") != "")
}

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, status int, f userForm, errs map[string]string, created bool) {
	d, err := s.usersData(r.Context(), auth.UserFrom(r.Context()))
	if err != nil {
		s.serverFault(w, r, "list users", err)
		return
	}
	d.Form = f
	p := &Page{Title: "Users", Data: d, Errors: errs}
	if created {
		p.Flash = "User created."
	}
	s.render(w, r, status, "admin_users.html", p)
}

func (s *Server) pageCreateUser(w http.ResponseWriter, r *http.Request) {
	f, errs := parseUserForm(r)
	// Every problem at once: identity, access and password are checked
	// before any of them stops the form.
	for field, msg := range auth.IdentityProblems(f.Email, f.Name) {
		errs[field] = sentence(msg)
	}
	accessErrors(errs, f, true)
	if msg := auth.UserFrom(r.Context()).GrantProblem(f.AllSites, f.SiteIDs); msg != "" && errs["sites"] == "" {
		errs["sites"] = fieldError("sites", msg, nil)
	}
	password := r.PostFormValue("password")
	nu := auth.NewUser{Email: f.Email, Name: f.Name, Roles: f.Roles, AllSites: f.AllSites, SiteIDs: f.SiteIDs, JobTitle: f.JobTitle}
	if s.Entra == nil {
		if password == "" {
			errs["password"] = "Password is required for a local account (at least 10 characters)"
		} else if h, err := auth.HashPassword(password); err != nil {
			_, errs["password"], _ = invalidField(err)
		} else {
			nu.PasswordHash = h
		}
	}
	if len(errs) == 0 {
		_, err := auth.AddUser(r.Context(), s.DB, nu)
		if field, msg, ok := invalidField(err); ok {
			errs[field] = msg
		} else if err != nil {
			s.serverFault(w, r, "create user", err)
			return
		}
	}
	if len(errs) > 0 {
		s.renderUsers(w, r, http.StatusBadRequest, f, errs, false)
		return
	}
	http.Redirect(w, r, "/admin/users?created=1", http.StatusSeeOther)
}

func (s *Server) pathUser(w http.ResponseWriter, r *http.Request) (*auth.User, bool) {
	var u *auth.User
	var err error
	if id, ok := pathInt(r, "id"); ok {
		u, err = auth.UserByID(r.Context(), s.DB.SQL, id)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.serverFault(w, r, "load user", err)
		return nil, false
	}
	// A user beyond the admin's scope (auth.User.Covers) is answered as
	// one that does not exist: a site admin neither sees nor touches an
	// account that reaches further than their own.
	if u == nil || !auth.UserFrom(r.Context()).Covers(u) {
		s.fail(w, r, problem.New(problem.NotFound, "There is no such user."))
		return nil, false
	}
	return u, true
}

func (s *Server) pageEditUser(w http.ResponseWriter, r *http.Request) {
	u, ok := s.pathUser(w, r)
	if !ok {
		return
	}
	s.renderUserEdit(w, r, http.StatusOK, u, userFormOf(u), nil, r.URL.Query().Get("saved") != "")
}

// userFormOf fills the edit form from a stored user. Roles that come from
// Entra ID are left out: the form edits only the roles assigned here.
func userFormOf(u *auth.User) userForm {
	f := userForm{Email: u.Email, Name: u.Name, JobTitle: u.JobTitle, SiteIDs: u.SiteIDs, ManagerID: u.ManagerID, Disabled: u.Disabled,
		AllSites: u.AllSites}
	for _, role := range u.Roles {
		if !slices.Contains(u.EntraRoles, role) {
			f.Roles = append(f.Roles, role)
		}
	}
	return f
}

// adminAndPathUser is the opening of every handler that manages the
// user in the path: the signed-in admin, and the user, who must exist.
func (s *Server) adminAndPathUser(w http.ResponseWriter, r *http.Request) (admin, u *auth.User, ok bool) {
	if u, ok = s.pathUser(w, r); !ok {
		return nil, nil, false
	}
	return auth.UserFrom(r.Context()), u, true
}

func (s *Server) renderUserEdit(w http.ResponseWriter, r *http.Request, status int, u *auth.User, f userForm, errs map[string]string, saved bool) {
	d, err := s.usersData(r.Context(), auth.UserFrom(r.Context()))
	if err != nil {
		s.serverFault(w, r, "load users", err)
		return
	}
	d.Form, d.Edit = f, u
	p := &Page{Title: "Edit " + u.Name, Data: d, Errors: errs}
	if saved {
		p.Flash = "Saved."
	}
	s.render(w, r, status, "admin_user_edit.html", p)
}

func (s *Server) pageSaveUser(w http.ResponseWriter, r *http.Request) {
	admin, u, ok := s.adminAndPathUser(w, r)
	if !ok {
		return
	}
	f, errs := parseUserForm(r)
	f.Email = u.Email
	if f.Name == "" {
		errs["name"] = "Name is required"
	}
	// The create form's rule: at least one role, unless Entra ID gives some.
	accessErrors(errs, f, auth.RoleNeeded(u))
	if msg := auth.UserFrom(r.Context()).GrantProblem(f.AllSites, f.SiteIDs); msg != "" && errs["sites"] == "" {
		errs["sites"] = fieldError("sites", msg, nil)
	}
	if u.ID == admin.ID && (f.Disabled || !f.HasRole(auth.RoleAdmin) && !slices.Contains(u.EntraRoles, auth.RoleAdmin)) {
		errs["roles"] = "You cannot remove your own admin role or disable yourself; ask another administrator"
	}
	if len(errs) == 0 {
		err := auth.UpdateUser(r.Context(), s.DB, u.ID, auth.UserUpdate{Name: f.Name, Roles: f.Roles, AllSites: f.AllSites, SiteIDs: f.SiteIDs, ManagerID: f.ManagerID,
			Disabled: f.Disabled, JobTitle: &f.JobTitle}, s.Now())
		if field, msg, ok := invalidField(err); ok {
			errs[field] = msg
		} else if err != nil {
			s.serverFault(w, r, "update user", err)
			return
		}
	}
	if len(errs) > 0 {
		s.renderUserEdit(w, r, http.StatusBadRequest, u, f, errs, false)
		return
	}
	s.Logger.InfoContext(r.Context(), "user updated", "user_id", u.ID, "by", admin.ID)
	http.Redirect(w, r, "/admin/users/"+strconv.FormatInt(u.ID, 10)+"?saved=1", http.StatusSeeOther)
}

// pageSetUserPassword sets a new password for a local user who forgot theirs,
// ends all their sessions and revokes their API tokens.
func (s *Server) pageSetUserPassword(w http.ResponseWriter, r *http.Request) {
	admin, u, ok := s.adminAndPathUser(w, r)
	if !ok {
		return
	}
	if s.Config.AuthProvider == config.AuthEntra {
		s.fail(w, r, problem.New(problem.Invalid, "Users sign in with Microsoft Entra ID here; reset passwords in the Entra admin center."))
		return
	}
	hash, err := auth.HashPassword(r.PostFormValue("new_password"))
	if err != nil {
		s.renderUserEdit(w, r, http.StatusBadRequest, u, userFormOf(u), map[string]string{"new_password": newPasswordText(err)}, false)
		return
	}
	tokens, err := auth.ResetPassword(r.Context(), s.DB, u.ID, hash, s.Now())
	if err != nil {
		s.serverFault(w, r, "set password", err)
		return
	}
	s.Logger.InfoContext(r.Context(), "password set by admin", "user_id", u.ID, "by", admin.ID, "api_tokens_revoked", tokens)
	http.Redirect(w, r, "/admin/users/"+strconv.FormatInt(u.ID, 10)+"?saved=1", http.StatusSeeOther)
}

// scopedUsers lists the users admin manages (auth.User.Covers).
func scopedUsers(ctx context.Context, db *store.DB, admin *auth.User) ([]*auth.User, error) {
	users, err := auth.ListUsers(ctx, db.SQL)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(users, func(u *auth.User) bool { return !admin.Covers(u) }), nil
}

// scopedSites lists the sites admin manages.
func scopedSites(ctx context.Context, db *store.DB, admin *auth.User) ([]auth.Site, error) {
	sites, err := auth.ListSites(ctx, db.SQL)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(sites, func(st auth.Site) bool { return !admin.ManagesSite(st.ID) }), nil
}
