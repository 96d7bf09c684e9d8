package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/requestid"
)

// The walkdown page (/changes/{ref}/walkdown) is the PSSR checklist alone,
// for a phone or tablet in the unit: one section at a time, big Yes / No /
// N/A buttons, notes and photos from the device's camera. Its forms are
// plain forms (posted to /changes/{ref}/pssr/{item}); walkdown.js sends
// them to /changes/{ref}/walkdown/{item} instead, and keeps them on the
// device while there is no network.

// walkdownView is what walkdown.html shows.
type walkdownView struct {
	C        *change.Change
	Sections []walkdownSection
	// Current is the number of the section shown (1-based).
	Current   int
	CanAnswer bool
	Lead      *change.PSSRMember
	SignedOff *change.SignatureRecord
	// MyScope is what the user walks as a team member ("" none or all).
	MyScope string
	OnTeam  bool
	// CanSignOff: the lead may sign off now (on the change page).
	CanSignOff bool
	Open       int
	CSRFToken  string
}

type walkdownSection struct {
	No    int
	Name  string
	Items []walkdownItem
	Open  int
	// Prev and Next number the neighbouring sections (0: none).
	Prev, Next int
}

// walkdownItem is one checklist item with what the page shows beside it.
type walkdownItem struct {
	change.PSSRItem
	Label string
	// History: what each No's deficiency became.
	History  []string
	Evidence *walkdownEvidence
}

type walkdownEvidence struct {
	Name      string `json:"name"`
	URL       string `json:"url"`
	Thumbnail string `json:"thumbnail,omitempty"`
}

// sectionName is a section as the page titles it.
func sectionName(s string) string {
	if s == "" {
		return "Checklist"
	}
	return s
}

// walkdownItemOf dresses a checklist item for the page and for the
// script's replies.
func walkdownItemOf(d *change.Detail, it change.PSSRItem) walkdownItem {
	wi := walkdownItem{PSSRItem: it, Label: answerLabel(it.Answer)}
	for _, a := range d.PSSRItemDeficiencies(it.ID) {
		wi.History = append(wi.History, change.DeficiencyHistory(a))
	}
	if it.AttachmentID != 0 {
		for _, a := range d.Attachments {
			if a.ID == it.AttachmentID {
				ev := &walkdownEvidence{Name: a.Filename, URL: changeURL(d.Change, fmt.Sprintf("attachments/%d", a.ID))}
				if change.HasThumbnail(a.ContentType) {
					ev.Thumbnail = changeURL(d.Change, fmt.Sprintf("attachments/%d/thumbnail", a.ID))
				}
				wi.Evidence = ev
			}
		}
	}
	return wi
}

func buildWalkdownView(u *auth.User, d *change.Detail, section int) *walkdownView {
	v := &walkdownView{C: d.Change, CanAnswer: slices.Contains(d.AllowedActions, change.ActAnswerPSSR),
		Lead: d.PSSRLead(), SignedOff: d.PSSRSignOff(), CanSignOff: slices.Contains(d.AllowedActions, change.ActSignOffPSSR)}
	for _, m := range d.PSSRTeam {
		if m.UserID == u.ID {
			v.OnTeam, v.MyScope = true, m.Scope
		}
	}
	names := d.PSSRSections()
	for i, name := range names {
		sec := walkdownSection{No: i + 1, Name: sectionName(name), Prev: i}
		if i+1 < len(names) {
			sec.Next = i + 2
		}
		for _, it := range d.PSSR {
			if it.Section == name {
				sec.Items = append(sec.Items, walkdownItemOf(d, it))
				if it.Answer == "" {
					sec.Open++
				}
			}
		}
		v.Open += sec.Open
		v.Sections = append(v.Sections, sec)
	}
	v.Current = section
	if v.Current < 1 || v.Current > len(v.Sections) {
		// Start where the user's work is: their section, else the first
		// with an item still to answer.
		v.Current = 1
		for _, s := range v.Sections {
			if v.MyScope != "" && s.Name == v.MyScope {
				v.Current = s.No
				break
			}
		}
		if v.MyScope == "" || v.Current == 1 {
			for _, s := range v.Sections {
				if s.Open > 0 {
					v.Current = s.No
					break
				}
			}
		}
	}
	return v
}

// pageShowWalkdown shows the walkdown page.
func (s *Server) pageShowWalkdown(w http.ResponseWriter, r *http.Request) {
	u, d := s.loadChangePage(w, r)
	if d == nil {
		return
	}
	section, _ := strconv.Atoi(r.URL.Query().Get("section"))
	s.renderWalkdown(w, r, http.StatusOK, u, d, section, nil, nil)
}

func (s *Server) renderWalkdown(w http.ResponseWriter, r *http.Request, status int, u *auth.User, d *change.Detail, section int,
	errs map[string]string, input map[string]string) {
	if len(d.PSSR) == 0 {
		s.fail(w, r, problem.Newf(problem.NotFound, "%s has no PSSR checklist yet: it appears when implementation is complete.", d.Change.Number))
		return
	}
	v := buildWalkdownView(u, d, section)
	// Put back what a refused answer carried, so nothing typed is lost.
	for i := range v.Sections {
		for j := range v.Sections[i].Items {
			it := &v.Sections[i].Items[j]
			if c, ok := input[fmt.Sprintf("pssr-%d-comment", it.ID)]; ok {
				it.Comment = c
			}
		}
	}
	p := &Page{Title: "PSSR walkdown " + d.Change.Number, Errors: errs, Data: v}
	if len(errs) == 0 {
		p.Flash = flashMessages[r.URL.Query().Get("done")]
	}
	s.render(w, r, status, "walkdown.html", p)
}

// pssrAnswerForm reads an answer form (the change page's, the walkdown's,
// or the script's): the answer, the note, the version the device showed,
// and evidence (a photo or file uploaded now, or one already attached).
func (s *Server) pssrAnswerForm(r *http.Request, u *auth.User, d *change.Detail) (change.PSSRAnswer, error) {
	a := change.PSSRAnswer{Answer: r.FormValue("answer"), Comment: r.FormValue("comment")}
	a.AttachmentID, _ = strconv.ParseInt(r.FormValue("attachment_id"), 10, 64)
	if v := r.FormValue("version"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return a, problem.Invalidf("version", "must be the item's version number, got %q", v)
		}
		a.Version = &n
	}
	name, data, err := s.readUpload(r, "evidence")
	if err == nil && data != nil {
		var att *change.Attachment
		if att, err = s.Changes.AddAttachment(r.Context(), u, d.Change.ID, name, data); err == nil {
			a.AttachmentID = att.ID
		}
	}
	return a, err
}

// walkdownReply is the script's answer: the item as recorded, dressed as
// the page shows it; on a refusal, the API's error fields too.
type walkdownReply struct {
	Error     string        `json:"error,omitempty"`
	Code      string        `json:"code,omitempty"`
	Field     string        `json:"field,omitempty"`
	RequestID string        `json:"request_id,omitempty"`
	Item      *walkdownJSON `json:"item,omitempty"`
}

type walkdownJSON struct {
	ID       int64             `json:"id"`
	Version  int64             `json:"version"`
	Answer   string            `json:"answer"`
	Label    string            `json:"label"`
	Comment  string            `json:"comment"`
	By       string            `json:"answered_by_name"`
	At       string            `json:"answered_at"`
	History  []string          `json:"history"`
	Evidence *walkdownEvidence `json:"evidence,omitempty"`
}

func walkdownJSONOf(d *change.Detail, itemID int64) *walkdownJSON {
	for _, it := range d.PSSR {
		if it.ID != itemID {
			continue
		}
		wi := walkdownItemOf(d, it)
		out := &walkdownJSON{ID: it.ID, Version: it.Version, Answer: it.Answer, Label: wi.Label, Comment: it.Comment,
			By: it.AnsweredByName, History: wi.History, Evidence: wi.Evidence}
		if out.History == nil {
			out.History = []string{}
		}
		if it.AnsweredAt != nil {
			out.At = it.AnsweredAt.UTC().Format("2006-01-02 15:04 UTC")
		}
		return out
	}
	return nil
}

// pageWalkdownAnswer records an answer sent by walkdown.js, and answers
// in JSON: the item as recorded (200), or the refusal with the item as
// it is now, so a conflict shows what is recorded (409).
func (s *Server) pageWalkdownAnswer(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	d, err := s.Changes.GetByRef(r.Context(), u, r.PathValue("ref"))
	if err != nil {
		s.walkdownFail(w, r, err, nil)
		return
	}
	itemID, perr := strconv.ParseInt(r.PathValue("item"), 10, 64)
	if perr != nil || !slices.ContainsFunc(d.PSSR, func(it change.PSSRItem) bool { return it.ID == itemID }) {
		s.walkdownFail(w, r, problem.Newf(problem.NotFound, "PSSR item %s not found on %s", r.PathValue("item"), d.Change.Number), nil)
		return
	}
	a, err := s.pssrAnswerForm(r, u, d)
	if err == nil {
		_, err = s.Changes.AnswerPSSRItem(r.Context(), u, itemID, a)
	}
	fresh, gerr := s.Changes.Get(r.Context(), u, d.Change.ID)
	if gerr != nil {
		s.walkdownFail(w, r, gerr, nil)
		return
	}
	if err != nil {
		s.walkdownFail(w, r, err, walkdownJSONOf(fresh, itemID))
		return
	}
	writeJSON(w, http.StatusOK, walkdownReply{Item: walkdownJSONOf(fresh, itemID)})
}

func (s *Server) walkdownFail(w http.ResponseWriter, r *http.Request, err error, item *walkdownJSON) {
	pe := problem.As(err)
	status := statusOf(err)
	if pe == nil || status == http.StatusInternalServerError {
		s.Logger.ErrorContext(r.Context(), "walkdown answer", "path", r.URL.Path, "err", err, "request_id", requestid.From(r.Context()))
		writeJSON(w, http.StatusInternalServerError, walkdownReply{Error: "Something went wrong on our side; the answer is kept on this device and sent again.",
			Code: problem.Internal.String(), RequestID: requestid.From(r.Context())})
		return
	}
	writeJSON(w, status, walkdownReply{Error: fieldError(pe.Field, pe.Message, nil), Code: pe.Kind.String(), Field: pe.Field,
		RequestID: requestid.From(r.Context()), Item: item})
}

// pageShowThumbnail serves the small JPEG of an image attachment.
func (s *Server) pageShowThumbnail(w http.ResponseWriter, r *http.Request) {
	u, changeID, aid, ok := s.pageAttachmentRef(w, r)
	if !ok {
		return
	}
	thumb, err := s.Changes.AttachmentThumbnail(r.Context(), u, changeID, aid)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "image/jpeg")
	h.Set("Content-Security-Policy", attachmentPolicy)
	h.Set("Content-Length", strconv.Itoa(len(thumb)))
	w.Write(thumb)
}
