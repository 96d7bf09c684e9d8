// Change pages (change_*.html): progressive enhancement only. Every form
// works without this file; with it, the guided form shows the dates that
// apply to the chosen duration, narrows units to the chosen site and
// warns about conflicting changes as tags are typed.
"use strict";
(function () {
  // Print button on the print view.
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.addEventListener("click", function () { window.print(); });
  });

  // People fields of a large site (data-people): suggest the site's
  // people as the user types. Without this file the field still takes an
  // email or a whole name, which the server looks up.
  document.querySelectorAll("input[data-people]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("list"));
    var timer = null, asked = "";
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var text = input.value.trim();
      // A chosen suggestion ("Name <email>") needs no new search.
      if (text.length < 2 || text === asked || /<[^>]+>$/.test(text)) return;
      timer = setTimeout(function () {
        asked = text;
        var url = input.getAttribute("data-people");
        url += (url.indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(text);
        fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (people) {
            if (input.value.trim() !== text) return;
            list.textContent = "";
            people.forEach(function (p) {
              var o = document.createElement("option");
              o.value = p.label;
              list.appendChild(o);
            });
          })
          .catch(function () { /* the server still resolves what was typed */ });
      }, 200);
    });
  });

  var form = document.getElementById("change-form");
  if (!form) return;

  // Show the expiry / review deadline fields only for the durations that use them.
  function duration() {
    var r = form.querySelector("input[name=duration]:checked");
    return r ? r.value : "";
  }
  function syncDuration() {
    var d = duration();
    form.querySelectorAll("[data-show-for]").forEach(function (el) {
      var show = el.getAttribute("data-show-for").split(" ").indexOf(d) >= 0;
      // Never hide a field that carries an error.
      if (!show && el.querySelector(".has-error, .field-error")) show = true;
      el.hidden = !show;
    });
  }
  form.querySelectorAll("input[name=duration]").forEach(function (r) { r.addEventListener("change", syncDuration); });
  syncDuration();

  // Units of the chosen site only.
  var site = document.getElementById("site_id");
  var unit = document.getElementById("unit_id");
  function syncUnits() {
    if (!site || !unit) return;
    Array.prototype.forEach.call(unit.options, function (o) {
      var s = o.getAttribute("data-site");
      var show = !s || !site.value || s === site.value;
      o.hidden = !show;
      o.disabled = !show;
      if (!show && o.selected) unit.value = "";
    });
  }
  if (site) site.addEventListener("change", function () { syncUnits(); checkConflicts(); });
  syncUnits();

  // Conflicts: ask the API which open changes share the unit or a tag.
  var tags = document.getElementById("equipment_tags");
  var box = document.getElementById("conflicts");
  var editing = form.getAttribute("action") === null ? location.pathname.split("/")[2] : "";
  var timer = null, seq = 0;
  var stageLabels = { draft: "Draft", screening: "Screening", review: "Review", approval: "Approval",
    implementation: "Implementation", pssr: "PSSR", closeout: "Close-out", closed: "Closed",
    returned: "Returned for revision", voided: "Voided" };
  function siteID() {
    if (site) return site.value;
    var u = unit && unit.selectedOptions[0];
    return u ? u.getAttribute("data-site") || "" : "";
  }
  function render(list) {
    if (!box) return;
    var ul = box.querySelector("ul");
    ul.textContent = "";
    list = list.filter(function (c) { return c.number !== editing; });
    list.forEach(function (c) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = "/changes/" + encodeURIComponent(c.number);
      a.textContent = c.number;
      li.appendChild(a);
      li.appendChild(document.createTextNode(" " + c.title + " "));
      var s = document.createElement("span");
      s.className = "pill stage stage-" + c.stage;
      s.textContent = stageLabels[c.stage] || c.stage;
      li.appendChild(s);
      if (c.equipment_tags && c.equipment_tags.length) {
        var t = document.createElement("span");
        t.className = "muted";
        t.textContent = " tags " + c.equipment_tags.join(", ");
        li.appendChild(t);
      }
      ul.appendChild(li);
    });
    box.hidden = list.length === 0;
  }
  function checkConflicts() {
    if (!box || !window.fetch) return;
    var s = siteID();
    var t = tags ? tags.value.split(/[,;\n]/).map(function (x) { return x.trim(); }).filter(Boolean).join(",") : "";
    var u = unit ? unit.value : "";
    if (!s || (!t && !u)) { render([]); return; }
    var q = "/api/v1/changes/conflicts?site_id=" + encodeURIComponent(s) + "&tags=" + encodeURIComponent(t) +
      (u ? "&unit_id=" + encodeURIComponent(u) : "");
    var mine = ++seq;
    fetch(q, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) { if (d && mine === seq) render(d.conflicts || []); })
      .catch(function () { /* offline or slow network: the server shows conflicts after saving */ });
  }
  function later() { clearTimeout(timer); timer = setTimeout(checkConflicts, 400); }
  if (tags) tags.addEventListener("input", later);
  if (unit) unit.addEventListener("change", checkConflicts);
})();
