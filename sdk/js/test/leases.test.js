// In-process leases and the per-key mutex: exclusive, in arrival order, not
// re-entrant, bounded by waitMs, cut short by an AbortSignal.
import { test } from "node:test";
import assert from "node:assert/strict";
import { KeyedMutex, Leases } from "../src/leases.js";

test("a lease is exclusive per key and other keys do not wait", async () => {
  const leases = new Leases();
  const release = await leases.acquire("a");
  assert.equal(typeof release, "function");
  assert.equal(await leases.acquire("a", 0), null, "busy when tried once");
  assert.equal(await leases.acquire("a"), null, "not re-entrant: the same caller is refused too");
  const other = await leases.acquire("b", 0);
  assert.equal(typeof other, "function", "another key is free");
  release();
  release(); // a second release does nothing
  const again = await leases.acquire("a", 0);
  assert.equal(typeof again, "function");
  again();
  other();
  assert.equal(leases.size, 0);
});

test("waiters get the lease in arrival order when it is released", async () => {
  const leases = new Leases();
  const first = await leases.acquire("k");
  const order = [];
  const waiters = [1, 2, 3].map((n) =>
    leases.acquire("k", 5_000).then((release) => {
      order.push(n);
      setTimeout(release, 5);
    }),
  );
  first();
  await Promise.all(waiters);
  assert.deepEqual(order, [1, 2, 3]);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(leases.held("k"), false);
});

test("a waiter gives up after waitMs and answers busy", async () => {
  const leases = new Leases();
  const held = await leases.acquire("k");
  const start = performance.now();
  assert.equal(await leases.acquire("k", 80), null);
  assert.ok(performance.now() - start >= 75);
  held();
  assert.equal(leases.held("k"), false, "the timed-out waiter is not handed the lease later");
});

test("an abort while waiting rejects with code cancelled and leaves the queue", async () => {
  const leases = new Leases();
  const held = await leases.acquire("k");
  const controller = new AbortController();
  const waiting = leases.acquire("k", 60_000, controller.signal);
  setTimeout(() => controller.abort(new Error("user quit")), 20);
  await assert.rejects(waiting, { code: "cancelled" });
  held();
  assert.equal(leases.held("k"), false);
  await assert.rejects(leases.acquire("k", 0, controller.signal), { code: "cancelled" }, "an aborted signal stops at once");
});

test("KeyedMutex runs one function at a time per key, in order, through failures", async () => {
  const mutex = new KeyedMutex();
  const log = [];
  const slow = (name, ms, fail) =>
    mutex.run("k", async () => {
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`end ${name}`);
      if (fail) throw new Error(name);
      return name;
    });
  const results = await Promise.allSettled([slow("a", 20), slow("b", 5, true), slow("c", 1), mutex.run("other", () => "free")]);
  assert.deepEqual(log, ["start a", "end a", "start b", "end b", "start c", "end c"]);
  assert.deepEqual(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled", "fulfilled"]);
});
