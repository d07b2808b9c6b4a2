// Drama Live co-host (连麦) page: publish camera + microphone to the relay over WHIP, watch the
// program (minus your own voice) over the return feed, show what the studio says about you.
// No build step; every piece of text goes through textContent.
"use strict";

const params = new URLSearchParams(location.search);
const room = decodeURIComponent((location.pathname.match(/^\/guest\/([^/]+)$/) || [null, "live"])[1]);
// the invite token is in the fragment (never sent in a request line); take it out of the address
// bar so a screenshot or a shared link does not carry it
const inviteToken = new URLSearchParams(location.hash.slice(1)).get("invite");
if (inviteToken) history.replaceState(null, "", location.pathname + location.search);
const preferredCodec = (params.get("codec") || "h264").toLowerCase(); // "h264" or "vp8"

const STRINGS = {
  en: {
    title: "Join the show as a guest", camera: "Camera", microphone: "Microphone",
    noCamera: "Audio only (no camera)", join: "Join", leave: "Leave",
    new: "Choose your camera and microphone, then join.",
    noInvite: "This page needs an invite link from the host.",
    media: "Asking for your camera and microphone…",
    connecting: "Connecting…",
    reconnecting: "Reconnecting…",
    waiting: "Waiting — the host will bring you on air.",
    on_air: "On air",
    muted_by_host: "Muted by the host",
    ended: "Ended",
    refused: "Could not join",
    reasons: { left: "you left", kicked: "the host ended your session", revoked: "the invite was withdrawn",
      timeout: "the connection was lost", error: "a problem with your stream" },
    insecure: "The browser allows the camera only on https:// or localhost pages.",
    noDevices: "No camera or microphone could be opened: ",
  },
  zh: {
    title: "作为嘉宾连麦", camera: "摄像头", microphone: "麦克风",
    noCamera: "仅语音（不开摄像头）", join: "加入", leave: "离开",
    new: "请选择摄像头和麦克风，然后加入。",
    noInvite: "需要主播发给你的邀请链接。",
    media: "正在请求摄像头和麦克风…",
    connecting: "连接中…",
    reconnecting: "重新连接中…",
    waiting: "等待中 —— 主播会请你上麦。",
    on_air: "直播中",
    muted_by_host: "已被主播静音",
    ended: "已结束",
    refused: "无法加入",
    reasons: { left: "你已离开", kicked: "主播结束了连麦", revoked: "邀请已被撤回",
      timeout: "连接中断", error: "你的画面或声音有问题" },
    insecure: "浏览器只允许在 https:// 或本机页面使用摄像头。",
    noDevices: "无法打开摄像头或麦克风：",
  },
};
const lang = (params.get("lang") || navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en";
const T = STRINGS[lang];
document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";

const $ = (id) => document.getElementById(id);
const programVideo = $("program");
const selfVideo = $("self");
const stateEl = $("state");
const detailEl = $("detail");
const errorEl = $("error");
const cameraSelect = $("camera");
const micSelect = $("microphone");
const noCamera = $("no-camera");
const joinButton = $("join");
const leaveButton = $("leave");

$("title").textContent = T.title;
document.title = "Drama Live — " + T.title;
$("camera-label").textContent = T.camera;
$("microphone-label").textContent = T.microphone;
$("no-camera-label").textContent = T.noCamera;
joinButton.textContent = T.join;
leaveButton.textContent = T.leave;
if (params.get("camera") === "off") noCamera.checked = true;

// exposed for tests and for debugging in the console
window.guestState = { state: "new", guestId: null, codec: null, error: null, reason: null, watch: null };

function setState(state, detail) {
  window.guestState.state = state;
  stateEl.dataset.state = state;
  stateEl.textContent = T[state] || state;
  detailEl.textContent = detail || "";
}
function showError(text) {
  window.guestState.error = text || null;
  errorEl.textContent = text || "";
  errorEl.hidden = !text;
}

// ---- camera and microphone -------------------------------------------------------------------
// The page asks for 720p at most (the relay refuses more than 1080p anyway).
const VIDEO_LIMITS = { width: { ideal: 1280, max: 1280 }, height: { ideal: 720, max: 720 }, frameRate: { max: 30 } };
let localStream = null;

async function openDevices() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) throw new Error(T.insecure);
  const wantVideo = !noCamera.checked;
  const audio = Object.assign({ echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    micSelect.value ? { deviceId: { exact: micSelect.value } } : {});
  const video = wantVideo ? Object.assign({}, VIDEO_LIMITS, cameraSelect.value ? { deviceId: { exact: cameraSelect.value } } : {}) : false;
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: audio, video: video });
  } catch (err) {
    if (!wantVideo) throw err;
    // no camera (or it is busy): go on with the microphone alone
    stream = await navigator.mediaDevices.getUserMedia({ audio: audio, video: false });
    noCamera.checked = true;
  }
  if (localStream) localStream.getTracks().forEach((t) => t.stop());
  localStream = stream;
  selfVideo.srcObject = stream;
  selfVideo.hidden = stream.getVideoTracks().length === 0;
  await listDevices();
  return stream;
}

function fillSelect(select, devices, current) {
  const keep = current || select.value;
  select.replaceChildren();
  devices.forEach((device, index) => {
    const option = document.createElement("option");
    option.value = device.deviceId;
    option.textContent = device.label || (device.kind + " " + (index + 1));
    select.appendChild(option);
  });
  if (keep) select.value = keep;
}

async function listDevices() {
  const devices = await navigator.mediaDevices.enumerateDevices();
  const track = (kind) => localStream && localStream.getTracks().find((t) => t.kind === kind);
  const currentId = (kind) => { const t = track(kind); return t ? (t.getSettings().deviceId || "") : ""; };
  fillSelect(cameraSelect, devices.filter((d) => d.kind === "videoinput"), currentId("video"));
  fillSelect(micSelect, devices.filter((d) => d.kind === "audioinput"), currentId("audio"));
}

// switching devices while on air: the new track replaces the old one on the same sender
async function changeDevice() {
  try {
    const stream = await openDevices();
    if (!publishPc) return;
    for (const sender of publishPc.getSenders()) {
      if (!sender.track) continue;
      const next = stream.getTracks().find((t) => t.kind === sender.track.kind);
      await sender.replaceTrack(next || null);
    }
  } catch (err) {
    showError(T.noDevices + (err.message || err));
  }
}
cameraSelect.addEventListener("change", changeDevice);
micSelect.addEventListener("change", changeDevice);
noCamera.addEventListener("change", () => { if (!publishPc) changeDevice(); });

// ---- WHIP publish ------------------------------------------------------------------------------
function waitForIceGathering(pc, timeoutMs) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { pc.removeEventListener("icegatheringstatechange", check); resolve(); };
    const check = () => { if (pc.iceGatheringState === "complete") done(); };
    pc.addEventListener("icegatheringstatechange", check);
    setTimeout(done, timeoutMs);
  });
}

function preferCodec(transceiver) {
  if (!RTCRtpSender.getCapabilities || !transceiver.setCodecPreferences) return;
  const codecs = RTCRtpSender.getCapabilities("video").codecs;
  const h264 = codecs.filter((c) => c.mimeType === "video/H264" && /packetization-mode=1/.test(c.sdpFmtpLine || "")
    && /profile-level-id=42/.test(c.sdpFmtpLine || ""));
  const vp8 = codecs.filter((c) => c.mimeType === "video/VP8");
  const rtx = codecs.filter((c) => c.mimeType === "video/rtx");
  const ordered = preferredCodec === "vp8" ? vp8.concat(h264) : h264.concat(vp8);
  transceiver.setCodecPreferences(ordered.concat(rtx));
}

let publishPc = null;
let resource = null;
let session = null;
let watchPc = null;
let watchResource = null;
let ended = false;
let rejoinKey = null; // this guest's session key: lets it back in after a dropped connection
let reconnects = 0;
const MAX_RECONNECTS = 5;

async function sdpExchange(url, pc, bearerToken) {
  await pc.setLocalDescription(await pc.createOffer());
  await waitForIceGathering(pc, 2000);
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/sdp", Authorization: "Bearer " + bearerToken },
    body: pc.localDescription.sdp,
  });
  const text = await response.text();
  if (response.status !== 201) {
    const error = new Error(text.slice(0, 300) || ("HTTP " + response.status));
    error.status = response.status;
    throw error;
  }
  await pc.setRemoteDescription({ type: "answer", sdp: text });
  return response;
}

async function join(credential) {
  const rejoining = credential !== inviteToken;
  joinButton.disabled = true;
  showError("");
  setState(rejoining ? "reconnecting" : "connecting");
  try {
    const stream = localStream || await openDevices();
    const pc = new RTCPeerConnection({ bundlePolicy: "max-bundle" });
    publishPc = pc;
    window.guestState.publish = pc;
    const audioTrack = stream.getAudioTracks()[0];
    if (audioTrack) pc.addTransceiver(audioTrack, { direction: "sendonly", streams: [stream] });
    const videoTrack = stream.getVideoTracks()[0];
    if (videoTrack) preferCodec(pc.addTransceiver(videoTrack, { direction: "sendonly", streams: [stream] }));
    pc.onconnectionstatechange = () => {
      if (!ended && (pc.connectionState === "failed" || pc.connectionState === "closed")) {
        finish("timeout", "");
      }
    };
    const response = await sdpExchange("/guest/" + encodeURIComponent(room) + "/whip", pc, credential);
    resource = response.headers.get("Location");
    session = response.headers.get("Guest-Session");
    rejoinKey = session;
    window.guestState.guestId = resource.split("/").pop();
    const answer = pc.remoteDescription.sdp;
    const codec = /a=rtpmap:\d+ (H264|VP8)\//i.exec(answer);
    window.guestState.codec = codec ? codec[1].toLowerCase() : null;
    leaveButton.hidden = false;
    setState("waiting");
    followEvents();
    watch();
  } catch (err) {
    if (publishPc) publishPc.close();
    publishPc = null;
    if (rejoining && err.status !== 401 && err.status !== 403 && reconnects < MAX_RECONNECTS) {
      reconnects += 1; // the network is still down: try again a little later
      setTimeout(() => join(credential), 1000 * reconnects);
      return;
    }
    if (rejoining) { endFor("timeout", String(err.message || err)); return; }
    setState("refused", String(err.message || err));
    window.guestState.status = err.status || null;
    showError(String(err.message || err));
    // a wrong, used or withdrawn invite will not work on a second try either
    joinButton.disabled = err.status === 401 || err.status === 403;
  }
}

// the studio's word on this guest: one JSON object per line, until "ended"
async function followEvents() {
  const url = resource + "/events";
  try {
    const response = await fetch(url, { headers: { Authorization: "Bearer " + session }, cache: "no-store" });
    if (!response.ok || !response.body) return;
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffered = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let newline;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        let event = null;
        try { event = JSON.parse(line); } catch (err) { continue; }
        if (!event || typeof event.state !== "string") continue;
        if (event.state === "ended") { finish(event.reason || "left", event.detail || ""); return; }
        setState(event.state);
      }
    }
  } catch (err) { /* the session ended or the page is closing */ }
}

// ---- the return feed: the program, minus this guest's own voice -----------------------------
async function watch() {
  const pc = new RTCPeerConnection({ bundlePolicy: "max-bundle" });
  watchPc = pc;
  window.guestState.watch = pc;
  for (const kind of ["video", "audio"]) {
    const transceiver = pc.addTransceiver(kind, { direction: "recvonly" });
    if ("jitterBufferTarget" in transceiver.receiver) transceiver.receiver.jitterBufferTarget = 0;
  }
  const media = new MediaStream();
  programVideo.srcObject = media;
  pc.ontrack = (event) => { media.addTrack(event.track); programVideo.play().catch(() => {}); };
  try {
    const url = "/guest/" + encodeURIComponent(room) + "/watch/" + encodeURIComponent(window.guestState.guestId);
    const response = await sdpExchange(url, pc, session);
    watchResource = response.headers.get("Location");
  } catch (err) {
    pc.close();
    watchPc = null;
    if (!ended) showError(String(err.message || err));
  }
}

function finish(reason, detail) {
  if (ended) return;
  if (reason === "timeout" && rejoinKey && reconnects < MAX_RECONNECTS) {
    // the connection dropped: come back as the same guest, without a new invite
    for (const pc of [publishPc, watchPc]) if (pc) pc.close();
    publishPc = watchPc = null;
    reconnects += 1;
    window.guestState.reconnects = reconnects;
    const key = rejoinKey;
    rejoinKey = null; // one try per session key; a successful join brings a new one
    setState("reconnecting", T.reasons.timeout);
    setTimeout(() => join(key), 1000);
    return;
  }
  endFor(reason, detail);
}

function endFor(reason, detail) {
  if (ended) return;
  ended = true;
  window.guestState.reason = reason;
  const because = T.reasons[reason] || reason;
  setState("ended", detail ? because + " — " + detail : because);
  for (const pc of [publishPc, watchPc]) if (pc) pc.close();
  if (localStream) localStream.getTracks().forEach((t) => t.stop());
  localStream = null;
  leaveButton.hidden = true;
  joinButton.disabled = true;
}

function leave() {
  if (resource && session && !ended) {
    const auth = { Authorization: "Bearer " + session };
    fetch(resource, { method: "DELETE", headers: auth, keepalive: true }).catch(() => {});
  }
  endFor("left", "");
}
joinButton.addEventListener("click", () => join(inviteToken));
leaveButton.addEventListener("click", leave);
window.addEventListener("pagehide", () => { if (!ended) leave(); });

// ---- start --------------------------------------------------------------------------------------
if (!inviteToken) {
  setState("refused", T.noInvite);
} else {
  setState("new", T.new);
  stateEl.textContent = T.media;
  openDevices()
    .then(() => { setState("new", T.new); stateEl.textContent = T.new; detailEl.textContent = ""; })
    .catch((err) => showError(T.noDevices + (err.message || err)))
    .finally(() => { joinButton.disabled = false; });
}
