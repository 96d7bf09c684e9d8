package web

import (
	"net/http"
	"strconv"

	"github.com/mocpcr/mocpcr/internal/jobs"
	"github.com/mocpcr/mocpcr/internal/problem"
)

func (s *Server) apiListEmails(w http.ResponseWriter, r *http.Request) {
	f, err := emailFilter(r)
	var list []jobs.EmailRecord
	if err == nil {
		list, err = jobs.ListEmails(r.Context(), s.DB.SQL, f)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	resp := map[string]any{"emails": emptyIfNil(list), "next_before": ""}
	if len(list) == f.Limit {
		resp["next_before"] = strconv.FormatInt(list[len(list)-1].ID, 10)
	}
	writeJSON(w, http.StatusOK, resp)
}

func emptyIfNil(l []jobs.EmailRecord) []jobs.EmailRecord {
	if l == nil {
		return []jobs.EmailRecord{}
	}
	return l
}

func (s *Server) apiRetryEmail(w http.ResponseWriter, r *http.Request) {
	id, ok := idParam(r)
	if !ok {
		s.fail(w, r, problem.New(problem.NotFound, "There is no such email."))
		return
	}
	if err := s.retryEmail(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	e, _, err := jobs.GetEmail(r.Context(), s.DB.SQL, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

// apiRetryFailedEmails is "Retry all": after fixing the email
// configuration, every failed and given-up email is queued again with a
// fresh set of attempts, and every email waiting for the configuration is
// tried now. Sent emails are never sent again.
func (s *Server) apiRetryFailedEmails(w http.ResponseWriter, r *http.Request) {
	res, err := s.retryFailedEmails(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
