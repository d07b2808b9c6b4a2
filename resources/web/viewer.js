// Drama Live viewer: plays one stream from the embedded relay over WHEP (no build step).
"use strict";

// ---- where to play from --------------------------------------------------------------------
const params = new URLSearchParams(location.search);
const pathMatch = location.pathname.match(/^\/view\/([^/]+)$/);
const streamName = pathMatch ? decodeURIComponent(pathMatch[1]) : (params.get("stream") || "live");
const token = params.get("token");
const whepUrl = "/whep/" + encodeURIComponent(streamName) + (token ? "?token=" + encodeURIComponent(token) : "");

const video = document.getElementById("video");
const statusEl = document.getElementById("status");
const unmute = document.getElementById("unmute");

// exposed for tests and for debugging in the console
window.viewerState = { state: "new", resource: null, error: null, answer: null };

function setStatus(state, text) {
  window.viewerState.state = state;
  statusEl.dataset.state = state;
  statusEl.textContent = text;
}

unmute.addEventListener("click", () => {
  video.muted = false;
  video.play().catch(() => {});
  unmute.hidden = true;
});

// ---- WHEP playback ---------------------------------------------------------------------------
function waitForIceGathering(pc, timeoutMs) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { pc.removeEventListener("icegatheringstatechange", check); resolve(); };
    const check = () => { if (pc.iceGatheringState === "complete") done(); };
    pc.addEventListener("icegatheringstatechange", check);
    setTimeout(done, timeoutMs);
  });
}

let retryMs = 2000;

async function play() {
  setStatus("connecting", "connecting…");
  const pc = new RTCPeerConnection({ bundlePolicy: "max-bundle" });
  for (const kind of ["video", "audio"]) {
    const transceiver = pc.addTransceiver(kind, { direction: "recvonly" });
    // ask for as little receive buffering as the sender allows (Chromium)
    if ("jitterBufferTarget" in transceiver.receiver) transceiver.receiver.jitterBufferTarget = 0;
  }
  const media = new MediaStream();
  video.srcObject = media;
  pc.ontrack = (event) => { media.addTrack(event.track); video.play().catch(() => {}); };
  pc.onconnectionstatechange = () => {
    const state = pc.connectionState;
    if (state === "connected") { setStatus("live", "live"); retryMs = 2000; }
    else if (state === "failed" || state === "closed" || state === "disconnected") {
      pc.close();
      retry("connection " + state);
    }
  };
  try {
    await pc.setLocalDescription(await pc.createOffer());
    await waitForIceGathering(pc, 2000);
    const response = await fetch(whepUrl, {
      method: "POST",
      headers: Object.assign({ "Content-Type": "application/sdp" },
        token ? { Authorization: "Bearer " + token } : {}),
      body: pc.localDescription.sdp,
    });
    if (response.status !== 201) {
      throw new Error("WHEP answered " + response.status + ": " + (await response.text()).slice(0, 200));
    }
    window.viewerState.resource = response.headers.get("Location");
    const answer = await response.text();
    window.viewerState.answer = answer;
    await pc.setRemoteDescription({ type: "answer", sdp: answer });
  } catch (err) {
    pc.close();
    window.viewerState.error = String(err);
    retry(String(err.message || err));
  }
}

let retryTimer = null;
function retry(reason) {
  if (retryTimer) return;
  setStatus("failed", reason + " — retrying in " + Math.round(retryMs / 1000) + " s");
  retryTimer = setTimeout(() => { retryTimer = null; play(); }, retryMs);
  retryMs = Math.min(retryMs * 1.5, 30000);
}

play();

// ---- interaction (only with ?hub=ws://...) --------------------------------------------------
// Small and self-contained on purpose: the message schema lives in docs/interaction-protocol.md.

// Characters as the hub counts them (Python's len: code points), not UTF-16 units as maxlength
// and String.length do: "😀" is one character here, two units there.
// only plain http(s) links are shown and opened (the hub checks too; never another scheme, never markup)
function safeLink(text) {
  if (typeof text !== "string" || !text) return "";
  try {
    const url = new URL(text);
    return (url.protocol === "http:" || url.protocol === "https:") && !url.username && !url.password ? url.href : "";
  } catch (err) {
    return "";
  }
}

function characters(text) { return Array.from(text).length; }

// The viewer token (docs/interaction-protocol.md, "Identity"): kept across reloads and reconnects
// so this viewer stays one viewer, one vote.
const TOKEN_KEY = "drama-live-viewer-token";
function keptToken() { try { return localStorage.getItem(TOKEN_KEY); } catch (err) { return null; } }
function keepToken(value) { try { localStorage.setItem(TOKEN_KEY, value); } catch (err) { /* private mode */ } }

const REFUSALS = {
  too_long: "That message is too long.",
  rate_limited: "You are sending too fast; wait a moment.",
  bad_field: "That message cannot be sent.",
  forbidden: "That is not allowed here.",
};

class InteractionSender {
  constructor(url, onState) {
    this.url = url;
    this.onState = onState;
    this.ws = null;
    this.backoffMs = 1000;
    this.viewer = null;
    this.textMax = 100;
    this.pending = new Map(); // ref -> what was sent, until the hub acks or refuses it
    this.refs = 0;
    this.connect();
  }
  connect() {
    this.onState("connecting");
    const url = new URL(this.url);
    const token = keptToken();
    if (token) url.searchParams.set("vt", token);
    const ws = new WebSocket(url.toString());
    let opened = false;
    ws.onopen = () => { opened = true; this.backoffMs = 1000; this.onState("open"); };
    ws.onmessage = (event) => {
      let frame = null;
      try { frame = JSON.parse(event.data); } catch (err) { return; }
      if (!frame) return;
      if (frame.type === "welcome") {
        this.viewer = frame.viewer;
        if (frame.token) keepToken(frame.token);
        if (frame.limits && frame.limits.text_max) this.textMax = frame.limits.text_max;
        if (this.onWelcome) this.onWelcome(frame);
      } else if (frame.type === "poll_state" && this.onPoll) {
        this.onPoll(frame);
      } else if (frame.type === "product_card" && this.onProduct) {
        this.onProduct(frame);
      } else if (frame.type === "guest_invite" && this.onGuestInvite) {
        this.onGuestInvite(frame);
      } else if (frame.type === "ack" || frame.type === "error") {
        const sent = frame.ref !== undefined ? this.pending.get(frame.ref) : undefined;
        if (frame.ref !== undefined) this.pending.delete(frame.ref);
        if (frame.type === "error" && this.onRefused) this.onRefused(frame, sent);
      }
    };
    ws.onclose = () => {
      // a refused handshake (too many new viewers from this address, a page not allowed) closes
      // before it opens: say so instead of only "closed"
      this.onState(opened ? "closed" : "refused");
      setTimeout(() => this.connect(), this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, 30000);
    };
    this.ws = ws;
  }
  send(message) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    const ref = "r" + (++this.refs);
    this.pending.set(ref, message);
    if (this.pending.size > 100) this.pending.delete(this.pending.keys().next().value);
    this.ws.send(JSON.stringify(Object.assign({}, message, { ref: ref })));
    return true;
  }
  danmaku(text) { return this.send({ type: "danmaku", text: text }); }
  like(count) { return this.send({ type: "like", count: count || 1 }); }
  vote(poll, option) { return this.send({ type: "vote", poll: poll, option: option }); }
  productClick(product) { return this.send({ type: "product_click", product: product }); }
  askToJoin() { return this.send({ type: "guest_request" }); }
}

// The current poll as buttons (one vote per viewer; the studio enforces it too). Built with
// textContent only: poll text comes from the studio but is never interpreted as HTML.
function renderPoll(container, hub, poll, votedFor) {
  container.replaceChildren();
  if (!poll || poll.state === "closed" && poll.winner === null) return;
  const question = document.createElement("p");
  question.className = "poll-question";
  question.textContent = poll.question;
  container.appendChild(question);
  const total = poll.counts.reduce((a, b) => a + b, 0);
  poll.options.forEach((label, index) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "poll-option";
    button.dataset.option = String(index);
    const pct = total ? Math.round(100 * poll.counts[index] / total) : 0;
    button.textContent = label + " · " + pct + "%";
    button.disabled = poll.state !== "open" || votedFor !== undefined;
    if (votedFor === index) button.classList.add("chosen");
    if (poll.winner === index) button.classList.add("winner");
    button.addEventListener("click", () => {
      if (hub.vote(poll.poll, index)) {
        votes[poll.poll] = index;
        renderPoll(container, hub, poll, index);
      }
    });
    container.appendChild(button);
  });
  if (poll.state === "open") {
    const remaining = document.createElement("span");
    remaining.className = "poll-remaining";
    remaining.textContent = Math.max(0, Math.round(poll.remaining)) + " s";
    container.appendChild(remaining);
  }
}
const votes = {};

const hubUrl = params.get("hub");
if (hubUrl && /^wss?:\/\//.test(hubUrl)) {
  document.getElementById("interaction").hidden = false;
  const hubStatus = document.getElementById("hub-status");
  const showHubState = (state) => {
    hubStatus.dataset.state = state;
    hubStatus.textContent = state === "refused" ? "chat: could not join (refused or unreachable), retrying…"
      : "chat: " + state;
  };
  const hub = new InteractionSender(hubUrl, showHubState);
  window.interaction = hub;
  const form = document.getElementById("danmaku-form");
  const input = document.getElementById("danmaku-text");
  const count = document.getElementById("danmaku-count");
  const errorEl = document.getElementById("danmaku-error");
  const showError = (text) => {
    errorEl.textContent = text;
    errorEl.hidden = !text;
    window.viewerState.chatError = text || null;
  };
  const recount = () => {
    const n = characters(input.value.trim());
    count.textContent = n + "/" + hub.textMax;
    count.dataset.over = String(n > hub.textMax);
    return n;
  };
  input.addEventListener("input", () => { recount(); showError(""); });
  hub.onWelcome = () => recount();
  hub.onRefused = (frame, sent) => {
    showError((REFUSALS[frame.code] || "Not sent.") + " (" + frame.message + ")");
    if (sent && sent.type === "guest_request") askButton.disabled = false;
    // give the viewer their words back to fix or resend
    if (sent && sent.type === "danmaku" && !input.value) { input.value = sent.text; recount(); }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    if (recount() > hub.textMax) {
      showError("That message is too long: " + characters(text) + " characters, at most " + hub.textMax + ".");
      return;
    }
    if (hub.danmaku(text)) { input.value = ""; recount(); showError(""); }
    else showError("Not connected to the chat; try again in a moment.");
  });
  const polls = document.getElementById("polls");
  hub.onPoll = (poll) => {
    window.viewerState.poll = poll;
    renderPoll(polls, hub, poll, votes[poll.poll]);
  };
  // during a product moment: a buy/details button; its click is counted for that moment
  // (card.product is the catalogue's product id: the click is counted for that product)
  const product = document.getElementById("product");
  const productLink = document.getElementById("product-link");
  hub.onProduct = (card) => {
    window.viewerState.product = card.state === "show" ? card.product : null;
    product.dataset.product = card.product;
    product.hidden = card.state !== "show";
    const link = card.state === "show" ? safeLink(card.link) : "";
    if (link) {
      productLink.href = link;
      productLink.textContent = link;
    } else {
      productLink.removeAttribute("href");
      productLink.textContent = "";
    }
    productLink.hidden = !link;
  };
  product.addEventListener("click", () => {
    if (product.dataset.product && hub.productClick(product.dataset.product)) product.classList.add("clicked");
  });
  // co-hosting (连麦): ask once; the host's answer is an invite link for this viewer only
  const askButton = document.getElementById("ask-to-join");
  const guestStatus = document.getElementById("guest-status");
  const guestInvite = document.getElementById("guest-invite");
  askButton.addEventListener("click", () => {
    if (!hub.askToJoin()) { showError("Not connected to the chat; try again in a moment."); return; }
    askButton.disabled = true;
    guestStatus.textContent = "已申请连麦，等待主播 · Request sent, waiting for the host";
    guestStatus.hidden = false;
    window.viewerState.guestRequest = "sent";
    // the hub takes one request per viewer every 30 s: after that, asking again is allowed
    setTimeout(() => { if (guestInvite.hidden) askButton.disabled = false; }, 30000);
  });
  hub.onGuestInvite = (frame) => {
    if (frame.viewer !== hub.viewer || typeof frame.url !== "string" || !/^https?:\/\//.test(frame.url)) return;
    guestInvite.href = frame.url;
    guestInvite.hidden = false;
    guestStatus.textContent = "主播邀请你连麦 · The host invites you to join";
    window.viewerState.guestInvite = frame.url;
  };
  let likes = 0;
  document.getElementById("like").addEventListener("click", () => {
    if (hub.like(1)) document.getElementById("like-count").textContent = String(++likes);
  });
}
