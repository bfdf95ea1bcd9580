/**
 * One plugin instance on its own worker thread (see plugin.js, which starts
 * it). The instance is an ordinary in-thread Extism plugin here, so the
 * guest's Extism kernel calls stay on this thread; its host functions are
 * synchronous stubs:
 *
 *  - those that need the user's objects (fetch or the request instance, the
 *    store, onEvent, a custom sleep or clock) post {type: "host", name, arg}
 *    to the main thread and block in Atomics.wait until the answer comes
 *    back on `port` (read at once with receiveMessageOnPort): one message
 *    each way, nothing else per crossing;
 *  - `now` and `monotonic` (when the Host has no clock option), and `emit`
 *    (when it has no onEvent, so the only answer is "cancelled?") are
 *    answered here, from the call's `local` flags and the shared cancel word.
 *
 * Shared words (Int32Array over `shared`): [0] the answer to the pending
 * crossing is on `port` (1) or not yet (0); [1] the running call's signal
 * has aborted (1).
 */
import { parentPort, receiveMessageOnPort, workerData } from "node:worker_threads";
import { isWasiWarning } from "./quiet-wasi.js";

// node:wasi prints an ExperimentalWarning when it loads; drop exactly that
// one before @extism/extism (which imports it) is loaded.
const emitWarning = process.emitWarning;
process.emitWarning = function emitWarning_(warning, ...rest) {
  if (isWasiWarning(warning, rest[0])) return;
  return emitWarning.call(this, warning, ...rest);
};
const { default: createPlugin } = await import("@extism/extism");

const { module, shared, port, names, timeOrigin } = workerData;
const words = new Int32Array(shared);
const READY = 0;
const CANCELLED = 1;

/** Which imports this thread answers itself during the current call. */
let local = { now: false, monotonic: false, emit: false };

/** This thread's performance.now() on the main thread's time origin, so both threads' readings compare. */
const originShift = performance.timeOrigin - timeOrigin;

/** Asks the main thread to run host function `name`; blocks until it answers. */
function cross(name, arg) {
  Atomics.store(words, READY, 0);
  parentPort.postMessage({ type: "host", name, arg });
  for (;;) {
    Atomics.wait(words, READY, 0);
    const got = receiveMessageOnPort(port);
    if (got) return got.message;
    // Flagged before the message could be read: wait a little and look again.
    Atomics.wait(words, READY, 1, 1);
  }
}

/** The text of a block the plugin passed ("" when it passed none). */
function text(cp, offset) {
  return cp.read(offset)?.text() ?? "";
}

const stubs = {
  sleep: (_cp, ms) => cross("sleep", Number(ms)),
  now: () => (local.now ? BigInt(Date.now()) : cross("now")),
  monotonic: () => (local.monotonic ? BigInt(Math.floor(performance.now() + originShift)) : cross("monotonic")),
  emit: (cp, offset) => (local.emit ? Atomics.load(words, CANCELLED) : cross("emit", text(cp, offset))),
};
/** @type {Record<string, (cp: any, ...args: any[]) => any>} */
const functions = {};
for (const name of names) {
  // Every other import takes a record and answers one (JSON text both ways).
  functions[name] = stubs[name] ?? ((cp, offset) => cp.store(cross(name, text(cp, offset))));
}

const plugin = await createPlugin({ wasm: [{ module }] }, { useWasi: true, functions: { "extism:host/user": functions } });

parentPort.on("message", async (msg) => {
  if (msg?.type !== "call") return;
  local = msg.local;
  let answer;
  try {
    const out = await plugin.call(msg.exportName, msg.input);
    answer = { type: "done", text: out === null ? "" : out.text() };
  } catch (err) {
    answer = { type: "fail", name: err?.name, message: err instanceof Error ? err.message : String(err) };
  }
  // Extism keeps every memory block of the instance until a reset; here a
  // reset is a local call, so it is done after every call.
  await plugin.reset();
  parentPort.postMessage(answer);
});
parentPort.postMessage({ type: "ready" });
