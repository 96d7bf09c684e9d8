package web_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// Who may reach each route. EVERY registered route must have a row:
// TestAccessTableCoversEveryRoute fails otherwise. When you add a route,
// add its row here with the pattern exactly as registered, a concrete path
// ({user} is replaced by a real user id; use ids that need not exist for
// other records: a 404 still counts as "allowed through"), and who may
// pass the route-level check:
//
//	"public"     anyone, signed in or not
//	"signed-in"  any signed-in, enabled user (even with no role)
//	"admin,auditor,..." users holding one of these roles
var accessTable = []struct {
	pattern, path, allow string
}{
	// Foundation.
	{"GET /healthz", "/healthz", "public"},
	{"GET /readyz", "/readyz", "public"},
	{"GET /api/v1/openapi.json", "/api/v1/openapi.json", "public"},
	{"GET /static/", "/static/app.css", "public"},
	{"/", "/no-such-page", "public"},

	// Sign-in and sessions.
	{"GET /auth/login", "/auth/login", "public"},
	{"POST /auth/login", "/auth/login", "public"},
	{"GET /auth/entra", "/auth/entra", "public"},
	{"GET /auth/callback", "/auth/callback", "public"},
	{"POST /auth/logout", "/auth/logout", "public"},
	{"POST /auth/logout-everywhere", "/auth/logout-everywhere", "signed-in"},

	// Own account.
	{"GET /account", "/account", "signed-in"},
	{"POST /account/tokens", "/account/tokens", "signed-in"},
	{"POST /account/tokens/{id}/revoke", "/account/tokens/999999/revoke", "signed-in"},
	{"POST /account/password", "/account/password", "signed-in"},
	{"POST /account/delegations", "/account/delegations", "approver"},
	{"POST /account/delegations/{id}/revoke", "/account/delegations/999999/revoke", "approver"},
	{"GET /api/v1/me", "/api/v1/me", "signed-in"},

	// Administration.
	{"GET /admin", "/admin", "admin"},
	{"GET /admin/users", "/admin/users", "admin"},
	{"POST /admin/users", "/admin/users", "admin"},
	{"GET /admin/users/{id}", "/admin/users/{user}", "admin"},
	{"POST /admin/users/{id}", "/admin/users/{user}", "admin"},
	{"POST /admin/users/{id}/password", "/admin/users/{user}/password", "admin"},
	{"GET /admin/sites", "/admin/sites", "admin"},
	{"POST /admin/sites", "/admin/sites", "admin"},
	{"GET /admin/sites/{id}", "/admin/sites/999999", "admin"},
	{"POST /admin/sites/{id}", "/admin/sites/999999", "admin"},
	{"GET /admin/sites/{id}/settings", "/admin/sites/999999/settings", "admin"},
	{"GET /admin/sites/{id}/risk-matrix", "/admin/sites/999999/risk-matrix", "admin"},
	{"POST /admin/sites/{id}/risk-matrix", "/admin/sites/999999/risk-matrix", "admin"},
	{"GET /admin/sites/{id}/screening-questionnaire", "/admin/sites/999999/screening-questionnaire", "admin"},
	{"POST /admin/sites/{id}/screening-questionnaire", "/admin/sites/999999/screening-questionnaire", "admin"},
	{"POST /admin/sites/{id}/settings", "/admin/sites/999999/settings", "admin"},
	{"GET /api/v1/users", "/api/v1/users", "admin"},
	{"POST /api/v1/users", "/api/v1/users", "admin"},
	{"GET /api/v1/users/{id}", "/api/v1/users/{user}", "admin"},
	{"PATCH /api/v1/users/{id}", "/api/v1/users/{user}", "admin"},
	{"GET /api/v1/sites", "/api/v1/sites", "signed-in"},
	{"POST /api/v1/sites", "/api/v1/sites", "admin"},
	{"PATCH /api/v1/sites/{id}", "/api/v1/sites/999999", "admin"},
	{"GET /api/v1/sites/{id}/settings", "/api/v1/sites/999999/settings", "signed-in"},
	{"PATCH /api/v1/sites/{id}/settings", "/api/v1/sites/999999/settings", "admin"},
	{"GET /api/v1/sites/{id}/risk-matrix", "/api/v1/sites/999999/risk-matrix", "signed-in"},
	{"PUT /api/v1/sites/{id}/risk-matrix", "/api/v1/sites/999999/risk-matrix", "admin"},
	{"GET /api/v1/sites/{id}/screening-questionnaire", "/api/v1/sites/999999/screening-questionnaire", "signed-in"},
	{"PUT /api/v1/sites/{id}/screening-questionnaire", "/api/v1/sites/999999/screening-questionnaire", "admin"},

	// Changes (MOC/PCR) API: route-level permission; site, initiator and
	// stage rules are change.Service's.
	{"GET /api/v1/changes", "/api/v1/changes", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"GET /api/v1/changes.csv", "/api/v1/changes.csv", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"POST /api/v1/changes", "/api/v1/changes", "initiator,coordinator"},
	{"GET /api/v1/changes/conflicts", "/api/v1/changes/conflicts", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"GET /api/v1/changes/{id}", "/api/v1/changes/999999", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"PATCH /api/v1/changes/{id}", "/api/v1/changes/999999", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"POST /api/v1/changes/{id}/submit", "/api/v1/changes/999999/submit", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"POST /api/v1/changes/{id}/transitions", "/api/v1/changes/999999/transitions", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"POST /api/v1/changes/{id}/reviewers", "/api/v1/changes/999999/reviewers", "coordinator"},
	{"POST /api/v1/changes/{id}/screening-confirmation", "/api/v1/changes/999999/screening-confirmation", "coordinator"},
	{"POST /api/v1/changes/{id}/review-requests", "/api/v1/changes/999999/review-requests", "coordinator"},
	{"PUT /api/v1/changes/{id}/approvers", "/api/v1/changes/999999/approvers", "coordinator"},
	{"POST /api/v1/changes/{id}/reviews", "/api/v1/changes/999999/reviews", "reviewer"},
	{"POST /api/v1/changes/{id}/approvals", "/api/v1/changes/999999/approvals", "approver"},
	{"GET /api/v1/changes/{id}/links", "/api/v1/changes/999999/links", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"POST /api/v1/changes/{id}/links", "/api/v1/changes/999999/links", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"DELETE /api/v1/changes/{id}/links/{lid}", "/api/v1/changes/999999/links/1", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"GET /api/v1/changes/{id}/actions", "/api/v1/changes/999999/actions", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"POST /api/v1/changes/{id}/actions", "/api/v1/changes/999999/actions", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"POST /api/v1/actions/{id}/complete", "/api/v1/actions/999999/complete", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"PATCH /api/v1/actions/{id}", "/api/v1/actions/999999", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"POST /api/v1/actions/{id}/verify", "/api/v1/actions/999999/verify", "coordinator"},
	{"GET /api/v1/changes/{id}/pssr", "/api/v1/changes/999999/pssr", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"GET /api/v1/changes/{id}/pssr-team", "/api/v1/changes/999999/pssr-team", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"PUT /api/v1/changes/{id}/pssr-team", "/api/v1/changes/999999/pssr-team", "coordinator"},
	{"POST /api/v1/pssr-items/{id}/answer", "/api/v1/pssr-items/999999/answer", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"POST /api/v1/changes/{id}/acknowledgers", "/api/v1/changes/999999/acknowledgers", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"POST /api/v1/changes/{id}/acknowledge", "/api/v1/changes/999999/acknowledge", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"GET /api/v1/changes/{id}/attachments", "/api/v1/changes/999999/attachments", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"POST /api/v1/changes/{id}/attachments", "/api/v1/changes/999999/attachments", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"GET /api/v1/changes/{id}/attachments/{aid}", "/api/v1/changes/999999/attachments/1", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"POST /api/v1/changes/{id}/extensions", "/api/v1/changes/999999/extensions", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"GET /api/v1/changes/{id}/hazard-reviews", "/api/v1/changes/999999/hazard-reviews", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"POST /api/v1/changes/{id}/hazard-reviews", "/api/v1/changes/999999/hazard-reviews", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"POST /api/v1/changes/{id}/extensions/decision", "/api/v1/changes/999999/extensions/decision", "approver"},
	{"GET /api/v1/changes/{id}/audit", "/api/v1/changes/999999/audit", "auditor,coordinator,admin"},
	{"GET /api/v1/audit/verify", "/api/v1/audit/verify", "auditor,coordinator,admin"},
	{"GET /api/v1/change-dashboard", "/api/v1/change-dashboard", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"GET /api/v1/change-metrics", "/api/v1/change-metrics", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"GET /api/v1/change-metrics.csv", "/api/v1/change-metrics.csv", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"GET /api/v1/my-work", "/api/v1/my-work", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"GET /api/v1/delegations", "/api/v1/delegations", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"POST /api/v1/delegations", "/api/v1/delegations", "approver"},
	{"DELETE /api/v1/delegations/{id}", "/api/v1/delegations/999999", "approver"},
	{"GET /api/v1/units", "/api/v1/units", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"POST /api/v1/units", "/api/v1/units", "admin"},
	{"PATCH /api/v1/units/{id}", "/api/v1/units/999999", "admin"},
	{"GET /api/v1/pssr-templates", "/api/v1/pssr-templates", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"POST /api/v1/pssr-templates", "/api/v1/pssr-templates", "admin"},
	{"GET /api/v1/pssr-templates/{id}", "/api/v1/pssr-templates/999999", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"PUT /api/v1/pssr-templates/{id}", "/api/v1/pssr-templates/999999", "admin"},
	{"GET /api/v1/reminder-settings", "/api/v1/reminder-settings", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"PUT /api/v1/reminder-settings", "/api/v1/reminder-settings", "admin"},

	// Change pages (change_pages*.go): {ref} is the change number (or its
	// numeric id); route-level permission only, the rest is change.Service's.
	{"GET /changes/new", "/changes/new", "initiator,coordinator"},
	{"POST /changes/new", "/changes/new", "initiator,coordinator"},
	{"GET /changes/{ref}", "/changes/MOC-1999-9999", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"GET /changes/{ref}/edit", "/changes/MOC-1999-9999/edit", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"POST /changes/{ref}/edit", "/changes/MOC-1999-9999/edit", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"GET /changes/{ref}/print", "/changes/MOC-1999-9999/print", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"GET /changes/{ref}/people", "/changes/MOC-1999-9999/people", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"POST /changes/{ref}/submit", "/changes/MOC-1999-9999/submit", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"POST /changes/{ref}/transition", "/changes/MOC-1999-9999/transition", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"POST /changes/{ref}/reviewers", "/changes/MOC-1999-9999/reviewers", "coordinator"},
	{"POST /changes/{ref}/screening-confirmation", "/changes/MOC-1999-9999/screening-confirmation", "coordinator"},
	{"POST /changes/{ref}/review-requests", "/changes/MOC-1999-9999/review-requests", "coordinator"},
	{"POST /changes/{ref}/approvers", "/changes/MOC-1999-9999/approvers", "coordinator"},
	{"POST /changes/{ref}/review", "/changes/MOC-1999-9999/review", "reviewer"},
	{"POST /changes/{ref}/decision", "/changes/MOC-1999-9999/decision", "approver"},
	{"POST /changes/{ref}/actions", "/changes/MOC-1999-9999/actions", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"POST /changes/{ref}/actions/{aid}/complete", "/changes/MOC-1999-9999/actions/999999/complete", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"POST /changes/{ref}/actions/{aid}/edit", "/changes/MOC-1999-9999/actions/999999/edit", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"POST /changes/{ref}/actions/{aid}/verify", "/changes/MOC-1999-9999/actions/999999/verify", "coordinator"},
	{"POST /changes/{ref}/pssr/{item}", "/changes/MOC-1999-9999/pssr/999999", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"POST /changes/{ref}/pssr-team", "/changes/MOC-1999-9999/pssr-team", "coordinator"},
	{"GET /changes/{ref}/walkdown", "/changes/MOC-1999-9999/walkdown", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"POST /changes/{ref}/walkdown/{item}", "/changes/MOC-1999-9999/walkdown/999999", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"GET /changes/{ref}/attachments/{aid}/preview", "/changes/MOC-1999-9999/attachments/1/preview", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"GET /changes/{ref}/attachments/{aid}/thumbnail", "/changes/MOC-1999-9999/attachments/999999/thumbnail", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"POST /changes/{ref}/acknowledgers", "/changes/MOC-1999-9999/acknowledgers", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"POST /changes/{ref}/acknowledge", "/changes/MOC-1999-9999/acknowledge", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"POST /changes/{ref}/attachments", "/changes/MOC-1999-9999/attachments", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"GET /changes/{ref}/attachments/{aid}", "/changes/MOC-1999-9999/attachments/999999", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"POST /changes/{ref}/extensions", "/changes/MOC-1999-9999/extensions", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"POST /changes/{ref}/hazard-reviews", "/changes/MOC-1999-9999/hazard-reviews", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"POST /changes/{ref}/links", "/changes/MOC-1999-9999/links", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"POST /changes/{ref}/links/{lid}/remove", "/changes/MOC-1999-9999/links/1/remove", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"POST /changes/{ref}/extensions/decision", "/changes/MOC-1999-9999/extensions/decision", "approver"},
	{"GET /changes/{ref}/audit", "/changes/MOC-1999-9999/audit", "auditor,coordinator,admin"},
	{"GET /audit/verify", "/audit/verify", "auditor,coordinator,admin"},
	// Notifications (own inbox; someone else's notification is a 404).
	{"GET /api/v1/notifications", "/api/v1/notifications", "signed-in"},
	{"GET /api/v1/notifications/unread-count", "/api/v1/notifications/unread-count", "signed-in"},
	{"POST /api/v1/notifications/{id}/read", "/api/v1/notifications/999999/read", "signed-in"},
	{"POST /api/v1/notifications/{id}/unread", "/api/v1/notifications/999999/unread", "signed-in"},
	{"POST /api/v1/notifications/read-all", "/api/v1/notifications/read-all", "signed-in"},
	{"GET /api/v1/notifications/preferences", "/api/v1/notifications/preferences", "signed-in"},
	{"PUT /api/v1/notifications/preferences", "/api/v1/notifications/preferences", "signed-in"},
	{"GET /events", "/events", "signed-in"},
	{"GET /notifications", "/notifications", "signed-in"},
	{"POST /notifications/{id}/read", "/notifications/999999/read", "signed-in"},
	{"POST /notifications/{id}/unread", "/notifications/999999/unread", "signed-in"},
	{"POST /notifications/read-all", "/notifications/read-all", "signed-in"},
	{"GET /account/notifications", "/account/notifications", "signed-in"},
	{"POST /account/notifications", "/account/notifications", "signed-in"},

	// Email administration.
	{"GET /api/v1/admin/emails", "/api/v1/admin/emails", "admin"},
	{"POST /api/v1/admin/emails/{id}/retry", "/api/v1/admin/emails/999999/retry", "admin"},
	{"POST /api/v1/admin/emails/retry-failed", "/api/v1/admin/emails/retry-failed", "admin"},
	{"GET /admin/email/log", "/admin/email/log", "admin"},
	{"POST /admin/email/log/{id}/retry", "/admin/email/log/999999/retry", "admin"},
	{"POST /admin/email/log/retry-failed", "/admin/email/log/retry-failed", "admin"},
	{"GET /admin/email", "/admin/email", "admin"},
	{"POST /admin/email/check", "/admin/email/check", "admin"},
	{"POST /admin/email/test", "/admin/email/test", "admin"},
	{"GET /admin/mailbox", "/admin/mailbox", "admin"},
	{"GET /admin/mailbox/{id}", "/admin/mailbox/999999", "admin"},
	{"GET /admin/mailbox/{id}/body", "/admin/mailbox/999999/body", "admin"},

	// Work pages: My work, the change list and export, the dashboard,
	// and change administration (PSSR templates, reminders, units).
	{"GET /{$}", "/", "signed-in"},
	{"GET /changes", "/changes", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"GET /changes.csv", "/changes.csv", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"GET /dashboard", "/dashboard", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"GET /dashboard/metrics", "/dashboard/metrics", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"GET /dashboard/metrics.csv", "/dashboard/metrics.csv", "initiator,reviewer,approver,coordinator,admin,auditor"},
	{"GET /admin/pssr-templates", "/admin/pssr-templates", "admin"},
	{"POST /admin/pssr-templates", "/admin/pssr-templates", "admin"},
	{"GET /admin/pssr-templates/new", "/admin/pssr-templates/new", "admin"},
	{"GET /admin/pssr-templates/{id}", "/admin/pssr-templates/999999", "admin"},
	{"POST /admin/pssr-templates/{id}", "/admin/pssr-templates/999999", "admin"},
	{"GET /admin/reminders", "/admin/reminders", "admin"},
	{"POST /admin/reminders", "/admin/reminders", "admin"},
	{"GET /admin/units", "/admin/units", "admin"},
	{"POST /admin/units", "/admin/units", "admin"},
	{"GET /admin/units/{id}", "/admin/units/999999", "admin"},
	{"POST /admin/units/{id}", "/admin/units/999999", "admin"},
}

// TestAccessTableCoversEveryRoute keeps the table honest: a new route
// without a row fails here, naming the route.
func TestAccessTableCoversEveryRoute(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	site := newSite(t, db, nil)
	var inTable []string
	for _, row := range accessTable {
		inTable = append(inTable, row.pattern)
	}
	for _, p := range site.web.Patterns() {
		if !slices.Contains(inTable, p) {
			t.Errorf("route %q has no row in accessTable (internal/web/routes_test.go): add who may reach it", p)
		}
	}
	for _, p := range inTable {
		if !slices.Contains(site.web.Patterns(), p) {
			t.Errorf("accessTable row %q is not a registered route", p)
		}
	}
}

// TestAccessByRole walks every role (and anonymous, and a user without
// roles) through every route in the table and checks the route-level
// decision: allowed callers are not stopped with 401/403 or sent to
// sign-in; others are.
func TestAccessByRole(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newSite(t, db, nil)
		ctx := context.Background()
		type subject struct {
			name  string
			role  auth.Role // "" = no role
			token string
			id    int64
			anon  bool
		}
		subjects := []subject{{name: "anonymous", anon: true}, {name: "no-role"}}
		for _, r := range auth.AllRoles {
			subjects = append(subjects, subject{name: string(r), role: r})
		}
		for i := range subjects {
			if subjects[i].anon {
				continue
			}
			var roles []auth.Role
			if subjects[i].role != "" {
				roles = []auth.Role{subjects[i].role}
			}
			u, err := auth.CreateUser(ctx, db.SQL, auth.NewUser{Email: subjects[i].name + "@example.com", Name: subjects[i].name, Roles: roles, AllSites: true})
			if err != nil {
				t.Fatal(err)
			}
			subjects[i].id = u.ID
		}
		// Sign out everywhere revokes the caller's tokens, so each
		// subject gets a fresh one after that route.
		mintTokens := func() {
			for i := range subjects {
				if subjects[i].anon {
					continue
				}
				var err error
				if subjects[i].token, err = auth.CreateAPIToken(ctx, db.SQL, subjects[i].id, "access test"); err != nil {
					t.Fatal(err)
				}
			}
		}
		mintTokens()
		target := site.user("target@example.com", auth.RoleInitiator)

		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		for _, row := range accessTable {
			method, _, ok := strings.Cut(row.pattern, " ")
			if !ok {
				method = "GET"
			}
			url := site.URL + strings.ReplaceAll(row.path, "{user}", itoa(target.ID))
			for _, sub := range subjects {
				want := row.allow == "public" ||
					!sub.anon && (row.allow == "signed-in" || sub.role != "" && slices.Contains(strings.Split(row.allow, ","), string(sub.role)))
				req, _ := http.NewRequest(method, url, nil)
				if !sub.anon {
					req.Header.Set("Authorization", "Bearer "+sub.token)
				}
				resp, err := noRedirect.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				toLogin := resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), "/auth/login?")
				stopped := resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden || toLogin
				if want && stopped {
					t.Errorf("%s %s as %s: %d (Location %q), want allowed", method, row.path, sub.name, resp.StatusCode, resp.Header.Get("Location"))
				}
				if !want {
					wantStatus := http.StatusForbidden
					if sub.anon {
						wantStatus = http.StatusUnauthorized
					}
					if sub.anon && !strings.HasPrefix(row.path, "/api/") {
						if !toLogin {
							t.Errorf("%s %s as anonymous: %d, want redirect to sign-in", method, row.path, resp.StatusCode)
						}
					} else if resp.StatusCode != wantStatus {
						t.Errorf("%s %s as %s: %d, want %d", method, row.path, sub.name, resp.StatusCode, wantStatus)
					}
				}
			}
			if row.pattern == "POST /auth/logout-everywhere" {
				mintTokens()
			}
		}
	})
}

// The policy itself: a few decisions spelled out, so a change to the
// matrix is a deliberate act.
func TestPolicyMatrix(t *testing.T) {
	u := func(roles ...auth.Role) *auth.User { return &auth.User{ID: 1, Roles: roles} }
	cases := []struct {
		user *auth.User
		a    auth.Action
		want bool
	}{
		{nil, auth.ActionViewChanges, false},
		{u(), auth.ActionUseAccount, true},
		{u(), auth.ActionViewChanges, false},
		{u(auth.RoleAuditor), auth.ActionViewChanges, true},
		{u(auth.RoleAuditor), auth.ActionViewAudit, true},
		{u(auth.RoleAuditor), auth.ActionCreateChange, false},
		{u(auth.RoleAuditor), auth.ActionApproveChange, false},
		{u(auth.RoleInitiator), auth.ActionCreateChange, true},
		{u(auth.RoleInitiator), auth.ActionApproveChange, false},
		{u(auth.RoleReviewer), auth.ActionReviewChange, true},
		{u(auth.RoleApprover), auth.ActionApproveChange, true},
		{u(auth.RoleApprover), auth.ActionCoordinateChange, false},
		{u(auth.RoleCoordinator), auth.ActionCoordinateChange, true},
		{u(auth.RoleCoordinator), auth.ActionManageUsers, false},
		{u(auth.RoleAdmin), auth.ActionManageUsers, true},
		{u(auth.RoleAdmin), auth.ActionSendEmailAdmin, true},
		{u(auth.RoleAdmin), auth.ActionApproveChange, false},
		{&auth.User{ID: 1, Roles: []auth.Role{auth.RoleAdmin}, Disabled: true}, auth.ActionUseAccount, false},
		{u(auth.RoleAdmin), auth.Action("no.such.action"), false},
	}
	for _, c := range cases {
		if got := auth.Can(c.user, c.a); got != c.want {
			t.Errorf("Can(%v, %s) = %v, want %v", c.user, c.a, got, c.want)
		}
	}
	site := &auth.User{ID: 1, Roles: []auth.Role{auth.RoleApprover}, SiteIDs: []int64{7}}
	if !auth.CanOnSite(site, auth.ActionApproveChange, 7) || auth.CanOnSite(site, auth.ActionApproveChange, 8) {
		t.Error("site limits not applied")
	}
}
