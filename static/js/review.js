/* Review keyboard shortcuts, in the manner of the triage queue's (static/js/triage.js). Progressive: the page
   works without this file (checkboxes, an action bar and each row's buttons); this only drives the same form.
   j/k move the cursor row, x selects it, a approves, r returns and Shift+R rejects (both ask the reason),
   o/Enter opens the item, ? shows the help. Off while typing in a field.
   A decision is posted with htmx and answered with the same page (same filters, same cursor) swapped in place:
   the cursor stays on its row number, so the next proposal moves up under it. */
(function () {
  "use strict";

  var help = document.getElementById("review-help");
  var reasonDialog = document.getElementById("review-reason-dialog");
  var live = document.getElementById("review-live");
  var current = -1;

  function rows() {
    var table = document.getElementById("review-table");
    return table ? Array.prototype.slice.call(table.querySelectorAll("tbody tr.review-row")) : [];
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-open-help]"), function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { openDialog(help); });
  });

  function say(text) {
    if (live) { live.textContent = text; }
  }

  function openDialog(dialog) {
    if (dialog && !dialog.open) { dialog.showModal(); }
  }

  function focusRow(index) {
    var all = rows();
    if (!all.length) { current = -1; return; }
    index = Math.max(0, Math.min(all.length - 1, index));
    all.forEach(function (row) {
      row.classList.remove("is-current");
      row.removeAttribute("aria-current");
    });
    current = index;
    var row = all[current];
    row.classList.add("is-current");
    row.setAttribute("aria-current", "true");
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }

  function checkbox(row) {
    return row ? row.querySelector('input[type="checkbox"][name="items"]') : null;
  }

  function targets() {
    /* The checked items, or else the current one. */
    var all = rows();
    var checked = all.map(checkbox).filter(function (box) { return box && box.checked; });
    if (checked.length) { return checked; }
    var box = current >= 0 ? checkbox(all[current]) : null;
    return box ? [box] : [];
  }

  function decide(action, reason) {
    var chosen = targets();
    if (!chosen.length) { say("Move to a proposal (j/k) or select one (x) first."); return; }
    chosen.forEach(function (box) { box.checked = true; });
    var form = document.getElementById("review-form");
    var reasonField = form ? form.querySelector('[name="reason"]') : null;
    if (reasonField && reason !== undefined) { reasonField.value = reason; }
    var button = document.getElementById("review-" + action);
    if (button) { button.click(); } /* a real click: htmx posts the button's name and value */
  }

  function askReason(action) {
    var chosen = targets();
    if (!reasonDialog || !chosen.length) { say("Move to a proposal (j/k) or select one (x) first."); return; }
    var verb = action === "reject" ? "Reject" : "Return";
    document.getElementById("review-reason-title").textContent = verb + " items";
    document.getElementById("review-reason-ok").textContent = verb;
    reasonDialog.querySelector(".dialog-targets").textContent =
      "Items: " + chosen.map(function (b) { return b.value; }).join(", ");
    var input = document.getElementById("review-reason-text");
    input.value = "";
    reasonDialog.returnValue = "";
    reasonDialog.addEventListener("close", function onClose() {
      reasonDialog.removeEventListener("close", onClose);
      var all = rows();
      if (current >= 0 && all[current]) { all[current].focus({ preventScroll: true }); }
      if (reasonDialog.returnValue !== "ok") { return; }
      var reason = input.value.trim();
      if (!reason) { say("Nothing was changed: give a reason."); return; }
      decide(action, reason);
    });
    openDialog(reasonDialog);
    input.focus();
  }

  function typing(target) {
    if (!target) { return false; }
    var tag = target.tagName;
    return target.isContentEditable || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  /* After a decision the table is swapped in place: keep the cursor on its row number. */
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail || !event.detail.target || event.detail.target.id !== "review-results") { return; }
    if (current >= 0 && rows().length) { focusRow(current); } else { current = -1; }
  });

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (document.querySelector("dialog[open]")) { return; } /* the dialog has the keyboard; Esc closes it */
    if (typing(event.target)) { return; }
    var key = event.key;
    if (key === "?") { event.preventDefault(); openDialog(help); return; }
    var all = rows();
    if (!all.length) { return; }
    switch (key) {
      case "j": focusRow(current + 1); break;
      case "k": focusRow(current < 0 ? 0 : current - 1); break;
      case "x": {
        if (current < 0) { focusRow(0); }
        var box = checkbox(rows()[current]);
        if (box) {
          box.checked = !box.checked;
          say("Item " + box.value + (box.checked ? " selected" : " unselected"));
        }
        break;
      }
      case "o":
      case "Enter": {
        if (current < 0 || (key === "Enter" && event.target !== all[current])) { return; }
        var link = all[current].querySelector("th a");
        if (link) { window.location.href = link.href; }
        break;
      }
      case "a": decide("approve"); break;
      case "r": askReason("return"); break;
      case "R": askReason("reject"); break;
      default: return;
    }
    event.preventDefault();
  });
})();
