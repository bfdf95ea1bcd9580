// Stores through the plugin: the file store shared between strategies,
// failures surfacing as code "store", and the memory default. The stores'
// own behaviour is in file-store.test.js and hostfuncs.test.js.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createOAuthDeviceAuth, FileStore, MemoryStore, closeIdle } from "../src/index.js";
import { FakeGitHub, token } from "./support/fake-github.js";

after(() => closeIdle());

const tempDir = () => mkdtempSync(join(tmpdir(), "deviceflow-store-"));

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
