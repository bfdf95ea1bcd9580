// Go's loader for GOOS=js programs (it defines globalThis.Go), copied from the
// toolchain that built deviceflow.wasm: `make wasm`.
import "../../browser/wasm_exec.js";
import { ABI_VERSION } from "../abi.js";
import { DeviceFlowError, abiError } from "../errors.js";
import { hostFunctions } from "../hostfuncs.js";

/**
 * The engine in the page: plugin/browser, the flow engine and driver built
 * for GOOS=js (sdk/js/browser/deviceflow.wasm), started once per page and
 * shared by every call. It registers its exports through REGISTER, then runs
 * for the page's life; each call runs on its own goroutine and awaits the
 * host functions, so any number of calls may be in flight at once.
 */
const REGISTER = "__deviceflowBrowserRegister";

/** @type {Promise<any> | null} */
let engine = null;
/** @type {string | URL | (() => Promise<Response | ArrayBuffer | WebAssembly.Module>) | undefined} */
let source;

/**
 * Where the engine's wasm comes from, before the first call: a URL (by
 * default deviceflow.wasm beside this package's browser/ folder, which
 * bundlers that understand `new URL(…, import.meta.url)` copy as an asset),
 * or a function answering a Response, bytes or a compiled module.
 *
 * @param {string | URL | (() => Promise<Response | ArrayBuffer | WebAssembly.Module>)} from
 */
export function setEngineSource(from) {
  if (engine) throw new Error("deviceflow: the engine is already loaded; call setEngineSource before the first call");
  source = from;
}

/** Loads and starts the engine once; a failed load is tried again by the next call. */
export function loadEngine() {
  if (!engine) {
    engine = start();
    engine.catch(() => {
      engine = null;
    });
  }
  return engine;
}

function defaultUrl() {
  return new URL("../../browser/deviceflow.wasm", import.meta.url);
}

async function instantiate(importObject) {
  const from = source ?? defaultUrl();
  if (typeof from === "function") {
    const got = await from();
    if (got instanceof WebAssembly.Module) return WebAssembly.instantiate(got, importObject);
    const bytes = got instanceof Response ? await responseBytes(got, "the engine source") : got;
    return (await WebAssembly.instantiate(bytes, importObject)).instance;
  }
  const url = String(from);
  const response = await fetch(url);
  if (!response.ok) throw loadError(`${url} answered HTTP ${response.status}`);
  if (typeof WebAssembly.instantiateStreaming === "function" && /^application\/wasm\b/i.test(response.headers.get("content-type") ?? "")) {
    return (await WebAssembly.instantiateStreaming(response, importObject)).instance;
  }
  // A server that does not send application/wasm: compile from the bytes.
  return (await WebAssembly.instantiate(await responseBytes(response, url), importObject)).instance;
}

async function responseBytes(response, what) {
  if (!response.ok) throw loadError(`${what} answered HTTP ${response.status}`);
  return response.arrayBuffer();
}

function loadError(message) {
  return new DeviceFlowError({ code: "plugin", message: `deviceflow: cannot load the browser engine: ${message}` });
}

async function start() {
  const Go = /** @type {any} */ (globalThis).Go;
  const go = new Go();
  /** @type {(exports: any) => void} */
  let registered;
  const ready = new Promise((resolve) => {
    registered = resolve;
  });
  /** @type {any} */ (globalThis)[REGISTER] = registered;
  try {
    const instance = await instantiate(go.importObject);
    const exited = go.run(instance).then(() => {
      throw loadError("the engine exited before it registered its exports");
    });
    const exports = await Promise.race([ready, exited]);
    checkAbi(exports);
    return exports;
  } catch (err) {
    if (err instanceof DeviceFlowError) throw err;
    throw loadError(err instanceof Error ? err.message : String(err));
  } finally {
    delete (/** @type {any} */ (globalThis)[REGISTER]);
  }
}

/** Refuses an engine whose contract has another major version. */
function checkAbi(exports) {
  let abi;
  try {
    abi = JSON.parse(exports.info("{}")).abi;
  } catch {
    abi = undefined;
  }
  if (typeof abi !== "string" || abi.split(".")[0] !== ABI_VERSION.split(".")[0]) {
    throw abiError(typeof abi === "string" ? abi : "unknown (info answers no abi)", ABI_VERSION, "deviceflow.wasm (browser)");
  }
}

/**
 * Runs one export on the engine: resolves to its output text, rejects with
 * the plugin's error as a DeviceFlowError. `call` is the host-side state the
 * host functions use, as in Node (hostfuncs.js, host-core.js).
 *
 * @param {string} exportName
 * @param {string} input
 * @param {object} call
 */
export async function runExport(exportName, input, call) {
  const exports = await loadEngine();
  if (exportName === "info") return exports.info(input);
  const answer = await exports.call(exportName, input, engineFuncs(hostFunctions({ call })));
  if (typeof answer?.error === "string") {
    let fields;
    try {
      fields = JSON.parse(answer.error);
    } catch {
      fields = { code: "plugin", message: "deviceflow: the engine failed with a malformed error" };
    }
    throw new DeviceFlowError(fields);
  }
  return answer.output;
}

/**
 * The host functions as the engine calls them: the same adaptors as the
 * Extism plugin's (hostfuncs.js), over strings in place of Extism memory,
 * with clocks as numbers in place of i64s.
 */
function engineFuncs(f) {
  const cp = { read: (text) => ({ text: () => text }), store: (text) => text };
  return {
    http_request: (req) => f.http_request(cp, req),
    sleep: (ms) => f.sleep(cp, ms),
    now: () => Number(f.now()),
    monotonic: () => Number(f.monotonic()),
    store_get: (key) => f.store_get(cp, key),
    store_swap: (swap) => f.store_swap(cp, swap),
    store_lock: (lock) => f.store_lock(cp, lock),
    store_unlock: (lease) => f.store_unlock(cp, lease),
    emit: (event) => f.emit(cp, event),
  };
}

/** Loads and starts the engine now, so that the first call is fast. */
export async function preload() {
  await loadEngine();
}
