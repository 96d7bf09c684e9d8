package auth

// Action is something a user may be allowed to do. Route handlers ask
// Can(user, action) before doing anything; rules that depend on a
// record's state (who is the initiator, which stage a change is in, the
// record's site via User.OnSite) are checked by the domain on top of this.
type Action string

// Every action the product knows. Adding a route means choosing one of
// these (or adding one here and to the matrix below).
const (
	// ActionUseAccount: any enabled signed-in user — own account page,
	// own API tokens, own notifications and preferences.
	ActionUseAccount Action = "account.use"

	// Changes (MOC/PCR).
	ActionViewChanges      Action = "change.view"
	ActionCreateChange     Action = "change.create"
	ActionReviewChange     Action = "change.review"
	ActionApproveChange    Action = "change.approve"
	ActionCoordinateChange Action = "change.coordinate" // screening, assigning, closing, PSSR sign-off
	ActionViewDashboard    Action = "dashboard.view"

	// Oversight.
	ActionViewAudit   Action = "audit.view"
	ActionViewReports Action = "reports.view"

	// Administration.
	ActionViewAdmin       Action = "admin.view" // the /admin index
	ActionManageUsers     Action = "users.manage"
	ActionManageSites     Action = "sites.manage"
	ActionManageTemplates Action = "templates.manage" // PSSR checklist templates
	ActionManageReminders Action = "reminders.manage"
	ActionViewEmailAdmin  Action = "email.view"       // email settings, delivery log
	ActionSendEmailAdmin  Action = "email.send"       // send a test email, retry failed sends
	ActionViewDevMailbox  Action = "email.devmailbox" // the captured dev mailbox
)

// anyRole is every role: holding at least one is what makes a user part
// of the MOC process.
var anyRole = AllRoles

// policy is the whole matrix: an action is allowed when the user holds
// one of the listed roles. ActionUseAccount needs no role.
var policy = map[Action][]Role{
	ActionViewChanges:      anyRole,
	ActionViewDashboard:    anyRole,
	ActionCreateChange:     {RoleInitiator, RoleCoordinator},
	ActionReviewChange:     {RoleReviewer},
	ActionApproveChange:    {RoleApprover},
	ActionCoordinateChange: {RoleCoordinator},
	ActionViewAudit:        {RoleAuditor, RoleCoordinator, RoleAdmin},
	ActionViewReports:      {RoleAuditor, RoleCoordinator, RoleAdmin},
	ActionViewAdmin:        {RoleAdmin},
	ActionManageUsers:      {RoleAdmin},
	ActionManageSites:      {RoleAdmin},
	ActionManageTemplates:  {RoleAdmin},
	ActionManageReminders:  {RoleAdmin},
	ActionViewEmailAdmin:   {RoleAdmin},
	ActionSendEmailAdmin:   {RoleAdmin},
	ActionViewDevMailbox:   {RoleAdmin},
}

// Can reports whether u may perform a. Anonymous and disabled users may
// do nothing. An unknown action is denied.
func Can(u *User, a Action) bool {
	if u == nil || u.Disabled {
		return false
	}
	if a == ActionUseAccount {
		return true
	}
	for _, r := range policy[a] {
		if u.Has(r) {
			return true
		}
	}
	return false
}

// CanOnSite is Can plus the user's site limits, for a record of siteID.
func CanOnSite(u *User, a Action, siteID int64) bool {
	return Can(u, a) && u.OnSite(siteID)
}
