package web_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// A file over the limit is refused as larger than the limit: the server
// stops reading one byte past it, so it never claims a size it did not
// measure.
func TestOversizedAttachmentNamesTheLimitNotASize(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, c := newChangeAPI(t, db)
		f.Service.MaxAttachmentBytes = 1 << 20
		ch := c.call("initiator", "POST", "/api/v1/changes", newChangeBody("MOC", f.NRF, f.CDU), 201)["change"].(map[string]any)
		big := bytes.Repeat([]byte("a"), 1<<20+300<<10) // 1.3 MB: read up to 1 MB + 1 byte
		r := bearer(t, c.srv.URL, "POST", "/api/v1/changes/"+ch["number"].(string)+"/attachments?filename=big.txt", c.tokens["initiator"], bytes.NewReader(big))
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "big.txt is larger than the 1 MB limit") || strings.Contains(r.Body, "bytes") {
			t.Errorf("oversized upload: %d %s", r.StatusCode, r.Body)
		}
	})
}
