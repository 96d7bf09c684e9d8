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
    var empty = list.querySelector(".empty");
    if (empty) empty.remove();
    var li = document.createElement("li");
    li.className = "notification unread";
    li.id = "n-" + n.id;
    var main = document.createElement("div");
    main.className = "n-main";
    var title = document.createElement(n.link ? "a" : "span");
    title.className = "n-title";
    title.textContent = n.title;
    if (n.link && n.link.charAt(0) === "/" && n.link.charAt(1) !== "/") title.href = n.link;
    main.appendChild(title);
    if (n.body) {
      var p = document.createElement("p");
      p.className = "n-body";
      p.textContent = n.body;
      main.appendChild(p);
    }
    var when = document.createElement("small");
    when.className = "muted";
    when.textContent = "just now";
    main.appendChild(when);
    li.appendChild(main);
    list.insertBefore(li, list.firstChild);
  }
  function listen(src) {
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
