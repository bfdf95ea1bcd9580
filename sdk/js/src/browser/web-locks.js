import { cancelledError } from "../errors.js";
import { Leases } from "../leases.js";

/** In-page leases, for browsers without the Web Locks API (an insecure context). */
const fallback = new Leases();

/**
 * Takes the exclusive lease named `name` for every tab and worker of this
 * origin (the Web Locks API), waiting up to waitMs (0: try once). Resolves to
 * the release function, or null when another holder kept it for waitMs;
 * rejects with a "cancelled" DeviceFlowError when signal aborts first. The
 * browser releases the lease of a tab that closes or crashes, so a lease
 * never outlives its holder (no time-to-live is needed).
 *
 * Where `navigator.locks` is missing (pages served over plain http from a
 * host other than localhost), the lease holds within the page only.
 *
 * @param {string} name
 * @param {number} [waitMs]
 * @param {AbortSignal} [signal]
 * @param {LockManager} [locks]
 * @returns {Promise<(() => void) | null>}
 */
export function webLock(name, waitMs = 0, signal, locks = globalThis.navigator?.locks) {
  if (!locks) return fallback.acquire(name, waitMs, signal);
  if (signal?.aborted) return Promise.reject(cancelledError(signal));
  return new Promise((resolve, reject) => {
    /** @type {() => void} */
    let release;
    const held = new Promise((r) => {
      release = () => r(undefined);
    });
    const granted = (lock) => {
      if (!lock) {
        resolve(null);
        return undefined;
      }
      let done = false;
      resolve(() => {
        if (done) return;
        done = true;
        release();
      });
      // The lease lasts until the release function is called.
      return held;
    };
    if (!(waitMs > 0)) {
      locks.request(name, { ifAvailable: true }, granted).catch(reject);
      return;
    }
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, Math.min(waitMs, 2 ** 31 - 1));
    const onAbort = () => controller.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    locks
      .request(name, { signal: controller.signal }, (lock) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        return granted(lock);
      })
      .catch((err) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        if (timedOut) resolve(null);
        else if (signal?.aborted) reject(cancelledError(signal));
        else reject(err);
      });
  });
}
