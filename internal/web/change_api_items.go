package web

import (
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

func (s *Server) apiPSSR(w http.ResponseWriter, r *http.Request) {
	s.detailPart(w, r, func(d *change.Detail) any { return map[string]any{"items": d.PSSR} })
}

func (s *Server) apiListAttachments(w http.ResponseWriter, r *http.Request) {
	s.detailPart(w, r, func(d *change.Detail) any { return map[string]any{"attachments": d.Attachments} })
}

// detailPart answers with one part of a change's detail.
func (s *Server) detailPart(w http.ResponseWriter, r *http.Request, part func(*change.Detail) any) {
	u := s.apiUserFor(w, r, auth.ActionViewChanges)
	if u == nil {
		return
	}
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	d, err := s.Changes.Get(r.Context(), u, id)
	if err != nil {
		s.changeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, part(d))
}

func (s *Server) apiAddAction(w http.ResponseWriter, r *http.Request) {
	u := s.apiUserFor(w, r, auth.ActionViewChanges)
	if u == nil {
		return
	}
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	var in struct {
		Title         string `json:"title"`
		Kind          string `json:"kind"`
		OwnerID       int64  `json:"owner_id"`
		DueOn         string `json:"due_on"`
		BeforeStartup *bool  `json:"before_startup"`
	}
	if !decodeChangeJSON(w, r, &in) {
		return
	}
	due, err := parseDate("due_on", in.DueOn)
	if err != nil {
		s.changeError(w, r, err)
		return
	}
	if in.BeforeStartup == nil {
		writeJSONError(w, r, http.StatusUnprocessableEntity, "before_startup: required, true when the action must be done before startup")
		return
	}
	a, err := s.Changes.AddAction(r.Context(), u, id, change.NewAction{Title: in.Title, Kind: change.ActionKind(in.Kind),
		OwnerID: in.OwnerID, DueOn: due, BeforeStartup: *in.BeforeStartup})
	if err != nil {
		s.changeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, a)
}

func (s *Server) apiCompleteAction(w http.ResponseWriter, r *http.Request) {
	u := s.apiUserFor(w, r, auth.ActionViewChanges)
	if u == nil {
		return
	}
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	var in struct {
		Note string `json:"note"`
	}
	if !decodeChangeJSON(w, r, &in) {
		return
	}
	a, err := s.Changes.CompleteAction(r.Context(), u, id, in.Note)
	if err != nil {
		s.changeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) apiAnswerPSSR(w http.ResponseWriter, r *http.Request) {
	u := s.apiUserFor(w, r, auth.ActionViewChanges)
	if u == nil {
		return
	}
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	var in struct {
		Answer       string `json:"answer"`
		Comment      string `json:"comment"`
		AttachmentID int64  `json:"attachment_id"`
	}
	if !decodeChangeJSON(w, r, &in) {
		return
	}
	it, err := s.Changes.AnswerPSSR(r.Context(), u, id, in.Answer, in.Comment, in.AttachmentID)
	if err != nil {
		s.changeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, it)
}

func (s *Server) apiAddAcknowledgers(w http.ResponseWriter, r *http.Request) {
	u := s.apiUserFor(w, r, auth.ActionViewChanges)
	if u == nil {
		return
	}
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	var in struct {
		UserIDs []int64 `json:"user_ids"`
	}
	if !decodeChangeJSON(w, r, &in) {
		return
	}
	if err := s.Changes.AddAcknowledgers(r.Context(), u, id, in.UserIDs); err != nil {
		s.changeError(w, r, err)
		return
	}
	s.detailPart(w, r, func(d *change.Detail) any { return map[string]any{"acknowledgements": d.Acknowledgements} })
}

func (s *Server) apiAcknowledge(w http.ResponseWriter, r *http.Request) {
	u := s.apiUserFor(w, r, auth.ActionViewChanges)
	if u == nil {
		return
	}
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	if err := s.Changes.Acknowledge(r.Context(), u, id); err != nil {
		s.changeError(w, r, err)
		return
	}
	s.detailPart(w, r, func(d *change.Detail) any { return map[string]any{"acknowledgements": d.Acknowledgements} })
}

// apiUploadAttachment takes multipart/form-data with a "file" part, or a
// raw body with the name in ?filename=.
func (s *Server) apiUploadAttachment(w http.ResponseWriter, r *http.Request) {
	u := s.apiUserFor(w, r, auth.ActionViewChanges)
	if u == nil {
		return
	}
	id, ok := pathID(w, r, "id")
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
	u := s.apiUserFor(w, r, auth.ActionViewChanges)
	if u == nil {
		return
	}
	id, ok := pathID(w, r, "id")
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
	w.Header().Set("Content-Type", a.ContentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.Filename}))
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Write(data)
}

func (s *Server) apiRequestExtension(w http.ResponseWriter, r *http.Request) {
	u := s.apiUserFor(w, r, auth.ActionViewChanges)
	if u == nil {
		return
	}
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	var in struct {
		ExpiresOn string `json:"expires_on"`
		Reason    string `json:"reason"`
	}
	if !decodeChangeJSON(w, r, &in) {
		return
	}
	t, err := parseDate("expires_on", in.ExpiresOn)
	if err == nil && t == nil {
		err = &change.Error{Code: change.EInvalid, Field: "expires_on", Message: "expires_on: required (YYYY-MM-DD)"}
	}
	if err == nil {
		err = s.Changes.RequestExtension(r.Context(), u, id, *t, in.Reason)
	}
	if err != nil {
		s.changeError(w, r, err)
		return
	}
	s.detailPart(w, r, func(d *change.Detail) any { return map[string]any{"extensions": d.Extensions} })
}

func (s *Server) apiDecideExtension(w http.ResponseWriter, r *http.Request) {
	u := s.apiUserFor(w, r, auth.ActionApproveChange)
	if u == nil {
		return
	}
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	var in struct {
		Decision string `json:"decision"`
		Comment  string `json:"comment"`
		Password string `json:"password"`
	}
	if !decodeChangeJSON(w, r, &in) {
		return
	}
	sig, reauthErr := s.signature(r, in.Password)
	if err := s.Changes.DecideExtension(r.Context(), u, id, change.Decision(in.Decision), in.Comment, sig); err != nil {
		s.signedError(w, r, err, reauthErr)
		return
	}
	s.detailPart(w, r, func(d *change.Detail) any { return map[string]any{"extensions": d.Extensions, "change": d.Change} })
}

func (s *Server) apiAuditTrail(w http.ResponseWriter, r *http.Request) {
	u := s.apiUserFor(w, r, auth.ActionViewChanges)
	if u == nil {
		return
	}
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	es, err := s.Changes.AuditTrail(r.Context(), u, id)
	if err != nil {
		s.changeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": es})
}

func (s *Server) apiVerifyAudit(w http.ResponseWriter, r *http.Request) {
	u := s.apiUserFor(w, r, auth.ActionViewAudit)
	if u == nil {
		return
	}
	rep, err := s.Changes.VerifyAudit(r.Context())
	if err != nil {
		s.changeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": rep.OK(), "report": rep})
}

func (s *Server) apiChangeDashboard(w http.ResponseWriter, r *http.Request) {
	u := s.apiUserFor(w, r, auth.ActionViewDashboard)
	if u == nil {
		return
	}
	d, err := s.Changes.Dashboard(r.Context(), u)
	if err != nil {
		s.changeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sites": d})
}

func (s *Server) apiMyWork(w http.ResponseWriter, r *http.Request) {
	u := s.apiUserFor(w, r, auth.ActionViewChanges)
	if u == nil {
		return
	}
	work, err := s.Changes.MyWork(r.Context(), u)
	if err != nil {
		s.changeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, work)
}

func (s *Server) apiListDelegations(w http.ResponseWriter, r *http.Request) {
	u := s.apiUserFor(w, r, auth.ActionViewChanges)
	if u == nil {
		return
	}
	ds, err := s.Changes.Delegations(r.Context(), u)
	if err != nil {
		s.changeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"delegations": ds})
}

func (s *Server) apiCreateDelegation(w http.ResponseWriter, r *http.Request) {
	u := s.apiUserFor(w, r, auth.ActionApproveChange)
	if u == nil {
		return
	}
	var in struct {
		DelegateID int64  `json:"delegate_id"`
		StartsOn   string `json:"starts_on"`
		EndsOn     string `json:"ends_on"`
		Reason     string `json:"reason"`
	}
	if !decodeChangeJSON(w, r, &in) {
		return
	}
	var start, end time.Time
	for _, p := range []struct {
		field, v string
		dst      *time.Time
	}{{"starts_on", in.StartsOn, &start}, {"ends_on", in.EndsOn, &end}} {
		t, err := parseDate(p.field, p.v)
		if err == nil && t == nil {
			err = &change.Error{Code: change.EInvalid, Field: p.field, Message: p.field + ": required (YYYY-MM-DD)"}
		}
		if err != nil {
			s.changeError(w, r, err)
			return
		}
		*p.dst = *t
	}
	d, err := s.Changes.CreateDelegation(r.Context(), u, in.DelegateID, start, end, in.Reason)
	if err != nil {
		s.changeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, d)
}

func (s *Server) apiRevokeDelegation(w http.ResponseWriter, r *http.Request) {
	u := s.apiUserFor(w, r, auth.ActionApproveChange)
	if u == nil {
		return
	}
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	if err := s.Changes.RevokeDelegation(r.Context(), u, id); err != nil {
		s.changeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiListUnits(w http.ResponseWriter, r *http.Request) {
	u := s.apiUserFor(w, r, auth.ActionViewChanges)
	if u == nil {
		return
	}
	var site int64
	if v := r.URL.Query().Get("site_id"); v != "" {
		var err error
		if site, err = strconv.ParseInt(v, 10, 64); err != nil {
			writeJSONError(w, r, http.StatusUnprocessableEntity, "site_id: expected a number")
			return
		}
	}
	us, err := s.Changes.Units(r.Context(), u, site)
	if err != nil {
		s.changeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"units": us})
}

func (s *Server) apiCreateUnit(w http.ResponseWriter, r *http.Request) {
	u := s.apiUserFor(w, r, auth.ActionManageSites)
	if u == nil {
		return
	}
	var in struct {
		SiteID int64  `json:"site_id"`
		Code   string `json:"code"`
		Name   string `json:"name"`
	}
	if !decodeChangeJSON(w, r, &in) {
		return
	}
	unit, err := s.Changes.CreateUnit(r.Context(), u, in.SiteID, in.Code, in.Name)
	if err != nil {
		s.changeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, unit)
}

func (s *Server) apiListPSSRTemplates(w http.ResponseWriter, r *http.Request) {
	if s.apiUserFor(w, r, auth.ActionViewChanges) == nil {
		return
	}
	ts, err := s.Changes.PSSRTemplates(r.Context())
	if err != nil {
		s.changeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"templates": ts})
}

func (s *Server) apiGetPSSRTemplate(w http.ResponseWriter, r *http.Request) {
	if s.apiUserFor(w, r, auth.ActionViewChanges) == nil {
		return
	}
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	t, err := s.Changes.PSSRTemplate(r.Context(), id)
	if err != nil {
		s.changeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
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

func (s *Server) savePSSRTemplate(w http.ResponseWriter, r *http.Request, id int64) {
	u := s.apiUserFor(w, r, auth.ActionManageTemplates)
	if u == nil {
		return
	}
	var in pssrTemplateInput
	if !decodeChangeJSON(w, r, &in) {
		return
	}
	t, err := s.Changes.SavePSSRTemplate(r.Context(), u, change.PSSRTemplate{ID: id, Name: in.Name, IsDefault: in.IsDefault, Items: in.Items})
	if err != nil {
		s.changeError(w, r, err)
		return
	}
	status := http.StatusOK
	if id == 0 {
		status = http.StatusCreated
		w.Header().Set("Location", fmt.Sprintf("/api/v1/pssr-templates/%d", t.ID))
	}
	writeJSON(w, status, t)
}

func (s *Server) apiGetReminderSettings(w http.ResponseWriter, r *http.Request) {
	if s.apiUserFor(w, r, auth.ActionViewChanges) == nil {
		return
	}
	rs, err := s.Changes.ReminderSettings(r.Context())
	if err != nil {
		s.changeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rs)
}

func (s *Server) apiUpdateReminderSettings(w http.ResponseWriter, r *http.Request) {
	u := s.apiUserFor(w, r, auth.ActionManageReminders)
	if u == nil {
		return
	}
	var in struct {
		PendingAfterDays  int   `json:"pending_after_days"`
		EscalateAfterDays int   `json:"escalate_after_days"`
		ActionDueSoonDays int   `json:"action_due_soon_days"`
		ExpiryWarningDays []int `json:"expiry_warning_days"`
		RunHourUTC        int   `json:"run_hour_utc"`
	}
	if !decodeChangeJSON(w, r, &in) {
		return
	}
	rs, err := s.Changes.UpdateReminderSettings(r.Context(), u, change.ReminderSettings{PendingAfterDays: in.PendingAfterDays,
		EscalateAfterDays: in.EscalateAfterDays, ActionDueSoonDays: in.ActionDueSoonDays, ExpiryWarningDays: in.ExpiryWarningDays,
		RunHourUTC: in.RunHourUTC})
	if err != nil {
		s.changeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rs)
}
