import { AsyncLocalStorage } from "node:async_hooks";
import { cancelledError } from "./errors.js";

const held = new AsyncLocalStorage();

/**
 * Lock runs the exports that read and write one store one at a time, so
 * that concurrent auth() or hook calls of one strategy collapse into one
 * device flow or one refresh: the second call waits, then finds the first
 * one's token in the store. It is an optimisation; the guarantee that a
 * refresh token is spent once is the plugin's lease on the cache key and its
 * compare-and-swap writes (store_lock, store_swap), which also hold across
 * strategies, hosts and — with a store that supports it — processes.
 *
 * The lock is re-entrant along an async call chain: code running inside a
 * locked call (the HTTP request the plugin asked for, an onVerification
 * handler) that calls back into the same strategy does not wait for itself.
 */
export class Lock {
  #tail = Promise.resolve();

  /**
   * Runs fn once every earlier holder has finished, or rejects with a
   * "cancelled" error if signal aborts first.
   *
   * @template T
   * @param {() => Promise<T>} fn
   * @param {AbortSignal} [signal]
   * @returns {Promise<T>}
   */
  async run(fn, signal) {
    const chain = held.getStore();
    if (chain?.has(this)) return fn();
    if (signal?.aborted) throw cancelledError(signal);
    const before = this.#tail;
    /** @type {(value?: unknown) => void} */
    let release;
    const mine = new Promise((resolve) => {
      release = resolve;
    });
    this.#tail = before.then(() => mine);
    try {
      await waitFor(before, signal);
      const next = new Set(chain ?? []);
      next.add(this);
      return await held.run(next, fn);
    } finally {
      release();
    }
  }
}

function waitFor(promise, signal) {
  if (!signal) return promise;
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(cancelledError(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    });
  });
}

const locks = new WeakMap();

/** The lock of a store object: one per store, shared by every strategy using it. */
export function lockFor(store) {
  let lock = locks.get(store);
  if (!lock) {
    lock = new Lock();
    locks.set(store, lock);
  }
  return lock;
}
