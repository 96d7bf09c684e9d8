package web

import (
	"net/http"
	"net/url"
	"strings"
)

// safeReturn keeps a post-sign-in destination only if it is a path on
// this site ("/changes?x=1"), never another origin ("//evil", "https://").
func safeReturn(ret string) string {
	if ret == "" || !strings.HasPrefix(ret, "/") || strings.HasPrefix(ret, "//") || strings.HasPrefix(ret, "/\\") {
		return "/"
	}
	u, err := url.Parse(ret)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	if strings.ContainsAny(ret, "\r\n\t") {
		return "/"
	}
	return ret
}

func sameOriginReferer(r *http.Request) string {
	u, err := url.Parse(r.Referer())
	if err != nil || u.Host != r.Host {
		return ""
	}
	return safeReturn(u.RequestURI())
}

// back redirects a form post to the page it came from, if that page is
// ours, else to fallback.
func back(w http.ResponseWriter, r *http.Request, fallback, flash string) {
	// One rule for every local redirect: "/\evil.example" is another
	// host to a browser, as "//evil.example" is.
	to := r.PostFormValue("next")
	if to == "" || safeReturn(to) != to {
		to = fallback
	}
	redirectWithFlash(w, r, to, flash)
}
