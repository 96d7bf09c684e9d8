package web

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"time"

	"github.com/mocpcr/mocpcr/internal/problem"
)

// smallBodyLimit bounds every form and JSON body: the largest form a page
// sends (a change with its description and screening) is a few KB.
const smallBodyLimit = 1 << 20

// multipartMemory is how much of an upload is held in memory while the
// form is parsed; the rest goes to a temporary file that withBodyLimit
// removes when the request ends.
const multipartMemory = 1 << 20

// uploadAnswerWindow is how long an upload request may take from its
// headers to the end of its answer: the server's read timeout for the
// body (5 minutes) and time to answer.
const uploadAnswerWindow = 7 * time.Minute

// bodyLimit is the largest body a route of class c takes: for uploads, the
// attachment limit plus room for the other form fields.
func (s *Server) bodyLimit(c bodyClass) int64 {
	if c == bodyUpload {
		return s.Changes.MaxAttachmentBytes + smallBodyLimit
	}
	return smallBodyLimit
}

// withBodyLimit bounds the request body before anything reads it (the
// CSRF check reads forms, so this runs before withUser), by the class the
// route table gives the route. A body announced as too large is refused
// at once; one that turns out too large while read is refused when the
// form is parsed here, or by decodeBody for JSON. Forms are parsed here,
// once, on the request every later handler sees, so temporary files of a
// multipart upload are known and removed when the request ends: Go's own
// clean-up only sees the request it created, not the copies middleware
// makes. A multipart body reaches only upload routes, and only from a
// caller presenting credentials (others are refused by the route's
// permission check without the body being read).
func (s *Server) withBodyLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		class := bodySmall
		if !safeMethod(r.Method) {
			if _, pattern := s.mux.Handler(r); pattern != "" {
				class = s.bodyClasses[pattern]
			}
		}
		limit := s.bodyLimit(class)
		if r.ContentLength > limit {
			s.bodyTooLarge(w, r, limit)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		if class == bodyUpload {
			// The server's write timeout runs from the end of the headers;
			// an upload on a slow link may take longer than that to read,
			// and its answer must still be written.
			_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(uploadAnswerWindow))
		}
		if safeMethod(r.Method) {
			next.ServeHTTP(w, r)
			return
		}
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		switch mt {
		case "multipart/form-data":
			if class != bodyUpload {
				s.fail(w, r, problem.Field("Content-Type", "Content-Type: this address takes no file uploads; send the form as application/x-www-form-urlencoded or JSON"))
				return
			}
			if !presentsCredentials(r) {
				break
			}
			err := r.ParseMultipartForm(multipartMemory)
			if r.MultipartForm != nil {
				defer r.MultipartForm.RemoveAll()
			}
			if err != nil {
				s.unreadableForm(w, r, limit, err)
				return
			}
		case "application/x-www-form-urlencoded":
			if err := r.ParseForm(); err != nil {
				s.unreadableForm(w, r, limit, err)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// presentsCredentials reports whether the caller could be signed in: a
// session cookie or an API token. Whether they are valid is withUser's to
// decide; this only keeps anonymous uploads from being read at all.
func presentsCredentials(r *http.Request) bool {
	if r.Header.Get("Authorization") != "" {
		return true
	}
	c, err := r.Cookie(sessionCookie)
	return err == nil && c.Value != ""
}

func (s *Server) unreadableForm(w http.ResponseWriter, r *http.Request, limit int64, err error) {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		s.bodyTooLarge(w, r, limit)
		return
	}
	s.fail(w, r, problem.Field("body", "The form could not be read. Reload the page and try again."))
}

func (s *Server) bodyTooLarge(w http.ResponseWriter, r *http.Request, limit int64) {
	// The rest of the body is not read; the connection is closed after
	// the answer rather than drained.
	w.Header().Set("Connection", "close")
	s.fail(w, r, problem.Newf(problem.TooLarge, "The request is too large: at most %s here.", byteSize(limit)))
}

// byteSize writes a limit as a person reads it (1 MB, 26 MB).
func byteSize(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%d MB", (n+(1<<20)-1)>>20)
	}
	return fmt.Sprintf("%d KB", (n+1023)>>10)
}
