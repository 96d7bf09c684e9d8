package web

import "regexp"

// Microsoft redirects back to /auth/callback with error and
// error_description when a sign-in does not complete. Anyone can craft
// that URL, so its text is never shown: a page reading "call the help
// desk on ..." would carry mocpcr's name. The known errors get our own
// words; everything is logged for the administrator.

// aadstsRE finds Entra ID's error code (AADSTS50105) in a description.
var aadstsRE = regexp.MustCompile(`\bAADSTS\d{4,7}\b`)

// entraErrorWords says in words what to do about the AADSTS codes a user
// can meet on the way back; "" for others.
func entraErrorWords(aadsts string) string {
	switch aadsts {
	case "AADSTS50105":
		return "your organisation has not given you access to mocpcr yet. Ask your administrator to assign you to the mocpcr application in Entra ID."
	case "AADSTS65004":
		return "you declined the permissions mocpcr asks for, so Microsoft did not sign you in. Sign in again and accept them, or ask your administrator."
	case "AADSTS65001":
		return "mocpcr needs an administrator's consent in Entra ID before anyone can sign in. Tell your administrator."
	case "AADSTS50058":
		return "Microsoft needs you to sign in. Press “Sign in with Microsoft”."
	case "AADSTS50076":
		return "Microsoft needs a second factor from you. Press “Sign in with Microsoft” and complete it."
	case "AADSTS50079":
		return "Microsoft needs you to set up a second factor first. Press “Sign in with Microsoft” and follow the steps."
	case "AADSTS53003":
		return "your organisation's access policy blocked this sign-in (for example from this device or network). Ask your administrator."
	case "AADSTS700016", "AADSTS50011":
		return "mocpcr's Microsoft setup is not right. Tell your administrator."
	}
	return ""
}

// oauthErrorWords covers the OAuth error codes, for when the AADSTS code
// is not one we know; "" for others.
func oauthErrorWords(code string) string {
	switch code {
	case "access_denied":
		return "you cancelled the sign-in, or Microsoft did not let you in."
	case "consent_required":
		return "mocpcr needs an administrator's consent in Entra ID before you can sign in. Tell your administrator."
	case "interaction_required":
		return "Microsoft needs more from you. Press “Sign in with Microsoft” and complete the steps."
	case "login_required":
		return "Microsoft needs you to sign in. Press “Sign in with Microsoft”."
	case "temporarily_unavailable", "server_error":
		return "Microsoft sign-in is not available right now. Try again in a minute."
	}
	return ""
}

// callbackErrorText is what the sign-in page says about a callback's
// error: our words for the known codes, a generic sentence for the rest.
// The description is read only for its AADSTS code.
func callbackErrorText(code, description, requestID string) string {
	words := entraErrorWords(aadstsRE.FindString(description))
	if words == "" {
		words = oauthErrorWords(code)
	}
	if words == "" {
		words = "it did not finish. Try again; if it keeps happening, tell your administrator."
	}
	return "Microsoft sign-in did not complete: " + words + " (request id " + requestID + ")"
}

// logValue shortens text taken from a request for the log.
func logValue(s string) string {
	const limit = 500
	if len(s) > limit {
		return s[:limit] + "…"
	}
	return s
}
