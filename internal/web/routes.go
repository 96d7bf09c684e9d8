package web

import (
	"net/http"
	"net/url"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/problem"
)

// public marks a route anyone may call, signed in or not; the handler
// decides what an anonymous caller sees.
const public auth.Action = ""

// bodyClass is how large a request body a route takes: small forms and
// JSON, or a file upload. Each route line names one; withBodyLimit
// enforces it before anything reads the body.
type bodyClass int

const (
	bodySmall bodyClass = iota
	bodyUpload
)

// route is one line of the route table.
type route struct {
	pattern string      // method and path as http.ServeMux reads them
	allow   auth.Action // the permission checked before the handler runs
	body    bodyClass
	handler http.HandlerFunc
}

// routeTable is every route the server answers, grouped by URL. Each
// group names the file its handlers live in: a URL's file follows from
// its path (/api/v1/x is api_x.go, /admin/x is admin_x.go, /changes/{ref}
// is change_view.go for reading and change_actions.go for the forms).
// Record-level rules (site, initiator, stage) are change.Service's, on
// top of the permission named here.
func (s *Server) routeTable() []route {
	t := []route{
		// health.go, static.go, openapi.go
		{"GET /healthz", public, bodySmall, s.serveHealthz},
		{"GET /readyz", public, bodySmall, s.serveReadyz},
		{"GET /static/", public, bodySmall, s.serveStatic},
		{"GET /api/v1/openapi.json", public, bodySmall, s.serveOpenAPI},

		// auth_login.go: local sign-in and sign-out
		{"GET /auth/login", public, bodySmall, s.pageShowSignIn},
		{"POST /auth/login", public, bodySmall, s.pageSignIn},
		{"POST /auth/logout", public, bodySmall, s.pageSignOut},
		{"POST /auth/logout-everywhere", auth.ActionUseAccount, bodySmall, s.pageSignOutEverywhere},
		// auth_entra.go: sign-in with Entra ID
		{"GET /auth/entra", public, bodySmall, s.pageStartEntraSignIn},
		{"GET /auth/callback", public, bodySmall, s.pageFinishEntraSignIn},

		// home.go
		{"GET /{$}", auth.ActionUseAccount, bodySmall, s.pageShowMyWork},
		// dashboard.go
		{"GET /dashboard", auth.ActionViewDashboard, bodySmall, s.pageShowDashboard},
		// dashboard_metrics.go
		{"GET /dashboard/metrics", auth.ActionViewDashboard, bodySmall, s.pageShowMetrics},
		{"GET /dashboard/metrics.csv", auth.ActionViewDashboard, bodySmall, s.pageExportMetrics},

		// account.go, account_tokens.go, account_password.go,
		// account_delegations.go, account_notifications.go
		{"GET /account", auth.ActionUseAccount, bodySmall, s.pageShowAccount},
		{"POST /account/tokens", auth.ActionUseAccount, bodySmall, s.pageCreateToken},
		{"POST /account/tokens/{id}/revoke", auth.ActionUseAccount, bodySmall, s.pageRevokeToken},
		{"POST /account/password", auth.ActionUseAccount, bodySmall, s.pageChangePassword},
		{"POST /account/delegations", auth.ActionApproveChange, bodySmall, s.pageCreateDelegation},
		{"POST /account/delegations/{id}/revoke", auth.ActionApproveChange, bodySmall, s.pageRevokeDelegation},
		{"GET /account/notifications", auth.ActionUseAccount, bodySmall, s.pageShowNotificationPrefs},
		{"POST /account/notifications", auth.ActionUseAccount, bodySmall, s.pageSaveNotificationPrefs},

		// notifications.go, events.go
		{"GET /notifications", auth.ActionUseAccount, bodySmall, s.pageListNotifications},
		{"POST /notifications/{id}/read", auth.ActionUseAccount, bodySmall, s.pageMarkNotificationRead},
		{"POST /notifications/{id}/unread", auth.ActionUseAccount, bodySmall, s.pageMarkNotificationUnread},
		{"POST /notifications/read-all", auth.ActionUseAccount, bodySmall, s.pageMarkAllNotificationsRead},
		{"GET /events", auth.ActionUseAccount, bodySmall, s.serveEvents},

		// changes_list.go
		{"GET /changes", auth.ActionViewChanges, bodySmall, s.pageListChanges},
		{"GET /changes.csv", auth.ActionViewChanges, bodySmall, s.pageExportChanges},
		// change_edit.go
		{"GET /changes/new", auth.ActionCreateChange, bodySmall, s.pageNewChange},
		{"POST /changes/new", auth.ActionCreateChange, bodySmall, s.pageCreateChange},
		{"GET /changes/{ref}/edit", auth.ActionViewChanges, bodySmall, s.pageEditChange},
		{"POST /changes/{ref}/edit", auth.ActionViewChanges, bodySmall, s.pageUpdateChange},
		// change_view.go
		{"GET /changes/{ref}", auth.ActionViewChanges, bodySmall, s.pageShowChange},
		{"GET /changes/{ref}/print", auth.ActionViewChanges, bodySmall, s.pagePrintChange},
		// change_people.go: the people search of a large site's forms
		{"GET /changes/{ref}/people", auth.ActionViewChanges, bodySmall, s.pageListChangePeople},
		// attachment.go: a change's files, downloaded or previewed
		{"GET /changes/{ref}/attachments/{aid}", auth.ActionViewChanges, bodySmall, s.pageDownloadAttachment},
		{"GET /changes/{ref}/attachments/{aid}/preview", auth.ActionViewChanges, bodySmall, s.pageShowAttachmentPreview},
		// change_actions.go
		{"POST /changes/{ref}/submit", auth.ActionViewChanges, bodySmall, s.pageSubmitChange},
		{"POST /changes/{ref}/transition", auth.ActionViewChanges, bodySmall, s.pageTransitionChange},
		{"POST /changes/{ref}/reviewers", auth.ActionCoordinateChange, bodySmall, s.pageAssignReviewers},
		// change_screening.go
		{"POST /changes/{ref}/screening-confirmation", auth.ActionCoordinateChange, bodySmall, s.pageConfirmScreening},
		{"POST /changes/{ref}/review-requests", auth.ActionCoordinateChange, bodySmall, s.pageAddReview},
		{"POST /changes/{ref}/approvers", auth.ActionCoordinateChange, bodySmall, s.pageSetApprovers},
		{"POST /changes/{ref}/review", auth.ActionReviewChange, bodySmall, s.pageDecideReview},
		{"POST /changes/{ref}/decision", auth.ActionApproveChange, bodySmall, s.pageDecideApproval},
		{"POST /changes/{ref}/actions", auth.ActionViewChanges, bodySmall, s.pageAddAction},
		{"POST /changes/{ref}/actions/{aid}/complete", auth.ActionViewChanges, bodySmall, s.pageCompleteAction},
		{"POST /changes/{ref}/actions/{aid}/edit", auth.ActionViewChanges, bodySmall, s.pageEditAction},
		{"POST /changes/{ref}/actions/{aid}/verify", auth.ActionCoordinateChange, bodySmall, s.pageVerifyAction},
		{"POST /changes/{ref}/pssr/{item}", auth.ActionViewChanges, bodyUpload, s.pageAnswerPSSR},
		{"POST /changes/{ref}/pssr-team", auth.ActionCoordinateChange, bodySmall, s.pageAssignPSSRTeam},
		// change_walkdown.go: the PSSR checklist alone, for a phone in the unit
		{"GET /changes/{ref}/walkdown", auth.ActionViewChanges, bodySmall, s.pageShowWalkdown},
		{"POST /changes/{ref}/walkdown/{item}", auth.ActionViewChanges, bodyUpload, s.pageWalkdownAnswer},
		{"GET /changes/{ref}/attachments/{aid}/thumbnail", auth.ActionViewChanges, bodySmall, s.pageShowThumbnail},
		{"POST /changes/{ref}/acknowledgers", auth.ActionViewChanges, bodySmall, s.pageAddAcknowledgers},
		{"POST /changes/{ref}/acknowledge", auth.ActionViewChanges, bodySmall, s.pageAcknowledgeChange},
		{"POST /changes/{ref}/attachments", auth.ActionViewChanges, bodyUpload, s.pageUploadAttachment},
		{"POST /changes/{ref}/extensions", auth.ActionViewChanges, bodySmall, s.pageRequestExtension},
		// change_links.go
		{"POST /changes/{ref}/links", auth.ActionViewChanges, bodySmall, s.pageLinkChange},
		{"POST /changes/{ref}/links/{lid}/remove", auth.ActionViewChanges, bodySmall, s.pageUnlinkChange},
		{"POST /changes/{ref}/extensions/decision", auth.ActionApproveChange, bodySmall, s.pageDecideExtension},
		// change_hazard_review.go
		{"POST /changes/{ref}/hazard-reviews", auth.ActionViewChanges, bodyUpload, s.pageRecordHazardReview},
		// change_audit.go
		{"GET /changes/{ref}/audit", auth.ActionViewAudit, bodySmall, s.pageShowChangeAudit},
		{"GET /audit/verify", auth.ActionViewAudit, bodySmall, s.pageVerifyAudit},

		// admin.go
		{"GET /admin", auth.ActionViewAdmin, bodySmall, s.pageShowAdmin},
		// admin_users.go
		{"GET /admin/users", auth.ActionManageUsers, bodySmall, s.pageListUsers},
		{"POST /admin/users", auth.ActionManageUsers, bodySmall, s.pageCreateUser},
		{"GET /admin/users/{id}", auth.ActionManageUsers, bodySmall, s.pageEditUser},
		{"POST /admin/users/{id}", auth.ActionManageUsers, bodySmall, s.pageSaveUser},
		{"POST /admin/users/{id}/password", auth.ActionManageUsers, bodySmall, s.pageSetUserPassword},
		// admin_sites.go
		{"GET /admin/sites", auth.ActionManageSites, bodySmall, s.pageListSites},
		{"POST /admin/sites", auth.ActionManageSites, bodySmall, s.pageCreateSite},
		{"GET /admin/sites/{id}", auth.ActionManageSites, bodySmall, s.pageEditSite},
		{"POST /admin/sites/{id}", auth.ActionManageSites, bodySmall, s.pageSaveSite},
		// admin_site_settings.go
		{"GET /admin/sites/{id}/settings", auth.ActionManageSites, bodySmall, s.pageEditSiteSettings},
		{"POST /admin/sites/{id}/settings", auth.ActionManageSites, bodySmall, s.pageSaveSiteSettings},
		// admin_risk_matrix.go, admin_screening.go
		{"GET /admin/sites/{id}/risk-matrix", auth.ActionManageSites, bodySmall, s.pageEditRiskMatrix},
		{"POST /admin/sites/{id}/risk-matrix", auth.ActionManageSites, bodySmall, s.pageSaveRiskMatrix},
		{"GET /admin/sites/{id}/screening-questionnaire", auth.ActionManageSites, bodySmall, s.pageEditQuestionnaire},
		{"POST /admin/sites/{id}/screening-questionnaire", auth.ActionManageSites, bodySmall, s.pageSaveQuestionnaire},
		// admin_units.go
		{"GET /admin/units", auth.ActionManageSites, bodySmall, s.pageListUnits},
		{"POST /admin/units", auth.ActionManageSites, bodySmall, s.pageCreateUnit},
		{"GET /admin/units/{id}", auth.ActionManageSites, bodySmall, s.pageEditUnit},
		{"POST /admin/units/{id}", auth.ActionManageSites, bodySmall, s.pageSaveUnit},
		// admin_pssr.go
		{"GET /admin/pssr-templates", auth.ActionManageTemplates, bodySmall, s.pageListPSSRTemplates},
		{"POST /admin/pssr-templates", auth.ActionManageTemplates, bodySmall, s.pageSavePSSRTemplate},
		{"GET /admin/pssr-templates/new", auth.ActionManageTemplates, bodySmall, s.pageNewPSSRTemplate},
		{"GET /admin/pssr-templates/{id}", auth.ActionManageTemplates, bodySmall, s.pageEditPSSRTemplate},
		{"POST /admin/pssr-templates/{id}", auth.ActionManageTemplates, bodySmall, s.pageSavePSSRTemplate},
		// admin_reminders.go
		{"GET /admin/reminders", auth.ActionManageReminders, bodySmall, s.pageEditReminders},
		{"POST /admin/reminders", auth.ActionManageReminders, bodySmall, s.pageSaveReminders},
		// admin_email.go
		{"GET /admin/email", auth.ActionViewEmailAdmin, bodySmall, s.pageShowEmail},
		{"POST /admin/email/check", auth.ActionSendEmailAdmin, bodySmall, s.pageCheckEmail},
		{"POST /admin/email/test", auth.ActionSendEmailAdmin, bodySmall, s.pageSendTestEmail},
		// admin_email_log.go
		{"GET /admin/email/log", auth.ActionViewEmailAdmin, bodySmall, s.pageListEmailLog},
		{"POST /admin/email/log/{id}/retry", auth.ActionSendEmailAdmin, bodySmall, s.pageRetryEmail},
		{"POST /admin/email/log/retry-failed", auth.ActionSendEmailAdmin, bodySmall, s.pageRetryFailedEmails},
		// admin_mailbox.go
		{"GET /admin/mailbox", auth.ActionViewDevMailbox, bodySmall, s.pageListMailbox},
		{"GET /admin/mailbox/{id}", auth.ActionViewDevMailbox, bodySmall, s.pageShowMailboxMessage},
		{"GET /admin/mailbox/{id}/body", auth.ActionViewDevMailbox, bodySmall, s.pageShowMailboxBody},

		// api_users.go
		{"GET /api/v1/me", auth.ActionUseAccount, bodySmall, s.apiGetMe},
		{"GET /api/v1/users", auth.ActionManageUsers, bodySmall, s.apiListUsers},
		{"POST /api/v1/users", auth.ActionManageUsers, bodySmall, s.apiCreateUser},
		{"GET /api/v1/users/{id}", auth.ActionManageUsers, bodySmall, s.apiGetUser},
		{"PATCH /api/v1/users/{id}", auth.ActionManageUsers, bodySmall, s.apiUpdateUser},
		// api_sites.go
		{"GET /api/v1/sites", auth.ActionUseAccount, bodySmall, s.apiListSites},
		{"POST /api/v1/sites", auth.ActionManageSites, bodySmall, s.apiCreateSite},
		{"PATCH /api/v1/sites/{id}", auth.ActionManageSites, bodySmall, s.apiUpdateSite},
		{"GET /api/v1/sites/{id}/settings", auth.ActionUseAccount, bodySmall, s.apiGetSiteSettings},
		{"PATCH /api/v1/sites/{id}/settings", auth.ActionManageSites, bodySmall, s.apiUpdateSiteSettings},
		// admin_risk_matrix.go, admin_screening.go
		{"GET /api/v1/sites/{id}/risk-matrix", auth.ActionUseAccount, bodySmall, s.apiGetRiskMatrix},
		{"PUT /api/v1/sites/{id}/risk-matrix", auth.ActionManageSites, bodySmall, s.apiSaveRiskMatrix},
		{"GET /api/v1/sites/{id}/screening-questionnaire", auth.ActionUseAccount, bodySmall, s.apiGetQuestionnaire},
		{"PUT /api/v1/sites/{id}/screening-questionnaire", auth.ActionManageSites, bodySmall, s.apiSaveQuestionnaire},
		// api_units.go
		{"GET /api/v1/units", auth.ActionViewChanges, bodySmall, s.apiListUnits},
		{"POST /api/v1/units", auth.ActionManageSites, bodySmall, s.apiCreateUnit},
		{"PATCH /api/v1/units/{id}", auth.ActionManageSites, bodySmall, s.apiUpdateUnit},

		// api_changes.go: the list, one change and what hangs off it
		{"GET /api/v1/changes", auth.ActionViewChanges, bodySmall, s.apiListChanges},
		{"GET /api/v1/changes.csv", auth.ActionViewChanges, bodySmall, s.apiExportChanges},
		{"POST /api/v1/changes", auth.ActionCreateChange, bodySmall, s.apiCreateChange},
		{"GET /api/v1/changes/conflicts", auth.ActionViewChanges, bodySmall, s.apiListConflicts},
		{"GET /api/v1/changes/{id}", auth.ActionViewChanges, bodySmall, s.apiGetChange},
		{"PATCH /api/v1/changes/{id}", auth.ActionViewChanges, bodySmall, s.apiUpdateChange},
		{"GET /api/v1/changes/{id}/actions", auth.ActionViewChanges, bodySmall, s.apiListActions},
		{"GET /api/v1/changes/{id}/pssr", auth.ActionViewChanges, bodySmall, s.apiListPSSR},
		// api_pssr_team.go
		{"GET /api/v1/changes/{id}/pssr-team", auth.ActionViewChanges, bodySmall, s.apiGetPSSRTeam},
		{"PUT /api/v1/changes/{id}/pssr-team", auth.ActionCoordinateChange, bodySmall, s.apiSetPSSRTeam},
		{"GET /api/v1/changes/{id}/attachments", auth.ActionViewChanges, bodySmall, s.apiListAttachments},
		{"GET /api/v1/changes/{id}/attachments/{aid}", auth.ActionViewChanges, bodySmall, s.apiDownloadAttachment},
		// api_change_actions.go: what people do to a change
		{"POST /api/v1/changes/{id}/submit", auth.ActionViewChanges, bodySmall, s.apiSubmitChange},
		{"POST /api/v1/changes/{id}/transitions", auth.ActionViewChanges, bodySmall, s.apiTransitionChange},
		{"POST /api/v1/changes/{id}/reviewers", auth.ActionCoordinateChange, bodySmall, s.apiAssignReviewer},
		// change_screening.go
		{"POST /api/v1/changes/{id}/screening-confirmation", auth.ActionCoordinateChange, bodySmall, s.apiConfirmScreening},
		{"POST /api/v1/changes/{id}/review-requests", auth.ActionCoordinateChange, bodySmall, s.apiAddReview},
		{"PUT /api/v1/changes/{id}/approvers", auth.ActionCoordinateChange, bodySmall, s.apiSetApprovers},
		{"POST /api/v1/changes/{id}/reviews", auth.ActionReviewChange, bodySmall, s.apiDecideReview},
		{"POST /api/v1/changes/{id}/approvals", auth.ActionApproveChange, bodySmall, s.apiDecideApproval},
		{"POST /api/v1/changes/{id}/actions", auth.ActionViewChanges, bodySmall, s.apiAddAction},
		{"POST /api/v1/actions/{id}/complete", auth.ActionViewChanges, bodySmall, s.apiCompleteAction},
		{"PATCH /api/v1/actions/{id}", auth.ActionViewChanges, bodySmall, s.apiUpdateAction},
		{"POST /api/v1/actions/{id}/verify", auth.ActionCoordinateChange, bodySmall, s.apiVerifyAction},
		{"POST /api/v1/pssr-items/{id}/answer", auth.ActionViewChanges, bodySmall, s.apiAnswerPSSR},
		{"POST /api/v1/changes/{id}/acknowledgers", auth.ActionViewChanges, bodySmall, s.apiAddAcknowledgers},
		{"POST /api/v1/changes/{id}/acknowledge", auth.ActionViewChanges, bodySmall, s.apiAcknowledgeChange},
		{"POST /api/v1/changes/{id}/attachments", auth.ActionViewChanges, bodyUpload, s.apiUploadAttachment},
		{"POST /api/v1/changes/{id}/extensions", auth.ActionViewChanges, bodySmall, s.apiRequestExtension},
		{"POST /api/v1/changes/{id}/extensions/decision", auth.ActionApproveChange, bodySmall, s.apiDecideExtension},
		// api_change_links.go
		{"GET /api/v1/changes/{id}/links", auth.ActionViewChanges, bodySmall, s.apiListLinks},
		{"POST /api/v1/changes/{id}/links", auth.ActionViewChanges, bodySmall, s.apiLinkChange},
		{"DELETE /api/v1/changes/{id}/links/{lid}", auth.ActionViewChanges, bodySmall, s.apiUnlinkChange},
		// api_hazard_reviews.go
		{"GET /api/v1/changes/{id}/hazard-reviews", auth.ActionViewChanges, bodySmall, s.apiListHazardReviews},
		{"POST /api/v1/changes/{id}/hazard-reviews", auth.ActionViewChanges, bodySmall, s.apiRecordHazardReview},
		// api_audit.go
		{"GET /api/v1/changes/{id}/audit", auth.ActionViewAudit, bodySmall, s.apiGetAuditTrail},
		{"GET /api/v1/audit/verify", auth.ActionViewAudit, bodySmall, s.apiVerifyAudit},
		// api_dashboard.go, api_my_work.go
		{"GET /api/v1/change-dashboard", auth.ActionViewDashboard, bodySmall, s.apiGetDashboard},
		{"GET /api/v1/my-work", auth.ActionViewChanges, bodySmall, s.apiGetMyWork},
		// api_change_metrics.go
		{"GET /api/v1/change-metrics", auth.ActionViewDashboard, bodySmall, s.apiGetMetrics},
		{"GET /api/v1/change-metrics.csv", auth.ActionViewDashboard, bodySmall, s.apiExportMetrics},
		// api_delegations.go
		{"GET /api/v1/delegations", auth.ActionViewChanges, bodySmall, s.apiListDelegations},
		{"POST /api/v1/delegations", auth.ActionApproveChange, bodySmall, s.apiCreateDelegation},
		{"DELETE /api/v1/delegations/{id}", auth.ActionApproveChange, bodySmall, s.apiRevokeDelegation},
		// api_pssr_templates.go
		{"GET /api/v1/pssr-templates", auth.ActionViewChanges, bodySmall, s.apiListPSSRTemplates},
		{"POST /api/v1/pssr-templates", auth.ActionManageTemplates, bodySmall, s.apiCreatePSSRTemplate},
		{"GET /api/v1/pssr-templates/{id}", auth.ActionViewChanges, bodySmall, s.apiGetPSSRTemplate},
		{"PUT /api/v1/pssr-templates/{id}", auth.ActionManageTemplates, bodySmall, s.apiUpdatePSSRTemplate},
		// api_reminder_settings.go
		{"GET /api/v1/reminder-settings", auth.ActionViewChanges, bodySmall, s.apiGetReminderSettings},
		{"PUT /api/v1/reminder-settings", auth.ActionManageReminders, bodySmall, s.apiUpdateReminderSettings},
		// api_notifications.go
		{"GET /api/v1/notifications", auth.ActionUseAccount, bodySmall, s.apiListNotifications},
		{"GET /api/v1/notifications/unread-count", auth.ActionUseAccount, bodySmall, s.apiGetUnreadCount},
		{"POST /api/v1/notifications/{id}/read", auth.ActionUseAccount, bodySmall, s.apiMarkNotificationRead},
		{"POST /api/v1/notifications/{id}/unread", auth.ActionUseAccount, bodySmall, s.apiMarkNotificationUnread},
		{"POST /api/v1/notifications/read-all", auth.ActionUseAccount, bodySmall, s.apiMarkAllNotificationsRead},
		{"GET /api/v1/notifications/preferences", auth.ActionUseAccount, bodySmall, s.apiGetNotificationPrefs},
		{"PUT /api/v1/notifications/preferences", auth.ActionUseAccount, bodySmall, s.apiSetNotificationPrefs},
		// api_emails.go
		{"GET /api/v1/admin/emails", auth.ActionViewEmailAdmin, bodySmall, s.apiListEmails},
		{"POST /api/v1/admin/emails/{id}/retry", auth.ActionSendEmailAdmin, bodySmall, s.apiRetryEmail},
		{"POST /api/v1/admin/emails/retry-failed", auth.ActionSendEmailAdmin, bodySmall, s.apiRetryFailedEmails},
	}
	// With MOCPCR_METRICS_ADDR set, metrics are served on that address
	// instead (see app.Serve) and not here. metrics.go checks the caller
	// itself, answering in the terms a Prometheus scraper understands.
	if s.Metrics != nil && s.Config.MetricsAddr == "" {
		t = append(t, route{"GET /metrics", public, bodySmall, s.serveMetrics})
	}
	// errors.go: anything else, the not-found page (JSON under /api/).
	return append(t, route{"/", public, bodySmall, s.pageNotFound})
}

// routes registers the route table on the mux.
func (s *Server) routes() {
	for _, rt := range s.routeTable() {
		s.patterns = append(s.patterns, rt.pattern)
		s.bodyClasses[rt.pattern] = rt.body
		s.mux.HandleFunc(rt.pattern, s.allowOnly(rt.allow, rt.handler))
	}
}

// allowOnly runs next only for callers holding permission a. Anonymous
// callers get 401 (JSON under /api/) or are sent to the sign-in page
// with a return address; signed-in users without the permission get
// 403. Handlers behind it find the caller in auth.UserFrom.
func (s *Server) allowOnly(a auth.Action, next http.HandlerFunc) http.HandlerFunc {
	if a == public {
		return next
	}
	return func(w http.ResponseWriter, r *http.Request) {
		u := auth.UserFrom(r.Context())
		if u == nil {
			s.askToSignIn(w, r)
			return
		}
		if !auth.Can(u, a) {
			s.fail(w, r, problem.New(problem.Forbidden, "You do not have permission for this. Ask an administrator if you need it."))
			return
		}
		next(w, r)
	}
}

// askToSignIn answers an anonymous caller of a protected route.
func (s *Server) askToSignIn(w http.ResponseWriter, r *http.Request) {
	if isAPI(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="mocpcr"`)
		s.fail(w, r, problem.New(problem.Unauthenticated, "sign in first: send Authorization: Bearer <API token>"))
		return
	}
	ret := r.URL.RequestURI()
	if !safeMethod(r.Method) {
		ret = "/" // the form's data is gone; do not replay a POST address as a GET
		if ref := sameOriginReferer(r); ref != "" {
			ret = ref
		}
	}
	http.Redirect(w, r, "/auth/login?return="+url.QueryEscape(ret), http.StatusSeeOther)
}
