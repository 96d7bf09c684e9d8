package web_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// postHazardForm sends the change page's hazard review form as b, with
// fields and an optional worksheet file.
func postHazardForm(t *testing.T, f *pageFixture, b *browser, number string, fields map[string][]string, file string, data []byte) response {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("csrf_token", b.csrf())
	for k, vs := range fields {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	if file != "" {
		fw, _ := mw.CreateFormFile("worksheet", file)
		fw.Write(data)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", f.site.URL+"/changes/"+number+"/hazard-reviews", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", f.site.URL)
	return b.do(req)
}

// The change page records a hazard review: a mistake comes back beside
// its field with what was typed kept and no file attached; a good form
// attaches the worksheet, shows the record with its team and links each
// recommendation to the action it became.
func TestHazardReviewFormRecordsTeamWorksheetAndRecommendations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		ctx := context.Background()
		svc := f.site.web.Changes
		number := f.review.Number
		page := f.ini2.get("/changes/" + number)
		if !strings.Contains(page.Body, `id="f-hazard"`) {
			t.Fatalf("the initiator is not offered the hazard review form\n%s", excerpt(page.Body))
		}
		if p := f.ap2.get("/changes/" + number); strings.Contains(p.Body, `id="f-hazard"`) {
			t.Error("an approver with no part in the hazard review is offered its form")
		}
		today := f.site.clock.Now().Format(time.DateOnly)
		due := f.site.clock.Now().AddDate(0, 0, 7).Format(time.DateOnly)
		fields := map[string][]string{"method": {"what_if"}, "held_on": {today}, "summary": {"  "},
			"team_user_ids": {strconv.FormatInt(f.rev.ID, 10)}, "outsiders": {"Hans Vogt, Vendor AG\n\n"},
			"rec-0-title": {"Add a check valve"}, "rec-0-owner_id": {strconv.FormatInt(f.rev.ID, 10)}, "rec-0-due_on": {due}, "rec-0-before_startup": {"yes"}}
		r := postHazardForm(t, f, f.ini2, number, fields, "worksheet.csv", []byte("node,deviation\n1,no flow\n"))
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(errorBeside(r.Body, "hz-summary"), "Summary is required") {
			t.Fatalf("empty summary: %d %q\n%s", r.StatusCode, errorBeside(r.Body, "hz-summary"), excerpt(r.Body))
		}
		if !strings.Contains(r.Body, "Hans Vogt, Vendor AG") || !strings.Contains(r.Body, `value="Add a check valve"`) {
			t.Error("the refused form lost what was typed")
		}
		if d, _ := svc.Get(ctx, f.coord, f.review.ID); len(d.Attachments) != 0 {
			t.Errorf("a refused form attached its worksheet: %+v", d.Attachments)
		}
		fields["summary"] = []string{"No flow through the new line: check valve needed."}
		r = postHazardForm(t, f, f.ini2, number, fields, "worksheet.csv", []byte("node,deviation\n1,no flow\n"))
		if r.StatusCode != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "done=hazard-recorded") {
			t.Fatalf("record: %d %q\n%s", r.StatusCode, r.Header.Get("Location"), excerpt(r.Body))
		}
		d, err := svc.Get(ctx, f.coord, f.review.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.HazardReviews) != 1 || len(d.Attachments) != 1 {
			t.Fatalf("records %d, attachments %d", len(d.HazardReviews), len(d.Attachments))
		}
		h := d.HazardReviews[0]
		if h.Method != change.HazardWhatIf || h.WorksheetID != d.Attachments[0].ID || len(h.Team) != 2 || h.Team[1].Organisation != "Vendor AG" ||
			len(h.Recommendations) != 1 || !h.Recommendations[0].BeforeStartup || h.Recommendations[0].DueOn.Format(time.DateOnly) != due {
			t.Fatalf("record = %+v", h)
		}
		page = f.ini2.get(r.Header.Get("Location"))
		for _, want := range []string{"What-if held " + today, "Hans Vogt", "Vendor AG", "worksheet.csv",
			`href="#action-` + strconv.FormatInt(h.Recommendations[0].ID, 10) + `"`, "Hazard review recommendation", "Hazard review recorded"} {
			if !strings.Contains(page.Body, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		if pr := f.ini2.get("/changes/" + number + "/print"); !strings.Contains(pr.Body, "What-if held "+today) || !strings.Contains(pr.Body, "Hans Vogt (Vendor AG)") {
			t.Errorf("print view lacks the hazard review record\n%s", excerpt(pr.Body))
		}
	})
}
