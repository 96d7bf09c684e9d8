package web_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// Uploads that would run when opened are refused, naming the file; every
// download, API or page, is a download that cannot render or run.
func TestAttachmentsRefusedAndServedSafely(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, c := newChangeAPI(t, db)
		ch := c.call("initiator", "POST", "/api/v1/changes", newChangeBody("MOC", f.NRF, f.CDU), 201)["change"].(map[string]any)
		base := "/api/v1/changes/" + jsonNum(ch["id"]) + "/attachments"
		for name, data := range map[string]string{
			"evil.exe": "text content",
			"x.svg":    `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>`,
		} {
			status, e := c.raw("initiator", "POST", base+"?filename="+name, data)
			if msg, _ := e["error"].(string); status != 422 || e["field"] != "file" || !strings.Contains(msg, name+" is not accepted") {
				t.Errorf("upload %s: %d %v", name, status, e)
			}
		}
		if as := c.call("initiator", "GET", base, nil, 200)["attachments"].([]any); len(as) != 0 {
			t.Fatalf("refused uploads stored: %v", as)
		}

		ok := c.upload("initiator", base, "notes.txt", []byte("hello"))
		// A file stored before names were checked.
		var legacy int64
		if err := db.SQL.QueryRow(`INSERT INTO change_attachments (change_id, filename, content_type, size, sha256, data, uploaded_by, uploaded_at)
			VALUES ($1, 'page.html', 'text/html; charset=utf-8', 5, 'x', $2, $3, $4) RETURNING id`,
			int64(ch["id"].(float64)), []byte("<b>hi</b>"), f.Initiator.ID, time.Now()).Scan(&legacy); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			path, ct, disposition string
		}{
			{base + "/" + jsonNum(ok["id"]), "text/plain; charset=utf-8", `attachment; filename=notes.txt`},
			{base + "/" + jsonNum(legacy), "application/octet-stream", `attachment; filename=page.html.bin`},
			{"/changes/" + ch["number"].(string) + "/attachments/" + jsonNum(legacy), "application/octet-stream", `attachment; filename=page.html.bin`},
		} {
			req, _ := http.NewRequest("GET", c.srv.URL+tc.path, nil)
			req.Header.Set("Authorization", "Bearer "+c.tokens["initiator"])
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			h := resp.Header
			if resp.StatusCode != 200 || h.Get("Content-Type") != tc.ct || h.Get("Content-Disposition") != tc.disposition ||
				h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(h.Get("Content-Security-Policy"), "sandbox") {
				t.Errorf("GET %s: %d %v", tc.path, resp.StatusCode, h)
			}
		}
	})
}

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
