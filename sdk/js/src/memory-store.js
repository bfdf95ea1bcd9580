/**
 * A store keeps the plugin's opaque values (cached authentications) under
 * keys the plugin builds. Any object with these three methods, sync or
 * async, is a store:
 *
 *   get(key)         → the value, or undefined when there is none
 *   set(key, value)  → writes the value
 *   delete(key)      → removes it; removing an absent key is not an error
 *
 * A method that throws or rejects makes the call fail with code "store".
 *
 * MemoryStore keeps values for the life of the process (the default: each
 * createOAuthDeviceAuth gets its own, as octokit keeps its token in memory).
 */
export class MemoryStore {
  #map = new Map();

  /** @param {Record<string, string>} [initial] */
  constructor(initial) {
    for (const [k, v] of Object.entries(initial ?? {})) this.#map.set(k, v);
  }

  get(key) {
    return this.#map.get(key);
  }

  set(key, value) {
    this.#map.set(key, value);
  }

  delete(key) {
    this.#map.delete(key);
  }

  /** A copy of every entry, for tests and diagnostics. */
  snapshot() {
    return Object.fromEntries(this.#map);
  }
}
