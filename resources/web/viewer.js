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
class InteractionSender {
  constructor(url, onState) {
    this.url = url;
    this.onState = onState;
    this.ws = null;
    this.backoffMs = 1000;
    this.connect();
  }
  connect() {
    this.onState("connecting");
    const ws = new WebSocket(this.url);
    ws.onopen = () => { this.backoffMs = 1000; this.onState("open"); };
    ws.onmessage = (event) => {
      let frame = null;
      try { frame = JSON.parse(event.data); } catch (err) { return; }
      if (frame && frame.type === "poll_state" && this.onPoll) this.onPoll(frame);
    };
    ws.onclose = () => {
      this.onState("closed");
      setTimeout(() => this.connect(), this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, 30000);
    };
    this.ws = ws;
  }
  send(message) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }
  danmaku(text) { return this.send({ type: "danmaku", text: text }); }
  like(count) { return this.send({ type: "like", count: count || 1 }); }
  vote(poll, option) { return this.send({ type: "vote", poll: poll, option: option }); }
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
  const hub = new InteractionSender(hubUrl, (state) => { hubStatus.dataset.state = state; hubStatus.textContent = "chat: " + state; });
  window.interaction = hub;
  const form = document.getElementById("danmaku-form");
  const input = document.getElementById("danmaku-text");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (text && hub.danmaku(text)) input.value = "";
  });
  const polls = document.getElementById("polls");
  hub.onPoll = (poll) => {
    window.viewerState.poll = poll;
    renderPoll(polls, hub, poll, votes[poll.poll]);
  };
  let likes = 0;
  document.getElementById("like").addEventListener("click", () => {
    if (hub.like(1)) document.getElementById("like-count").textContent = String(++likes);
  });
}
