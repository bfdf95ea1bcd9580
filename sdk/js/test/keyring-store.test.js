// KeyringStore: values in the OS keyring through @napi-rs/keyring, named as
// Go and Python name them (service "deviceflow", the key as user name), the
// Secret Service required on Linux. As Go's and Python's keyring tests do,
// the store runs on an in-memory backend, and the real OS keyring is run once
// to show that this headless machine has none and that the store says so,
// promptly, naming the other stores, never falling back to plain text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FileStore, KeyringStore, KeyringUnavailableError, StoreError } from "../src/index.js";

const tempDir = () => mkdtempSync(join(tmpdir(), "deviceflow-keyring-"));
const nameOf = (key) => createHash("sha256").update(key, "utf8").digest("hex").slice(0, 32);
const SECRET = "gho_thisIsNotARealTokenButItMustNeverBeVisible0";
const KEY = "deviceflow:v1:https://github.com|oauth-app|Ov23li|repo";

function fakeKeyring() {
  const m = new Map();
  return {
    m,
    getPassword: async (s, u) => m.get(`${s}/${u}`) ?? null,
    setPassword: async (s, u, v) => void m.set(`${s}/${u}`, v),
    deletePassword: async (s, u) => m.delete(`${s}/${u}`),
  };
}

test("values live under service deviceflow with the key as user name", async () => {
  const ring = fakeKeyring();
  const store = new KeyringStore({ backend: ring, lockDir: join(tempDir(), "locks") });
  assert.equal(store.service, "deviceflow");
  assert.equal(await store.get(KEY), undefined);
  await store.set(KEY, SECRET);
  assert.deepEqual([...ring.m], [[`deviceflow/${KEY}`, SECRET]]);
  assert.equal(await store.get(KEY), SECRET);
  await store.delete(KEY);
  await store.delete(KEY);
  assert.equal(ring.m.size, 0);
  await store.check();
});

test("swap and lock go through the lock files Go and Python use: N.lock and N.lease in the lock directory", async () => {
  const ring = fakeKeyring();
  const locks = join(tempDir(), "keyring-locks");
  const store = new KeyringStore({ backend: ring, lockDir: locks });
  assert.deepEqual(await store.swap(KEY, undefined, "one"), { swapped: true });
  assert.deepEqual(await store.swap(KEY, "two", "three"), { swapped: false, current: "one" });
  assert.deepEqual(await store.swap(KEY, "one", undefined), { swapped: true });
  assert.equal(ring.m.size, 0);
  const release = await store.lock(KEY, 0);
  assert.equal(typeof release, "function");
  assert.equal(await new KeyringStore({ backend: ring, lockDir: locks }).lock(KEY, 0), null, "the lease is exclusive");
  await release();
  const again = await store.lock(KEY, 0);
  await again();
  if (FileStore.crossProcess) {
    assert.deepEqual(readdirSync(locks).sort(), [`${nameOf(KEY)}.lease`, `${nameOf(KEY)}.lock`]);
  }
});

test("the lock directory defaults to deviceflow/keyring-locks in the user cache directory", () => {
  const store = new KeyringStore({ backend: fakeKeyring() });
  if (process.platform === "linux") {
    const base = process.env.XDG_CACHE_HOME || join(process.env.HOME ?? "", ".cache");
    assert.equal(store.lockDir, join(base, "deviceflow", "keyring-locks"));
  }
});

test("a failing backend is a KeyringUnavailableError naming the other stores, never quoting the value", async () => {
  const backend = {
    getPassword: () => {
      throw new Error("Platform failure: DBus error: no Secret Service");
    },
    setPassword: (_s, _u, v) => Promise.reject(new Error(`cannot store ${v}: no Secret Service`)),
    deletePassword: () => Promise.reject(new Error("no Secret Service")),
  };
  const store = new KeyringStore({ backend, lockDir: join(tempDir(), "locks") });
  for (const call of [store.get(KEY), store.set(KEY, SECRET), store.delete(KEY), store.check()]) {
    await assert.rejects(call, (e) => {
      assert.ok(e instanceof KeyringUnavailableError && e instanceof StoreError, String(e));
      assert.equal(e.code, "store");
      assert.match(e.message, /FileStore.*EncryptedFileStore.*never falls back to a plain file/);
      assert.ok(!e.message.includes(SECRET), e.message);
      return true;
    });
  }
});

test("a keyring that never answers fails each call after timeoutMs", async () => {
  const backend = { getPassword: () => new Promise(() => {}), setPassword: () => new Promise(() => {}), deletePassword: () => new Promise(() => {}) };
  const store = new KeyringStore({ backend, timeoutMs: 100 });
  const start = performance.now();
  await assert.rejects(store.get(KEY), (e) => e instanceof KeyringUnavailableError && /did not read within 100 ms/.test(e.message));
  assert.ok(performance.now() - start < 5000);
});

test("the real OS keyring on this machine: no Secret Service, a prompt clear error, no plain-text fallback", { skip: process.platform !== "linux" && "the Secret Service is Linux's" }, async () => {
  // In a child process with no reachable session bus, as Go's test runs go-keyring.
  const home = tempDir();
  const code = `
    const { KeyringStore } = await import(${JSON.stringify(new URL("../src/index.js", import.meta.url).href)});
    const s = new KeyringStore({ service: "deviceflow-test", timeoutMs: 5000 });
    try { await s.set("k", ${JSON.stringify(SECRET)}); console.log("ACCEPTED"); }
    catch (e) { console.log(e.name + ": " + e.message); }`;
  const start = performance.now();
  const out = await new Promise((resolve, reject) =>
    execFile(process.execPath, ["--input-type=module", "-e", code], {
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      env: { ...process.env, HOME: home, XDG_CACHE_HOME: join(home, ".cache"), DBUS_SESSION_BUS_ADDRESS: "unix:path=/nonexistent/deviceflow-test", DISPLAY: "" },
    }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))),
  );
  assert.match(out, /^KeyringUnavailableError: the OS keyring is not available \(.*\): use FileStore, or EncryptedFileStore/);
  assert.ok(!out.includes(SECRET));
  assert.ok(performance.now() - start < 10_000);
  assert.deepEqual(readdirSync(home), [], "nothing written anywhere under HOME (no kernel-keyring or file fallback)");
});
