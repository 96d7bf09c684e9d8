package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The layout renders in a real browser without script errors.
func TestPagesRenderWithoutScriptErrors(t *testing.T) {
	srv := startServer(t, nil)
	b := newBrowser(t)
	b.do(chromedp.Navigate(srv.url("/no-such-page")))
	title := get(b, chromedp.Title())
	heading := b.text("h1")
	if !strings.Contains(title, "mocpcr") || heading != "Not found" {
		t.Errorf("title %q, heading %q", title, heading)
	}
	b.screenshot("not-found")
	b.noConsoleErrors()
}
