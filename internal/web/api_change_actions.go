package web

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
)

func (s *Server) apiListActions(w http.ResponseWriter, r *http.Request) {
	s.detailPart(w, r, func(d *change.Detail) any { return map[string]any{"actions": d.Actions} })
}

func (s *Server) apiListPSSR(w http.ResponseWriter, r *http.Request) {
	s.detailPart(w, r, func(d *change.Detail) any { return map[string]any{"items": d.PSSR} })
}

func (s *Server) apiListAttachments(w http.ResponseWriter, r *http.Request) {
	s.detailPart(w, r, func(d *change.Detail) any { return map[string]any{"attachments": d.Attachments} })
}

// detailPart answers with one part of a change's detail.
func (s *Server) detailPart(w http.ResponseWriter, r *http.Request, part func(*change.Detail) any) {
	changeCall(s, w, r, withChange, func(ctx context.Context, u *auth.User, id int64, _ noBody) (any, error) {
		return s.detailOf(ctx, u, id, part)
	})
}

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
			return nil, invalidInput("before_startup: required, true when the action must be done before startup")
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
		Note string `json:"note"`
	}) (any, error) {
		return s.Changes.CompleteAction(ctx, u, id, in.Note)
	})
}

func (s *Server) apiAnswerPSSR(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withID, func(ctx context.Context, u *auth.User, id int64, in struct {
		Answer       string `json:"answer"`
		Comment      string `json:"comment"`
		AttachmentID int64  `json:"attachment_id"`
	}) (any, error) {
		return s.Changes.AnswerPSSR(ctx, u, id, in.Answer, in.Comment, in.AttachmentID)
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
	r.Body = http.MaxBytesReader(w, r.Body, limit+1<<20)
	var name string
	var data []byte
	var err error
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		f, fh, ferr := r.FormFile("file")
		if ferr != nil {
			writeJSONError(w, r, http.StatusUnprocessableEntity, "file: expected a multipart part named \"file\" of at most "+strconv.FormatInt(limit>>20, 10)+" MB")
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
		writeJSONError(w, r, http.StatusUnprocessableEntity, "file: could not read the upload (at most "+strconv.FormatInt(limit>>20, 10)+" MB)")
		return
	}
	a, err := s.Changes.AddAttachment(r.Context(), u, id, name, data)
	if err != nil {
		s.changeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, a)
}

func (s *Server) apiDownloadAttachment(w http.ResponseWriter, r *http.Request) {
	u, id, ok := s.changeRequest(w, r, withChange)
	if !ok {
		return
	}
	aid, ok := pathID(w, r, "aid")
	if !ok {
		return
	}
	a, data, err := s.Changes.AttachmentData(r.Context(), u, id, aid)
	if err != nil {
		s.changeError(w, r, err)
		return
	}
	serveAttachment(w, a, data)
}

// attachmentPolicy is the Content-Security-Policy of a download: should a
// browser render it anyway, it runs nothing and loads nothing.
const attachmentPolicy = "sandbox; default-src 'none'"

// serveAttachment writes a stored file as a download, for the API and
// the pages alike: always "attachment" (never shown inline), never
// sniffed into something else, with a type and name that cannot make
// the browser or the downloader's system run it (change.DownloadType,
// change.DownloadName).
func serveAttachment(w http.ResponseWriter, a *change.Attachment, data []byte) {
	h := w.Header()
	ct := change.DownloadType(a.ContentType)
	h.Set("Content-Type", ct)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", attachmentPolicy)
	disp := mime.FormatMediaType("attachment", map[string]string{"filename": change.DownloadName(a.Filename, ct)})
	if disp == "" {
		disp = "attachment" // a name FormatMediaType cannot write: the browser picks one
	}
	h.Set("Content-Disposition", disp)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.Write(data)
}

// requiredDate is parseDate for a date that must be given.
func requiredDate(field, v string) (time.Time, error) {
	t, err := parseDate(field, v)
	if err == nil && t == nil {
		err = &change.Error{Code: change.EInvalid, Field: field, Message: field + ": required (YYYY-MM-DD)"}
	}
	if err != nil {
		return time.Time{}, err
	}
	return *t, nil
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
			return nil, withReauth(err, reauthErr)
		}
		return s.detailOf(ctx, u, id, func(d *change.Detail) any { return map[string]any{"extensions": d.Extensions, "change": d.Change} })
	})
}

// apiAuditTrail is the raw trail with its hashes: the verification
// material, so it follows the audit page's rule (auditors, coordinators,
// admins on their sites). Everyone who may read the change gets the same
// history in plain words as the change page's timeline.
func (s *Server) apiGetAuditTrail(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withChange, func(ctx context.Context, u *auth.User, id int64, _ noBody) (any, error) {
		es, err := s.Changes.AuditTrail(ctx, u, id)
		return map[string]any{"entries": es}, err
	})
}

func (s *Server) apiVerifyAudit(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, noID, func(ctx context.Context, u *auth.User, _ int64, _ noBody) (any, error) {
		rep, err := s.Changes.VerifyAudit(ctx, u)
		if err != nil {
			return nil, err
		}
		return map[string]any{"ok": rep.OK(), "report": rep}, nil
	})
}

func (s *Server) apiGetDashboard(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, noID, func(ctx context.Context, u *auth.User, _ int64, _ noBody) (any, error) {
		d, err := s.Changes.Dashboard(ctx, u)
		return map[string]any{"sites": d}, err
	})
}

func (s *Server) apiGetMyWork(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, noID, func(ctx context.Context, u *auth.User, _ int64, _ noBody) (any, error) {
		return s.Changes.MyWork(ctx, u)
	})
}

func (s *Server) apiListDelegations(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, noID, func(ctx context.Context, u *auth.User, _ int64, _ noBody) (any, error) {
		ds, err := s.Changes.Delegations(ctx, u)
		return map[string]any{"delegations": ds}, err
	})
}

func (s *Server) apiCreateDelegation(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, noID, func(ctx context.Context, u *auth.User, _ int64, in struct {
		DelegateID int64  `json:"delegate_id"`
		StartsOn   string `json:"starts_on"`
		EndsOn     string `json:"ends_on"`
		Reason     string `json:"reason"`
	}) (any, error) {
		start, err := requiredDate("starts_on", in.StartsOn)
		if err != nil {
			return nil, err
		}
		end, err := requiredDate("ends_on", in.EndsOn)
		if err != nil {
			return nil, err
		}
		d, err := s.Changes.CreateDelegation(ctx, u, in.DelegateID, start, end, in.Reason)
		if err != nil {
			return nil, err
		}
		return created(d, ""), nil
	})
}

func (s *Server) apiRevokeDelegation(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withID, func(ctx context.Context, u *auth.User, id int64, _ noBody) (any, error) {
		if err := s.Changes.RevokeDelegation(ctx, u, id); err != nil {
			return nil, err
		}
		return apiReply{status: http.StatusNoContent}, nil
	})
}

func (s *Server) apiListUnits(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, noID, func(ctx context.Context, u *auth.User, _ int64, _ noBody) (any, error) {
		var site int64
		if v := r.URL.Query().Get("site_id"); v != "" {
			var err error
			if site, err = strconv.ParseInt(v, 10, 64); err != nil {
				return nil, invalidInput("site_id: expected a number")
			}
		}
		us, err := s.Changes.Units(ctx, u, site)
		return map[string]any{"units": us}, err
	})
}

func (s *Server) apiCreateUnit(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, noID, func(ctx context.Context, u *auth.User, _ int64, in struct {
		SiteID int64  `json:"site_id"`
		Code   string `json:"code"`
		Name   string `json:"name"`
	}) (any, error) {
		unit, err := s.Changes.CreateUnit(ctx, u, in.SiteID, in.Code, in.Name)
		if err != nil {
			return nil, err
		}
		return created(unit, ""), nil
	})
}

func (s *Server) apiListPSSRTemplates(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, noID, func(ctx context.Context, _ *auth.User, _ int64, _ noBody) (any, error) {
		ts, err := s.Changes.PSSRTemplates(ctx)
		return map[string]any{"templates": ts}, err
	})
}

func (s *Server) apiGetPSSRTemplate(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withID, func(ctx context.Context, _ *auth.User, id int64, _ noBody) (any, error) {
		return s.Changes.PSSRTemplate(ctx, id)
	})
}

type pssrTemplateInput struct {
	Name      string                    `json:"name"`
	IsDefault bool                      `json:"is_default"`
	Items     []change.PSSRTemplateItem `json:"items"`
}

func (s *Server) apiCreatePSSRTemplate(w http.ResponseWriter, r *http.Request) {
	s.savePSSRTemplate(w, r, 0)
}

func (s *Server) apiUpdatePSSRTemplate(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	s.savePSSRTemplate(w, r, id)
}

// savePSSRTemplate creates (id 0) or replaces template id.
func (s *Server) savePSSRTemplate(w http.ResponseWriter, r *http.Request, id int64) {
	changeCall(s, w, r, noID, func(ctx context.Context, u *auth.User, _ int64, in pssrTemplateInput) (any, error) {
		t, err := s.Changes.SavePSSRTemplate(ctx, u, change.PSSRTemplate{ID: id, Name: in.Name, IsDefault: in.IsDefault, Items: in.Items})
		if err != nil {
			return nil, err
		}
		if id != 0 {
			return t, nil
		}
		return created(t, fmt.Sprintf("/api/v1/pssr-templates/%d", t.ID)), nil
	})
}

func (s *Server) apiGetReminderSettings(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, noID, func(ctx context.Context, _ *auth.User, _ int64, _ noBody) (any, error) {
		return s.Changes.ReminderSettings(ctx)
	})
}

func (s *Server) apiUpdateReminderSettings(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, noID, func(ctx context.Context, u *auth.User, _ int64, in struct {
		PendingAfterDays  int   `json:"pending_after_days"`
		EscalateAfterDays int   `json:"escalate_after_days"`
		ActionDueSoonDays int   `json:"action_due_soon_days"`
		ExpiryWarningDays []int `json:"expiry_warning_days"`
		RunHourUTC        int   `json:"run_hour_utc"`
	}) (any, error) {
		return s.Changes.UpdateReminderSettings(ctx, u, change.ReminderSettings{PendingAfterDays: in.PendingAfterDays,
			EscalateAfterDays: in.EscalateAfterDays, ActionDueSoonDays: in.ActionDueSoonDays, ExpiryWarningDays: in.ExpiryWarningDays,
			RunHourUTC: in.RunHourUTC})
	})
}
