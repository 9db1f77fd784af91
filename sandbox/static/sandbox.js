// The sandbox page: polls /sandbox/state and shows it; posts what the visitor types and taps (sandbox/web.py).
// Text is always put in as text (textContent), never as HTML: links and commands are built as elements.
"use strict";

const POLL_MS = 700;
const HIDDEN_POLL_MS = 5000; // a tab in the background asks less often
const URL_RE = /https?:\/\/[^\s<>"]+/g;
const COMMAND_RE = /(^|[\s(])(\/[A-Za-z0-9_]{1,32})(?=$|[\s.,;:!?)])/g;
const REF_RE = /\bJ-[A-Z0-9]{4,6}\b/g;

let version = "";
let replyTo = null; // {id, text}: the message the next one answers
let pollTimer = null;
let pollCount = 0; // only the latest poll's answer is shown: an earlier one may arrive after it
const phoneCards = new Map(); // number -> its card element
const unstuck = new WeakSet(); // scrolled up from the end by the visitor: left where they are when news comes
const sizes = new WeakMap(); // list -> its size when last seen: a scroll that comes with a new size is the layout's

// A chat or a phone thread shows its latest message, unless the visitor scrolled up to read an earlier one.
function follow(list) {
  list.addEventListener("scroll", () => {
    if (sizes.get(list) !== sizeOf(list)) return; // new content or a new width moved it, not the visitor
    if (list.scrollHeight - list.scrollTop - list.clientHeight < 40) unstuck.delete(list);
    else unstuck.add(list);
  });
  new ResizeObserver(() => toEnd(list)).observe(list);
}

function sizeOf(list) {
  return list.scrollHeight + "x" + list.clientHeight + "x" + list.clientWidth;
}

function toEnd(list, force) {
  if (force || !unstuck.has(list)) {
    list.scrollTop = list.scrollHeight;
    unstuck.delete(list);
  }
  sizes.set(list, sizeOf(list));
}

const $ = (id) => document.getElementById(id);

async function post(path, body) {
  const init = {method: "POST", headers: {"Content-Type": "application/json"}};
  if (body !== undefined) init.body = JSON.stringify(body);
  try {
    const response = await fetch(path, init);
    const data = await response.json().catch(() => ({}));
    return {ok: response.ok, status: response.status, data};
  } catch (error) {
    return {ok: false, status: 0, data: {error: "The sandbox did not answer. Is paystage run still running?"}};
  }
}

// --- polling ---------------------------------------------------------------------------------------

async function poll() {
  clearTimeout(pollTimer);
  const mine = ++pollCount;
  let offline = false;
  let state = null;
  try {
    const response = await fetch("/sandbox/state?since=" + encodeURIComponent(version));
    if (response.ok) state = await response.json();
    else offline = true;
  } catch (error) {
    offline = true;
  }
  if (mine !== pollCount) return; // a later poll is under way, and it sets the next one
  if (state) {
    if (state.changed) render(state);
    version = state.version;
  }
  document.body.classList.toggle("offline", offline);
  pollTimer = setTimeout(poll, document.hidden ? HIDDEN_POLL_MS : POLL_MS);
}

function render(state) {
  renderChat(state.chat);
  renderPhones(state.phones);
  renderStory(state.story);
  renderRefs(state.chat);
}

// --- text as Telegram and a phone show it: line breaks kept, links (and in Telegram, /commands) live ------

function rich(text, commands) {
  const out = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(URL_RE)) {
    let url = match[0].replace(/[.,;:!?)\]]+$/, "");
    plain(out, text.slice(last, match.index), commands);
    const a = document.createElement("a");
    a.href = url;
    a.textContent = url;
    a.target = "_blank";
    a.rel = "noopener";
    out.append(a);
    last = match.index + url.length;
  }
  plain(out, text.slice(last), commands);
  return out;
}

function plain(out, text, commands) {
  if (!commands) {
    out.append(text);
    return;
  }
  let last = 0;
  for (const match of text.matchAll(COMMAND_RE)) {
    const start = match.index + match[1].length;
    out.append(text.slice(last, start));
    const command = document.createElement("button");
    command.type = "button";
    command.className = "command";
    command.textContent = match[2];
    command.title = "Send " + match[2];
    command.addEventListener("click", () => say(match[2]));
    out.append(command);
    last = start + match[2].length;
  }
  out.append(text.slice(last));
}

function sizeText(bytes) {
  return bytes < 1024 ? bytes + " B" : (bytes / 1024).toFixed(1) + " KB";
}

function clock(seconds) {
  return new Date(seconds * 1000).toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// --- the contractor's chat ----------------------------------------------------------------------------

function renderChat(messages) {
  const list = $("chat");
  list.replaceChildren();
  if (!messages.length) {
    const empty = el("li", "empty");
    empty.append("Say hello: type ", el("b", "", "/start"), " below, or tap a command above.");
    list.append(empty);
  }
  for (const m of messages) list.append(chatMessage(m));
  toEnd(list, messages.length && messages[messages.length - 1].mine);
}

function chatMessage(m) {
  const item = el("li", "message " + (m.mine ? "mine" : "bot"));
  item.dataset.id = m.id;
  const bubble = el("div", "bubble");
  if (m.reply_to) {
    const quote = el("div", "quote", m.reply_to.text.split("\n")[0]);
    bubble.append(quote);
  }
  if (m.document) {
    const file = el("a", "document", m.document.name);
    file.href = m.document.url;
    file.download = m.document.name;
    file.title = "Save " + m.document.name + " (" + sizeText(m.document.size) + ")";
    bubble.append(file);
  }
  if (m.text) {
    const text = el("div", "text");
    text.append(rich(m.text, true));
    bubble.append(text);
  }
  const meta = el("div", "meta", (m.edited ? "edited " : "") + clock(m.date));
  bubble.append(meta);
  item.append(bubble);
  if (m.buttons.length) {
    const keyboard = el("div", "keyboard");
    for (const row of m.buttons) {
      const line = el("div", "keyboard-row");
      for (const b of row) line.append(inlineButton(m, b));
      keyboard.append(line);
    }
    item.append(keyboard);
  }
  if (!m.mine) {
    const reply = el("button", "reply", "Reply");
    reply.type = "button";
    reply.setAttribute("aria-label", "Reply to this message");
    reply.addEventListener("click", () => startReply(m));
    item.append(reply);
  }
  return item;
}

function inlineButton(message, b) {
  if (b.url) {
    const a = el("a", "inline-button", b.text);
    a.href = b.url;
    a.target = "_blank";
    a.rel = "noopener";
    return a;
  }
  const button = el("button", "inline-button", b.text);
  button.type = "button";
  button.addEventListener("click", async () => {
    button.disabled = true;
    const answer = await post("/sandbox/tap", {message_id: message.id, data: b.data});
    if (!answer.ok) showError("chat-error", answer.data.error || "The tap did not go through.");
    button.disabled = false;
    unstuck.delete($("chat")); // the bot answers at the end of the chat: show it there
    poll();
  });
  return button;
}

function startReply(m) {
  replyTo = {id: m.id, text: m.text};
  $("replying-text").textContent = m.text.split("\n")[0];
  $("replying").hidden = false;
  $("message").focus();
}

function stopReply() {
  replyTo = null;
  $("replying").hidden = true;
}

async function say(text) {
  const body = {text};
  if (replyTo) body.reply_to = replyTo.id;
  const answer = await post("/sandbox/chat", body);
  if (!answer.ok) {
    showError("chat-error", answer.data.error || "The message did not go through.");
    return false;
  }
  hideError("chat-error");
  stopReply();
  unstuck.delete($("chat"));
  poll();
  return true;
}

function showError(id, text) {
  const node = typeof id === "string" ? $(id) : id;
  node.textContent = text;
  node.hidden = false;
}

function hideError(id) {
  const node = typeof id === "string" ? $(id) : id;
  node.hidden = true;
}

// --- the customers' phones ---------------------------------------------------------------------------

function renderPhones(phones) {
  const area = $("phones");
  if (phones.length) area.querySelector(":scope > .empty")?.remove();
  for (const phone of phones) {
    let card = phoneCards.get(phone.number);
    if (!card) {
      card = $("phone-template").content.firstElementChild.cloneNode(true);
      card.dataset.number = phone.number;
      card.querySelector(".phone-head").textContent = phone.name;
      card.querySelector("form").addEventListener("submit", (event) => textBack(event, phone.number, card));
      phoneCards.set(phone.number, card);
      area.append(card);
      follow(card.querySelector(".thread"));
    }
    const thread = card.querySelector(".thread");
    thread.replaceChildren(...phone.texts.map(smsBubble));
    toEnd(thread, phone.texts.length && !phone.texts[phone.texts.length - 1].incoming);
  }
}

function smsBubble(t) {
  const item = el("li", "sms " + (t.incoming ? "in" : "out"));
  const bubble = el("div", "bubble");
  bubble.append(rich(t.body, false));
  item.append(bubble);
  if (t.incoming) {
    const segments = t.segments === 1 ? "1 segment" : t.segments + " segments";
    item.append(el("div", "segments", segments + " · " + t.encoding + " · " + clock(t.at)));
  }
  return item;
}

async function textBack(event, number, card) {
  event.preventDefault();
  const input = event.target.elements.text;
  const text = input.value;
  if (!text.trim()) return;
  const button = event.target.querySelector("button");
  button.disabled = true;
  const answer = await post("/sandbox/phone", {phone: number, text});
  button.disabled = false;
  const error = card.querySelector(".error");
  if (answer.ok) {
    input.value = "";
    hideError(error);
  } else {
    showError(error, answer.data.error || "The text did not go through.");
  }
  poll();
}

// --- the guided start and the story ---------------------------------------------------------------------

function renderStory(story) {
  const button = $("story");
  const status = $("story-status");
  button.disabled = story.running;
  if (story.running) {
    status.textContent = "Playing: step " + Math.min(story.step + 1, story.steps) + " of " + story.steps + "…";
  } else if (story.error) {
    status.textContent = "The story stopped: " + story.error;
  } else if (story.step >= story.steps) {
    status.textContent = "Done: the plan is on the customer's phone. Take over from step 4.";
  }
}

function latestRef(messages) {
  for (let i = messages.length - 1; i >= 0; i--) {
    const refs = messages[i].text.match(REF_RE);
    if (refs) return refs[refs.length - 1];
  }
  return null;
}

function renderRefs(messages) {
  const ref = latestRef(messages);
  if (!ref) return;
  for (const button of document.querySelectorAll(".say")) {
    button.dataset.filled = button.dataset.say.replace("J-…", ref);
    button.textContent = button.dataset.filled;
  }
}

function fillMessage(text) {
  const box = $("message");
  box.value = text;
  box.focus();
  box.setSelectionRange(text.length, text.length);
  resize();
}

function resize() {
  const box = $("message");
  box.style.height = "auto";
  box.style.height = Math.min(box.scrollHeight, 160) + "px";
}

// --- wiring -------------------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  follow($("chat"));
  $("composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const box = $("message");
    if (!box.value.trim()) return;
    if (await say(box.value)) {
      box.value = "";
      resize();
    }
  });
  $("message").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("message").addEventListener("input", resize);
  $("replying-cancel").addEventListener("click", stopReply);
  for (const button of document.querySelectorAll(".say")) {
    button.addEventListener("click", () => fillMessage(button.dataset.filled || button.dataset.say));
  }
  $("story").addEventListener("click", async () => {
    const answer = await post("/sandbox/story");
    if (!answer.ok) $("story-status").textContent = answer.data.error || "The story did not start.";
    poll();
  });
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) poll();
  });
  poll();
});
