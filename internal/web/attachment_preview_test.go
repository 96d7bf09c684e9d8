package web_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// A picture on a change shows as a thumbnail that opens it inline, in a
// sandboxed document; a file that is not a picture, or whose bytes are
// not the picture its type says, has no preview and is only downloaded.
func TestPictureAttachmentsPreviewInlineSandboxed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		ctx := context.Background()
		svc := f.site.web.Changes
		img := image.NewRGBA(image.Rect(0, 0, 40, 30))
		img.Set(3, 3, color.RGBA{200, 0, 0, 255})
		var pic bytes.Buffer
		if err := png.Encode(&pic, img); err != nil {
			t.Fatal(err)
		}
		photo, err := svc.AddAttachment(ctx, f.ini, f.review.ID, "gauge.png", pic.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		notes, err := svc.AddAttachment(ctx, f.ini, f.review.ID, "notes.txt", []byte("hello"))
		if err != nil {
			t.Fatal(err)
		}
		var forged int64
		if err := db.SQL.QueryRow(`INSERT INTO change_attachments (change_id, filename, content_type, size, sha256, data, uploaded_by, uploaded_at)
			VALUES ($1, 'fake.png', 'image/png', 40, 'x', $2, $3, $4) RETURNING id`,
			f.review.ID, []byte("<html><script>alert(1)</script></html>"), f.ini.ID, time.Now()).Scan(&forged); err != nil {
			t.Fatal(err)
		}
		base := "/changes/" + f.review.Number + "/attachments/"
		page := f.rev2.get("/changes/" + f.review.Number).Body
		if !strings.Contains(page, `href="`+base+strconv.FormatInt(photo.ID, 10)+`/preview"`) || !strings.Contains(page, `alt="Preview of gauge.png"`) {
			t.Error("the change page shows no thumbnail opening the picture's preview")
		}
		if strings.Contains(page, base+strconv.FormatInt(notes.ID, 10)+"/preview") {
			t.Error("a text file is offered a preview")
		}

		r := f.rev2.get(base + strconv.FormatInt(photo.ID, 10) + "/preview")
		h := r.Header
		if r.StatusCode != http.StatusOK || h.Get("Content-Type") != "image/png" || !strings.HasPrefix(h.Get("Content-Disposition"), "inline") ||
			!strings.Contains(h.Get("Content-Security-Policy"), "sandbox") || h.Get("X-Content-Type-Options") != "nosniff" || r.Body != pic.String() {
			t.Fatalf("preview: %d %v", r.StatusCode, h)
		}
		for _, id := range []int64{notes.ID, forged} {
			if r := f.rev2.get(base + strconv.FormatInt(id, 10) + "/preview"); r.StatusCode != http.StatusNotFound || !strings.Contains(r.Body, "download it instead") {
				t.Errorf("preview of attachment %d: %d, want 404 saying to download it", id, r.StatusCode)
			}
		}
		// The download stays a download.
		if r := f.rev2.get(base + strconv.FormatInt(photo.ID, 10)); !strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment") {
			t.Errorf("download disposition %q", r.Header.Get("Content-Disposition"))
		}
	})
}
