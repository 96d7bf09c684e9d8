package web

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/problem"
)

// attachmentPolicy is the Content-Security-Policy of a download: should a
// browser render it anyway, it runs nothing and loads nothing.
const attachmentPolicy = "sandbox; default-src 'none'"

// serveAttachment writes a stored file as a download, for the API and
// the pages alike: always "attachment" (never shown inline), never
// sniffed into something else, with a type and name that cannot make
// the browser or the downloader's system run it (change.DownloadType,
// change.DownloadName).
func serveAttachment(w http.ResponseWriter, a *change.Attachment, data []byte) {
	writeStored(w, a, data, change.DownloadType(a.ContentType), "attachment", attachmentPolicy)
}

// writeStored writes a stored file's data as type ct with disposition
// (attachment or inline) and policy, never sniffed into something else.
func writeStored(w http.ResponseWriter, a *change.Attachment, data []byte, ct, disposition, policy string) {
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", policy)
	disp := mime.FormatMediaType(disposition, map[string]string{"filename": change.DownloadName(a.Filename, ct)})
	if disp == "" {
		disp = disposition // a name FormatMediaType cannot write: the browser picks one
	}
	h.Set("Content-Disposition", disp)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	// A large file may take longer than the server's write timeout on a
	// slow link: it gets its own deadline, from its size at a modest rate.
	window := downloadBaseWindow + time.Duration(len(data)/downloadMinRate)*time.Second
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Now().Add(window))
	_ = rc.SetReadDeadline(time.Now().Add(window))
	w.Write(data)
}

// previewPolicy is the Content-Security-Policy of a picture shown inline:
// a sandboxed document that loads nothing but itself.
const previewPolicy = "sandbox; default-src 'none'; img-src 'self'"

// pageAttachmentRef reads the change page's change and the attachment id
// of the path ({aid}); when either is not there it has answered the
// request, and ok is false.
func (s *Server) pageAttachmentRef(w http.ResponseWriter, r *http.Request) (u *auth.User, changeID, aid int64, ok bool) {
	u, d := s.loadChangePage(w, r)
	if d == nil {
		return nil, 0, 0, false
	}
	aid, err := strconv.ParseInt(r.PathValue("aid"), 10, 64)
	if err != nil {
		s.fail(w, r, errNotHere)
		return nil, 0, 0, false
	}
	return u, d.Change.ID, aid, true
}

// pageAttachment reads the attachment of the path, with its data; when
// there is none the user can see it has answered the request (ok false).
func (s *Server) pageAttachment(w http.ResponseWriter, r *http.Request) (*change.Attachment, []byte, bool) {
	u, changeID, aid, ok := s.pageAttachmentRef(w, r)
	if !ok {
		return nil, nil, false
	}
	a, data, err := s.Changes.AttachmentData(r.Context(), u, changeID, aid)
	if err != nil {
		s.fail(w, r, err)
		return nil, nil, false
	}
	return a, data, true
}

// pageDownloadAttachment downloads an attachment from the change page.
func (s *Server) pageDownloadAttachment(w http.ResponseWriter, r *http.Request) {
	if a, data, ok := s.pageAttachment(w, r); ok {
		serveAttachment(w, a, data)
	}
}

// pageShowAttachmentPreview shows a picture attachment in the browser
// (the change page's thumbnails open it): inline, sandboxed, and only
// when its bytes are the picture its type says (change.PreviewType);
// anything else is downloaded from the attachment's own link.
func (s *Server) pageShowAttachmentPreview(w http.ResponseWriter, r *http.Request) {
	a, data, ok := s.pageAttachment(w, r)
	if !ok {
		return
	}
	ct := change.PreviewType(a.ContentType, data)
	if ct == "" {
		s.fail(w, r, problem.Newf(problem.NotFound, "%s has no preview (only JPEG, PNG and GIF pictures are shown): download it instead", a.Filename))
		return
	}
	writeStored(w, a, data, ct, "inline", previewPolicy)
}

// A download may take downloadBaseWindow plus one second per
// downloadMinRate bytes (20 MB: about 11 minutes).
const (
	downloadBaseWindow = time.Minute
	downloadMinRate    = 32 << 10
)

// readUpload reads the multipart file field name (at most the service's
// limit). It returns no data and no error when no file was chosen.
func (s *Server) readUpload(r *http.Request, name string) (string, []byte, error) {
	limit := s.Changes.MaxAttachmentBytes
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "multipart/form-data" {
		return "", nil, nil
	}
	f, fh, err := r.FormFile(name)
	if errors.Is(err, http.ErrMissingFile) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, &problem.Error{Kind: problem.Invalid, Field: "file", Message: "file: could not read the upload"}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return "", nil, &problem.Error{Kind: problem.Invalid, Field: "file", Message: "file: could not read the upload"}
	}
	if fh.Filename == "" && len(data) == 0 {
		return "", nil, nil
	}
	return fh.Filename, data, nil
}
