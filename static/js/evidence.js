// Evidence previews start blurred and greyscale (templates/referral/_evidence_panel.html): an image as the
// server blurred it, a video not shown at all. One click on the Reveal button, or on a blurred image, puts the
// file itself in that one preview's box, and "Blur again" puts the blurred state back; both come from the
// figure's <template> elements. Without JS the button submits a GET form (?reveal=<id>) that the server answers
// with that preview revealed.
(function () {
  "use strict";
  if (window.evidencePreviewsBound) {
    return; // the panel may be included more than once on a page
  }
  window.evidencePreviewsBound = true;

  function setRevealed(figure, revealed) {
    var media = figure.querySelector("[data-evidence-media]");
    var source = figure.querySelector('template[data-media="' + (revealed ? "clear" : "blurred") + '"]');
    if (media && source) {
      media.replaceChildren(source.content.cloneNode(true));
    }
    figure.classList.toggle("is-blurred", !revealed);
    var button = figure.querySelector("[data-reveal]");
    if (button) {
      button.textContent = revealed ? "Blur again" : "Reveal";
      button.setAttribute("aria-pressed", revealed ? "true" : "false");
    }
    var hint = figure.querySelector(".evidence-hint");
    if (hint) {
      hint.textContent = revealed ? "Shown as is." : "Blurred and greyscale until revealed.";
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-reveal]");
    var figure = event.target.closest("[data-evidence-preview]");
    if (!figure) {
      return;
    }
    if (button) {
      event.preventDefault();
      setRevealed(figure, figure.classList.contains("is-blurred"));
    } else if (event.target.tagName === "IMG" && figure.classList.contains("is-blurred")) {
      setRevealed(figure, true);
    }
  });
})();
