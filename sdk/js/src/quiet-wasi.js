import { createRequire, syncBuiltinESMExports } from "node:module";

/**
 * Node prints "ExperimentalWarning: WASI is an experimental feature and might
 * change at any time" when node:wasi loads: once in this thread when
 * @extism/extism is imported, and once in every worker thread Extism starts.
 * The plugin uses WASI only for the Go runtime's clock and random numbers, so
 * that one warning is noise on the user's stderr. This module drops exactly
 * it — an ExperimentalWarning whose message starts with "WASI is an
 * experimental feature" — and lets every other warning through, in this
 * thread and in Extism's workers.
 */

const require = createRequire(import.meta.url);
const threads = require("node:worker_threads");

const WASI_WARNING = "WASI is an experimental feature";

/** True for the WASI warning only, as process.emitWarning receives it. */
export function isWasiWarning(warning, typeOrOptions) {
  const text = typeof warning === "string" ? warning : warning?.message;
  let type;
  if (typeof typeOrOptions === "string") type = typeOrOptions;
  else if (typeOrOptions && typeof typeOrOptions === "object") type = typeOrOptions.type;
  if (type === undefined && warning instanceof Error) type = warning.name;
  return type === "ExperimentalWarning" && typeof text === "string" && text.startsWith(WASI_WARNING);
}

/**
 * Runs fn (which loads node:wasi) with process.emitWarning dropping the WASI
 * warning; restores it when fn settles.
 */
export async function withoutWasiWarning(fn) {
  const original = process.emitWarning;
  const filtered = function emitWarning(warning, ...rest) {
    if (isWasiWarning(warning, rest[0])) return;
    return original.call(this, warning, ...rest);
  };
  process.emitWarning = filtered;
  try {
    return await fn();
  } finally {
    if (process.emitWarning === filtered) process.emitWarning = original;
  }
}

// The code run first in each of Extism's workers: the same filter, then
// Extism's own worker module, imported only once the filter is in place (its
// static `import "wasi"` would otherwise run before any code of ours).
const prelude = (entry) => `
const emit = process.emitWarning;
process.emitWarning = function (warning, ...rest) {
  const text = typeof warning === "string" ? warning : warning && warning.message;
  const o = rest[0];
  let type = typeof o === "string" ? o : o && typeof o === "object" ? o.type : undefined;
  if (type === undefined && warning instanceof Error) type = warning.name;
  if (type === "ExperimentalWarning" && typeof text === "string" && text.startsWith(${JSON.stringify(WASI_WARNING)})) return;
  return emit.call(this, warning, ...rest);
};
await import(${JSON.stringify(entry)});
`;

/** Extism's worker: a data: URL holding its worker module (which names its host namespace). */
function isExtismWorker(url) {
  const text = String(url);
  const head = "data:text/javascript;base64,";
  if (!text.startsWith(head)) return false;
  try {
    return Buffer.from(text.slice(head.length), "base64").toString("utf8").includes("extism:host/env");
  } catch {
    return false;
  }
}

let active = 0;
let original = null;

/**
 * Runs fn (which creates Extism plugins on worker threads) with Extism's
 * workers started behind the filter. worker_threads' Worker is replaced, for
 * the time fn runs, by a subclass that changes nothing for any other worker.
 */
export async function withQuietWorkers(fn) {
  if (active++ === 0) {
    original = threads.Worker;
    const Base = original;
    threads.Worker = class Worker extends Base {
      constructor(url, options) {
        if (isExtismWorker(url)) {
          url = new URL(`data:text/javascript;base64,${Buffer.from(prelude(String(url))).toString("base64")}`);
        }
        super(url, options);
      }
    };
    syncBuiltinESMExports();
  }
  try {
    return await fn();
  } finally {
    if (--active === 0) {
      threads.Worker = original;
      original = null;
      syncBuiltinESMExports();
    }
  }
}
