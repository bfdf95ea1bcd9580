/**
 * Node prints "ExperimentalWarning: WASI is an experimental feature and might
 * change at any time" when node:wasi loads, which @extism/extism does in
 * every plugin worker (plugin-worker.js; this thread never loads it). The
 * plugin uses WASI only for the Go runtime's clock and random numbers, so
 * that one warning is noise on the user's stderr. The worker drops exactly
 * it — an ExperimentalWarning whose message starts with "WASI is an
 * experimental feature" — and lets every other warning through.
 */

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
