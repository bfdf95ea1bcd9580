/**
 * The plugin's imports (wit/deviceflow.wit, interface host), namespace
 * `extism:host/user`. Each is a thin adaptor: it reads its argument from
 * Extism memory, asks the running call (`slot.call`, see host.js) to do the
 * work, and writes the answer back. None of them ever throws: Extism closes
 * the worker when a host function throws, so every failure becomes the
 * contract's error answer.
 *
 * Values: pointers arrive and leave as BigInt offsets; `sleep`'s ms is an
 * i64 (BigInt); `now` and `monotonic` answer an i64 (BigInt); `sleep` and
 * `emit` answer an i32 (0 go on, 1 cancelled). The store functions answer a
 * `store-answer` record; store_set and store_delete are gone with ABI 2.
 *
 * @param {{call: object | null}} slot
 */
export function hostFunctions(slot) {
  const noCall = () => new Error("no call is running on this plugin instance");
  const current = () => {
    if (!slot.call) throw noCall();
    return slot.call;
  };
  const storeFailure = (err) => ({ error: { kind: "store", message: messageOf(err) } });

  return {
    async http_request(cp, offset) {
      let answer;
      try {
        const req = JSON.parse(cp.read(offset).text());
        answer = await current().http(req);
      } catch (err) {
        answer = { error: { kind: "denied", message: `malformed request from the plugin: ${messageOf(err)}` } };
      }
      return cp.store(JSON.stringify(answer));
    },

    async sleep(_cp, ms) {
      try {
        return (await current().sleep(Number(ms))) ? 1 : 0;
      } catch {
        return 1;
      }
    },

    now() {
      try {
        return BigInt(Math.floor(current().now()));
      } catch {
        return BigInt(Date.now());
      }
    },

    async store_get(cp, offset) {
      let answer;
      try {
        const value = await current().storeGet(cp.read(offset).text());
        answer = value === undefined || value === null ? {} : { value: String(value) };
      } catch (err) {
        answer = storeFailure(err);
      }
      return cp.store(JSON.stringify(answer));
    },

    monotonic() {
      try {
        return BigInt(Math.floor(current().monotonic()));
      } catch {
        return BigInt(Math.floor(performance.now()));
      }
    },

    async store_swap(cp, offset) {
      let answer;
      try {
        const { key, old, new: next } = JSON.parse(cp.read(offset).text());
        if (typeof key !== "string") throw new Error("store_swap: key is not a string");
        const { swapped, current: now } = await current().storeSwap(key, optionalString(old), optionalString(next));
        answer = swapped ? {} : now === undefined ? { conflict: true } : { conflict: true, value: now };
      } catch (err) {
        answer = storeFailure(err);
      }
      return cp.store(JSON.stringify(answer));
    },

    async store_lock(cp, offset) {
      let answer;
      try {
        const { key, waitMs, ttlMs } = JSON.parse(cp.read(offset).text());
        if (typeof key !== "string") throw new Error("store_lock: key is not a string");
        answer = await current().storeLock(key, nonNegative(waitMs), nonNegative(ttlMs));
      } catch (err) {
        answer = storeFailure(err);
      }
      return cp.store(JSON.stringify(answer));
    },

    async store_unlock(cp, offset) {
      let answer = {};
      try {
        const { key, lease } = JSON.parse(cp.read(offset).text());
        await current().storeUnlock(String(key), String(lease));
      } catch (err) {
        answer = storeFailure(err);
      }
      return cp.store(JSON.stringify(answer));
    },

    async emit(cp, offset) {
      try {
        return (await current().emit(cp.read(offset).text())) ? 1 : 0;
      } catch {
        return 1;
      }
    },
  };
}

function messageOf(err) {
  return err instanceof Error ? err.message : String(err);
}

/** A JSON string field that may be absent or null: undefined for "no value". */
function optionalString(v) {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new Error("store_swap: old and new must be strings or absent");
  return v;
}

/** A millisecond count from the plugin: a finite number at least 0. */
function nonNegative(v) {
  const n = Number(v ?? 0);
  return Number.isFinite(n) && n > 0 ? n : 0;
}
