import { MemoryStore } from "../../src/memory-store.js";

// Platform-neutral: the Node runner (conformance.test.js) and the browser
// runner (browser/pages/vectors.js, in Chromium) play the vectors on it.

/**
 * The vectors' store: a MemoryStore that knows which leases are held, and
 * plays `otherLease` — another holder has the lease on its key when the
 * first call starts: trying once answers busy; waiting applies the other
 * holder's writes, drops its lease and grants this one, without real waiting.
 */
export class VectorStore extends MemoryStore {
  #other;
  #held = new Map();

  constructor(initial, otherLease) {
    super(initial);
    this.#other = otherLease ? { key: otherLease.key, writes: otherLease.writes ?? {} } : null;
  }

  /** Applies {key: value-or-null} as another process would (null deletes). */
  apply(writes) {
    for (const [k, value] of Object.entries(writes)) {
      if (value === null) this.delete(k);
      else this.set(k, value);
    }
  }

  async lock(key, waitMs = 0, signal) {
    if (this.#other && this.#other.key === key) {
      if (!(waitMs > 0)) return null;
      this.apply(this.#other.writes);
      this.#other = null;
    }
    const release = await super.lock(key, waitMs, signal);
    if (!release) return null;
    this.#held.set(key, (this.#held.get(key) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = this.#held.get(key) - 1;
      if (n === 0) this.#held.delete(key);
      else this.#held.set(key, n);
      release();
    };
  }

  /** The keys whose lease someone holds now (the other holder's excluded). */
  heldKeys() {
    return [...this.#held.keys()];
  }
}
