/* The header's search box: "/" moves the focus to it from anywhere on the page, except while typing in a field
   or with a dialog open (the triage queue's shortcuts, static/js/triage.js, leave "/" alone). Progressive: the
   box is a plain GET form that works without this file. */
(function () {
  "use strict";

  var box = document.getElementById("site-search-q");
  if (!box) { return; }

  function typing(target) {
    if (!target) { return false; }
    var tag = target.tagName;
    return target.isContentEditable || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (typing(event.target) || document.querySelector("dialog[open]")) { return; }
    event.preventDefault();
    box.focus();
    box.select();
  });
})();
