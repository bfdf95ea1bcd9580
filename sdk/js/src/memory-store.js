import { Leases } from "./leases.js";

/**
 * A store keeps the plugin's opaque values (cached authentications) under
 * keys the plugin builds. Any object with these three methods, sync or
 * async, is a store:
 *
 *   get(key)         → the value, or undefined when there is none
 *   set(key, value)  → writes the value
 *   delete(key)      → removes it; removing an absent key is not an error
 *
 * and it may add the two capabilities of contract v2 (see store-ops.js for
 * what a store without them gets):
 *
 *   swap(key, old, new)      → {swapped, current?}: compare-and-swap
 *   lock(key, waitMs, signal) → a release function, or null when busy
 *
 * A method that throws or rejects makes the call fail with code "store".
 *
 * MemoryStore keeps values for the life of the process (the default: each
 * createOAuthDeviceAuth gets its own, as octokit keeps its token in memory).
 * Its swap is atomic (JavaScript runs it in one step) and its leases are
 * exclusive among every call of this process.
 */
export class MemoryStore {
  #map = new Map();
  #leases = new Leases();

  /** @param {Record<string, string>} [initial] */
  constructor(initial) {
    for (const [k, v] of Object.entries(initial ?? {})) this.#map.set(k, v);
  }

  get(key) {
    return this.#map.get(key);
  }

  set(key, value) {
    this.#map.set(key, String(value));
  }

  delete(key) {
    this.#map.delete(key);
  }

  /**
   * Replaces the value under key with next only when the value held now is
   * old; undefined stands for "no value" on both sides (next undefined
   * removes the entry).
   *
   * @param {string} key
   * @param {string | undefined} old
   * @param {string | undefined} next
   * @returns {{swapped: boolean, current?: string}}
   */
  swap(key, old, next) {
    const current = this.#map.get(key);
    if (current !== (old ?? undefined)) return current === undefined ? { swapped: false } : { swapped: false, current };
    if (next === undefined || next === null) this.#map.delete(key);
    else this.#map.set(key, String(next));
    return { swapped: true };
  }

  /**
   * Takes the exclusive lease on key, waiting up to waitMs for its holder.
   * Resolves to the release function, or null when still held after waitMs;
   * rejects with a "cancelled" error when signal aborts while waiting.
   *
   * @param {string} key
   * @param {number} [waitMs]
   * @param {AbortSignal} [signal]
   * @returns {Promise<(() => void) | null>}
   */
  lock(key, waitMs = 0, signal) {
    return this.#leases.acquire(key, waitMs, signal);
  }

  /** A copy of every entry, for tests and diagnostics. */
  snapshot() {
    return Object.fromEntries(this.#map);
  }
}
