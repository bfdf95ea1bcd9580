// EncryptedFileStore: FileStore's layout v2, each entry sealed in the
// AES-256-GCM envelope Go and Python write (wit/stores.md); keys in any
// base64 alphabet, rotation, passphrase, a key held in the keyring; a file
// the key does not open is a store error naming it, left untouched.
// (host/interop's Go test shows the three languages reading one another's.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { createCipheriv, createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EncryptedFileStore, FileStore, KeyringStore, StoreError } from "../src/index.js";

const tempDir = () => mkdtempSync(join(tmpdir(), "deviceflow-encrypted-"));
const nameOf = (key) => createHash("sha256").update(key, "utf8").digest("hex").slice(0, 32);
const SECRET = "gho_thisIsNotARealTokenButItMustNeverBeVisible0";
const KEY = "deviceflow:v1:https://github.com|oauth-app|Ov23li|repo";

/** An in-memory keyring backend, as Go's and Python's keyring tests use. */
function fakeKeyring() {
  const m = new Map();
  return {
    m,
    getPassword: (s, u) => m.get(`${s}/${u}`) ?? null,
    setPassword: (s, u, v) => void m.set(`${s}/${u}`, v),
    deletePassword: (s, u) => m.delete(`${s}/${u}`),
  };
}

test("entries are sealed in the shared envelope, 0600, with no plain text", async () => {
  const dir = join(tempDir(), "tokens.enc.json");
  const store = new EncryptedFileStore(dir, { key: EncryptedFileStore.generateKey() });
  await store.set(KEY, SECRET);
  assert.equal(await store.get(KEY), SECRET);
  const file = join(dir, `${nameOf(KEY)}.json`);
  const raw = readFileSync(file, "utf8");
  assert.ok(!raw.includes(SECRET) && !raw.includes("github.com"));
  const env = JSON.parse(raw);
  assert.deepEqual(Object.keys(env), ["format", "version", "cipher", "kdf", "nonce", "ciphertext"]);
  assert.deepEqual([env.format, env.version, env.cipher, env.kdf], ["deviceflow-encrypted-store", 1, "AES-256-GCM", "none"]);
  assert.equal(Buffer.from(env.nonce, "base64").length, 12);
  if (process.platform !== "win32") assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(await store.keys(), [KEY]);
  assert.deepEqual(await store.swap(KEY, SECRET, "next"), { swapped: true });
  assert.deepEqual(await store.swap(KEY, SECRET, "again"), { swapped: false, current: "next" });
  await store.delete(KEY);
  assert.equal(await store.get(KEY), undefined);
});

test("reads an envelope sealed by hand as the spec says, the key in either base64 alphabet", async () => {
  const raw = randomBytes(32);
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", raw, nonce);
  cipher.setAAD(Buffer.from("deviceflow-encrypted-store/1"));
  const doc = JSON.stringify({ version: 2, key: KEY, value: SECRET });
  const sealed = Buffer.concat([cipher.update(doc), cipher.final(), cipher.getAuthTag()]);
  const dir = join(tempDir(), "tokens");
  mkdirSync(dir);
  writeFileSync(
    join(dir, `${nameOf(KEY)}.json`),
    JSON.stringify({ format: "deviceflow-encrypted-store", version: 1, cipher: "AES-256-GCM", kdf: "none", nonce: nonce.toString("base64"), ciphertext: sealed.toString("base64") }),
  );
  for (const form of [raw.toString("base64"), raw.toString("base64url")]) {
    assert.equal(await new EncryptedFileStore(dir, { key: form }).get(KEY), SECRET);
  }
});

test("a wrong key, an altered file, a plain entry and a Fernet token are errors naming the file, which survives", async () => {
  const dir = join(tempDir(), "tokens");
  const key = EncryptedFileStore.generateKey();
  await new EncryptedFileStore(dir, { key }).set(KEY, SECRET);
  const file = join(dir, `${nameOf(KEY)}.json`);
  const before = readFileSync(file);
  const other = new EncryptedFileStore(dir, { key: EncryptedFileStore.generateKey() });
  await assert.rejects(other.get(KEY), (e) => e instanceof StoreError && e.path === file && /wrong key/.test(e.message));
  await assert.rejects(other.set(KEY, "x"), /wrong key/);
  assert.deepEqual(readFileSync(file), before);
  const env = JSON.parse(before.toString());
  env.ciphertext = Buffer.from(env.ciphertext, "base64").map((b, i) => (i === 3 ? b ^ 1 : b)).toString("base64");
  writeFileSync(file, JSON.stringify(env));
  await assert.rejects(new EncryptedFileStore(dir, { key }).get(KEY), /altered/);
  await new FileStore(join(dir, "..", "plain")).set(KEY, SECRET);
  await assert.rejects(new EncryptedFileStore(join(dir, "..", "plain"), { key }).get(KEY), /from a plain file store/);
  writeFileSync(file, "gAAAAABl0123456789abcdef==");
  await assert.rejects(new EncryptedFileStore(dir, { key }).get(KEY), /Fernet token, as earlier versions of the Python SDK/);
});

test("key rotation: the first key seals, each one opens", async () => {
  const dir = join(tempDir(), "tokens");
  const [oldKey, newKey] = [EncryptedFileStore.generateKey(), EncryptedFileStore.generateKey()];
  await new EncryptedFileStore(dir, { key: oldKey }).set(KEY, SECRET);
  const rotated = new EncryptedFileStore(dir, { key: [newKey, oldKey] });
  assert.equal(await rotated.get(KEY), SECRET);
  await rotated.set(KEY, "rotated");
  assert.equal(await new EncryptedFileStore(dir, { key: newKey }).get(KEY), "rotated");
});

test("a passphrase: PBKDF2 with the salt and iterations in each file; the key's kind must match", async () => {
  const dir = join(tempDir(), "tokens");
  const store = new EncryptedFileStore(dir, { key: "passphrase:correct horse battery", pbkdf2Iterations: 1000 });
  await store.set(KEY, SECRET);
  await store.set("other", "x");
  const envs = readdirSync(dir).filter((n) => n.endsWith(".json")).map((n) => JSON.parse(readFileSync(join(dir, n), "utf8")));
  assert.equal(new Set(envs.map((e) => `${e.kdf} ${e.iterations} ${e.salt}`)).size, 1, "one salt per process");
  assert.equal(envs[0].kdf, "pbkdf2-sha256");
  assert.equal(await new EncryptedFileStore(dir, { key: "passphrase:correct horse battery" }).get(KEY), SECRET);
  await assert.rejects(new EncryptedFileStore(dir, { key: "passphrase:wrong horse battery" }).get(KEY), /wrong key/);
  await assert.rejects(new EncryptedFileStore(dir, { key: EncryptedFileStore.generateKey() }).get(KEY), /sealed with a passphrase/);
  assert.throws(() => new EncryptedFileStore(dir, { key: "passphrase:short" }), /shorter than 12/);
});

test("the key from DEVICEFLOW_ENCRYPTION_KEY; no key or a malformed one says how to make one", async (t) => {
  const saved = process.env.DEVICEFLOW_ENCRYPTION_KEY;
  t.after(() => {
    if (saved === undefined) delete process.env.DEVICEFLOW_ENCRYPTION_KEY;
    else process.env.DEVICEFLOW_ENCRYPTION_KEY = saved;
  });
  const dir = join(tempDir(), "tokens");
  delete process.env.DEVICEFLOW_ENCRYPTION_KEY;
  assert.throws(() => new EncryptedFileStore(dir), (e) => e instanceof StoreError && /DEVICEFLOW_ENCRYPTION_KEY.*openssl rand -base64 32/.test(e.message));
  process.env.DEVICEFLOW_ENCRYPTION_KEY = "not-a-key";
  assert.throws(() => new EncryptedFileStore(dir), /not a base64 32-byte key/);
  process.env.DEVICEFLOW_ENCRYPTION_KEY = `${EncryptedFileStore.generateKey()}, ${EncryptedFileStore.generateKey()}`;
  const store = new EncryptedFileStore(dir);
  assert.equal(store.keySource, "DEVICEFLOW_ENCRYPTION_KEY");
  await store.set(KEY, SECRET);
  assert.equal(await new EncryptedFileStore(dir).get(KEY), SECRET);
});

test("a key held in the keyring: created before the first write of an empty store, never for one with entries", async () => {
  const ring = fakeKeyring();
  const locks = join(tempDir(), "locks");
  const keyring = new KeyringStore({ backend: ring, lockDir: locks });
  const dir = join(tempDir(), "tokens");
  const store = new EncryptedFileStore(dir, { keyring });
  assert.equal(store.keySource, "the OS keyring");
  assert.equal(await store.get(KEY), undefined);
  assert.equal(ring.m.size, 0, "reading creates no key");
  await Promise.all([store.set(KEY, SECRET), new EncryptedFileStore(dir, { keyring }).set("other", "x")]);
  assert.deepEqual([...ring.m.keys()], ["deviceflow/encryption-key"]);
  const key = ring.m.get("deviceflow/encryption-key");
  assert.equal(Buffer.from(key, "base64").length, 32);
  assert.equal(await new EncryptedFileStore(dir, { key }).get(KEY), SECRET, "the keyring's key is an ordinary key");
  ring.m.clear();
  const lost = new EncryptedFileStore(dir, { keyring });
  await assert.rejects(lost.set("third", "x"), /holds no deviceflow encryption key for the existing encrypted store/);
  assert.equal(ring.m.size, 0);
});

test("a legacy single-file store is migrated (sealed whole, as Go's v1)", async () => {
  const key = EncryptedFileStore.generateKey();
  const scratch = new EncryptedFileStore(join(tempDir(), "scratch"), { key });
  const v1 = join(tempDir(), "tokens.enc.json");
  // The Go v1 encrypted file: the envelope around {"version":1,"entries":{...}}.
  const Sealer = Object.getOwnPropertySymbols(scratch).map((s) => scratch[s])[0];
  writeFileSync(v1, await Sealer.encode(Buffer.from(JSON.stringify({ version: 1, entries: { [KEY]: SECRET, other: "x" } }))));
  const store = new EncryptedFileStore(v1, { key });
  assert.equal(await store.get(KEY), SECRET);
  assert.ok(statSync(v1).isDirectory());
  assert.deepEqual((await store.keys()).sort(), [KEY, "other"].sort());
});
