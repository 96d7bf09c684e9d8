package web

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/problem"
)

func acknowledgements(d *change.Detail) any {
	return map[string]any{"acknowledgements": d.Acknowledgements}
}

func (s *Server) apiAddAction(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withChange, func(ctx context.Context, u *auth.User, id int64, in struct {
		Title         string `json:"title"`
		Kind          string `json:"kind"`
		OwnerID       int64  `json:"owner_id"`
		DueOn         string `json:"due_on"`
		BeforeStartup *bool  `json:"before_startup"`
	}) (any, error) {
		due, err := parseDate("due_on", in.DueOn)
		if err != nil {
			return nil, err
		}
		if in.BeforeStartup == nil {
			return nil, problem.Invalidf("before_startup", "required, true when the action must be done before startup")
		}
		a, err := s.Changes.AddAction(ctx, u, id, change.NewAction{Title: in.Title, Kind: change.ActionKind(in.Kind),
			OwnerID: in.OwnerID, DueOn: due, BeforeStartup: *in.BeforeStartup})
		if err != nil {
			return nil, err
		}
		return created(a, ""), nil
	})
}

func (s *Server) apiCompleteAction(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withID, func(ctx context.Context, u *auth.User, id int64, in struct {
		Note       string `json:"note"`
		EvidenceID int64  `json:"evidence_id"`
	}) (any, error) {
		return s.Changes.CompleteActionWithEvidence(ctx, u, id, in.Note, in.EvidenceID)
	})
}

// apiVerifyAction closes a completed action that needs verification.
func (s *Server) apiVerifyAction(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withID, func(ctx context.Context, u *auth.User, id int64, in struct {
		Note string `json:"note"`
	}) (any, error) {
		return s.Changes.VerifyAction(ctx, u, id, in.Note)
	})
}

// apiUpdateAction edits or reassigns an action item; absent fields stay.
func (s *Server) apiUpdateAction(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withID, func(ctx context.Context, u *auth.User, id int64, in struct {
		Title         *string `json:"title"`
		OwnerID       *int64  `json:"owner_id"`
		DueOn         *string `json:"due_on"`
		BeforeStartup *bool   `json:"before_startup"`
		// VerificationRequired: coordinators only.
		VerificationRequired *bool `json:"verification_required"`
	}) (any, error) {
		up := change.ActionUpdate{Title: in.Title, OwnerID: in.OwnerID, BeforeStartup: in.BeforeStartup, VerificationRequired: in.VerificationRequired}
		if in.DueOn != nil {
			due, err := requiredDate("due_on", *in.DueOn)
			if err != nil {
				return nil, err
			}
			up.DueOn = &due
		}
		return s.Changes.UpdateAction(ctx, u, id, up)
	})
}

func (s *Server) apiAnswerPSSR(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withID, func(ctx context.Context, u *auth.User, id int64, in struct {
		Answer       string `json:"answer"`
		Comment      string `json:"comment"`
		AttachmentID int64  `json:"attachment_id"`
		// Version, when sent, is the item's version the answer was given
		// against: an item answered since is a 409, not an overwrite.
		Version *int64 `json:"version"`
	}) (any, error) {
		return s.Changes.AnswerPSSRItem(ctx, u, id, change.PSSRAnswer{Answer: in.Answer, Comment: in.Comment,
			AttachmentID: in.AttachmentID, Version: in.Version})
	})
}

func (s *Server) apiAddAcknowledgers(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withChange, func(ctx context.Context, u *auth.User, id int64, in struct {
		UserIDs []int64 `json:"user_ids"`
	}) (any, error) {
		if err := s.Changes.AddAcknowledgers(ctx, u, id, in.UserIDs); err != nil {
			return nil, err
		}
		return s.detailOf(ctx, u, id, acknowledgements)
	})
}

func (s *Server) apiAcknowledgeChange(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withChange, func(ctx context.Context, u *auth.User, id int64, _ noBody) (any, error) {
		if err := s.Changes.Acknowledge(ctx, u, id); err != nil {
			return nil, err
		}
		return s.detailOf(ctx, u, id, acknowledgements)
	})
}

// apiUploadAttachment takes multipart/form-data with a "file" part, or a
// raw body with the name in ?filename=.
func (s *Server) apiUploadAttachment(w http.ResponseWriter, r *http.Request) {
	u, id, ok := s.changeRequest(w, r, withChange)
	if !ok {
		return
	}
	limit := s.Changes.MaxAttachmentBytes
	var name string
	var data []byte
	var err error
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		f, fh, ferr := r.FormFile("file")
		if ferr != nil {
			s.fail(w, r, problem.Invalidf("file", "expected a multipart part named \"file\" of at most %d MB", limit>>20))
			return
		}
		defer f.Close()
		name = fh.Filename
		data, err = io.ReadAll(io.LimitReader(f, limit+1))
	} else {
		name = r.URL.Query().Get("filename")
		data, err = io.ReadAll(io.LimitReader(r.Body, limit+1))
	}
	if err != nil {
		s.fail(w, r, problem.Invalidf("file", "could not read the upload (at most %d MB)", limit>>20))
		return
	}
	a, err := s.Changes.AddAttachment(r.Context(), u, id, name, data)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, a)
}

func (s *Server) apiRequestExtension(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withChange, func(ctx context.Context, u *auth.User, id int64, in struct {
		ExpiresOn string `json:"expires_on"`
		Reason    string `json:"reason"`
	}) (any, error) {
		t, err := requiredDate("expires_on", in.ExpiresOn)
		if err != nil {
			return nil, err
		}
		if err := s.Changes.RequestExtension(ctx, u, id, t, in.Reason); err != nil {
			return nil, err
		}
		return s.detailOf(ctx, u, id, func(d *change.Detail) any { return map[string]any{"extensions": d.Extensions} })
	})
}

func (s *Server) apiDecideExtension(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withChange, func(ctx context.Context, u *auth.User, id int64, in signedDecision) (any, error) {
		sig, reauthErr := s.signature(r, in.Password)
		if err := s.Changes.DecideExtension(ctx, u, id, change.Decision(in.Decision), in.Comment, sig); err != nil {
			return nil, signatureError(err, reauthErr)
		}
		return s.detailOf(ctx, u, id, func(d *change.Detail) any { return map[string]any{"extensions": d.Extensions, "change": d.Change} })
	})
}

// signedDecision is the body of an approver's decision; Password
// signs it (empty for Entra ID users, who sign in again instead).
type signedDecision struct {
	Decision string `json:"decision"`
	Comment  string `json:"comment"`
	Password string `json:"password"`
}

func (s *Server) apiSubmitChange(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withChange, func(ctx context.Context, u *auth.User, id int64, in struct {
		Screening *change.Screening `json:"screening"`
	}) (any, error) {
		if in.Screening == nil {
			return nil, problem.Invalidf("screening", "the screening questionnaire is required at submit")
		}
		return s.Changes.Submit(ctx, u, id, *in.Screening)
	})
}

func (s *Server) apiTransitionChange(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withChange, func(ctx context.Context, u *auth.User, id int64, in struct {
		Action   string `json:"action"`
		Comment  string `json:"comment"`
		Password string `json:"password"`
		Rereview bool   `json:"rereview"`
	}) (any, error) {
		var sig change.Signature
		var reauthErr error
		if slices.Contains(change.SignedActions, change.Action(in.Action)) {
			sig, reauthErr = s.signature(r, in.Password)
		}
		c, err := s.Changes.Transition(ctx, u, id, change.TransitionRequest{
			Action: change.Action(in.Action), Comment: in.Comment, Signature: sig, Rereview: in.Rereview})
		return c, signatureError(err, reauthErr)
	})
}

func (s *Server) apiAssignReviewer(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withChange, func(ctx context.Context, u *auth.User, id int64, in struct {
		Discipline string `json:"discipline"`
		ReviewerID int64  `json:"reviewer_id"`
	}) (any, error) {
		if err := s.Changes.AssignReviewer(ctx, u, id, in.Discipline, in.ReviewerID); err != nil {
			return nil, err
		}
		return s.Changes.Get(ctx, u, id)
	})
}

// apiAddReview adds a discipline review or replaces a pending review's
// reviewer (coordinator, screening and review).
func (s *Server) apiAddReview(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withChange, func(ctx context.Context, u *auth.User, id int64, in struct {
		Discipline string `json:"discipline"`
		ReviewerID int64  `json:"reviewer_id"`
	}) (any, error) {
		if err := s.Changes.AddReview(ctx, u, id, in.Discipline, in.ReviewerID); err != nil {
			return nil, err
		}
		return s.Changes.Get(ctx, u, id)
	})
}

func (s *Server) apiSetApprovers(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withChange, func(ctx context.Context, u *auth.User, id int64, in struct {
		Stages [][]int64 `json:"stages"`
	}) (any, error) {
		if err := s.Changes.SetApprovers(ctx, u, id, in.Stages); err != nil {
			return nil, err
		}
		return s.Changes.Get(ctx, u, id)
	})
}

func (s *Server) apiDecideReview(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withChange, func(ctx context.Context, u *auth.User, id int64, in struct {
		Discipline string `json:"discipline"`
		Decision   string `json:"decision"`
		Comment    string `json:"comment"`
		// Conditions go with reviewed_with_conditions.
		Conditions []struct {
			Title         string `json:"title"`
			OwnerID       int64  `json:"owner_id"`
			DueOn         string `json:"due_on"`
			BeforeStartup *bool  `json:"before_startup"`
		} `json:"conditions"`
	}) (any, error) {
		rd := change.ReviewDecision{Discipline: in.Discipline, Decision: change.Decision(in.Decision), Comment: in.Comment}
		for i, c := range in.Conditions {
			due, err := parseDate(fmt.Sprintf("conditions[%d].due_on", i), c.DueOn)
			if err != nil {
				return nil, err
			}
			if c.BeforeStartup == nil {
				return nil, problem.Invalidf(fmt.Sprintf("conditions[%d].before_startup", i), "required, true when the condition must be met before startup")
			}
			rd.Conditions = append(rd.Conditions, change.ReviewCondition{Title: c.Title, OwnerID: c.OwnerID, DueOn: due, BeforeStartup: *c.BeforeStartup})
		}
		if err := s.Changes.DecideReviewWith(ctx, u, id, rd); err != nil {
			return nil, err
		}
		return s.Changes.Get(ctx, u, id)
	})
}

func (s *Server) apiDecideApproval(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withChange, func(ctx context.Context, u *auth.User, id int64, in signedDecision) (any, error) {
		sig, reauthErr := s.signature(r, in.Password)
		a, err := s.Changes.Decide(ctx, u, id, change.Decision(in.Decision), in.Comment, sig)
		return a, signatureError(err, reauthErr)
	})
}
