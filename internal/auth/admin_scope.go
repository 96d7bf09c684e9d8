package auth

import (
	"fmt"
	"slices"
)

// An administrator is scoped like everyone else: an admin of some sites
// manages the users, units and settings of those sites only. The rules:
//
//   - Covers: an admin acts on a user (edit, reset the password, disable,
//     see them at all) only if the user's access lies within the admin's:
//     a site admin never touches an all-sites user or one who also holds a
//     site the admin does not, so they cannot take over an account that
//     reaches further than their own.
//   - GrantProblem: an admin gives only access they hold: only an
//     all-sites admin grants all sites, and a site admin grants only their
//     own sites.
//   - ManagesSite: site records, units and settings of a site are managed
//     by admins of that site; new sites only by all-sites admins.

// Covers reports whether admin's site access includes all of u's.
func (admin *User) Covers(u *User) bool {
	if admin == nil || u == nil {
		return false
	}
	if admin.AllSites {
		return true
	}
	if u.AllSites {
		return false
	}
	for _, id := range u.SiteIDs {
		if !slices.Contains(admin.SiteIDs, id) {
			return false
		}
	}
	return true
}

// GrantProblem says why admin may not give the access allSites/siteIDs,
// in the words of the sites field, or "" when they may.
func (admin *User) GrantProblem(allSites bool, siteIDs []int64) string {
	if admin == nil {
		return "sites: sign in first"
	}
	if admin.AllSites {
		return ""
	}
	if allSites {
		return "sites: only an administrator of all sites can give access to all sites"
	}
	for _, id := range siteIDs {
		if !slices.Contains(admin.SiteIDs, id) {
			return fmt.Sprintf("sites: you can give access only to your own sites; site %d is not one of them", id)
		}
	}
	return ""
}

// ManagesSite reports whether admin manages site id's records.
func (admin *User) ManagesSite(id int64) bool { return admin.OnSite(id) }

// ManagesAllSites reports whether admin may create sites and see what
// belongs to no site (test emails, the whole delivery log).
func (admin *User) ManagesAllSites() bool { return admin != nil && admin.AllSites }
