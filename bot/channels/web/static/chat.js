// 退会ナビ web chat: draws the replies of /chat/api/turn and sends taps, typed text and menu commands.
// Every string from the server is inserted as text (textContent), never as HTML.
"use strict";

(() => {
  const app = document.getElementById("app");
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");
  const words = app.dataset;
  const POLL_MS = 10000;
  let queue = Promise.resolve();

  const newId = () =>
    (window.crypto && crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(36).slice(2))
      .replace(/[^A-Za-z0-9_-]/g, "");

  const el = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  };

  const add = (node) => {
    log.appendChild(node);
    node.scrollIntoView({ block: "end", behavior: "smooth" });
  };

  const bubble = (who, text) => {
    const node = el("div", `bubble ${who}`);
    node.appendChild(el("span", "visually-hidden", `${who === "me" ? words.you : words.bot}: `));
    node.appendChild(el("span", "body", text));
    return node;
  };

  const closeQuestions = () => {
    for (const button of log.querySelectorAll(".choices button")) button.disabled = true;
  };

  const drawQuestion = (reply) => {
    const node = bubble("bot", reply.text);
    const choices = el("div", "choices");
    choices.setAttribute("role", "group");
    choices.setAttribute("aria-label", reply.text);
    for (const option of reply.options) {
      const button = el("button", "choice", option.label);
      button.type = "button";
      button.addEventListener("click", () => {
        closeQuestions();
        send({ choice: option.value }, option.label);
      });
      choices.appendChild(button);
    }
    node.appendChild(choices);
    return node;
  };

  const drawTemplate = (reply) => {
    const node = el("figure", "bubble bot template");
    node.appendChild(el("figcaption", "", reply.title));
    const body = el("pre", "", reply.body);
    body.tabIndex = 0;
    node.appendChild(body);
    const copy = el("button", "copy", words.copy);
    copy.type = "button";
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(reply.body);
      } catch (_) {
        const range = document.createRange(); // no clipboard API (plain HTTP): select it for the user
        range.selectNodeContents(body);
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        document.execCommand && document.execCommand("copy");
      }
      copy.textContent = words.copied;
      setTimeout(() => (copy.textContent = words.copy), 2000);
    });
    node.appendChild(copy);
    return node;
  };

  const drawChecklist = (reply) => {
    const node = el("section", "bubble bot checklist");
    node.appendChild(el("h2", "", reply.title));
    for (const group of reply.groups) {
      node.appendChild(el("h3", "", group.name));
      const list = el("ul");
      for (const item of group.items) {
        const line = el("li", `item ${item.status}`);
        line.appendChild(el("span", "mark", item.mark));
        line.appendChild(el("span", "", `${item.word}：${item.label}`));
        list.appendChild(line);
      }
      node.appendChild(list);
    }
    node.appendChild(el("p", "summary", reply.summary));
    return node;
  };

  // Focus follows the conversation for keyboard and screen-reader users: after a tap (whose button is now
  // disabled) it moves to the new question's first button; after typing it stays in the input.
  const draw = (replies, tapped = false) => {
    if (replies.some((reply) => reply.type === "question")) closeQuestions();
    let first = null;
    for (const reply of replies) {
      if (reply.type === "text") add(bubble("bot", reply.text));
      else if (reply.type === "question") {
        const node = drawQuestion(reply);
        add(node);
        first = node.querySelector("button");
      } else if (reply.type === "template") add(drawTemplate(reply));
      else if (reply.type === "checklist") add(drawChecklist(reply));
    }
    if (tapped) (first || input).focus({ preventScroll: true });
  };

  const post = async (path, body) => {
    const response = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    return { ok: response.ok, data };
  };

  // One message at a time, in order: a second tap waits for the first answer.
  const send = (message, shown) => {
    if (shown) add(bubble("me", shown));
    const tapped = message.text === undefined && message.start === undefined;
    queue = queue.then(async () => {
      try {
        const { ok, data } = await post("/chat/api/turn", { id: newId(), ...message });
        if (data.status === "duplicate") return void send({ command: "repeat" });
        if (Array.isArray(data.replies) && data.replies.length) draw(data.replies, tapped);
        else if (!ok) add(bubble("bot notice", words.offline));
      } catch (_) {
        add(bubble("bot notice", words.offline));
        if (message.text !== undefined && !input.value) input.value = message.text;
      }
    });
    return queue;
  };

  const poll = async () => {
    if (document.visibilityState !== "visible") return;
    try {
      const { data } = await post("/chat/api/inbox", {});
      for (const message of data.messages || []) draw(message.replies || []);
    } catch (_) {
      // offline for a moment: the reminders wait on the server
    }
  };

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) return;
    input.value = "";
    send({ text }, text);
  });

  input.addEventListener("keydown", (event) => {
    // Enter sends; Shift+Enter is a new line; Enter that confirms an IME conversion (日本語入力) does neither
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  for (const button of document.querySelectorAll(".menu button")) {
    button.addEventListener("click", () => send({ command: button.dataset.command }, button.textContent));
  }

  document.addEventListener("visibilitychange", poll);
  setInterval(poll, POLL_MS);
  send({ start: true }).then(poll);
})();
