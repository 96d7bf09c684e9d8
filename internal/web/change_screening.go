package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/problem"
)

// The screening questionnaire on a change's page: the initiator's
// answers at submit (change_actions.go, pageSubmitChange, reads them
// with readAnswers) and the coordinator's signed confirmation here.

// readAnswers reads the yes/no answers of questionnaire q from the
// submit form (sq-KEY), notes them in input to show again, and maps the
// domain's fields to the form's element ids in ids.
func readAnswers(r *http.Request, q *change.Questionnaire, input, ids map[string]string) map[string]string {
	answers := map[string]string{}
	ids["screening.answers"] = "sc-answers"
	if q == nil {
		return answers
	}
	for _, qu := range q.Questions {
		id := "sq-" + qu.Key
		ids["screening.answers."+qu.Key] = id
		if v := strings.TrimSpace(r.PostFormValue(id)); v != "" {
			answers[qu.Key] = v
			input[id] = v
		}
	}
	return answers
}

// pageConfirmScreening records the coordinator's signed confirmation,
// with the answers they override (ov-KEY, with the reason in ovr-KEY).
func (s *Server) pageConfirmScreening(w http.ResponseWriter, r *http.Request) {
	u, d := s.loadChangePage(w, r)
	if d == nil {
		return
	}
	const form = "f-confirm-screening"
	input := map[string]string{"confirm-comment": r.PostFormValue("comment")}
	ids := map[string]string{"comment": "confirm-comment", "password": "confirm-password", "overrides": form}
	in := change.ScreeningConfirmation{Comment: r.PostFormValue("comment")}
	if q := d.Questionnaire; q != nil {
		for _, qu := range q.Questions {
			ans, reason := strings.TrimSpace(r.PostFormValue("ov-"+qu.Key)), r.PostFormValue("ovr-"+qu.Key)
			input["ov-"+qu.Key], input["ovr-"+qu.Key] = ans, reason
			if ans == "" {
				continue
			}
			i := len(in.Overrides)
			in.Overrides = append(in.Overrides, change.ScreeningOverride{Question: qu.Key, Answer: ans, Reason: reason})
			for _, f := range []struct{ field, id string }{{"question", "ov-"}, {"answer", "ov-"}, {"reason", "ovr-"}} {
				ids[overrideField(i, f.field)] = f.id + qu.Key
			}
		}
	}
	sig, reauthErr, ok := s.pageSignature(w, r, d.Change.Number, r.PostFormValue("reauth_password"))
	if !ok {
		return
	}
	in.Signature = sig
	if _, err := s.Changes.ConfirmScreening(r.Context(), u, d.Change.ID, in); err != nil {
		s.failChange(w, r, u, d, signatureError(err, reauthErr), form, ids, input)
		return
	}
	redirectChange(w, r, d.Change.Number, "screening-confirmed", "")
}

func overrideField(i int, name string) string {
	return "overrides[" + strconv.Itoa(i) + "]." + name
}

// apiConfirmScreening is the JSON API's confirmation: overrides, comment
// and the password that signs it.
func (s *Server) apiConfirmScreening(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withChange, func(ctx context.Context, u *auth.User, id int64, in struct {
		Overrides []change.ScreeningOverride `json:"overrides"`
		Comment   string                     `json:"comment"`
		Password  string                     `json:"password"`
	}) (any, error) {
		if len(in.Overrides) > change.MaxQuestions {
			return nil, problem.Invalidf("overrides", "at most %d overrides, got %d", change.MaxQuestions, len(in.Overrides))
		}
		sig, reauthErr := s.signature(r, in.Password)
		c, err := s.Changes.ConfirmScreening(ctx, u, id, change.ScreeningConfirmation{Overrides: in.Overrides, Comment: in.Comment, Signature: sig})
		return c, signatureError(err, reauthErr)
	})
}
