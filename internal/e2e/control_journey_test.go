package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
)

// demoChange is the number of the demo change whose title or tags match q.
func demoChange(t *testing.T, srv *server, q string) string {
	t.Helper()
	ctx := context.Background()
	audrey, err := auth.UserByEmail(ctx, srv.App.DB.SQL, "audrey@demo.mocpcr.local")
	if err != nil {
		t.Fatal(err)
	}
	cs, _, err := srv.App.Changes.List(ctx, audrey, change.Filter{Q: q})
	if err != nil || len(cs) != 1 {
		t.Fatalf("demo change %q: %v (%d found)", q, err, len(cs))
	}
	return cs[0].Number
}

// signTransition reads the meaning on a signed transition form, types the
// password and signs, as a person would.
func (b *browser) signTransition(action, wantMeaning string) {
	b.t.Helper()
	form := "#f-t-" + action
	if meaning := b.text(form + " .sign-statement"); !strings.Contains(meaning, wantMeaning) {
		b.t.Errorf("%s states %q before signing, want %q", form, meaning, wantMeaning)
	}
	b.do(chromedp.SendKeys(chromedp.CSS("#t-"+action+"-password"), demoPassword))
	b.submit(form+" button[type=submit]", ".flash")
}

// TestControlPointsJourney walks the three paths where one person used to
// be enough, in the browser: a replacement in kind confirmed by someone
// else, an emergency change implemented first after a signed emergency
// authorisation, and a temporary change made permanent by the approver's
// signed re-approval. Each time the initiator is not offered the step.
func TestControlPointsJourney(t *testing.T) {
	srv := startServer(t, nil)
	root := newBrowser(t)
	ines, cora, arno := root.person(t), root.person(t), root.person(t)
	ines.signIn(srv, "ines@demo.mocpcr.local")
	cora.signIn(srv, "cora@demo.mocpcr.local")
	arno.signIn(srv, "arno@demo.mocpcr.local")

	// 1. Replacement in kind: waiting, visibly, for someone else.
	rik := srv.url("/changes/" + demoChange(t, srv, "P-205B"))
	ines.open(rik, ".change-head")
	if pill := ines.text(".change-head .pill.stage"); pill != "Awaiting RIK confirmation" {
		t.Errorf("RIK stage pill %q", pill)
	}
	if ines.has("#f-t-confirm_rik") {
		t.Error("the initiator is offered the confirmation of her own replacement in kind")
	}
	arno.open(srv.url("/"), "#approvals")
	if !strings.Contains(arno.text("#approvals"), "Confirm replacement in kind") {
		t.Errorf("Arno's My work lacks the confirmation:\n%s", arno.text("#approvals"))
	}
	arno.open(rik, "#f-t-confirm_rik")
	arno.signTransition("confirm_rik", "as a replacement in kind: same specification")
	if pill := arno.text(".change-head .pill.stage"); pill != "Closed" {
		t.Fatalf("stage after confirmation %q", pill)
	}
	if steps := arno.text(".stepper"); !strings.Contains(steps, "not needed: replacement in kind") || !strings.Contains(steps, "confirmed by Arno Approver") {
		t.Errorf("steps of the confirmed RIK: %q", steps)
	}
	arno.snap("rik-confirmed")

	// 2. Emergency: filed by Ines, implemented only after Arno signs.
	ctx := context.Background()
	inesU, err := auth.UserByEmail(ctx, srv.App.DB.SQL, "ines@demo.mocpcr.local")
	if err != nil {
		t.Fatal(err)
	}
	var nrf int64
	if err := srv.App.DB.SQL.QueryRow(`SELECT id FROM sites WHERE code = 'NRF'`).Scan(&nrf); err != nil {
		t.Fatal(err)
	}
	str := func(s string) *string { return &s }
	kind, dur := change.KindMOC, change.DurationEmergency
	exp := time.Now().AddDate(0, 0, 14)
	pexp := &exp
	em, err := srv.App.Changes.Create(ctx, inesU, change.Fields{Kind: &kind, Duration: &dur, ExpiresOn: &pexp, SiteID: &nrf,
		Title: str("Emergency bypass of failed TSHH-310"), Description: str("Failed switch bypassed with a watch"), Reason: str("Switch failed"),
		RiskRanking: str("high"), TechnicalBasis: str("Operator watch per SOP-9"), SafetyHealthImpact: str("Watch keeps the layer"),
		ProcedureChanges: str("Watch instruction issued"), TimePeriod: str("Until the spare arrives"), AuthorizationRequired: str("Superintendent")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.App.Changes.Submit(ctx, inesU, em.ID, change.Screening{Disciplines: []string{"instrumentation"}}); err != nil {
		t.Fatal(err)
	}
	emURL := srv.url("/changes/" + em.Number)
	ines.open(emURL, ".change-head")
	if ines.has("#f-t-complete_implementation") || ines.has("#f-t-authorize_emergency") {
		t.Error("before the authorisation the initiator may implement or authorise her own emergency change")
	}
	if note := ines.text(".emergency-note"); !strings.Contains(note, "Implementation may start once") {
		t.Errorf("emergency banner before authorisation %q", note)
	}
	arno.open(emURL, "#f-t-authorize_emergency")
	arno.signTransition("authorize_emergency", "for implementation before full review")
	ines.open(emURL, "#f-t-complete_implementation")
	ines.submit("#f-t-complete_implementation button[type=submit]", ".flash")
	if note := ines.text(".emergency-note"); !strings.Contains(note, "under way before full review") {
		t.Errorf("emergency banner while the review runs %q", note)
	}
	if pill := ines.text(".change-head .pill.stage"); pill != "Screening" {
		t.Errorf("the review track's stage after implementing first: %q", pill)
	}
	if steps := ines.text(".stepper"); !strings.Contains(steps, "under way before full review") {
		t.Errorf("steps while implemented before full review: %q", steps)
	}
	ines.snap("emergency-under-way")
	cora.open(emURL+"/print", ".print-page")
	if pr := cora.text(".print-page"); !strings.Contains(pr, "authorised for implementation before full review") ||
		!strings.Contains(pr, "Emergency authorisation") {
		t.Errorf("print view lacks the emergency history")
	}

	// 3. Make permanent: asked by the coordinator, signed by the approver.
	temp := srv.url("/changes/" + demoChange(t, srv, "TK-301"))
	ines.open(temp, ".change-head")
	if pill := ines.text(".change-head .pill.stage"); pill != "In service" {
		t.Fatalf("temporary demo change stage %q", pill)
	}
	if ines.has("#f-t-make_permanent") {
		t.Error("the initiator is offered make permanent")
	}
	cora.open(temp, "#f-t-make_permanent")
	cora.do(chromedp.SendKeys(chromedp.CSS("#t-make_permanent-comment"), "Inspection showed the switch is not needed"))
	cora.submit("#f-t-make_permanent button[type=submit]", ".flash")
	if pill := cora.text(".change-head .pill.stage"); pill != "Approval" {
		t.Fatalf("stage after asking to make permanent %q", pill)
	}
	arno.open(temp, "#f-decision")
	if meaning := arno.text("#f-decision .sign-statement"); !strings.Contains(meaning, "permanent as approver, stage 1") {
		t.Errorf("re-approval form states %q", meaning)
	}
	arno.do(chromedp.SendKeys(chromedp.CSS("#reauth_password"), demoPassword))
	arno.submit(`#f-decision button[value="approved"]`, ".flash")
	if pill := arno.text(".change-head .pill.stage"); pill != "Close-out" {
		t.Errorf("stage after the re-approval %q", pill)
	}
	if arno.has(".change-head .pill.dur-temporary") {
		t.Error("still marked temporary after the re-approval")
	}
	if sigs := arno.text("#approvals .signatures"); !strings.Contains(sigs, "Re-approval to make permanent") || !strings.Contains(sigs, "Operations Superintendent") {
		t.Errorf("signatures after the re-approval: %q", sigs)
	}
	arno.snap("made-permanent")

	for _, p := range []*browser{ines, cora, arno, root} {
		p.noConsoleErrors()
	}
}
