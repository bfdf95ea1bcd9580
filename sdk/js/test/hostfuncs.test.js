// The v2 host functions against a running call, without the plugin:
// monotonic, store_swap, store_lock, store_unlock, and the release of every
// lease a call still holds when it ends. Also the in-process emulation that
// stores without swap or lock get, and MemoryStore's native ones.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Call, Host } from "../src/host.js";
import { hostFunctions } from "../src/hostfuncs.js";
import { MemoryStore } from "../src/memory-store.js";
import { lockIn, swapIn } from "../src/store-ops.js";

/** Extism's CurrentPlugin as far as the host functions use it: JSON in, JSON out. */
function fakeMemory() {
  const blocks = new Map();
  let next = 1n;
  return {
    read: (offset) => ({ text: () => blocks.get(offset) }),
    store: (text) => {
      const at = next++;
      blocks.set(at, text);
      return at;
    },
    text: (offset) => blocks.get(offset),
  };
}

/** Calls a host function with a JSON argument, answers its parsed JSON. */
async function invoke(slot, name, arg) {
  const cp = fakeMemory();
  const out = await hostFunctions(slot)[name](cp, cp.store(JSON.stringify(arg)));
  return JSON.parse(cp.text(out));
}

const callOn = (host, signal) => ({ call: new Call(host, signal) });

test("monotonic answers an i64 from the monotonic option, else now, else performance.now", () => {
  let mono = 5;
  assert.equal(hostFunctions({ call: new Call(new Host({ monotonic: () => mono, now: () => 1e12 })) }).monotonic(), 5n);
  mono = 7.9;
  assert.equal(hostFunctions({ call: new Call(new Host({ monotonic: () => mono })) }).monotonic(), 7n);
  assert.equal(hostFunctions({ call: new Call(new Host({ now: () => 42 })) }).monotonic(), 42n, "a fake wall clock stands for both");
  const real = hostFunctions({ call: new Call(new Host()) }).monotonic();
  assert.equal(typeof real, "bigint");
  assert.ok(Math.abs(Number(real) - performance.now()) < 1000);
  assert.equal(typeof hostFunctions({ call: null }).monotonic(), "bigint", "no call: still an answer, never a throw");
  assert.deepEqual(
    Object.keys(hostFunctions({ call: null })).sort(),
    ["emit", "http_request", "monotonic", "now", "sleep", "store_get", "store_lock", "store_swap", "store_unlock"],
    "ABI 2's imports exactly: store_set and store_delete are gone",
  );
});

test("store_swap answers {} when done and {conflict, value?} otherwise", async () => {
  const store = new MemoryStore({ k: "a" });
  const slot = callOn(new Host({ store }));
  assert.deepEqual(await invoke(slot, "store_swap", { key: "k", old: "a", new: "b" }), {});
  assert.deepEqual(await invoke(slot, "store_swap", { key: "k", old: "a", new: "c" }), { conflict: true, value: "b" });
  assert.deepEqual(await invoke(slot, "store_swap", { key: "k", old: null, new: "c" }), { conflict: true, value: "b" });
  assert.deepEqual(await invoke(slot, "store_swap", { key: "k", old: "b" }), {}, "new absent removes");
  assert.deepEqual(store.snapshot(), {});
  assert.deepEqual(await invoke(slot, "store_swap", { key: "k", old: "b", new: "x" }), { conflict: true }, "no value: no value field");
  assert.deepEqual(await invoke(slot, "store_swap", { key: "k", new: "x" }), {}, "old absent: only when there is none");
  assert.deepEqual(store.snapshot(), { k: "x" });
  const bad = await invoke(slot, "store_swap", { key: 3 });
  assert.equal(bad.error.kind, "store");
  const failing = { get: () => "x", set() {}, delete() {}, swap: () => Promise.reject(new Error("disk full")) };
  assert.deepEqual(await invoke(callOn(new Host({ store: failing })), "store_swap", { key: "k", old: "x", new: "y" }), { error: { kind: "store", message: "disk full" } });
});

test("store_lock grants one lease per key, answers busy, and store_unlock frees it", async () => {
  const host = new Host({ store: new MemoryStore() });
  const one = callOn(host);
  const two = callOn(host);
  const { lease } = await invoke(one, "store_lock", { key: "k", waitMs: 0, ttlMs: 1000 });
  assert.equal(typeof lease, "string");
  assert.deepEqual(await invoke(two, "store_lock", { key: "k", waitMs: 0, ttlMs: 1000 }), { busy: true });
  assert.deepEqual(await invoke(two, "store_lock", { key: "k", waitMs: 50, ttlMs: 1000 }), { busy: true });
  assert.deepEqual(await invoke(one, "store_lock", { key: "k", waitMs: 0, ttlMs: 1000 }), { busy: true }, "not re-entrant");
  assert.deepEqual(await invoke(two, "store_unlock", { key: "k", lease }), {}, "another call's lease is not its to release");
  assert.deepEqual(await invoke(two, "store_lock", { key: "k", waitMs: 0 }), { busy: true });
  assert.deepEqual(await invoke(one, "store_unlock", { key: "k", lease }), {});
  assert.deepEqual(await invoke(one, "store_unlock", { key: "k", lease }), {}, "releasing twice is fine");
  const again = await invoke(two, "store_lock", { key: "k", waitMs: 0 });
  assert.equal(typeof again.lease, "string");
  assert.notEqual(again.lease, lease);
});

test("a waiting store_lock gets the lease when the holder's call ends, however it ends", async () => {
  const host = new Host({ store: new MemoryStore() });
  const holder = callOn(host);
  await invoke(holder, "store_lock", { key: "a", waitMs: 0 });
  await invoke(holder, "store_lock", { key: "b", waitMs: 0 });
  const waiter = callOn(host);
  const waiting = invoke(waiter, "store_lock", { key: "a", waitMs: 60_000 });
  await holder.call.releaseLeases(); // what Host.call does in its finally
  assert.equal(typeof (await waiting).lease, "string");
  assert.equal(typeof (await invoke(waiter, "store_lock", { key: "b", waitMs: 0 })).lease, "string", "every lease of the ended call was released");
  assert.deepEqual(await invoke(holder, "store_lock", { key: "c", waitMs: 0 }), { cancelled: true }, "an ended call gets no new lease");
});

test("an abort while waiting for a lease answers {cancelled: true}", async () => {
  const host = new Host({ store: new MemoryStore() });
  await invoke(callOn(host), "store_lock", { key: "k", waitMs: 0 });
  const controller = new AbortController();
  const start = performance.now();
  setTimeout(() => controller.abort(), 30);
  assert.deepEqual(await invoke(callOn(host, controller.signal), "store_lock", { key: "k", waitMs: 60_000 }), { cancelled: true });
  assert.ok(performance.now() - start < 1000);
  assert.deepEqual(await invoke(callOn(host, controller.signal), "store_lock", { key: "other", waitMs: 0 }), { cancelled: true });
});

test("a store without swap or lock gets both, emulated within this process", async () => {
  const map = new Map([["k", "old"]]);
  const pause = () => new Promise((r) => setTimeout(r, 1));
  const plain = {
    async get(key) {
      await pause();
      return map.get(key) ?? null;
    },
    async set(key, value) {
      await pause();
      map.set(key, value);
    },
    async delete(key) {
      await pause();
      map.delete(key);
    },
  };
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => swapIn(plain, "k", "old", `v${i}`)));
  assert.equal(results.filter((r) => r.swapped).length, 1, "one compare-and-swap wins");
  const winner = map.get("k");
  for (const r of results) if (!r.swapped) assert.deepEqual(r, { swapped: false, current: winner });
  assert.deepEqual(await swapIn(plain, "k", winner, undefined), { swapped: true });
  assert.equal(map.has("k"), false);
  assert.deepEqual(await swapIn(plain, "k", "x", "y"), { swapped: false, current: undefined });

  const release = await lockIn(plain, "k", 0);
  assert.equal(await lockIn(plain, "k", 0), null);
  assert.equal(typeof (await lockIn({ ...plain }, "k", 0)), "function", "another store object is another store");
  release();
  assert.equal(typeof (await lockIn(plain, "k", 0)), "function");
});

test("a store's own swap and lock are used as they are", async () => {
  const seen = [];
  const custom = {
    get: () => undefined,
    set() {},
    delete() {},
    swap: (key, old, next) => {
      seen.push(["swap", key, old, next]);
      return { swapped: false, current: null };
    },
    lock: (key, waitMs, signal, ttlMs) => {
      seen.push(["lock", key, waitMs, Boolean(signal), ttlMs]);
      return null;
    },
  };
  assert.deepEqual(await swapIn(custom, "k", undefined, "v"), { swapped: false, current: undefined });
  assert.equal(await lockIn(custom, "k", 10, new AbortController().signal, 500), null);
  assert.deepEqual(seen, [
    ["swap", "k", undefined, "v"],
    ["lock", "k", 10, true, 500],
  ]);
  await assert.rejects(swapIn({ ...custom, swap: () => "yes" }, "k", undefined, "v"), /swap answered/);
});

test("MemoryStore's swap and lock are native", async () => {
  const store = new MemoryStore({ k: "a" });
  assert.deepEqual(store.swap("k", "a", "b"), { swapped: true });
  assert.deepEqual(store.swap("k", "a", "c"), { swapped: false, current: "b" });
  assert.deepEqual(store.swap("n", "a", "c"), { swapped: false });
  assert.deepEqual(store.swap("k", "b", undefined), { swapped: true });
  assert.deepEqual(store.snapshot(), {});
  const release = await store.lock("k");
  assert.equal(await store.lock("k", 0), null);
  setTimeout(release, 10);
  assert.equal(typeof (await store.lock("k", 1000)), "function");
});
