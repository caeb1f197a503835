/* Triage queue keyboard shortcuts. Progressive: the page works without this file (checkboxes, an action
   select and a submit button); this only drives the same form faster. The form posts with htmx and the answer
   (the same page, same cursor) is swapped in place, so the cursor row keeps its place.
   j/k move the focused row, x selects it, o/Enter opens it, p proposes, d discards (asks the reason),
   h holds (asks the reason and who asked), ? shows the help. Off while typing in a field. */
(function () {
  "use strict";

  var help = document.getElementById("triage-help");
  var live = document.getElementById("triage-live");
  var table, form, rows, current = -1;

  /* The table and the form are swapped in place after a bulk action (htmx): read them again then. */
  function readPage() {
    table = document.getElementById("queue-table");
    form = document.getElementById("bulk-form");
    rows = table ? Array.prototype.slice.call(table.querySelectorAll("tbody tr.queue-row")) : [];
  }
  readPage();

  document.body.addEventListener("htmx:afterSwap", function () {
    readPage();
    if (current >= 0 && rows.length) {
      var index = Math.min(current, rows.length - 1);
      current = -1;
      focusRow(index); /* the cursor stays on its row number: the next item moved up into it */
    } else {
      current = -1;
    }
  });

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
    if (!rows.length) { return; }
    index = Math.max(0, Math.min(rows.length - 1, index));
    if (current >= 0 && rows[current]) {
      rows[current].classList.remove("is-current");
      rows[current].removeAttribute("aria-current");
    }
    current = index;
    var row = rows[current];
    row.classList.add("is-current");
    row.setAttribute("aria-current", "true");
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }

  function checkbox(row) {
    return row ? row.querySelector('input[type="checkbox"][name="items"]') : null;
  }

  function targets() {
    /* The checked items, or else the current one. Returns the checkboxes to submit. */
    var checked = rows.map(checkbox).filter(function (box) { return box && box.checked; });
    if (checked.length) { return checked; }
    var box = current >= 0 ? checkbox(rows[current]) : null;
    return box ? [box] : [];
  }

  function submit(action, values) {
    if (!form) { return; }
    var chosen = targets();
    if (!chosen.length) { say("Move to an item (j/k) or select one (x) first."); return; }
    chosen.forEach(function (box) { box.checked = true; });
    form.querySelector('[name="action"]').value = action;
    Object.keys(values || {}).forEach(function (name) {
      var field = form.querySelector('[name="' + name + '"]');
      if (field) { field.value = values[name]; }
    });
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  }

  function ask(dialogId, fields, action) {
    var dialog = document.getElementById(dialogId);
    if (!dialog || !form) { return; }
    var chosen = targets();
    if (!chosen.length) { say("Move to an item (j/k) or select one (x) first."); return; }
    dialog.querySelector(".dialog-targets").textContent = "Items: " + chosen.map(function (b) { return b.value; }).join(", ");
    Object.keys(fields).forEach(function (id) { document.getElementById(id).value = ""; });
    dialog.returnValue = "";
    dialog.addEventListener("close", function onClose() {
      dialog.removeEventListener("close", onClose);
      if (current >= 0) { rows[current].focus({ preventScroll: true }); }
      if (dialog.returnValue !== "ok") { return; }
      var values = {};
      var missing = false;
      Object.keys(fields).forEach(function (id) {
        var value = document.getElementById(id).value.trim();
        if (!value) { missing = true; }
        values[fields[id]] = value;
      });
      if (missing) { say("Nothing was changed: every field of the dialog is needed."); return; }
      submit(action, values);
    });
    openDialog(dialog);
    dialog.querySelector("textarea, input").focus();
  }

  function typing(target) {
    if (!target) { return false; }
    var tag = target.tagName;
    return target.isContentEditable || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (document.querySelector("dialog[open]")) { return; } /* the dialog has the keyboard; Esc closes it */
    if (typing(event.target)) { return; }
    var key = event.key;
    if (key === "?") { event.preventDefault(); openDialog(help); return; }
    if (!rows.length) { return; }
    switch (key) {
      case "j": focusRow(current + 1); break;
      case "k": focusRow(current < 0 ? 0 : current - 1); break;
      case "x": {
        if (current < 0) { focusRow(0); }
        var box = checkbox(rows[current]);
        if (box) {
          box.checked = !box.checked;
          say("Item " + box.value + (box.checked ? " selected" : " unselected"));
        }
        break;
      }
      case "o":
      case "Enter": {
        if (current < 0 || (key === "Enter" && event.target !== rows[current])) { return; }
        var link = rows[current].querySelector("th a");
        if (link) { window.location.href = link.href; }
        break;
      }
      case "p": submit("propose"); break;
      case "d": ask("triage-discard", { "dialog-discard-reason": "reason" }, "discard"); break;
      case "h":
        ask("triage-hold", { "dialog-hold-reason": "reason", "dialog-hold-requested-by": "requested_by" }, "hold");
        break;
      default: return;
    }
    event.preventDefault();
  });
})();
