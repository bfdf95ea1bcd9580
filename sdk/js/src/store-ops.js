import { KeyedMutex, Leases } from "./leases.js";

/**
 * The two capabilities contract v2 asks of a store, whatever the store
 * offers. A store with its own `swap` and `lock` (MemoryStore, FileStore, a
 * shared store) is used as is. A store with only get/set/delete gets them
 * emulated inside this process: the compare-and-swap is get, compare, then
 * set or delete under a mutex per (store, key), and the lease is a lock per
 * (store, key). The emulation excludes concurrent calls of this process only;
 * processes sharing such a store can still refresh the same token twice.
 */

/** store → {mutex, leases} for stores without swap or lock. */
const emulated = new WeakMap();

function emulation(store) {
  let e = emulated.get(store);
  if (!e) {
    e = { mutex: new KeyedMutex(), leases: new Leases() };
    emulated.set(store, e);
  }
  return e;
}

/** A store's answer for "no value": undefined, whether it said null or undefined. */
export function absentAsUndefined(value) {
  return value === null || value === undefined ? undefined : String(value);
}

/**
 * Replaces the value under key with next only when the value held now is
 * old (undefined: "no value"); next undefined removes the entry.
 *
 * @param {object} store
 * @param {string} key
 * @param {string | undefined} old
 * @param {string | undefined} next
 * @returns {Promise<{swapped: boolean, current?: string}>}
 */
export async function swapIn(store, key, old, next) {
  if (typeof store.swap === "function") {
    const answer = await store.swap(key, old, next);
    if (!answer || typeof answer.swapped !== "boolean") {
      throw new Error("the store's swap answered something other than {swapped, current?}");
    }
    return answer.swapped ? { swapped: true } : { swapped: false, current: absentAsUndefined(answer.current) };
  }
  return emulation(store).mutex.run(key, async () => {
    const current = absentAsUndefined(await store.get(key));
    if (current !== old) return { swapped: false, current };
    if (next === undefined) await store.delete(key);
    else await store.set(key, next);
    return { swapped: true };
  });
}

/**
 * Takes the store's lease on key, waiting up to waitMs. Resolves to the
 * release function, or null when another holder kept it for waitMs; rejects
 * when signal aborts while waiting.
 *
 * @param {object} store
 * @param {string} key
 * @param {number} waitMs
 * @param {AbortSignal | undefined} signal
 * @param {number} ttlMs how long the plugin expects to hold it (a hint)
 * @returns {Promise<(() => void | Promise<void>) | null>}
 */
export async function lockIn(store, key, waitMs, signal, ttlMs) {
  if (typeof store.lock === "function") {
    const release = await store.lock(key, waitMs, signal, ttlMs);
    if (release !== null && release !== undefined && typeof release !== "function") {
      throw new Error("the store's lock answered something other than a release function or null");
    }
    return release ?? null;
  }
  return emulation(store).leases.acquire(key, waitMs, signal);
}
