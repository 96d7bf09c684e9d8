package change_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/change/changetest"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// A file is refused when its name would run it (whatever the bytes) or
// does not agree with what it holds; the refusal names the file.
func TestAttachmentNamesMustBeSafeAndAgreeWithTheContents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		c := toStage(t, f, change.StageDraft, nil)
		pdf := []byte("%PDF-1.4\n%test\n")
		for _, tc := range []struct {
			name string
			data []byte
			want string // in the message; "" accepted
		}{
			{"evil.exe", []byte("just text"), "evil.exe is not accepted: .exe files can run programs"},
			{"x.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "x.svg is not accepted: .svg files"},
			{"page.HTML", []byte("hello"), "page.HTML is not accepted: .html files"},
			{"run.ps1", []byte("Get-Process"), "run.ps1 is not accepted"},
			{"evil.exe.", []byte("trailing dot, as Windows saves it"), "evil.exe is not accepted"},
			{"report.pdf.exe", pdf, "report.pdf.exe is not accepted"},
			{"photo.png", []byte("text, not an image"), "photo.png holds text, which its name does not say: rename it to end in .txt"},
			{"calc.txt", pdf, "calc.txt holds a PDF, which its name does not say: rename it to end in .pdf"},
			{"notes.txt", []byte("hello"), ""},
			{"README", []byte("no extension is fine for text"), ""},
			{"readings.csv", []byte("tag,value\nP-101A,3\n"), ""},
			{"REPORT.PDF", pdf, ""},
			// Names that mislead or break what shows them.
			{"invoice\u202Efdp.exe", pdf, "text-direction character (U+202E)"},
			{"report\u2067.pdf", pdf, "text-direction character (U+2067)"},
			{"line\nbreak.pdf", pdf, "control character (U+000A)"},
			{"bell\a.pdf", pdf, "control character (U+0007)"},
			{strings.Repeat("a", 252) + ".pdf", pdf, "256 bytes long; at most 255"},
			{strings.Repeat("a", 251) + ".pdf", pdf, ""},
			{"bad\xff.pdf", pdf, "not valid text (UTF-8)"},
			// Legacy Office formats can carry macros, like .docm.
			{"procedure.doc", append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, pdf...), "procedure.doc is not accepted: .doc files"},
			{"levels.xls", []byte("text"), "levels.xls is not accepted"},
			{"slides.ppt", []byte("text"), "slides.ppt is not accepted"},
			{"macros.docm", []byte("text"), "macros.docm is not accepted"},
		} {
			a, err := f.Service.AddAttachment(ctx, f.Initiator, c.ID, tc.name, tc.data)
			if tc.want == "" {
				if err != nil {
					t.Errorf("%s refused: %v", tc.name, err)
				}
				continue
			}
			if problem.KindOf(err) != problem.Invalid || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "file: ") {
				t.Errorf("%s: got %v (%+v), want an invalid file error with %q", tc.name, err, a, tc.want)
			}
		}
		d := must(f.Service.Get(ctx, f.Initiator, c.ID))(t)
		if len(d.Attachments) != 5 {
			t.Fatalf("%d attachments stored, want the 5 accepted", len(d.Attachments))
		}
	})
}

func TestDownloadTypeAndName(t *testing.T) {
	for _, tc := range []struct{ ct, name, wantCT, wantName string }{
		{"application/pdf", "calc.pdf", "application/pdf", "calc.pdf"},
		{"text/plain; charset=utf-8", "notes.txt", "text/plain; charset=utf-8", "notes.txt"},
		// Stored before names were checked: offered so opening does not run them.
		{"text/plain; charset=utf-8", "evil.exe", "text/plain; charset=utf-8", "evil.exe.txt"},
		{"text/html; charset=utf-8", "page.html", "application/octet-stream", "page.html.bin"},
		{"image/svg+xml", "x.svg", "application/octet-stream", "x.svg.bin"},
	} {
		ct := change.DownloadType(tc.ct)
		if name := change.DownloadName(tc.name, ct); ct != tc.wantCT || name != tc.wantName {
			t.Errorf("%s %s: served as %s %s, want %s %s", tc.ct, tc.name, ct, name, tc.wantCT, tc.wantName)
		}
	}
}
