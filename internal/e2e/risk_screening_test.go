package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// rate fills one consequence category of the change form's risk grid:
// severity and likelihood before the change, then after it.
func (b *browser) rate(category string, sevBefore, likBefore, sevAfter, likAfter int) {
	b.t.Helper()
	for id, v := range map[string]int{"before-severity": sevBefore, "before-likelihood": likBefore, "after-severity": sevAfter, "after-likelihood": likAfter} {
		sel := "#risk-" + category + "-" + id
		ok := js[bool](b, fmt.Sprintf(`(function(){var s=document.querySelector(%q);if(!s)return false;s.value=%q;return s.value===%q})()`, sel, fmt.Sprint(v), fmt.Sprint(v)))
		if !ok {
			b.t.Fatalf("no rating %d in %s", v, sel)
		}
	}
}

// answerScreening answers every question of the submit form: yes to those whose
// key or text contains one of yes, no to the others.
func (b *browser) answerScreening(yes ...string) {
	b.t.Helper()
	n := js[int](b, fmt.Sprintf(`(function(){var yes=%s,n=0;document.querySelectorAll("#f-submit .questions li").forEach(function(li){
		var y=yes.some(function(x){return li.id==="sq-"+x||li.textContent.indexOf(x)>=0});
		li.querySelector("input[value="+(y?"yes":"no")+"]").click();if(y)n++});return n})()`, jsonList(yes)))
	if n != len(yes) {
		b.t.Fatalf("answered yes to %d questions, want %d (%v)", n, len(yes), yes)
	}
}

func jsonList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return "[" + strings.Join(q, ",") + "]"
}

// confirmScreening signs the screening confirmation, overriding the
// answers given (question key: yes or no, and the reason).
func (b *browser) confirmScreening(overrides map[string][2]string) {
	b.t.Helper()
	for key, o := range overrides {
		b.pick("#ov-"+key, "Override: "+o[0])
		b.do(chromedp.SendKeys(chromedp.CSS("#ovr-"+key), o[1]))
	}
	b.do(chromedp.SendKeys(chromedp.CSS("#confirm-password"), demoPassword))
	b.submit("#f-confirm-screening button[type=submit]", ".flash")
	if f := b.flash(); !strings.Contains(f, "Screening confirmed") {
		b.t.Fatalf("flash after confirming the screening = %q", f)
	}
}

// TestRiskMatrixAndQuestionnaireJourney: an admin edits the refinery's
// risk matrix and questionnaire; an initiator assesses a change on the
// new matrix and answers the new question; the coordinator overrides an
// answer with a reason, signed; the review cannot start without the
// approval stage very high risk requires.
func TestRiskMatrixAndQuestionnaireJourney(t *testing.T) {
	srv := startServer(t, nil)
	root := newBrowser(t)
	adam, ines, cora := root.person(t), root.person(t), root.person(t)

	// 1. The admin makes severity 5 × "possible" very high, and adds a
	// question about relief loads.
	adam.signIn(srv, "adam@demo.mocpcr.local")
	adam.open(srv.url("/admin/sites"), "a[aria-label='Risk matrix of NRF']")
	matrixURL := js[string](adam, `document.querySelector("a[aria-label='Risk matrix of NRF']").href`)
	adam.open(matrixURL, "#matrix-form")
	if v := adam.text(".lede"); !strings.Contains(v, "Version 2") {
		t.Errorf("the demo refinery's matrix is not its configured version 2: %q", v)
	}
	adam.pick("#cell-4-2", "Very high")
	adam.do(chromedp.SetValue(chromedp.CSS("#lvl-0-colour"), "#1b5e20"))
	adam.submit("#matrix-form button[type=submit]", ".flash")
	if f := adam.flash(); !strings.Contains(f, "version 3") {
		t.Fatalf("flash after saving the matrix = %q", f)
	}
	adam.snap("admin-risk-matrix")
	adam.open(strings.Replace(matrixURL, "risk-matrix", "screening-questionnaire", 1), "#questionnaire-form")
	blank := js[string](adam, `(function(){var f=document.querySelectorAll("#questionnaire-form fieldset");for(var i=0;i<f.length;i++){
		var t=f[i].querySelector("input[id$=-text]");if(t.value==="")return f[i].id}return ""})()`)
	if blank == "" {
		t.Fatal("no blank question row to add one")
	}
	adam.do(chromedp.SendKeys(chromedp.CSS("#"+blank+"-text"), "Does it change relief or flare loads?"),
		chromedp.SendKeys(chromedp.CSS("#"+blank+"-help"), "New or bigger relief cases, flare header back-pressure."))
	adam.tick("#"+blank+" .effects-edit", "Mechanical review")
	adam.tick("#"+blank+" .effects-edit", "Hazard review")
	adam.submit("#questionnaire-form button[type=submit]", ".flash")
	if f := adam.flash(); !strings.Contains(f, "version 3") {
		t.Fatalf("flash after saving the questionnaire = %q", f)
	}

	// 2. The initiator rates the change on the new matrix.
	ines.signIn(srv, "ines@demo.mocpcr.local")
	ines.open(srv.url("/changes/new"), "#change-form")
	ines.do(chromedp.Click(chromedp.CSS("input[name=kind][value=MOC]")))
	ines.pick("#site_id", "NRF")
	for id, v := range map[string]string{
		"#title":                  "Raise FCC main column overhead pressure",
		"#description":            "Raise the operating pressure of the main column overhead by 0.3 bar.",
		"#reason":                 "Wet gas compressor limit.",
		"#technical_basis":        "Simulation S-2026-14.",
		"#safety_health_impact":   "Relief loads of PSV-2301 change.",
		"#procedure_changes":      "OP-230 limits updated.",
		"#time_period":            "Permanent",
		"#authorization_required": "Operations superintendent",
	} {
		ines.do(chromedp.SendKeys(chromedp.CSS(id), v))
	}
	if v := ines.text("#risk-matrix legend"); !strings.Contains(v, "version 3") {
		t.Errorf("the form does not assess on the new matrix: %q", v)
	}
	ines.rate("people", 5, 3, 5, 3)
	ines.rate("asset", 3, 3, 2, 2)
	ines.do(chromedp.SendKeys(chromedp.CSS("#risk-mitigations"), "Second PSV; high-pressure alarm moved."))
	ines.snap("change-form-risk")
	ines.submit("#change-form button[type=submit]", "#next")
	if v := ines.text("#risk-record"); !strings.Contains(v, "Very high") || !strings.Contains(v, "version 3") {
		t.Fatalf("risk record = %q", v)
	}
	changeURL := js[string](ines, "location.href")
	// The new question is asked; a yes requires the mechanical and hazard reviews.
	ines.answerScreening("flare loads", "instruments")
	ines.submit("#f-submit button[type=submit]", ".flash")
	if f := ines.flash(); !strings.Contains(f, "Submitted for screening") {
		t.Fatalf("flash after submit = %q", f)
	}

	// 3. The coordinator overrides an answer; a missing reason is refused
	// beside it, and nothing is signed.
	cora.signIn(srv, "cora@demo.mocpcr.local")
	cora.open(changeURL, "#f-confirm-screening")
	cora.pick("#ov-sif", "Override: yes")
	cora.do(chromedp.SendKeys(chromedp.CSS("#confirm-password"), demoPassword))
	cora.submit("#f-confirm-screening button[type=submit]", "#ovr-sif-error")
	if msg := cora.text("#ovr-sif-error"); !strings.Contains(msg, "required") {
		t.Errorf("error beside the override's reason = %q", msg)
	}
	cora.confirmScreening(map[string][2]string{"sif": {"yes", "The high-pressure trip set point moves."}})
	rec := cora.text("#screening-record")
	for _, want := range []string{"Confirmed by Cora Coordinator", "The high-pressure trip set point moves.", "Does it change relief or flare loads?"} {
		if !strings.Contains(rec, want) {
			t.Errorf("screening record lacks %q: %q", want, rec)
		}
	}
	// Very high risk: without the operations superintendent among the
	// approvers the review cannot start, and the page says so.
	cora.pick("#reviewer-mechanical", "Rita Reviewer")
	cora.submit("#f-reviewers button[type=submit]", ".flash")
	if v := cora.text("#f-t-start_review"); !strings.Contains(v, "Operations superintendent") {
		t.Errorf("start review is not held for the required stage: %q", v)
	}
	cora.snap("change-screening-confirmed")
	for _, b := range []*browser{adam, ines, cora} {
		b.noConsoleErrors()
	}
}
