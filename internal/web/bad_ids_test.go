package web_test

import (
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// Every route, called with identifiers that are not ids (words, negative,
// too large for 64 bits, another number notation), answers as a client
// error, never 500: checked over the whole route table, so a route added
// later is covered too.
func TestNonNumericIDsAreClientErrorsOnEveryRoute(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, c := newChangeAPI(t, db)
		ch := c.call("initiator", "POST", "/api/v1/changes", newChangeBody("MOC", f.NRF, f.CDU), 201)["change"].(map[string]any)
		param := regexp.MustCompile(`\{[a-z]+\}`)
		for _, pattern := range c.web.Patterns() {
			method, path, ok := strings.Cut(pattern, " ")
			if !ok || !param.MatchString(path) {
				continue
			}
			// Once with every identifier bad, once with the change real
			// and the identifiers below it bad.
			paths := []string{path}
			if real := strings.NewReplacer("/changes/{ref}", "/changes/"+ch["number"].(string), "/changes/{id}", "/changes/"+jsonNum(ch["id"])).Replace(path); real != path {
				paths = append(paths, real)
			}
			for _, bad := range []string{"abc", "-1", "0", "99999999999999999999", "1e3", "%20"} {
				for _, path := range paths {
					p := param.ReplaceAllString(path, bad)
					var body io.Reader
					if method != "GET" {
						body = strings.NewReader("{}")
					}
					r := bearer(t, c.srv.URL, method, p, c.tokens["admin"], body)
					if r.StatusCode >= 500 {
						t.Errorf("%s %s: %d", method, p, r.StatusCode)
					}
				}
			}
		}
	})
}
