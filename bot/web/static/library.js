// Answer library: copy buttons (clipboard API, or a textarea fallback on plain
// http pages), the print button of handouts, and the topic filter that applies
// itself. The results are in the HTML already; without this script the page
// still searches, filters and prints.
(function () {
  "use strict";

  function fallbackCopy(text) {
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.top = "-1000px";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      area.setSelectionRange(0, text.length);
      var copied = false;
      try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
      document.body.removeChild(area);
      if (copied) { resolve(); } else { reject(new Error("copy refused")); }
    });
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return fallbackCopy(text); });
    }
    return fallbackCopy(text);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.copy") : null;
    if (!button) { return; }
    var entry = button.closest(".entry");
    var source = entry.querySelector("textarea.copy-source");
    var status = entry.querySelector(".copy-status");
    copyText(source.value).then(function () {
      status.classList.remove("error");
      status.textContent = "Đã sao chép";
      button.classList.add("done");
      window.setTimeout(function () { status.textContent = ""; button.classList.remove("done"); }, 4000);
    }, function () {
      status.classList.add("error");
      status.textContent = "Không sao chép được. Anh/chị bôi đen chữ rồi sao chép tay giúp em.";
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    var printButton = document.getElementById("print-button");
    if (printButton) { printButton.addEventListener("click", function () { window.print(); }); }
    var topic = document.querySelector("form.search select[name=topic]");
    if (topic) { topic.addEventListener("change", function () { topic.form.submit(); }); }
  });
})();
