package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const demoPassword = "mocpcr-demo"

// person is one user's browser: its own browser context (its own cookie
// jar) in the shared headless Chromium, so sessions never mix.
func (b *browser) person(t *testing.T) *browser {
	t.Helper()
	p := &browser{t: t}
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext(), chromedp.WithListener(p.recordErrors))
	t.Cleanup(cancel)
	p.ctx = ctx
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open browser context: %v", err)
	}
	return p
}

// signIn uses the sign-in page like a person would.
func (b *browser) signIn(srv *server, email string) {
	b.t.Helper()
	b.do(chromedp.Navigate(srv.url("/auth/login")),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), demoPassword))
	b.submit("form[action='/auth/login'] button[type=submit]", "#unread-badge")
}

// submit clicks a button that sends a form and waits until the next page
// has loaded and shows waitFor. A marker set on the old page tells the
// two pages apart, so nothing on the old page can satisfy the wait.
func (b *browser) submit(button, waitFor string) {
	b.t.Helper()
	b.do(chromedp.Evaluate[chromedp.Void]("window.__oldPage = true"))
	b.do(chromedp.Click(chromedp.CSS(button), chromedp.NodeVisible))
	b.waitJS(fmt.Sprintf("!window.__oldPage && document.readyState === 'complete' && !!document.querySelector(%q)", waitFor))
}

// snap saves the full page as test-artifacts/<name>.png. Quality 100
// makes Chromium encode PNG (lower qualities give JPEG bytes).
func (b *browser) snap(name string) {
	b.t.Helper()
	// A viewport as tall as the page keeps sticky bars at the bottom of
	// the picture instead of across the middle.
	w := js[int64](b, "window.innerWidth")
	h := js[int64](b, "window.innerHeight")
	full := js[int64](b, "Math.ceil(document.documentElement.scrollHeight)")
	b.do(chromedp.EmulateViewport(w, full))
	buf := get(b, chromedp.FullScreenshot(100))
	b.do(chromedp.EmulateViewport(w, h))
	if err := os.WriteFile(filepath.Join(artifactsDir(b.t), name+".png"), buf, 0o644); err != nil {
		b.t.Errorf("save screenshot: %v", err)
	}
}

// open navigates and waits (30 s at most) for an element.
func (b *browser) open(url, waitFor string) {
	b.t.Helper()
	b.do(chromedp.Navigate(url))
	b.waitJS(fmt.Sprintf("document.readyState === 'complete' && !!document.querySelector(%q)", waitFor))
}

// waitJS checks a JavaScript condition every 50 ms until it holds (30 s
// at most). Short evaluations, not one long in-page poll: a page that
// navigates away in between is simply asked again.
func (b *browser) waitJS(cond string) {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var err error
	for time.Now().Before(deadline) && b.ctx.Err() == nil {
		var ok bool
		if ok, err = chromedp.Run(b.ctx, chromedp.Evaluate[bool]("!!("+cond+")")); err == nil && ok {
			return
		}
		<-tick.C
	}
	if buf, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100)); err == nil {
		_ = os.WriteFile(filepath.Join(artifactsDir(b.t), "failure.png"), buf, 0o644)
	}
	loc, _ := chromedp.Run(b.ctx, chromedp.Location())
	body, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string]("document.querySelector('main') ? document.querySelector('main').innerText.slice(0, 1500) : ''"))
	b.t.Fatalf("waiting for %s on %s (last error %v)\npage:\n%s", cond, loc, err, body)
}

// js evaluates an expression.
func js[T any](b *browser, expr string) T {
	b.t.Helper()
	return get(b, chromedp.Evaluate[T](expr))
}

// pick selects the option of a <select> whose text contains label.
func (b *browser) pick(sel, label string) {
	b.t.Helper()
	ok := js[bool](b, fmt.Sprintf(`(function(){var s=document.querySelector(%q);if(!s)return false;
		for (var i=0;i<s.options.length;i++){if(s.options[i].text.indexOf(%q)>=0){s.value=s.options[i].value;s.dispatchEvent(new Event("change",{bubbles:true}));return true}}return false})()`, sel, label))
	if !ok {
		b.t.Fatalf("no option %q in %s", label, sel)
	}
}

// tick checks the checkbox of a form whose label contains text.
func (b *browser) tick(form, text string) {
	b.t.Helper()
	ok := js[bool](b, fmt.Sprintf(`(function(){var ls=document.querySelectorAll(%q+" label");for(var i=0;i<ls.length;i++){
		if(ls[i].textContent.indexOf(%q)>=0){var c=ls[i].querySelector("input[type=checkbox]");if(!c.checked)c.click();return true}}return false})()`, form, text))
	if !ok {
		b.t.Fatalf("no checkbox %q in %s", text, form)
	}
}

func (b *browser) has(css string) bool {
	b.t.Helper()
	return js[bool](b, fmt.Sprintf("!!document.querySelector(%q)", css))
}

func (b *browser) flash() string {
	b.t.Helper()
	return js[string](b, `(document.querySelector(".flash")||{}).textContent||""`)
}

func (b *browser) badge() int {
	b.t.Helper()
	n, err := strconv.Atoi(strings.TrimSpace(b.text("#unread-badge")))
	if err != nil {
		b.t.Fatalf("unread badge: %v", err)
	}
	return n
}

// TestChangeJourney walks one MOC from a draft to closed through the
// pages, as four people in four separate browser contexts: initiator,
// coordinator, reviewer and approver.
func TestChangeJourney(t *testing.T) {
	srv := startServer(t, nil)
	root := newBrowser(t)
	ines := root.person(t)
	cora := root.person(t)
	rita := root.person(t)
	arno := root.person(t)

	ines.signIn(srv, "ines@demo.mocpcr.local")

	// 1. The guided form refuses a draft without a title, beside the field,
	// and keeps what was typed.
	ines.open(srv.url("/changes/new"), "#change-form")
	ines.do(
		chromedp.Click(chromedp.CSS("input[name=kind][value=MOC]")),
		chromedp.SendKeys(chromedp.CSS("#description"), "Replace the mechanical seals of P-101A with dual seals and a barrier fluid system."),
	)
	ines.pick("#site_id", "NRF")
	ines.submit("#change-form button[type=submit]", "#title-error")
	if msg := ines.text("#title-error"); !strings.Contains(msg, "Title is required") {
		t.Errorf("error beside title = %q", msg)
	}
	if !ines.has(".error-summary a[href='#title']") {
		t.Error("the error summary at the top does not link to the title field")
	}
	if v := get(ines, chromedp.Value(chromedp.CSS("#description"))); !strings.Contains(v, "dual seals") {
		t.Errorf("the description typed before the error was lost: %q", v)
	}
	if got := js[string](ines, `document.getElementById("title").getAttribute("aria-invalid")`); got != "true" {
		t.Errorf("title aria-invalid = %q", got)
	}
	ines.snap("change-form-errors")

	// 2. Fill it in; typing a tag that another open change uses shows the
	// conflict warning without a reload.
	ines.do(chromedp.SendKeys(chromedp.CSS("#title"), "Dual seals on crude charge pump P-101A"))
	ines.pick("#unit_id", "CDU-1")
	ines.do(chromedp.SendKeys(chromedp.CSS("#equipment_tags"), "P-101A"))
	ines.waitJS(`!document.getElementById("conflicts").hidden && document.querySelector("#conflicts li") !== null`)
	if txt := ines.text("#conflicts"); !strings.Contains(txt, "MOC-") {
		t.Errorf("conflict warning = %q", txt)
	}
	for id, v := range map[string]string{
		"#reason":                 "Repeated seal leaks on P-101A (3 in 2026).",
		"#technical_basis":        "Vendor recommendation VR-2211 and API 682 category 2 arrangement.",
		"#safety_health_impact":   "Reduces the risk of a hydrocarbon release at the pump; barrier fluid pot adds a small inventory.",
		"#procedure_changes":      "OP-101 start-up steps gain a barrier pressure check.",
		"#time_period":            "Permanent from the next pump outage",
		"#authorization_required": "Area superintendent and MOC coordinator",
	} {
		ines.do(chromedp.SendKeys(chromedp.CSS(id), v))
	}
	ines.rate("people", 3, 3, 3, 2) // medium before and after
	ines.snap("change-form-filled")
	ines.submit("#change-form button[type=submit]", "#next")
	if f := ines.flash(); !strings.Contains(f, "Draft saved") {
		t.Errorf("flash after create = %q", f)
	}
	number := strings.TrimSpace(ines.text(".change-number"))
	if !strings.HasPrefix(number, "MOC-") {
		t.Fatalf("change number = %q", number)
	}
	changeURL := srv.url("/changes/" + number)

	ines.snap("change-draft")

	// 3. Submit with screening: mechanical review, PSSR needed.
	ines.answerScreening("mechanical", "pssr")
	ines.submit("#f-submit button[type=submit]", ".flash")
	if f := ines.flash(); !strings.Contains(f, "Submitted for screening") {
		t.Fatalf("flash after submit = %q", f)
	}

	// 4. The coordinator assigns the reviewer and the approver and starts the review.
	cora.signIn(srv, "cora@demo.mocpcr.local")
	cora.open(changeURL, "#f-reviewers")
	cora.confirmScreening(nil)
	cora.pick("#reviewer-mechanical", "Rita Reviewer")
	cora.submit("#f-reviewers button[type=submit]", ".flash")
	// The same person in both stages is refused; the error sits under the
	// two stage boxes, which keep their width.
	cora.tick("#f-approvers fieldset:first-of-type", "Arno Approver")
	cora.tick("#f-approvers fieldset:nth-of-type(2)", "Arno Approver")
	cora.submit("#f-approvers button[type=submit]", "#approvers-list-error")
	if bad := js[string](cora, `(function(){var fs=document.querySelectorAll("#approvers-list fieldset"),
		a=fs[0].getBoundingClientRect(),b=fs[1].getBoundingClientRect(),
		e=document.getElementById("approvers-list-error").getBoundingClientRect(),
		l=document.getElementById("approvers-list").getBoundingClientRect();
		if(e.top<Math.max(a.bottom,b.bottom))return "the error sits beside the stages, not under them";
		if(a.width+b.width<l.width*0.9)return "the stage boxes shrank: "+a.width+" + "+b.width+" of "+l.width;
		return ""})()`); bad != "" {
		cora.snap("approvers-error-layout")
		t.Errorf("approvers error layout: %s", bad)
	}
	cora.do(chromedp.Evaluate[chromedp.Void](`document.querySelector("#f-approvers fieldset:nth-of-type(2) input:checked").click()`))
	cora.tick("#f-approvers fieldset:first-of-type", "Arno Approver")
	cora.submit("#f-approvers button[type=submit]", ".flash")
	if f := cora.flash(); !strings.Contains(f, "Approvers saved") {
		t.Fatalf("flash after approvers = %q", f)
	}
	cora.snap("change-coordinator")
	cora.submit("#f-t-start_review button[type=submit]", ".flash")
	if st := cora.text(".step.current .step-label"); st != "Review" {
		t.Fatalf("stage after start review = %q", st)
	}

	// 5. The reviewer records the mechanical review.
	rita.signIn(srv, "rita@demo.mocpcr.local")
	rita.open(changeURL, "#f-review")
	rita.do(chromedp.SendKeys(chromedp.CSS("#review-comment"), "Seal plan 53A fits; check the barrier pot support."))
	rita.submit("#f-review button[value=reviewed]", ".flash")
	if st := rita.text(".step.current .step-label"); st != "Approval" {
		t.Fatalf("stage after the review = %q", st)
	}

	// 6. The initiator watches the change page while the approver signs:
	// the unread badge must grow without a reload.
	ines.open(changeURL, "#unread-badge")
	ines.do(chromedp.Evaluate[chromedp.Void]("window.__notReloaded = true"))
	before := ines.badge()

	arno.signIn(srv, "arno@demo.mocpcr.local")
	arno.open(changeURL, "#f-decision")
	// A wrong password is refused beside the password field, and nothing is signed.
	arno.do(chromedp.SendKeys(chromedp.CSS("#reauth_password"), "not-my-password"))
	arno.submit("#f-decision button[value=approved]", "#reauth_password-error")
	if msg := arno.text("#reauth_password-error"); !strings.Contains(msg, "not correct") {
		t.Errorf("wrong password message = %q", msg)
	}
	arno.snap("change-approval-wrong-password")
	arno.do(chromedp.SendKeys(chromedp.CSS("#reauth_password"), demoPassword))
	arno.submit("#f-decision button[value=approved]", ".flash")
	if f := arno.flash(); !strings.Contains(f, "approval is signed") {
		t.Fatalf("flash after approval = %q", f)
	}
	if sig := arno.text("#approvals .signature"); sig != "Arno Approver" {
		t.Errorf("printed signature = %q", sig)
	}
	ines.waitJS(fmt.Sprintf(`window.__notReloaded === true && parseInt(document.getElementById("unread-badge").textContent, 10) > %d`, before))

	// 7. The initiator completes implementation; the PSSR checklist appears.
	ines.open(changeURL, "#f-t-complete_implementation")
	ines.submit("#f-t-complete_implementation button[type=submit]", ".flash")
	if st := ines.text(".step.current .step-label"); st != "PSSR" {
		t.Fatalf("stage after implementation = %q", st)
	}

	// 8. The coordinator walks the PSSR: evidence for item 1, a No (a
	// deficiency) for item 2, N/A for item 3.
	cora.open(changeURL, ".pssr-form")
	items := js[[]string](cora, `Array.from(document.querySelectorAll(".pssr-item")).map(function(li){return li.id})`)
	if len(items) < 3 {
		t.Fatalf("PSSR items = %v", items)
	}
	// The walkdown on a tablet held upright, before any answer.
	cora.do(chromedp.EmulateViewport(820, 1180))
	cora.do(chromedp.ScrollIntoView(chromedp.CSS("#pssr")))
	cora.snap("change-pssr-tablet")
	cora.do(chromedp.EmulateViewport(1280, 900))
	evidence := filepath.Join(t.TempDir(), "seal-datasheet.pdf")
	if err := os.WriteFile(evidence, []byte("%PDF-1.4\n% seal data sheet\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Yes without the evidence the item requires is refused beside the evidence field.
	cora.submit("#"+items[0]+" button[value=yes]", "#"+items[0]+"-evidence-error")
	cora.do(chromedp.SetUploadFiles(chromedp.CSS("#"+items[0]+"-evidence"), []string{evidence}))
	cora.submit("#"+items[0]+" button[value=yes]", ".flash")
	cora.do(chromedp.SendKeys(chromedp.CSS("#"+items[1]+"-comment"), "Barrier fluid procedure not yet issued to the shift."))
	cora.submit("#"+items[1]+" button[value=no]", ".flash")
	if f := cora.flash(); !strings.Contains(f, "deficiency") {
		t.Errorf("flash after a No = %q", f)
	}
	for _, id := range items[2:] {
		// An N/A needs its justification.
		cora.do(chromedp.SendKeys(chromedp.CSS("#"+id+"-comment"), "Not affected by a seal change."))
		cora.submit("#"+id+" button[value=na]", ".flash")
	}
	// Startup is not offered while the deficiency is open: the card says what is still open.
	if msg := cora.text("#f-t-authorize_startup"); !strings.Contains(msg, "Startup can be authorised once:") || !strings.Contains(msg, "deficiency") {
		t.Errorf("startup with an open deficiency: %q", msg)
	}
	if n := js[int](cora, `document.querySelectorAll("#t-authorize_startup-password").length`); n != 0 {
		t.Error("the startup signing form is offered while a deficiency is open")
	}
	cora.open(changeURL+"#pssr", "#pssr")
	cora.snap("change-pssr")

	// 9. The initiator (owner of the deficiency) closes it.
	ines.open(changeURL+"#actions", "#actions")
	defID := js[string](ines, `(function(){var rows=document.querySelectorAll("#actions tr");for(var i=0;i<rows.length;i++){
		if(rows[i].textContent.indexOf("PSSR deficiency")>=0&&rows[i].querySelector("form"))return rows[i].querySelector("form").id}return ""})()`)
	if defID == "" {
		t.Fatal("no open deficiency the initiator can complete")
	}
	ines.do(chromedp.SendKeys(chromedp.CSS("#"+defID+" input[name=note]"), "Procedure issued and briefed at shift handover"))
	ines.submit("#"+defID+" button[type=submit]", ".flash")

	// 10. The coordinator names the PSSR team; its lead, Rita, signs the
	// PSSR off; the coordinator authorises startup (signed) and closes the change.
	cora.open(changeURL+"#pssr", "#f-pssr-team")
	cora.do(chromedp.Evaluate[chromedp.Void](`document.querySelector("#pssr-team details").open = true`))
	cora.pick("#team-lead", "Rita Reviewer")
	cora.submit("#f-pssr-team button[type=submit]", ".flash")
	rita.open(changeURL, "#f-t-signoff_pssr")
	rita.signTransition("signoff_pssr", "as PSSR team lead")
	cora.open(changeURL, "#f-t-authorize_startup")
	cora.do(chromedp.SendKeys(chromedp.CSS("#t-authorize_startup-password"), demoPassword))
	cora.submit("#f-t-authorize_startup button[type=submit]", ".flash")
	if st := cora.text(".step.current .step-label"); st != "Close-out" {
		t.Fatalf("stage after startup = %q", st)
	}
	cora.do(chromedp.SendKeys(chromedp.CSS("#t-close-comment"), "Seals running leak-free for two weeks."))
	if meaning := cora.text("#f-t-close .sign-statement"); !strings.Contains(meaning, "By signing I close out "+number) {
		t.Errorf("close-out form states %q, want the meaning in full before signing", meaning)
	}
	cora.do(chromedp.SendKeys(chromedp.CSS("#t-close-password"), demoPassword))
	cora.submit("#f-t-close button[type=submit]", ".flash")
	if pill := cora.text(".change-head .pill.stage"); pill != "Closed" {
		t.Fatalf("stage pill after close = %q", pill)
	}
	cora.snap("change-view")
	timeline := cora.text(".timeline")
	for _, want := range []string{"Rita Reviewer recorded the mechanical review: reviewed", "Arno Approver signed the approval",
		"answered PSSR item 2: No", "authorised startup"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("timeline lacks %q", want)
		}
	}

	// 11. The print view has the signatures and the audit trail.
	cora.open(changeURL+"/print", ".print-page")
	print := cora.text(".print-page")
	for _, want := range []string{"Signatures", "Arno Approver", "Audit trail", "password", number, "By signing I approve " + number} {
		if !strings.Contains(print, want) {
			t.Errorf("print view lacks %q", want)
		}
	}
	cora.snap("change-print")

	// A tablet held upright: the change page still reads well.
	ines.do(chromedp.EmulateViewport(820, 1180))
	ines.open(changeURL, ".change-head")
	ines.snap("change-view-tablet")

	for _, p := range []*browser{ines, cora, rita, arno, root} {
		p.noConsoleErrors()
	}
}
