import { existsSync } from "node:fs";
import { readFile, access } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { ABI_VERSION } from "./abi.js";
import { abiError } from "./errors.js";
import { MessageChannel, Worker } from "node:worker_threads";
import { hostFunctions } from "./hostfuncs.js";

export { ABI_VERSION };

/**
 * Where the plugin is looked for, in order: $DEVICEFLOW_WASM; the
 * repository's plugin/deviceflow.wasm when this package runs from a checkout
 * (plugin/plugin.go beside it); the copy packed into the npm package.
 */
function candidates() {
  const list = [];
  if (process.env.DEVICEFLOW_WASM) list.push(process.env.DEVICEFLOW_WASM);
  const repoPlugin = new URL("../../../plugin/", import.meta.url);
  if (existsSync(fileURLToPath(new URL("plugin.go", repoPlugin)))) {
    list.push(fileURLToPath(new URL("deviceflow.wasm", repoPlugin)));
  }
  list.push(fileURLToPath(new URL("../deviceflow.wasm", import.meta.url)));
  return list;
}

/** The path of the plugin file this process uses. */
export async function wasmPath() {
  for (const path of candidates()) {
    try {
      await access(path);
      return path;
    } catch {
      // Try the next place.
    }
  }
  throw new Error(`deviceflow: plugin not found (looked in ${candidates().join(", ")})`);
}

let compiled = null;

/** Compiles the plugin once per process; every instance shares the module. */
export function compiledModule() {
  if (!compiled) {
    compiled = wasmPath()
      .then((path) => readFile(path))
      .then((bytes) => WebAssembly.compile(bytes));
    compiled.catch(() => {
      compiled = null;
    });
  }
  return compiled;
}

/** What a host function stub in the worker passes for cp: arguments and answers travel as text. */
const PASS = { read: (arg) => ({ text: () => arg }), store: (text) => text };

/**
 * One plugin instance on its own worker thread (plugin-worker.js). Host
 * functions are bound once at creation and find the running call through
 * `slot`, so an instance can serve any host, one call at a time.
 *
 * Each host function the worker cannot answer itself arrives as one message;
 * the answer goes back on `port` and the worker, blocked in Atomics.wait on
 * `words[0]`, is woken. `words[1]` tells the worker the call was cancelled.
 */
class Instance {
  constructor(worker, words, port, functions, slot) {
    this.worker = worker;
    this.words = words;
    this.port = port;
    this.functions = functions;
    this.slot = slot;
    /** {resolve, reject} of the running call. */
    this.pending = null;
    this.dead = false;
    worker.on("message", (msg) => this.#onMessage(msg));
    worker.on("error", (err) => this.#die(err));
    worker.on("exit", (code) => this.#die(new Error(`the plugin's worker thread exited (code ${code})`)));
  }

  /** Runs one export; resolves to the output text, rejects like an Extism call. */
  run(exportName, input, call) {
    if (this.dead) return Promise.reject(new Error("the plugin's worker thread is gone"));
    const signal = call?.signal;
    const options = call?.host?.options ?? {};
    // Without the user's clock or event handler the worker answers these
    // itself, with no crossing: the same clocks, the same "cancelled?" answer.
    const local = { now: !options.now, monotonic: !options.monotonic && !options.now, emit: !options.onEvent };
    Atomics.store(this.words, 1, signal?.aborted ? 1 : 0);
    const onAbort = () => Atomics.store(this.words, 1, 1);
    signal?.addEventListener("abort", onAbort, { once: true });
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage({ type: "call", exportName, input, local });
    }).finally(() => signal?.removeEventListener("abort", onAbort));
  }

  #onMessage(msg) {
    if (msg?.type === "host") {
      this.#answer(msg.name, msg.arg);
    } else if (msg?.type === "done" || msg?.type === "fail") {
      const pending = this.pending;
      this.pending = null;
      if (!pending) return;
      if (msg.type === "done") return pending.resolve(msg.text);
      const err = new Error(msg.message);
      if (typeof msg.name === "string") err.name = msg.name;
      pending.reject(err);
    }
  }

  /** Runs a host function for the worker and wakes it with the answer. */
  async #answer(name, arg) {
    let answer;
    try {
      const fn = this.functions[name];
      if (!fn) throw new Error(`Plugin error: host function "${name}" does not exist`);
      answer = await fn(PASS, arg);
    } catch (err) {
      // The host functions never throw; if one did, the instance is done for
      // (as Extism closes its worker when a host function throws).
      this.#die(err);
      return;
    }
    if (this.dead) return;
    this.port.postMessage(answer);
    Atomics.store(this.words, 0, 1);
    Atomics.notify(this.words, 0);
  }

  #die(err) {
    if (this.dead) return;
    this.dead = true;
    this.worker.terminate().catch(() => {});
    const pending = this.pending;
    this.pending = null;
    pending?.reject(err);
  }

  /** Lets the process exit while the instance sits idle in the pool. */
  idle() {
    this.worker.unref();
  }

  busy() {
    this.worker.ref();
  }

  async close() {
    this.dead = true;
    await this.worker.terminate();
  }
}

async function newInstance() {
  const module = await compiledModule();
  const slot = { call: null };
  const functions = hostFunctions(slot);
  // A plugin of another contract may import functions this host does not
  // have: that is checked before it is instantiated.
  const missing = WebAssembly.Module.imports(module)
    .filter((i) => i.module === "extism:host/user" && !Object.hasOwn(functions, i.name))
    .map((i) => i.name);
  if (missing.length > 0) {
    throw abiError(`other than ${ABI_VERSION} (it imports ${missing.join(", ")}, which this host does not supply)`, ABI_VERSION, await wasmPath().catch(() => undefined));
  }
  const shared = new SharedArrayBuffer(8);
  const { port1, port2 } = new MessageChannel();
  port1.unref();
  const worker = new Worker(new URL("./plugin-worker.js", import.meta.url), {
    execArgv: workerExecArgv(),
    workerData: { module, shared, port: port2, names: Object.keys(functions), timeOrigin: performance.timeOrigin },
    transferList: [port2],
  });
  await new Promise((resolve, reject) => {
    const onMessage = (msg) => {
      if (msg?.type !== "ready") return;
      done();
      resolve();
    };
    const onError = (err) => {
      done();
      reject(err);
    };
    const onExit = (code) => onError(new Error(`the plugin's worker thread exited (code ${code})`));
    const done = () => {
      worker.off("message", onMessage);
      worker.off("error", onError);
      worker.off("exit", onExit);
    };
    worker.on("message", onMessage);
    worker.on("error", onError);
    worker.on("exit", onExit);
  });
  const instance = new Instance(worker, new Int32Array(shared), port1, functions, slot);
  if (checkedModule !== module) {
    try {
      await checkAbi(instance);
    } catch (err) {
      await instance.close().catch(() => {});
      throw err;
    }
    checkedModule = module;
  }
  return instance;
}

/**
 * The worker inherits this process's Node options except --input-type,
 * which only applies to code given on the command line (`node
 * --input-type=module -e ...`) and makes Node refuse to load a worker file.
 */
function workerExecArgv() {
  const args = [];
  for (let i = 0; i < process.execArgv.length; i++) {
    const arg = process.execArgv[i];
    if (arg === "--input-type") i++;
    else if (!arg.startsWith("--input-type=")) args.push(arg);
  }
  return args;
}

/** The compiled module whose ABI was checked. */
let checkedModule = null;

/**
 * Calls `info` on a fresh instance and refuses a plugin whose major ABI
 * differs from ABI_VERSION's with a "plugin_abi" DeviceFlowError.
 */
async function checkAbi(instance) {
  let abi;
  try {
    abi = JSON.parse(await instance.run("info", "{}", null)).abi;
  } catch (err) {
    throw abiError(`unknown (its info export failed: ${err?.message ?? err})`, ABI_VERSION, await wasmPath().catch(() => undefined));
  }
  const major = typeof abi === "string" ? abi.split(".")[0] : "";
  if (major !== ABI_VERSION.split(".")[0]) {
    throw abiError(typeof abi === "string" ? abi : "unknown (info answers no abi)", ABI_VERSION, await wasmPath().catch(() => undefined));
  }
}

const MAX_IDLE = 4;
const idle = [];

/**
 * Runs one export on a pooled instance. `call` is the host-side state the
 * host functions use (see hostfuncs.js). Resolves to the output text, or
 * rejects with what the call threw; an instance whose call failed other than
 * with the plugin's own error is discarded.
 *
 * @param {string} exportName
 * @param {string} input
 * @param {object} call
 */
export async function runExport(exportName, input, call) {
  const instance = takeIdle() ?? (await newInstance());
  instance.busy();
  instance.slot.call = call;
  let healthy = true;
  try {
    return await instance.run(exportName, input, call);
  } catch (err) {
    healthy = err instanceof Error && err.message.startsWith("Plugin-originated error: ");
    throw err;
  } finally {
    instance.slot.call = null;
    if (healthy && !instance.dead && idle.length < MAX_IDLE) {
      instance.idle();
      idle.push(instance);
    } else {
      await instance.close().catch(() => {});
    }
  }
}

/** An idle instance whose worker is still alive, if any. */
function takeIdle() {
  for (;;) {
    const instance = idle.pop();
    if (!instance || !instance.dead) return instance;
  }
}

/** Compiles the plugin and warms one instance, so the first call is fast. */
export async function preload() {
  const instance = takeIdle() ?? (await newInstance());
  instance.idle();
  idle.push(instance);
}

/** Closes idle instances (their worker threads). */
export async function closeIdle() {
  const all = idle.splice(0);
  await Promise.all(all.map((i) => i.close().catch(() => {})));
}
