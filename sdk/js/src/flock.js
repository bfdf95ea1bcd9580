import { spawn, spawnSync } from "node:child_process";
import { open } from "node:fs/promises";
import { cancelledError } from "./errors.js";
import { StoreError } from "./errors.js";

/**
 * Node has no flock(2). Where util-linux's flock(1) command is installed
 * (most Linux systems), a lock is held by a small child process: `flock -x
 * FILE cat`, which takes the lock on its own open file description and then
 * runs cat. This process writes one byte to cat's stdin and knows the lock is
 * held when cat echoes it back; closing stdin ends cat and flock, which
 * releases the lock. If this process dies, its end of the pipe closes and the
 * lock is released too — the same life as a flock held in process. The lock
 * is the very flock Go and Python take on the same files, so they exclude
 * each other across processes.
 *
 * Where flock(1) is missing (macOS, Windows, minimal containers),
 * `flockAvailable()` is false and the file store excludes within this
 * process only.
 */

let available;

/** Whether the flock(1) command can be used; checked once per process. */
export function flockAvailable() {
  if (available === undefined) {
    available = false;
    if (process.platform === "linux" && process.env.DEVICEFLOW_NO_FLOCK !== "1") {
      try {
        const r = spawnSync("flock", ["--version"], { stdio: ["ignore", "pipe", "ignore"], timeout: 5000 });
        available = r.status === 0 && /util-linux/.test(String(r.stdout));
      } catch {
        available = false;
      }
    }
  }
  return available;
}

// flock(1) exits with this code when the lock stays busy for the wait (-E).
const BUSY = 75;

/**
 * Takes flock(LOCK_EX) on file, waiting up to waitMs (0: try once). Resolves
 * to the release function (which resolves once the lock is released), or
 * null when the lock stayed busy; rejects with a "cancelled" error when
 * signal aborts first, or with a StoreError when the lock cannot be taken.
 * The file is created with mode 0600 when missing.
 *
 * @param {string} file
 * @param {number} waitMs
 * @param {AbortSignal} [signal]
 * @returns {Promise<(() => Promise<void>) | null>}
 */
export async function flockFile(file, waitMs, signal) {
  if (signal?.aborted) throw cancelledError(signal);
  try {
    await (await open(file, "a", 0o600)).close();
  } catch (err) {
    throw new StoreError(`cannot create the lock file ${file}: ${err.code ?? err.message}`, { path: file, cause: err });
  }
  const wait = waitMs > 0 ? ["-w", String(Math.max(waitMs, 1) / 1000)] : ["-n"];
  const child = spawn("flock", ["-x", ...wait, "-E", String(BUSY), file, "cat"], { stdio: ["pipe", "pipe", "pipe"] });
  const exited = new Promise((resolve) => child.once("close", (code) => resolve(code)));
  child.on("error", () => {});
  child.stdin.on("error", () => {});
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  child.stdin.write("L");

  const held = new Promise((resolve) => child.stdout.once("data", () => resolve(true)));
  const onAbort = () => child.kill("SIGKILL");
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const outcome = await Promise.race([held, exited.then((code) => ({ code }))]);
    if (outcome === true) {
      let released = null;
      return () => {
        released ??= (child.stdin.end(), exited.then(() => {}));
        return released;
      };
    }
    if (signal?.aborted) throw cancelledError(signal);
    if (outcome.code === BUSY) return null;
    throw new StoreError(`cannot lock ${file}: flock exited with ${outcome.code}${stderr ? `: ${stderr.trim()}` : ""}`, { path: file });
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * Adds the cross-process half to a lease already held in this process:
 * takes flock on the file that lockFile() names (or resolves to inProcess
 * alone where flock(1) is missing), with the rest of waitMs since start.
 * Resolves to one release function for both halves, or null when the
 * flock stayed busy (the in-process half is then released).
 *
 * @param {(() => void) | null} inProcess
 * @param {() => Promise<string>} lockFile
 * @param {number} start performance.now() when the wait began
 * @param {number} waitMs
 * @param {AbortSignal} [signal]
 * @returns {Promise<(() => void | Promise<void>) | null>}
 */
export async function withFlock(inProcess, lockFile, start, waitMs, signal) {
  if (!inProcess || !flockAvailable()) return inProcess;
  let release;
  try {
    const left = waitMs > 0 ? Math.max(1, waitMs - (performance.now() - start)) : 0;
    release = await flockFile(await lockFile(), left, signal);
  } catch (err) {
    inProcess();
    throw err;
  }
  if (!release) {
    inProcess();
    return null;
  }
  return async () => {
    try {
      await release();
    } finally {
      inProcess();
    }
  };
}
