/* The inbox working screen: live updates (server-sent events), keyboard shortcuts.
 *
 * Pages that want live updates carry <div data-inbox-live="<events url>" data-since="...">.
 * On "changed" the list refreshes its rows, and an open conversation its live part, through
 * htmx; on "presence" an open conversation refreshes who else is looking at it. Loaded
 * once (htmx re-runs the script tag after each boosted navigation: the guard stops that).
 */
(function () {
  "use strict";
  if (window.h2hInbox) {
    window.h2hInbox.connect();
    return;
  }

  var source = null;
  var sourceUrl = null;
  var lastId = null;
  var selected = null; // the number of the selected list row
  var pending = {};

  function $(selector) { return document.querySelector(selector); }

  function later(key, run) {
    // Bursts of events (an import, a merge) become one refresh.
    if (pending[key]) { return; }
    pending[key] = window.setTimeout(function () { delete pending[key]; run(); }, 300);
  }

  function refreshList() {
    if (!$("#inbox-results") || !window.htmx) { return; }
    window.htmx.ajax("GET", window.location.pathname + window.location.search, {
      target: "#inbox-results", swap: "innerHTML", headers: { "X-Inbox-Live": "1" }
    });
  }

  function refreshConversation() {
    var live = $("#conv-live");
    if (!live || !window.htmx) { return; }
    window.htmx.ajax("GET", live.getAttribute("data-live-url"), { target: "#conv-live", swap: "innerHTML" });
  }

  function refreshPresence() {
    var box = $("#conv-presence");
    if (!box || !window.htmx) { return; }
    window.htmx.ajax("GET", box.getAttribute("data-presence-url"), { target: "#conv-presence", swap: "innerHTML" });
  }

  function current() {
    var live = $("#conv-live");
    return live ? Number(live.getAttribute("data-number")) : null;
  }

  function onChanged(numbers) {
    if ($("#inbox-results")) { later("list", refreshList); }
    var number = current();
    if (number !== null && numbers.indexOf(number) >= 0) { later("conversation", refreshConversation); }
  }

  function onPresence(numbers) {
    var number = current();
    if (number !== null && numbers.indexOf(number) >= 0) { later("presence", refreshPresence); }
  }

  function parse(event) {
    try { return JSON.parse(event.data).numbers || []; } catch (e) { return []; }
  }

  function connect() {
    var el = $("[data-inbox-live]");
    var url = el ? el.getAttribute("data-inbox-live") : null;
    if (url === sourceUrl && source) { return; }
    if (source) { source.close(); source = null; }
    sourceUrl = url;
    if (!url || !window.EventSource) { return; }
    var since = lastId || el.getAttribute("data-since");
    source = new EventSource(url + (since ? "?since=" + encodeURIComponent(since) : ""));
    source.addEventListener("ready", function (e) { lastId = e.lastEventId || lastId; });
    source.addEventListener("changed", function (e) {
      lastId = e.lastEventId || lastId;
      onChanged(parse(e));
    });
    source.addEventListener("presence", function (e) { onPresence(parse(e)); });
  }

  // --- keyboard ----------------------------------------------------------------------------

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("tr[data-number]")); }

  function mark(row) {
    rows().forEach(function (r) { r.classList.remove("selected"); r.removeAttribute("aria-selected"); });
    if (!row) { return; }
    row.classList.add("selected");
    row.setAttribute("aria-selected", "true");
    selected = row.getAttribute("data-number");
    row.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    var all = rows();
    if (!all.length) { return false; }
    var at = all.findIndex(function (r) { return r.classList.contains("selected"); });
    var next = at < 0 ? (step > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, at + step));
    mark(all[next]);
    return true;
  }

  function openSelected() {
    var row = $("tr[data-number].selected");
    var link = row && row.querySelector("a[data-open]");
    if (!link) { return false; }
    link.click();
    return true;
  }

  function press(selector, focusOnly) {
    var el = $(selector);
    if (!el) { return false; }
    el.scrollIntoView({ block: "center" });
    el.focus();
    if (!focusOnly) { el.click(); }
    return true;
  }

  function toggleHelp() {
    var help = $("#inbox-help");
    if (!help || !help.showModal) { return false; }
    if (help.open) { help.close(); } else { help.showModal(); }
    return true;
  }

  function typing(target) {
    if (!target || !target.tagName) { return false; }
    return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  }

  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) { return; }
    if (typing(e.target)) {
      if (e.key === "Escape") { e.target.blur(); }
      return;
    }
    if (!$("[data-inbox-live]")) { return; } // not an inbox page
    var done = false;
    switch (e.key) {
      case "j": done = move(1); break;
      case "k": done = move(-1); break;
      case "o": done = openSelected(); break;
      case "Enter":
        if (!e.target.closest || !e.target.closest("a, button, summary")) { done = openSelected(); }
        break;
      case "r": done = press("[data-shortcut=reply]", true); break;
      case "e": done = press("[data-shortcut=resolve]", false); break;
      case "a": done = press("[data-shortcut=assign]", true); break;
      case "?": done = toggleHelp(); break;
      default: return;
    }
    if (done) { e.preventDefault(); }
  });

  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("[data-shortcut=help]");
    if (button) { e.preventDefault(); toggleHelp(); }
  });

  document.addEventListener("htmx:afterSettle", function () {
    connect();
    if (selected !== null) {
      var row = $('tr[data-number="' + selected + '"]');
      if (row) { row.classList.add("selected"); row.setAttribute("aria-selected", "true"); }
    }
  });

  window.h2hInbox = { connect: connect };
  connect();
})();
