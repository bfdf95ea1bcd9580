import { existsSync } from "node:fs";
import { readFile, access } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { ABI_VERSION } from "./abi.js";
import { abiError } from "./errors.js";
import { guardWakeups } from "./extism-wakeup.js";
import { hostFunctions } from "./hostfuncs.js";
import { withQuietWorkers, withoutWasiWarning } from "./quiet-wasi.js";

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

/**
 * One plugin instance on its own worker thread. Host functions are bound once
 * at creation and find the running call through `slot`, so an instance can
 * serve any host, one call at a time.
 */
class Instance {
  constructor(plugin, slot) {
    this.plugin = plugin;
    this.slot = slot;
    this.calls = 0;
  }

  /** Lets the process exit while the instance sits idle in the pool. */
  idle() {
    this.plugin.worker?.unref();
  }

  busy() {
    this.plugin.worker?.ref();
  }

  close() {
    return this.plugin.close();
  }
}

let extism = null;

/**
 * Loads @extism/extism on first use, without the WASI ExperimentalWarning
 * that loading node:wasi prints (see quiet-wasi.js).
 */
function loadExtism() {
  if (!extism) {
    extism = withoutWasiWarning(() => import("@extism/extism"));
    extism.catch(() => {
      extism = null;
    });
  }
  return extism;
}

async function newInstance() {
  const { default: createPlugin } = await loadExtism();
  const module = await compiledModule();
  const slot = { call: null };
  const functions = hostFunctions(slot);
  // A plugin of another contract may import functions this host does not
  // have; instantiating it would kill the process from Extism's worker, so
  // that is checked first.
  const missing = WebAssembly.Module.imports(module)
    .filter((i) => i.module === "extism:host/user" && !Object.hasOwn(functions, i.name))
    .map((i) => i.name);
  if (missing.length > 0) {
    throw abiError(`other than ${ABI_VERSION} (it imports ${missing.join(", ")}, which this host does not supply)`, ABI_VERSION, await wasmPath().catch(() => undefined));
  }
  // Extism's worker thread loads node:wasi too: it starts behind the same filter.
  const plugin = await withQuietWorkers(() =>
    createPlugin(
      { wasm: [{ module }] },
      {
        useWasi: true,
        runInWorker: true,
        functions: { "extism:host/user": functions },
      },
    ),
  );
  guardWakeups(plugin);
  if (checkedModule !== module) {
    try {
      await checkAbi(plugin);
    } catch (err) {
      await plugin.close().catch(() => {});
      throw err;
    }
    checkedModule = module;
  }
  return new Instance(plugin, slot);
}

/** The compiled module whose ABI was checked. */
let checkedModule = null;

/**
 * Calls `info` on a fresh instance and refuses a plugin whose major ABI
 * differs from ABI_VERSION's with a "plugin_abi" DeviceFlowError.
 */
async function checkAbi(plugin) {
  let abi;
  try {
    const out = await plugin.call("info", "{}");
    abi = JSON.parse(out?.text() ?? "").abi;
  } catch (err) {
    throw abiError(`unknown (its info export failed: ${err?.message ?? err})`, ABI_VERSION, await wasmPath().catch(() => undefined));
  }
  const major = typeof abi === "string" ? abi.split(".")[0] : "";
  if (major !== ABI_VERSION.split(".")[0]) {
    throw abiError(typeof abi === "string" ? abi : "unknown (info answers no abi)", ABI_VERSION, await wasmPath().catch(() => undefined));
  }
}

const MAX_IDLE = 4;
const RESET_EVERY = 8;
const idle = [];

/**
 * Runs one export on a pooled instance. `call` is the host-side state the
 * host functions use (see hostfuncs.js). Resolves to the output text, or
 * rejects with what Extism threw; an instance whose call failed other than
 * with the plugin's own error is discarded.
 *
 * @param {string} exportName
 * @param {string} input
 * @param {object} call
 */
export async function runExport(exportName, input, call) {
  const instance = idle.pop() ?? (await newInstance());
  instance.busy();
  instance.slot.call = call;
  let healthy = true;
  try {
    const out = await instance.plugin.call(exportName, input);
    return out === null ? "" : out.text();
  } catch (err) {
    healthy = err instanceof Error && err.message.startsWith("Plugin-originated error: ");
    throw err;
  } finally {
    instance.slot.call = null;
    // Extism's JS runtime keeps every memory block of an instance in one
    // list until reset, and copies that list across threads on every host
    // call: without a reset each call gets slower than the last. A reset is
    // one more round trip to the worker, so it is done every few calls.
    if (healthy && ++instance.calls % RESET_EVERY === 0) {
      healthy = await instance.plugin.reset().catch(() => false);
    }
    if (healthy && idle.length < MAX_IDLE) {
      instance.idle();
      idle.push(instance);
    } else {
      await instance.close().catch(() => {});
    }
  }
}

/** Compiles the plugin and warms one instance, so the first call is fast. */
export async function preload() {
  const instance = idle.pop() ?? (await newInstance());
  instance.idle();
  idle.push(instance);
}

/** Closes idle instances (their worker threads). */
export async function closeIdle() {
  const all = idle.splice(0);
  await Promise.all(all.map((i) => i.close().catch(() => {})));
}
