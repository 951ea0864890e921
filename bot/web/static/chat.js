// Web chat of Trợ lý số: sends messages to /api/chat, renders text and buttons,
// and keeps the conversation (sender id and history) across page reloads.
(function () {
  "use strict";
  var SENDER_KEY = "troLySo.sender";
  var HISTORY_KEY = "troLySo.history";
  var MAX_HISTORY = 200;
  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("text");
  var sendButton = document.getElementById("send");

  function newSender() {
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return "web-" + Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function sender() {
    var id = localStorage.getItem(SENDER_KEY);
    if (!id) { id = newSender(); localStorage.setItem(SENDER_KEY, id); }
    return id;
  }
  function history() {
    try { return JSON.parse(localStorage.getItem(HISTORY_KEY)) || []; } catch (e) { return []; }
  }
  function remember(entry) {
    var items = history();
    items.push(entry);
    localStorage.setItem(HISTORY_KEY, JSON.stringify(items.slice(-MAX_HISTORY)));
  }

  // A hand-off is open from the message offering "Kết thúc hỗ trợ" until the
  // rating question: only then can messages come outside an answer.
  var END_PAYLOAD = "/handoff_end";
  var RATING_PREFIX = "/handoff_rating";
  var handoffOpen = false;
  function followHandoff(buttons) {
    (buttons || []).forEach(function (b) {
      if (b.payload === END_PAYLOAD) { handoffOpen = true; }
      if (String(b.payload).indexOf(RATING_PREFIX) === 0) { handoffOpen = false; }
    });
  }

  function render(entry, live) {
    if (entry.who === "bot") { followHandoff(entry.buttons); }
    var bubble = document.createElement("div");
    bubble.className = "msg " + entry.who + (entry.error ? " error" : "");
    bubble.textContent = entry.text || "";
    if (entry.buttons && entry.buttons.length) {
      var row = document.createElement("div");
      row.className = "buttons";
      entry.buttons.forEach(function (b) {
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = b.title;
        button.addEventListener("click", function () { send(b.payload, b.title); });
        row.appendChild(button);
      });
      bubble.appendChild(row);
    }
    log.appendChild(bubble);
    log.scrollTop = log.scrollHeight;
    if (live) { remember(entry); }
  }

  function setBusy(busy) {
    sendButton.disabled = busy;
    var typing = document.getElementById("typing");
    if (busy && !typing) {
      typing = document.createElement("div");
      typing.id = "typing";
      typing.className = "msg bot typing";
      typing.textContent = "Trợ lý số đang trả lời…";
      log.appendChild(typing);
      log.scrollTop = log.scrollHeight;
    } else if (!busy && typing) {
      typing.remove();
    }
  }

  function send(message, shown) {
    render({ who: "me", text: shown || message }, true);
    setBusy(true);
    return fetch("/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: sender(), message: message })
    }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) { throw new Error(body.error || "Lỗi " + response.status); }
        return body.messages || [];
      });
    }).then(function (messages) {
      setBusy(false);
      messages.forEach(function (m) { render({ who: "bot", text: m.text, buttons: m.buttons }, true); });
    }).catch(function (error) {
      setBusy(false);
      render({ who: "bot", error: true, text: error.message || "Không kết nối được. Anh/chị thử lại sau ạ." }, false);
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) { input.focus(); return; }
    input.value = "";
    send(text);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });
  document.getElementById("restart").addEventListener("click", function () {
    localStorage.removeItem(SENDER_KEY);
    localStorage.removeItem(HISTORY_KEY);
    log.innerHTML = "";
    send("/greet", "Xin chào");
  });

  // Messages that come outside an answer: a person of the commune's team
  // writing back during a hand-off. Fetched every few seconds while one is open.
  var POLL_MS = 3000;
  var polling = false;
  function poll() {
    if (polling || !handoffOpen || document.hidden) { return; }
    polling = true;
    fetch("/api/chat/updates?sender=" + encodeURIComponent(sender()))
      .then(function (response) { return response.ok ? response.json() : { messages: [] }; })
      .then(function (body) {
        (body.messages || []).forEach(function (m) { render({ who: "bot", text: m.text, buttons: m.buttons }, true); });
      })
      .catch(function () { /* offline for a moment: the next poll tries again */ })
      .then(function () { polling = false; });
  }
  window.setInterval(poll, POLL_MS);

  var past = history();
  if (past.length) {
    past.forEach(function (entry) { render(entry, false); });
  } else {
    send("/greet", "Xin chào");
  }
})();
