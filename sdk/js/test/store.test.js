// Stores: the file store (0600, atomic, shared between strategies and
// processes), failures surfacing as code "store", and the memory default.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createOAuthDeviceAuth, FileStore, MemoryStore, closeIdle } from "../src/index.js";
import { FakeGitHub, token } from "./support/fake-github.js";

after(() => closeIdle());

const tempDir = () => mkdtempSync(join(tmpdir(), "deviceflow-store-"));

test("FileStore writes 0600 in a 0700 directory, atomically, and reads back", async () => {
  const dir = tempDir();
  const path = join(dir, "nested", "tokens.json");
  const store = new FileStore(path);
  assert.equal(await store.get("a"), undefined);
  await Promise.all(Array.from({ length: 20 }, (_, i) => store.set(`k${i}`, `v${i}`)));
  for (let i = 0; i < 20; i++) assert.equal(await store.get(`k${i}`), `v${i}`);
  if (process.platform !== "win32") {
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, "nested")).mode & 0o777, 0o700);
  }
  assert.deepEqual(readdirSync(join(dir, "nested")), ["tokens.json"], "no temporary file is left behind");
  await store.delete("k0");
  await store.delete("absent");
  assert.equal(await new FileStore(path).get("k0"), undefined);
  assert.equal(JSON.parse(readFileSync(path, "utf8")).k1, "v1");
});

test("a token in a FileStore is found by a new strategy without a new flow", async (t) => {
  const gh = new FakeGitHub({ answers: [token("gho_persist", "repo")] });
  await gh.start();
  t.after(() => gh.close());
  const path = join(tempDir(), "tokens.json");
  const make = () => createOAuthDeviceAuth({ clientId: "Iv1.file", scopes: ["repo"], baseUrl: gh.url, store: new FileStore(path), onVerification() {} });
  assert.equal((await make()({ type: "oauth" })).token, "gho_persist");
  assert.equal((await make()({ type: "oauth" })).token, "gho_persist");
  assert.equal(gh.to("/login/device/code").length, 1);
});

test("a failing store fails the call with code store", async (t) => {
  const gh = new FakeGitHub({ answers: [token()] });
  await gh.start();
  t.after(() => gh.close());
  const broken = { get: () => undefined, set: async () => { throw new Error("disk full"); }, delete() {} };
  const auth = createOAuthDeviceAuth({ clientId: "Iv1.broken", baseUrl: gh.url, store: broken, onVerification() {} });
  const err = await auth({ type: "oauth" }).catch((e) => e);
  assert.equal(err.code, "store");
  assert.match(err.message, /disk full/);

  const path = join(tempDir(), "tokens.json");
  writeFileSync(path, "{not json");
  const err2 = await createOAuthDeviceAuth({ clientId: "Iv1.bad", baseUrl: gh.url, store: new FileStore(path), onVerification() {} })({ type: "oauth" }).catch((e) => e);
  assert.equal(err2.code, "store");
  assert.match(err2.message, /not valid JSON/);
});

test("each strategy has its own memory store by default; a shared one is shared", async (t) => {
  const gh = new FakeGitHub({ answers: [token()] });
  await gh.start();
  t.after(() => gh.close());
  const opts = { clientId: "Iv1.mem", baseUrl: gh.url, onVerification() {} };
  await createOAuthDeviceAuth(opts)({ type: "oauth" });
  await createOAuthDeviceAuth(opts)({ type: "oauth" });
  assert.equal(gh.to("/login/device/code").length, 2);
  const shared = new MemoryStore();
  await createOAuthDeviceAuth({ ...opts, store: shared })({ type: "oauth" });
  await createOAuthDeviceAuth({ ...opts, store: shared })({ type: "oauth" });
  assert.equal(gh.to("/login/device/code").length, 3);
  const [key] = Object.keys(shared.snapshot());
  assert.equal(key, `deviceflow:v1:${gh.url}|oauth-app|Iv1.mem|`);
});
