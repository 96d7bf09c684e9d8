package web

import (
	"encoding/base64"
	"net/http"
)

// flashCookie carries a one-line message across a redirect (post, then
// redirect, then get). A cookie rather than a query parameter, so nobody
// can craft a link that shows their own text as if mocpcr said it.
const flashCookie = "mocpcr_flash"

// setFlash queues msg for the next page this browser renders.
func setFlash(w http.ResponseWriter, msg string) {
	if msg == "" {
		return
	}
	if len(msg) > 500 {
		msg = msg[:500]
	}
	http.SetCookie(w, &http.Cookie{
		Name: flashCookie, Value: base64.RawURLEncoding.EncodeToString([]byte(msg)),
		Path: "/", MaxAge: 60, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// redirectWithFlash is setFlash then a 303 to the given path.
func redirectWithFlash(w http.ResponseWriter, r *http.Request, to, msg string) {
	setFlash(w, msg)
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// takeFlash returns the queued message, if any, and clears it.
func takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return ""
	}
	return string(b)
}
