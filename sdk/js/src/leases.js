import { cancelledError } from "./errors.js";

// setTimeout fires at once for delays above 2^31-1 ms.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Leases hands out exclusive leases on keys inside this process: at most one
 * holder per key, the others waiting in arrival order. A lease is not
 * re-entrant: a holder asking again for the same key waits like anyone else.
 * It is what MemoryStore, FileStore (within one process) and stores without
 * a lock of their own use for store_lock.
 */
export class Leases {
  /** key → {waiters: Array<{grant: () => void}>} for every key held. */
  #held = new Map();

  /**
   * Takes the lease on key, waiting up to waitMs for its holder to release
   * it (0: try once). Resolves to the release function, or to null when the
   * key was still held after waitMs; rejects with a "cancelled"
   * DeviceFlowError when signal aborts first.
   *
   * @param {string} key
   * @param {number} [waitMs]
   * @param {AbortSignal} [signal]
   * @returns {Promise<(() => void) | null>}
   */
  acquire(key, waitMs = 0, signal) {
    if (signal?.aborted) return Promise.reject(cancelledError(signal));
    const entry = this.#held.get(key);
    if (!entry) {
      const fresh = { waiters: [] };
      this.#held.set(key, fresh);
      return Promise.resolve(this.#releaser(key, fresh));
    }
    if (!(waitMs > 0)) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const waiter = {};
      const leave = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        const i = entry.waiters.indexOf(waiter);
        if (i >= 0) entry.waiters.splice(i, 1);
      };
      const onAbort = () => {
        leave();
        reject(cancelledError(signal));
      };
      const timer = setTimeout(() => {
        leave();
        resolve(null);
      }, Math.min(waitMs, MAX_TIMER_MS));
      waiter.grant = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        resolve(this.#releaser(key, entry));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      entry.waiters.push(waiter);
    });
  }

  /** Whether someone holds the lease on key. */
  held(key) {
    return this.#held.has(key);
  }

  /** How many keys are leased now. */
  get size() {
    return this.#held.size;
  }

  /**
   * The release function of one grant: it hands the lease to the first
   * waiter, or frees the key. Calling it again does nothing.
   */
  #releaser(key, entry) {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = entry.waiters.shift();
      if (next) next.grant();
      else this.#held.delete(key);
    };
  }
}

/**
 * KeyedMutex runs functions one at a time per key, in arrival order; other
 * keys do not wait. Stores use it to make a compare-and-swap one step.
 */
export class KeyedMutex {
  #tails = new Map();

  /**
   * Runs fn once every earlier function for key has settled.
   *
   * @template T
   * @param {string} key
   * @param {() => Promise<T> | T} fn
   * @returns {Promise<T>}
   */
  run(key, fn) {
    const before = this.#tails.get(key) ?? Promise.resolve();
    const result = before.then(() => fn());
    const tail = result.then(
      () => {},
      () => {},
    );
    this.#tails.set(key, tail);
    tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }
}
