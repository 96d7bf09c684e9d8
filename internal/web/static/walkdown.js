// The PSSR walkdown page (walkdown.html): progressive enhancement only.
// Without this file every answer is a plain form post. With it, the page
// shows one section at a time without a round trip, and every answer
// (with its note and photo) is first kept on the device, in IndexedDB,
// then sent; with no network it waits there, through a closed tab too,
// and is sent when the network is back. The server still decides: an
// item answered elsewhere since this page loaded comes back as a
// conflict, shown beside the item, never overwritten.
"use strict";
(function () {
  var root = document.getElementById("walkdown");
  if (!root || !window.fetch || !window.indexedDB || !window.FormData || !window.Promise) return;
  var change = root.getAttribute("data-change");
  var status = document.getElementById("wd-status");
  var labels = { yes: "Yes", no: "No", na: "N/A" };

  // ---- Sections, one at a time, offline too.
  function showSection(n) {
    n = String(n);
    root.querySelectorAll(".wd-section").forEach(function (s) { s.hidden = s.getAttribute("data-section") !== n; });
    root.querySelectorAll(".wd-sections a").forEach(function (a) {
      if (a.getAttribute("data-section") === n) a.setAttribute("aria-current", "true");
      else a.removeAttribute("aria-current");
    });
    try { history.replaceState(null, "", "?section=" + n); } catch (e) { /* a page without history: fine */ }
    window.scrollTo(0, 0);
  }
  root.addEventListener("click", function (ev) {
    var a = ev.target.closest("a[data-section]");
    if (!a) return;
    ev.preventDefault();
    showSection(a.getAttribute("data-section"));
  });

  // ---- The queue: one pending answer per item (the latest given).
  var dbp = null;
  function db() {
    if (!dbp) {
      dbp = new Promise(function (resolve, reject) {
        var req = indexedDB.open("mocpcr-walkdown", 1);
        req.onupgradeneeded = function () { req.result.createObjectStore("answers", { keyPath: "key" }); };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { reject(req.error); };
      });
    }
    return dbp;
  }
  function store(mode, fn) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var t = d.transaction("answers", mode);
        var req = fn(t.objectStore("answers"));
        t.oncomplete = function () { resolve(req ? req.result : undefined); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error); };
      });
    });
  }
  function keep(rec) { return store("readwrite", function (s) { return s.put(rec); }); }
  // forget drops rec once sent, unless a newer answer to the same item
  // replaced it while it was on its way: that one is still to send.
  function forget(rec) {
    return store("readwrite", function (s) {
      var req = s.get(rec.key);
      req.onsuccess = function () {
        if (req.result && req.result.queuedAt === rec.queuedAt) s.delete(rec.key);
      };
      return null;
    });
  }
  function pending() {
    return store("readonly", function (s) { return s.getAll(); }).then(function (all) {
      return (all || []).filter(function (r) { return r.change === change; }).sort(function (a, b) { return a.queuedAt - b.queuedAt; });
    });
  }

  function itemOf(id) { return document.getElementById("pssr-" + id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }
  function note(li, text, kind) {
    var n = li.querySelector(".wd-note");
    n.textContent = text || "";
    n.className = "wd-note" + (kind ? " " + kind : "");
    n.hidden = !text;
  }
  function choose(li, answer) {
    li.querySelectorAll(".ans-btn").forEach(function (b) { b.classList.toggle("chosen", b.value === answer); });
  }

  // A queued answer, shown as waiting on the device.
  function showQueued(li, rec) {
    li.classList.add("queued");
    choose(li, rec.answer);
    var r = li.querySelector(".wd-recorded");
    r.textContent = "";
    r.appendChild(el("span", "pill ans ans-" + rec.answer, labels[rec.answer] || rec.answer));
    r.appendChild(document.createTextNode(" " + rec.comment + " "));
    r.appendChild(el("small", "pill pending", "Saved on this device, not sent yet"));
    if (rec.file) preview(li, rec.file);
  }
  // A photo not sent yet, as a small picture (a data: URL: the page's
  // policy allows no blob: images).
  function preview(li, file) {
    if (!window.createImageBitmap) return;
    createImageBitmap(file).then(function (bmp) {
      var scale = Math.min(1, 240 / Math.max(bmp.width, bmp.height));
      var c = document.createElement("canvas");
      c.width = Math.max(1, Math.round(bmp.width * scale));
      c.height = Math.max(1, Math.round(bmp.height * scale));
      c.getContext("2d").drawImage(bmp, 0, 0, c.width, c.height);
      var img = el("img", "thumb");
      img.alt = "Photo taken, not sent yet";
      img.src = c.toDataURL("image/jpeg", 0.7);
      var ev = li.querySelector(".wd-evidence");
      ev.textContent = "";
      ev.appendChild(img);
    }).catch(function () { /* not a picture the browser reads: the file is still sent */ });
  }
  // The item as the server recorded it.
  function showRecorded(li, it) {
    if (!it) return;
    li.classList.remove("queued");
    li.className = li.className.replace(/\bans-\w+/g, "").trim();
    if (it.answer) li.classList.add("answered", "ans-" + it.answer);
    choose(li, it.answer);
    var v = li.querySelector("input[name=version]");
    if (v) v.value = String(it.version);
    var r = li.querySelector(".wd-recorded");
    r.textContent = "";
    if (it.answer) {
      r.appendChild(el("span", "pill ans ans-" + it.answer, it.label));
      r.appendChild(document.createTextNode(" " + (it.comment || "") + " "));
      r.appendChild(el("small", "muted", (it.answered_by_name || "—") + (it.answered_at ? ", " + it.answered_at : "")));
    }
    var h = li.querySelector(".wd-history");
    h.textContent = "";
    (it.history || []).forEach(function (line) { h.appendChild(el("li", "", line)); });
    var ev = li.querySelector(".wd-evidence");
    ev.textContent = "";
    if (it.evidence) {
      var a = el("a");
      a.href = it.evidence.url;
      if (it.evidence.thumbnail) {
        var img = el("img", "thumb");
        img.src = it.evidence.thumbnail;
        img.alt = "Evidence: " + it.evidence.name;
        a.appendChild(img);
      } else {
        a.textContent = "Evidence: " + it.evidence.name;
      }
      ev.appendChild(a);
    }
  }

  function setStatus(n, sending) {
    if (!status) return;
    var offline = !navigator.onLine;
    var what = n === 1 ? "1 answer" : n + " answers";
    if (n === 0) {
      status.textContent = offline ? "Offline: answers you give now are kept on this device and sent when the network is back." : "";
    } else if (offline) {
      status.textContent = "Offline: " + what + " saved on this device; they are sent when the network is back.";
    } else {
      status.textContent = (sending ? "Sending " : "Waiting to send ") + what + "…";
    }
    status.className = "wd-status" + (offline ? " offline" : "");
    status.hidden = status.textContent === "";
  }

  function send(rec) {
    var fd = new FormData();
    fd.append("csrf_token", rec.csrf);
    fd.append("answer", rec.answer);
    fd.append("comment", rec.comment);
    fd.append("version", rec.version);
    if (rec.file) fd.append("evidence", rec.file, rec.fileName || "photo.jpg");
    return fetch(rec.url, { method: "POST", body: fd, credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (res) {
        return res.json().catch(function () { return {}; }).then(function (body) { return { status: res.status, body: body }; });
      });
  }

  // keepPhoto puts the photo of a refused answer back into its form's
  // file field, so that answering again sends it without a new picture.
  function keepPhoto(form, rec) {
    var input = form && form.querySelector("input[type=file]");
    if (!input || !rec.file || typeof DataTransfer === "undefined") return;
    try {
      var dt = new DataTransfer();
      dt.items.add(new File([rec.file], rec.fileName || "photo.jpg", { type: rec.file.type || "image/jpeg" }));
      input.files = dt.files;
    } catch (e) { /* a browser that cannot set files: the note says what was refused */ }
  }

  // flush sends the queued answers one by one, oldest first, and stops at
  // the first that cannot be sent now (no network, the server down). An
  // answer given while a flush is under way is sent by another round
  // right after it (again), not left waiting for the next event.
  var flushing = null, again = false;
  function flush() {
    if (flushing) { again = true; return flushing; }
    again = false;
    flushing = pending().then(function (recs) {
      setStatus(recs.length, navigator.onLine);
      if (!navigator.onLine || recs.length === 0) return;
      var left = recs.length;
      var chain = Promise.resolve(true);
      recs.forEach(function (rec) {
        chain = chain.then(function (go) {
          if (!go) return false;
          return send(rec).then(function (res) {
            var li = itemOf(rec.item);
            if (res.status === 200) {
              if (li) { showRecorded(li, res.body.item); note(li, "Sent and recorded.", "ok"); }
            } else if (res.status === 401 || res.status >= 500) {
              return false; // kept: signed out, or the server is down
            } else if (li) {
              // Refused by the server's rules: show why, with what is
              // recorded now; the note typed goes back into the form.
              showRecorded(li, res.body.item);
              var form = li.querySelector("form");
              if (form && form.elements.comment) form.elements.comment.value = rec.comment;
              // So does the photo taken: it may not be possible to take
              // it again once the walkdown has moved on.
              keepPhoto(form, rec);
              var mine = "Your answer on this device: " + (labels[rec.answer] || rec.answer) + (rec.comment ? " — " + rec.comment : "") + ".";
              note(li, (res.body.error || "The answer was refused.") + (res.status === 409 ? " " + mine : ""),
                res.status === 409 ? "conflict" : "bad");
            }
            return forget(rec).then(function () { left--; setStatus(left, true); return true; });
          }, function () { return false; }); // no network after all: kept
        });
      });
      return chain;
    }).catch(function () { /* IndexedDB unavailable (private mode): the forms post normally next time */ })
      .then(function () {
        flushing = null;
        if (again && navigator.onLine) return flush();
        return pending().then(function (recs) { setStatus(recs.length, false); });
      })
      .catch(function () { flushing = null; });
    return flushing;
  }

  root.addEventListener("submit", function (ev) {
    var form = ev.target.closest("form.wd-form");
    if (!form) return;
    var btn = ev.submitter;
    if (!btn || !btn.value) return; // let the browser post it
    ev.preventDefault();
    var li = form.closest(".wd-item");
    var input = form.querySelector("input[type=file]");
    var file = input && input.files[0] ? input.files[0] : null;
    var rec = {
      key: change + ":" + li.getAttribute("data-item"), change: change, item: li.getAttribute("data-item"),
      url: form.getAttribute("data-send"), answer: btn.value, comment: form.elements.comment.value,
      version: form.elements.version.value, csrf: form.elements.csrf_token.value,
      file: file, fileName: file ? file.name : "", queuedAt: Date.now()
    };
    // Kept on the device first: if the network or the tab goes now, the
    // answer is still there.
    keep(rec).then(function () {
      if (input) input.value = "";
      note(li, "", "");
      showQueued(li, rec);
      return flush();
    }, function () {
      // No storage on this device: post the form as it is.
      var a = document.createElement("input");
      a.type = "hidden"; a.name = "answer"; a.value = btn.value;
      form.appendChild(a);
      form.submit();
    });
  });

  window.addEventListener("online", flush);
  window.addEventListener("offline", function () { pending().then(function (r) { setStatus(r.length, false); }); });
  pending().then(function (recs) {
    recs.forEach(function (rec) { var li = itemOf(rec.item); if (li) showQueued(li, rec); });
    return flush();
  }).catch(function () { /* no IndexedDB: plain forms */ });
})();
