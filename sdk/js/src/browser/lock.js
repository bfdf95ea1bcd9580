import { cancelledError } from "../errors.js";

/**
 * The browser's strategy lock lets every call through. Node's (lock.js)
 * queues the calls on one store to save work and needs AsyncLocalStorage to
 * stay re-entrant; a browser has none, and a lock that is not re-entrant
 * would block octokit's hook calling back into the strategy. Correctness
 * does not depend on it: the engine's lease on the cache key (store_lock,
 * held across tabs by IndexedDBStore through the Web Locks API) makes the
 * second call wait for the first one's device flow or refresh and use its
 * token.
 */
const PASS = {
  /**
   * @template T
   * @param {() => Promise<T>} fn
   * @param {AbortSignal} [signal]
   * @returns {Promise<T>}
   */
  async run(fn, signal) {
    if (signal?.aborted) throw cancelledError(signal);
    return fn();
  },
};

/** The lock of a store: the same pass-through for every store. */
export function lockFor(_store) {
  return PASS;
}
