// digest-bot desk: progressive enhancement only. Without this script every form still works.
// On the review page, each quote field gets a button that copies the text selected in the
// article into it (whitespace folded), so a quote is made by selecting the article's words.
(function () {
  "use strict";
  var article = document.getElementById("article");
  if (!article) { return; }
  var last = "";
  document.addEventListener("selectionchange", function () {
    var selection = document.getSelection();
    if (selection && selection.rangeCount && !selection.isCollapsed &&
        article.contains(selection.getRangeAt(0).commonAncestorContainer)) {
      last = selection.toString().replace(/\s+/g, " ").trim();
    }
  });
  document.querySelectorAll("textarea[data-quote]").forEach(function (field) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "use-selection";
    button.textContent = "Use selected text";
    button.setAttribute("aria-describedby", "select-hint");
    button.addEventListener("click", function () {
      if (!last) {
        button.textContent = "Select words in the article first";
        return;
      }
      field.value = last;
      field.dispatchEvent(new Event("input", { bubbles: true }));
      button.textContent = "Use selected text";
      field.focus();
    });
    field.insertAdjacentElement("afterend", button);
  });
})();
