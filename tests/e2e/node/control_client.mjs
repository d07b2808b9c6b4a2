// A director's web panel, as obs-websocket-js drives OBS: run by tests/e2e/test_control_clients.py.
// Usage: node control_client.mjs ws://127.0.0.1:PORT PASSWORD
// Prints one JSON object with what it saw; exits non-zero on any failure.
import OBSWebSocketJson from 'obs-websocket-js/json';
import OBSWebSocketMsgpack from 'obs-websocket-js';

const [url, password] = process.argv.slice(2);
const out = {};

function nextEvent(obs, type, predicate = () => true, timeoutMs = 20000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} within ${timeoutMs} ms`)), timeoutMs);
    const handler = (data) => {
      if (!predicate(data)) return;
      clearTimeout(timer);
      obs.off(type, handler);
      resolve(data);
    };
    obs.on(type, handler);
  });
}

async function main() {
  const obs = new OBSWebSocketJson();
  const hello = await obs.connect(url, password, { rpcVersion: 1 });
  out.negotiatedRpcVersion = hello.negotiatedRpcVersion;
  out.protocol = obs.protocol;

  const list = await obs.call('GetSceneList');
  out.scenes = list.scenes.map((s) => s.sceneName);

  await obs.call('SetStudioModeEnabled', { studioModeEnabled: true });
  const preview = nextEvent(obs, 'CurrentPreviewSceneChanged', (d) => d.sceneName === 'B');
  await obs.call('SetCurrentPreviewScene', { sceneName: 'B' });
  out.preview = (await preview).sceneName;

  const program = nextEvent(obs, 'CurrentProgramSceneChanged', (d) => d.sceneName === 'B');
  const ended = nextEvent(obs, 'SceneTransitionEnded');
  await obs.call('TriggerStudioModeTransition');
  out.program = (await program).sceneName;
  await ended;
  out.transitionEnded = true;

  const muted = nextEvent(obs, 'InputMuteStateChanged', (d) => d.inputName === 'Mic');
  await obs.call('SetInputMute', { inputName: 'Mic', inputMuted: true });
  out.muted = (await muted).inputMuted;

  const started = nextEvent(obs, 'RecordStateChanged', (d) => d.outputState === 'OBS_WEBSOCKET_OUTPUT_STARTED');
  await obs.call('StartRecord');
  out.recordStarted = (await started).outputActive;
  const stopped = nextEvent(obs, 'RecordStateChanged', (d) => d.outputState === 'OBS_WEBSOCKET_OUTPUT_STOPPED');
  const stop = await obs.call('StopRecord');
  out.recordPath = stop.outputPath;
  out.recordStopped = !(await stopped).outputActive;

  const batch = await obs.callBatch([
    { requestType: 'SetCurrentProgramScene', requestData: { sceneName: 'A' } },
    { requestType: 'Sleep', requestData: { sleepMillis: 50 } },
    { requestType: 'GetCurrentProgramScene' },
    { requestType: 'NoSuchRequest' },
  ], { haltOnFailure: false });
  out.batchCodes = batch.map((r) => r.requestStatus.code);
  await obs.disconnect();

  // the package's default build for Node speaks MessagePack
  const packed = new OBSWebSocketMsgpack();
  await packed.connect(url, password);
  out.msgpackProtocol = packed.protocol;
  out.msgpackScenes = (await packed.call('GetSceneList')).scenes.length;
  await packed.disconnect();

  const wrong = new OBSWebSocketJson();
  try {
    await wrong.connect(url, 'not the password');
    out.wrongPassword = 'accepted';
  } catch (err) {
    out.wrongPassword = err.code;
  }
  console.log(JSON.stringify(out));
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : String(err));
  console.log(JSON.stringify(out));
  process.exit(1);
});
