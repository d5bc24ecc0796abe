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

  // A new bubble is scrolled into view inside the log (never the page); a client message from its top, so
  // a phone shows its beginning first.
  const add = (node, from = "end") => {
    log.appendChild(node);
    node.scrollIntoView({ block: from, behavior: "smooth" });
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
      } else if (reply.type === "template") add(drawTemplate(reply), "start");
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
    return { ok: response.ok, status: response.status, data };
  };

  // What a refusal without replies means, in the bot's own words (not always the network).
  const refusal = (status) =>
    status === 413 ? words.tooLong : status === 429 ? words.limited : status === 503 ? words.busy : words.offline;

  const reopen = () => {
    // a tap that could not be sent: its question's buttons come back, so there is something to tap again
    const last = [...log.querySelectorAll(".choices")].pop();
    if (last) for (const button of last.querySelectorAll("button")) button.disabled = false;
  };

  let pending = 0; // menu taps wait for nothing else in flight: a double tap on 戻る goes back once
  // One message at a time, in order: a second tap waits for the first answer.
  const send = (message, shown) => {
    if (shown) add(bubble("me", shown));
    const tapped = message.text === undefined && message.start === undefined;
    pending += 1;
    queue = queue.then(async () => {
      try {
        const { ok, status, data } = await post("/chat/api/turn", { id: newId(), ...message });
        if (data.status === "duplicate") return void send({ command: "repeat" });
        if (data.reset) log.replaceChildren(); // 削除: nothing of the erased conversation stays on screen
        if (Array.isArray(data.replies) && data.replies.length) draw(data.replies, tapped);
        else if (!ok) {
          add(bubble("bot notice", refusal(status)));
          if (message.text !== undefined && !input.value) input.value = message.text;
          if (tapped) reopen();
        }
      } catch (_) {
        add(bubble("bot notice", words.offline));
        if (message.text !== undefined && !input.value) input.value = message.text;
        if (tapped) reopen();
      } finally {
        pending -= 1;
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

  const fit = () => {
    // the input grows with what is typed, up to about five lines
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 140)}px`;
  };
  input.addEventListener("input", fit);

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) return;
    if (text.length > Number(words.maxText)) {
      // too long for the bot: said here, and the text stays in the input to be shortened
      add(bubble("bot notice", words.tooLong));
      return;
    }
    input.value = "";
    fit();
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
    button.addEventListener("click", () => {
      if (pending) return;
      send({ command: button.dataset.command }, button.textContent);
    });
  }

  document.addEventListener("visibilitychange", poll);
  setInterval(poll, POLL_MS);
  send({ start: true }).then(poll);
})();
