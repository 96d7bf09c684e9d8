// Progressive enhancement only: every page works without this file.
"use strict";

// Live notifications: keep the unread badge and the notifications list
// current through server-sent events. EventSource reconnects on its own
// and resumes from the last event id.
(function () {
  var badge = document.getElementById("unread-badge");
  if (!badge || !window.EventSource) return;
  var list = document.getElementById("notification-list");
  var es = new EventSource("/events");
  function setBadge(n) {
    badge.textContent = String(n);
    badge.classList.toggle("zero", n === 0);
    var bell = badge.closest("a");
    if (bell) bell.setAttribute("aria-label", "Notifications, " + n + " unread");
  }
  function onData(ev) {
    var d;
    try { d = JSON.parse(ev.data); } catch (e) { return; }
    if (typeof d.unread === "number") setBadge(d.unread);
    var n = d.notification;
    if (!list || !n || document.getElementById("n-" + n.id)) return;
    // The page's template holds the server's markup for an item, with
    // its Open and Mark read forms (and the CSRF token): a live item
    // then has the same buttons as the items rendered with the page.
    var tpl = document.getElementById("notification-item");
    if (!tpl || !tpl.content) return;
    var empty = list.querySelector(".empty");
    if (empty) empty.remove();
    var li = tpl.content.firstElementChild.cloneNode(true);
    var id = String(n.id);
    li.id = "n-" + id;
    li.querySelectorAll("form").forEach(function (f) {
      f.setAttribute("action", "/notifications/" + encodeURIComponent(id) + "/read");
    });
    li.querySelector(".n-title").textContent = n.title;
    var body = li.querySelector(".n-body");
    if (n.body) body.textContent = n.body; else body.remove();
    if (n.created_at) li.querySelector("time").setAttribute("datetime", n.created_at);
    // Open follows the notification's link; without one there is nowhere to go.
    if (!n.link) li.querySelector(".n-open").remove();
    list.insertBefore(li, list.firstChild);
  }
  function listen(src) {
    // data-live says the stream is connected (tests wait for it before
    // making something happen; a reconnect sets it again).
    src.addEventListener("open", function () { badge.dataset.live = "on"; });
    src.addEventListener("error", function () { delete badge.dataset.live; });
    src.addEventListener("notification", onData);
    src.addEventListener("unread", onData);
  }
  listen(es);
  // Close the stream when the page is left: a stream left open by a page
  // the browser keeps (back-forward cache) holds one of the six
  // connections a browser allows per server, and the seventh page load
  // waits for it. Reopen it if the page is shown again from that cache.
  window.addEventListener("pagehide", function () { es.close(); });
  window.addEventListener("pageshow", function (ev) {
    if (ev.persisted) { es = new EventSource("/events"); listen(es); }
  });
})();
