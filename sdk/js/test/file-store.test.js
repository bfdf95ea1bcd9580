// FileStore, layout v2: one 0600 file per entry in a 0700 directory, named
// by the key's SHA-256, written atomically; compare-and-swap and leases
// (exclusive within this process); migration from both legacy shapes;
// unreadable entries are store errors naming the file, left untouched.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStore, StoreError } from "../src/index.js";

const tempDir = () => mkdtempSync(join(tmpdir(), "deviceflow-filestore-"));
/** The entry name the spec gives a key: the first 32 hex digits of sha256(key). */
const nameOf = (key) => createHash("sha256").update(key, "utf8").digest("hex").slice(0, 32);
const unix = process.platform !== "win32";

test("each entry is its own 0600 file in a 0700 directory, in the shared v2 format", async () => {
  const dir = join(tempDir(), "nested", "tokens.json");
  const store = new FileStore(dir);
  assert.equal(await store.get("a"), undefined);
  assert.equal(existsSync(dir), false, "reading creates nothing");
  await Promise.all(Array.from({ length: 20 }, (_, i) => store.set(`k${i}`, `v${i}`)));
  for (let i = 0; i < 20; i++) assert.equal(await store.get(`k${i}`), `v${i}`);
  const file = join(dir, `${nameOf("k1")}.json`);
  assert.deepEqual(JSON.parse(readFileSync(file, "utf8")), { version: 2, key: "k1", value: "v1" });
  if (unix) {
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(file).mode & 0o777, 0o600);
  }
  const names = readdirSync(dir).sort();
  assert.equal(names.filter((n) => n.endsWith(".json")).length, 20);
  assert.ok(names.every((n) => /^[0-9a-f]{32}\.(json|lock|lease)$/.test(n)), `no temporary or other file is left: ${names}`);
  await store.delete("k0");
  await store.delete("absent");
  assert.equal(await new FileStore(dir).get("k0"), undefined);
  assert.equal(existsSync(join(dir, `${nameOf("k0")}.json`)), false);
  assert.deepEqual((await store.keys()).sort(), Array.from({ length: 19 }, (_, i) => `k${i + 1}`).sort());
});

test("swap replaces only the value it was told, answers the current one otherwise, and deletes", async () => {
  const store = new FileStore(join(tempDir(), "tokens.json"));
  assert.deepEqual(await store.swap("k", undefined, "one"), { swapped: true });
  assert.deepEqual(await store.swap("k", undefined, "two"), { swapped: false, current: "one" });
  assert.deepEqual(await store.swap("k", "stale", "two"), { swapped: false, current: "one" });
  assert.deepEqual(await store.swap("k", "one", "two"), { swapped: true });
  assert.equal(await store.get("k"), "two");
  assert.deepEqual(await store.swap("k", "two", undefined), { swapped: true });
  assert.equal(await store.get("k"), undefined);
  assert.deepEqual(await store.swap("k", "two", "three"), { swapped: false }, "no value: conflict without current");
});

test("concurrent swaps from the same old value: exactly one wins, across FileStore objects", async () => {
  const path = join(tempDir(), "tokens.json");
  await new FileStore(path).set("k", "old");
  const results = await Promise.all(Array.from({ length: 12 }, (_, i) => new FileStore(path).swap("k", "old", `new${i}`)));
  const winners = results.map((r, i) => (r.swapped ? i : -1)).filter((i) => i >= 0);
  assert.equal(winners.length, 1);
  assert.equal(await new FileStore(path).get("k"), `new${winners[0]}`);
  for (const r of results) if (!r.swapped) assert.equal(r.current, `new${winners[0]}`);
});

test("a lease excludes every FileStore on the path in this process, per entry, and the holder can still swap", async () => {
  const path = join(tempDir(), "tokens.json");
  const a = new FileStore(path);
  const b = new FileStore(path);
  const release = await a.lock("k", 0);
  assert.equal(typeof release, "function");
  assert.equal(await b.lock("k", 0), null, "busy for another store object on the same path");
  const other = await b.lock("other", 0);
  assert.equal(typeof other, "function", "another entry is not held");
  other();
  assert.deepEqual(await a.swap("k", undefined, "v"), { swapped: true }, "the lease does not block the entry's writes");
  const waiting = b.lock("k", 5_000);
  setTimeout(release, 30);
  const next = await waiting;
  assert.equal(typeof next, "function", "a waiter gets it when released");
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 20);
  await assert.rejects(a.lock("k", 60_000, controller.signal), { code: "cancelled" });
  next();
  const elsewhere = new FileStore(join(tempDir(), "tokens.json"));
  const free = await elsewhere.lock("k", 0);
  assert.equal(typeof free, "function", "another path is another store");
  free();
});

test("an entry that is not valid JSON, or of another version, is a store error naming the file, left untouched", async () => {
  const path = join(tempDir(), "tokens.json");
  const store = new FileStore(path);
  await store.set("k", "v");
  const file = join(path, `${nameOf("k")}.json`);
  for (const text of ["{not json", JSON.stringify({ version: 3, key: "k", value: "v" }), JSON.stringify({ version: 2, key: "k" }), "[]"]) {
    writeFileSync(file, text);
    const err = await store.get("k").catch((e) => e);
    assert.ok(err instanceof StoreError, `${text}: ${err}`);
    assert.equal(err.code, "store");
    assert.ok(err.message.includes(file), err.message);
    assert.equal(err.path, file);
    await assert.rejects(store.swap("k", "v", "w"), { code: "store" });
    assert.equal(readFileSync(file, "utf8"), text, "left untouched");
  }
  await assert.rejects(store.keys(), { code: "store" });
});

test("a legacy Node store (a flat JSON object) becomes a directory with every entry", async () => {
  const path = join(tempDir(), "tokens.json");
  const legacy = { "deviceflow:v1:https://github.com|oauth-app|Iv1.a|repo": '{"token":"gho_a"}', other: "x" };
  writeFileSync(path, JSON.stringify(legacy, null, 2), { mode: 0o600 });
  const store = new FileStore(path);
  for (const [k, v] of Object.entries(legacy)) assert.equal(await store.get(k), v);
  assert.ok(statSync(path).isDirectory());
  assert.equal(existsSync(`${path}.v1`), false, "the old file is gone once moved");
  assert.deepEqual((await store.keys()).sort(), Object.keys(legacy).sort());
  assert.equal(await new FileStore(path).get("other"), "x", "a second migration changes nothing");
});

test("a legacy Go/Python document store is migrated the same way", async () => {
  const path = join(tempDir(), "tokens.json");
  writeFileSync(path, JSON.stringify({ version: 1, entries: { a: "1", b: "2" } }));
  const store = new FileStore(path);
  assert.deepEqual(await store.swap("a", "1", "1b"), { swapped: true }, "the first operation may be a write");
  assert.equal(await store.get("a"), "1b");
  assert.equal(await store.get("b"), "2");
  assert.ok(statSync(path).isDirectory());
});

test("a migration stopped half-way is finished, and entries already moved win", async () => {
  const base = tempDir();
  // Stopped after the rename and some entries: PATH is a directory, PATH.v1 remains.
  const path = join(base, "tokens.json");
  mkdirSync(path, { mode: 0o700 });
  writeFileSync(join(path, `${nameOf("a")}.json`), JSON.stringify({ version: 2, key: "a", value: "newer" }));
  writeFileSync(`${path}.v1`, JSON.stringify({ a: "older", b: "2" }));
  const store = new FileStore(path);
  assert.equal(await store.get("a"), "newer");
  assert.equal(await store.get("b"), "2");
  assert.equal(existsSync(`${path}.v1`), false);
  // Stopped between the rename and the mkdir: only PATH.v1 exists.
  const path2 = join(base, "other.json");
  writeFileSync(`${path2}.v1`, JSON.stringify({ version: 1, entries: { c: "3" } }));
  assert.equal(await new FileStore(path2).get("c"), "3");
  assert.ok(statSync(path2).isDirectory());
});

test("a legacy file that cannot be read is a store error, left untouched where it is", async () => {
  for (const text of ["{not json", JSON.stringify({ version: 7, entries: {} }), JSON.stringify({ k: 1 }), "[1]"]) {
    const path = join(tempDir(), "tokens.json");
    writeFileSync(path, text);
    const err = await new FileStore(path).get("k").catch((e) => e);
    assert.ok(err instanceof StoreError, `${text}: ${err}`);
    assert.ok(err.message.includes(path), err.message);
    assert.ok(statSync(path).isFile());
    assert.equal(readFileSync(path, "utf8"), text);
    assert.equal(existsSync(`${path}.v1`), false);
  }
});

test("a legacy file beside a half-done migration is refused, both left as they are", async () => {
  const path = join(tempDir(), "tokens.json");
  writeFileSync(path, JSON.stringify({ a: "1" }));
  writeFileSync(`${path}.v1`, JSON.stringify({ b: "2" }));
  const err = await new FileStore(path).get("a").catch((e) => e);
  assert.equal(err.code, "store");
  assert.match(err.message, /move one of them away/);
  assert.ok(statSync(path).isFile());
  assert.ok(statSync(`${path}.v1`).isFile());
});
