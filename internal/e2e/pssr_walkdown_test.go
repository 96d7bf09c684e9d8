package e2e

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
)

// phone makes the person's tab a 390 × 844 phone held upright.
func (b *browser) phone() {
	b.t.Helper()
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
}

// network cuts the tab off the network, or gives it back, as the DevTools
// "Offline" switch does: requests fail and navigator.onLine follows.
func (b *browser) network(online bool) {
	b.t.Helper()
	conds := []*network.Conditions{}
	if !online {
		conds = append(conds, &network.Conditions{Offline: true, DownloadThroughput: -1, UploadThroughput: -1})
	}
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: conds}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: !online, DownloadThroughput: -1, UploadThroughput: -1})
		return err
	}))
}

// nextSection follows the walkdown's "Next section" link of section n and
// waits for section n+1. The link is clicked from the page, not at its
// coordinates: the status line above it comes and goes as answers are
// queued, and a click at where the link was a moment ago misses it.
func (b *browser) nextSection(n int) {
	b.t.Helper()
	b.waitJS(fmt.Sprintf(`!!document.querySelector("#wd-section-%d .wd-next")`, n))
	js[bool](b, fmt.Sprintf(`(document.querySelector("#wd-section-%d .wd-next").click(), true)`, n))
	b.waitJS(fmt.Sprintf(`!document.getElementById("wd-section-%d").hidden`, n+1))
}

// noSidewaysScroll fails the test when the page is wider than the phone.
func (b *browser) noSidewaysScroll(what string) {
	b.t.Helper()
	wide := js[string](b, `(function(){var w=document.documentElement.clientWidth;if(document.documentElement.scrollWidth<=w)return "";
		var out=[];document.querySelectorAll("body *").forEach(function(e){var r=e.getBoundingClientRect();if(r.right<=w+1||r.width===0)return;
		for(var a=e.parentElement;a;a=a.parentElement){var o=getComputedStyle(a).overflowX;if(o!=="visible")return}
		out.push(e.tagName+"."+e.className+"#"+e.id+" "+Math.round(r.right))});
		return document.documentElement.scrollWidth+" > "+w+": "+out.slice(0,6).join(", ")})()`)
	if wide != "" {
		b.snap("overflow-" + strings.ReplaceAll(what, " ", "-"))
		b.t.Errorf("%s scrolls sideways on a phone: %s", what, wide)
	}
}

// photo writes a camera-sized JPEG, as a phone's camera would hand it over.
func photo(t *testing.T, name string) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 1200, 900))
	for y := 0; y < 900; y++ {
		for x := 0; x < 1200; x++ {
			img.Set(x, y, color.RGBA{uint8(x / 5), uint8(y / 4), 90, 255})
		}
	}
	p := filepath.Join(t.TempDir(), name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := jpeg.Encode(f, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return p
}

// answer gives an item an answer on the walkdown page, with a note and a
// photo when given.
func (b *browser) answer(item, ans, note, photo string) {
	b.t.Helper()
	if note != "" {
		b.do(chromedp.SendKeys(chromedp.CSS("#"+item+"-comment"), note))
	}
	if photo != "" {
		b.do(chromedp.SetUploadFiles(chromedp.CSS("#"+item+"-photo"), []string{photo}))
	}
	b.do(chromedp.Click(chromedp.CSS("#"+item+" button[value="+ans+"]"), chromedp.NodeVisible))
}

// TestPSSRWalkdownOnAPhoneOfflineAndBack runs a PSSR the way a plant team
// does, every person on a phone: a review with a condition that holds
// the way to startup, the coordinator naming the PSSR team, the lead
// walking the checklist section by section with photos, the network lost
// in the middle of the walkdown and found again (answers kept on the
// phone and sent; an item answered meanwhile by someone else shown as a
// conflict, not overwritten), a No's deficiency closed and kept in the
// item's history, and startup only after the lead's signed sign-off.
func TestPSSRWalkdownOnAPhoneOfflineAndBack(t *testing.T) {
	srv := startServer(t, nil)
	root := newBrowser(t)
	ines, cora, rita := root.person(t), root.person(t), root.person(t)
	for _, p := range []*browser{ines, cora, rita} {
		p.phone()
	}
	ines.signIn(srv, "ines@demo.mocpcr.local")
	cora.signIn(srv, "cora@demo.mocpcr.local")
	rita.signIn(srv, "rita@demo.mocpcr.local")

	// A MOC in review, set up through the service.
	ctx := context.Background()
	user := func(email string) *auth.User {
		u, err := auth.UserByEmail(ctx, srv.App.DB.SQL, email)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	inesU, coraU, ritaU, arnoU := user("ines@demo.mocpcr.local"), user("cora@demo.mocpcr.local"), user("rita@demo.mocpcr.local"), user("arno@demo.mocpcr.local")
	var nrf int64
	if err := srv.App.DB.SQL.QueryRow(`SELECT id FROM sites WHERE code = 'NRF'`).Scan(&nrf); err != nil {
		t.Fatal(err)
	}
	str := func(s string) *string { return &s }
	kind := change.KindMOC
	svc := srv.App.Changes
	c, err := svc.Create(ctx, inesU, change.Fields{Kind: &kind, SiteID: &nrf, Title: str("New coupling on feed pump P-410"),
		Description: str("Replace the gear coupling of P-410 with a disc coupling"), Reason: str("Gear coupling wear"), RiskRanking: str("medium"),
		TechnicalBasis: str("Vendor datasheet DC-77"), SafetyHealthImpact: str("None beyond the work itself"), ProcedureChanges: str("None"),
		TimePeriod: str("Permanent"), AuthorizationRequired: str("Superintendent")})
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err = svc.Submit(ctx, inesU, c.ID, change.Screening{Disciplines: []string{"mechanical"}, PSSRNeeded: true})
	must(err)
	must(svc.AssignReviewer(ctx, coraU, c.ID, "mechanical", ritaU.ID))
	must(svc.SetApprovers(ctx, coraU, c.ID, [][]int64{{arnoU.ID}}))
	_, err = svc.ConfirmScreening(ctx, coraU, c.ID, change.ScreeningConfirmation{Signature: change.Signature{Verified: true, Method: "password"}})
	must(err)
	_, err = svc.Transition(ctx, coraU, c.ID, change.TransitionRequest{Action: change.ActStartReview})
	must(err)
	changeURL := srv.url("/changes/" + c.Number)

	// 1. Rita reviews on her phone, with a condition due before startup.
	rita.open(changeURL, "#f-review")
	rita.noSidewaysScroll("the change page in review")
	rita.do(chromedp.Evaluate[chromedp.Void](`document.querySelector("#f-review details").open = true`))
	rita.do(chromedp.SendKeys(chromedp.CSS("#cond-0-title"), "Fit the coupling guard and record its check"))
	rita.pick("#cond-0-owner_id", "Ines Initiator")
	rita.do(chromedp.SendKeys(chromedp.CSS("#review-comment"), "Disc coupling fine; guard needed."))
	rita.submit(`#f-review button[value="reviewed_with_conditions"]`, ".flash")
	_, err = svc.Decide(ctx, arnoU, c.ID, change.DecisionApproved, "", change.Signature{Verified: true, Method: "password"})
	must(err)

	// 2. Cora names the PSSR team: Rita leads, Arno walks the field checks.
	cora.open(changeURL+"#pssr", "#f-pssr-team")
	cora.noSidewaysScroll("the change page in implementation")
	cora.do(chromedp.Evaluate[chromedp.Void](`document.querySelector("#pssr-team details").open = true`))
	cora.pick("#team-lead", "Rita Reviewer")
	cora.tick("#f-pssr-team", "Arno Approver")
	cora.pick(fmt.Sprintf("select[name=scope_%d]", arnoU.ID), "Field checks")
	cora.submit("#f-pssr-team button[type=submit]", ".flash")
	if team := cora.text("#pssr-team .team-list"); !strings.Contains(team, "Rita Reviewer") || !strings.Contains(team, "Lead") || !strings.Contains(team, "Field checks") {
		t.Errorf("PSSR team shown as %q", team)
	}

	// 3. The condition holds the way to startup: Ines sees it named.
	ines.open(changeURL, ".change-head")
	if msg := ines.text("main"); !strings.Contains(msg, "Implementation can be completed once:") || !strings.Contains(msg, "Fit the coupling guard") {
		t.Errorf("the review's condition does not hold implementation (and startup): %q", excerpt(msg))
	}
	ines.open(changeURL+"#actions", "#actions")
	ines.noSidewaysScroll("the action cards")
	ines.snap("phone-actions")
	condForm := js[string](ines, `(function(){var rows=document.querySelectorAll("#actions tr");for(var i=0;i<rows.length;i++){
		if(rows[i].textContent.indexOf("coupling guard")>=0&&rows[i].querySelector("form[action$='/complete']"))return rows[i].querySelector("form[action$='/complete']").id}return ""})()`)
	if condForm == "" {
		t.Fatal("Ines cannot complete the review's condition")
	}
	ines.submit("#"+condForm+" button[type=submit]", ".flash")
	ines.open(changeURL, "#f-t-complete_implementation")
	ines.submit("#f-t-complete_implementation button[type=submit]", ".flash")

	// 4. Rita is told, finds the walkdown in My work and opens it from there.
	rita.open(srv.url("/"), "#pssr")
	if w := rita.text("#pssr"); !strings.Contains(w, c.Number) || !strings.Contains(w, "lead: signs the PSSR off") {
		t.Fatalf("Rita's My work lacks the walkdown: %q", w)
	}
	rita.submit("#pssr a[href$='/walkdown']", ".wd-section")
	rita.noSidewaysScroll("the walkdown page")
	sections := js[int](rita, `document.querySelectorAll(".wd-section").length`)
	if sections != 3 || js[int](rita, `document.querySelectorAll(".wd-section:not([hidden])").length`) != 1 {
		t.Fatalf("walkdown sections: %d, want 3 shown one at a time", sections)
	}
	items := js[[]string](rita, `Array.from(document.querySelectorAll(".wd-item")).map(function(li){return li.id})`)
	// The default checklist, by section: design (items 1, 3, 4),
	// procedures (2, 5), field checks (6, 7, 8).
	if len(items) != 8 {
		t.Fatalf("walkdown items %v", items)
	}
	item := func(pos int) string {
		return js[string](rita, fmt.Sprintf(`(function(){var ls=document.querySelectorAll(".wd-item");for(var i=0;i<ls.length;i++){
			if(ls[i].querySelector(".pssr-no").textContent.trim()==="%d")return ls[i].id}return ""})()`, pos))
	}
	shot := photo(t, "coupling.jpg")

	// 5. Online: item 1 Yes with a photo, items 3 and 4.
	rita.answer(item(1), "yes", "", shot)
	rita.waitJS(`document.querySelector("#` + item(1) + ` .wd-note.ok") && document.querySelector("#` + item(1) + ` img.thumb[src*='/thumbnail']")`)
	rita.waitJS(`document.querySelector("#` + item(1) + ` img.thumb").naturalWidth > 0`)
	rita.answer(item(3), "na", "No PHA recommendations for a coupling swap", "")
	rita.answer(item(4), "yes", "", shot)
	rita.waitJS(`document.querySelector("#` + item(4) + ` .wd-note.ok")`)
	rita.snap("phone-walkdown-online")

	// 6. The network goes in the middle of the walkdown.
	rita.network(false)
	rita.waitJS(`!navigator.onLine`)
	rita.nextSection(1)
	rita.answer(item(2), "no", "OP-410 not yet issued to the shift", "")
	rita.answer(item(5), "na", "No new operating steps", "")
	rita.nextSection(2)
	rita.answer(item(6), "yes", "Alignment checked", shot)
	// Meanwhile Cora, in the control room, answers item 7.
	it7 := item(7)
	d, err := svc.Get(ctx, coraU, c.ID)
	must(err)
	_, err = svc.AnswerPSSR(ctx, coraU, d.PSSR[6].ID, change.AnswerYes, "Trip test done from the DCS", 0)
	must(err)
	rita.answer(it7, "na", "Not touched by the coupling", shot)
	rita.answer(item(8), "na", "No temporary equipment", "")
	rita.waitJS(`document.querySelectorAll(".wd-item.queued").length === 5`)
	if st := rita.text("#wd-status"); !strings.Contains(st, "Offline: 5 answers saved on this device") {
		t.Errorf("offline status %q", st)
	}
	rita.waitJS(`!!document.querySelector("#` + item(6) + ` img.thumb[src^='data:image/jpeg']")`)
	if n := js[int](rita, `document.querySelectorAll(".wd-section:not([hidden])").length`); n != 1 {
		t.Errorf("%d sections shown offline, want one", n)
	}
	rita.snap("phone-walkdown-offline")
	if d, _ := svc.Get(ctx, coraU, c.ID); d.PSSR[1].Answer != "" {
		t.Errorf("an answer given offline reached the server: %+v", d.PSSR[1])
	}

	// 7. Back online: the queue is sent; the conflicting item is shown.
	rita.network(true)
	rita.waitJS(`navigator.onLine && document.querySelectorAll(".wd-item.queued").length === 0`)
	conflict := rita.text("#" + it7 + " .wd-note")
	if !strings.Contains(conflict, "now answered Yes by Cora Coordinator") || !strings.Contains(conflict, "Your answer on this device: N/A") {
		t.Errorf("conflict shown as %q", conflict)
	}
	if rec := rita.text("#" + it7 + " .wd-recorded"); !strings.Contains(rec, "Yes") || !strings.Contains(rec, "Trip test done") {
		t.Errorf("item 7 after the conflict shows %q, want Cora's recorded answer", rec)
	}
	// The photo taken with the refused answer is back in its form, to send
	// with the next answer without taking it again.
	if n := js[string](rita, `(function(){var f=document.querySelector("#`+it7+` input[type=file]");return f&&f.files.length?f.files[0].name:""})()`); n != filepath.Base(shot) {
		t.Errorf("item 7's photo field after the conflict holds %q, want the photo taken (%s)", n, filepath.Base(shot))
	}
	rita.waitJS(`!!document.querySelector("#` + item(6) + ` img.thumb[src*='/thumbnail']")`)
	rita.snap("phone-walkdown-back-online")
	d, err = svc.Get(ctx, coraU, c.ID)
	must(err)
	for i, want := range []string{"yes", "no", "na", "yes", "na", "yes", "yes", "na"} {
		if d.PSSR[i].Answer != want {
			t.Errorf("item %d recorded %q, want %q", i+1, d.PSSR[i].Answer, want)
		}
	}

	// 8. Ines closes the deficiency; the No keeps its history.
	for _, a := range d.Actions {
		if a.Kind == change.ActionDeficiency {
			_, err := svc.CompleteAction(ctx, inesU, a.ID, "OP-410 issued and briefed")
			must(err)
		}
	}
	rita.open(srv.url("/changes/"+c.Number+"/walkdown?section=2"), "#wd-section-2")
	if h := rita.text("#" + item(2) + " .wd-history"); !strings.Contains(h, "No — deficiency closed") || !strings.Contains(h, "by Ines Initiator") {
		t.Errorf("item 2's history %q", h)
	}

	// 9. Startup waits for the lead's signed sign-off.
	cora.open(changeURL, ".change-head")
	if msg := cora.text("main"); !strings.Contains(msg, "Rita Reviewer, the PSSR team lead, has not signed the PSSR off yet") {
		t.Errorf("startup before the sign-off: %q", excerpt(msg))
	}
	rita.open(changeURL, "#f-t-signoff_pssr")
	rita.signTransition("signoff_pssr", "as PSSR team lead")
	cora.open(changeURL, "#f-t-authorize_startup")
	cora.signTransition("authorize_startup", "authorise startup of "+c.Number)
	if pill := cora.text(".change-head .pill.stage"); pill != "Close-out" {
		t.Errorf("stage after startup %q", pill)
	}
	if sigs := cora.text("#approvals"); !strings.Contains(sigs, "PSSR sign-off") {
		t.Errorf("signatures lack the PSSR sign-off: %q", excerpt(sigs))
	}
	cora.noSidewaysScroll("the change page after startup")
	cora.snap("phone-change-after-startup")

	for _, p := range []*browser{ines, cora, rita, root} {
		p.noConsoleErrors()
	}
}

// excerpt shortens a page's text for a failure message.
func excerpt(s string) string {
	if len(s) > 1500 {
		return s[:1500] + "…"
	}
	return s
}
