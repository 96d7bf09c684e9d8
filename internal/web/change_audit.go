package web

import (
	"fmt"
	"net/http"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
)

// The audit pages let the people who may read audits check the hash
// chain from the browser, with the same check `mocpcr audit verify` runs
// (change.VerifyAudit); they change nothing.

type changeAuditView struct {
	C       *change.Change
	Entries []change.AuditEntry
	Report  change.AuditReport
	// BrokenSeq is the first entry that fails the check, 0 when intact.
	BrokenSeq int64
	Break     *change.AuditBreak
	// NextURL shows the entries after this page; FirstURL the first page
	// (on a later one). "" when there are none.
	NextURL, FirstURL string
}

// auditPerPage is how many entries one audit page shows.
const auditPerPage = 200

// pageShowChangeAudit shows one change's audit trail and whether its chain
// verifies, naming the first broken entry when not.
func (s *Server) pageShowChangeAudit(w http.ResponseWriter, r *http.Request) {
	u, d := s.loadChangePage(w, r)
	if d == nil {
		return
	}
	v := changeAuditView{C: d.Change}
	after, err := queryInt(r, "after", 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The entries shown page by entry number; the check below still
	// reads the whole chain, since each hash depends on every one before
	// it. Both are one change's trail, whatever the size of the table.
	p, err := s.Changes.AuditTrailPage(r.Context(), u, d.Change.ID, after, auditPerPage)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Entries = p.Entries
	base := changePath(d.Change.Number) + "/audit"
	if p.Next != 0 {
		v.NextURL = fmt.Sprintf("%s?after=%d", base, p.Next)
	}
	if after > 0 {
		v.FirstURL = base
	}
	if v.Report, err = s.Changes.VerifyChangeAudit(r.Context(), u, d.Change.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	if len(v.Report.Broken) > 0 {
		v.Break = &v.Report.Broken[0]
		v.BrokenSeq = v.Break.Seq
	}
	s.render(w, r, http.StatusOK, "change_audit.html", &Page{Title: "Audit trail of " + d.Change.Number, Data: v, SiteID: d.Change.SiteID})
}

// pageVerifyAudit verifies the chain of every change on the user's
// sites: the browser's `mocpcr audit verify`.
func (s *Server) pageVerifyAudit(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	rep, err := s.Changes.VerifyAudit(r.Context(), u)
	if err != nil {
		s.serverFault(w, r, "verify audit", err)
		return
	}
	s.render(w, r, http.StatusOK, "audit_verify.html", &Page{Title: "Verify the audit trail", Data: rep})
}
