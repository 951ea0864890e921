// Admin answer editor: live chat-bubble preview and the 220-character counter.
(function () {
  var text = document.getElementById("answer-text");
  if (!text) return;
  var buttons = document.getElementById("answer-buttons");
  var counter = document.getElementById("answer-counter");
  var bubble = document.getElementById("preview-text");
  var row = document.getElementById("preview-buttons");
  var max = parseInt(counter.getAttribute("data-max"), 10);
  function update() {
    var n = Array.from(text.value.trim()).length;
    counter.textContent = n + "/" + max + " ký tự" + (n > max ? " — quá dài" : "");
    counter.classList.toggle("over", n > max);
    bubble.textContent = text.value;  // textContent: never parsed as HTML
    row.replaceChildren();
    if (buttons) {
      buttons.value.split("\n").forEach(function (line) {
        var title = line.split("|")[0].trim();
        if (!title) return;
        var b = document.createElement("span");
        b.textContent = title;
        row.appendChild(b);
      });
    }
  }
  text.addEventListener("input", update);
  if (buttons) buttons.addEventListener("input", update);
  update();
})();
