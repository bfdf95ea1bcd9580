import { createCipheriv, createDecipheriv, pbkdf2, randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import { promisify } from "node:util";
import { StoreError } from "./errors.js";
import { CODEC, FileStore, mustLock } from "./file-store.js";
import { flockAvailable } from "./flock.js";

/**
 * The encrypted store's envelope, the same in Go, Python and Node
 * (wit/stores.md): each entry file of the layout v2 directory is
 *
 *   {"format":"deviceflow-encrypted-store","version":1,"cipher":"AES-256-GCM",
 *    "kdf":"none"|"pbkdf2-sha256","iterations":N,"salt":B64,"nonce":B64,
 *    "ciphertext":B64}
 *
 * where ciphertext is AES-256-GCM of the entry document under a fresh
 * 12-byte nonce, with additional data "deviceflow-encrypted-store/1" and the
 * 16-byte tag at its end, in standard padded base64.
 */
const FORMAT = "deviceflow-encrypted-store";
const VERSION = 1;
const CIPHER = "AES-256-GCM";
const AAD = Buffer.from("deviceflow-encrypted-store/1");
const KDF_NONE = "none";
const KDF_PBKDF2 = "pbkdf2-sha256";
const MAX_ITERATIONS = 10_000_000;
const MIN_PASSPHRASE = 12;

/** The environment variable that holds the key (the same in every language). */
export const KEY_ENV = "DEVICEFLOW_ENCRYPTION_KEY";

/** The keyring entry (under the keyring store's service) that holds the key when it lives there. */
export const KEYRING_KEY_USER = "encryption-key";

/** PBKDF2 iterations for new passphrase files, as Go's; tests lower it through the store's options. */
const PBKDF2_ITERATIONS = 600_000;

const HINT = "make one with: openssl rand -base64 32 (or EncryptedFileStore.generateKey())";

const pbkdf2Async = promisify(pbkdf2);

/**
 * EncryptedFileStore is a FileStore (the same directory layout, locks,
 * atomic writes and migration) whose entry files are sealed with
 * AES-256-GCM in the envelope Go and Python write: the three languages read
 * one another's encrypted stores with the same key.
 *
 * The key, first found of:
 *   - `options.key`: a base64 32-byte key (standard or URL-safe alphabet,
 *     padded or not), an array of them (the first seals, each one opens, so
 *     keys can be rotated), or "passphrase:" and at least 12 characters
 *     (PBKDF2-HMAC-SHA256, a random salt and the iteration count kept in the
 *     file);
 *   - $DEVICEFLOW_ENCRYPTION_KEY, in the same forms (keys separated by
 *     commas);
 *   - `options.keyring`: a KeyringStore whose entry "encryption-key" holds
 *     the key, created at random before the first write when the keyring
 *     has none and the store holds no entry (Go's keyring-held key).
 * Without any, the constructor throws a StoreError that says how to make a
 * key. A file the key does not open is a StoreError naming it, left
 * untouched; nothing is ever written in plain text.
 *
 * Default path: $DEVICEFLOW_CONFIG_DIR/tokens.enc.json, else
 * deviceflow/tokens.enc.json in the user's configuration directory, Go's
 * name (a directory).
 */
export class EncryptedFileStore extends FileStore {
  #key;

  /**
   * @param {string} [path]
   * @param {{key?: string | string[], keyring?: {get(key: string): Promise<string | undefined>, set(key: string, value: string): Promise<void>}, pbkdf2Iterations?: number}} [options]
   */
  constructor(path, options = {}) {
    super(path ?? defaultEncryptedPath());
    this.#key = new KeySource(options, this.path);
    Object.defineProperty(this, CODEC, { value: new Sealer(this.#key, options.pbkdf2Iterations ?? PBKDF2_ITERATIONS) });
  }

  /** Where the key comes from, for messages: "the key passed in", "DEVICEFLOW_ENCRYPTION_KEY" or "the OS keyring". */
  get keySource() {
    return this.#key.source;
  }

  async set(key, value) {
    await this.#key.ensure();
    return super.set(key, value);
  }

  async swap(key, old, next) {
    if (next !== undefined && next !== null) await this.#key.ensure();
    return super.swap(key, old, next);
  }

  /** A new random key, standard base64: a value for $DEVICEFLOW_ENCRYPTION_KEY. */
  static generateKey() {
    return randomBytes(32).toString("base64");
  }
}

/** Decodes a base64 32-byte key in either alphabet, padded or not; undefined when it is not one. */
export function decodeKey(text) {
  const s = String(text).trim();
  if (!/^[A-Za-z0-9+/\-_]+={0,2}$/.test(s) || (/[+/]/.test(s) && /[-_]/.test(s))) return undefined;
  const raw = Buffer.from(s.replace(/-/g, "+").replace(/_/g, "/"), "base64");
  return raw.length === 32 ? raw : undefined;
}

/** Where the store's AES keys come from, resolved lazily for a keyring. */
class KeySource {
  /** @type {Buffer[] | undefined} */
  keys;
  /** @type {string | undefined} */
  passphrase;
  source;
  #keyring;
  #path;
  #loading;

  constructor(options, path) {
    this.#path = path;
    let items;
    if (options.key !== undefined && options.key !== null) {
      this.source = "the key passed in";
      items = Array.isArray(options.key) ? options.key.map(String) : [String(options.key)];
    } else if (process.env[KEY_ENV]) {
      this.source = KEY_ENV;
      const env = process.env[KEY_ENV];
      items = env.startsWith("passphrase:") ? [env] : env.split(",");
    } else if (options.keyring) {
      this.source = "the OS keyring";
      this.#keyring = options.keyring;
      return;
    } else {
      throw new StoreError(`the encrypted store needs a key: pass {key}, set ${KEY_ENV} or pass {keyring: new KeyringStore()}; ${HINT}`);
    }
    if (items.length === 1 && items[0].startsWith("passphrase:")) {
      const p = items[0].slice("passphrase:".length);
      if ([...p].length < MIN_PASSPHRASE) throw new StoreError(`the passphrase in ${this.source} is shorter than ${MIN_PASSPHRASE} characters`);
      this.passphrase = p;
      return;
    }
    this.keys = items.map((item) => {
      const raw = decodeKey(item);
      if (!raw) throw new StoreError(`${this.source} is not a base64 32-byte key nor passphrase:<at least ${MIN_PASSPHRASE} characters>; ${HINT}`);
      return raw;
    });
  }

  /**
   * The AES keys (keys[0] seals). For a keyring key: read from the keyring,
   * or created when create is set (the caller holds the store's lock and the
   * store holds no entry).
   */
  async resolve(create = false) {
    if (this.keys) return this.keys;
    let value = await this.#keyring.get(KEYRING_KEY_USER);
    if (value === undefined && create) {
      await this.#keyring.set(KEYRING_KEY_USER, EncryptedFileStore.generateKey());
      value = await this.#keyring.get(KEYRING_KEY_USER); // what the keyring holds is the key from now on
    }
    if (value === undefined) {
      throw new StoreError(
        `the OS keyring holds no deviceflow encryption key for the existing encrypted store ${this.#path}: set ${KEY_ENV} to the key it was written with`,
        { path: this.#path },
      );
    }
    const raw = decodeKey(value);
    if (!raw) throw new StoreError(`the OS keyring's deviceflow encryption key is not a base64 32-byte key: set ${KEY_ENV} instead`);
    this.keys = [raw];
    return this.keys;
  }

  /**
   * Before a write: a keyring key is read, or created when the keyring has
   * none and the store holds no entry, under the flock on PATH.lock so that
   * two processes never create two keys.
   */
  async ensure() {
    if (this.keys || this.passphrase !== undefined) return;
    this.#loading ??= (async () => {
      const release = flockAvailable() ? await mustLock(`${this.#path}.lock`) : null;
      try {
        await this.resolve(!(await hasEntries(this.#path)));
      } finally {
        await release?.();
      }
    })().finally(() => (this.#loading = undefined));
    await this.#loading;
  }
}

/** Whether the store directory holds an entry file. */
async function hasEntries(dir) {
  try {
    return (await readdir(dir)).some((n) => /^[0-9a-f]{32}\.json$/.test(n));
  } catch (err) {
    if (err.code === "ENOENT" || err.code === "ENOTDIR") return false;
    throw new StoreError(`cannot list the token store ${dir}: ${err.code ?? err.message}`, { path: dir, cause: err });
  }
}

/** The codec: the envelope around the entry document. */
class Sealer {
  #key;
  #iterations;
  /** "iterations:salt-hex" → derived key; the last derived salt is reused for writes. */
  #derived = new Map();
  #salt;

  constructor(key, iterations) {
    this.#key = key;
    this.#iterations = iterations;
  }

  /** @param {Buffer} doc */
  async encode(doc) {
    const env = { format: FORMAT, version: VERSION, cipher: CIPHER, kdf: KDF_NONE };
    let key;
    if (this.#key.passphrase !== undefined) {
      const { salt, iterations } = this.#salt ?? { salt: randomBytes(16), iterations: this.#iterations };
      key = await this.#derive(salt, iterations);
      Object.assign(env, { kdf: KDF_PBKDF2, iterations, salt: salt.toString("base64") });
    } else {
      key = (await this.#key.resolve())[0];
    }
    const nonce = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", key, nonce);
    cipher.setAAD(AAD);
    const sealed = Buffer.concat([cipher.update(doc), cipher.final(), cipher.getAuthTag()]);
    env.nonce = nonce.toString("base64");
    env.ciphertext = sealed.toString("base64");
    return Buffer.from(JSON.stringify(env, null, 2) + "\n", "utf8");
  }

  /**
   * @param {Buffer} stored
   * @param {string} where
   */
  async decode(stored, where) {
    const text = stored.toString("utf8").trim();
    if (text.startsWith("gAAAAA")) {
      throw new StoreError(
        `the store file ${where} is a Fernet token, as earlier versions of the Python SDK wrote: the Python SDK still reads it and seals it in the shared AES-256-GCM format the next time it writes the entry; it was left untouched`,
        { path: where },
      );
    }
    let env;
    try {
      env = JSON.parse(text);
    } catch {
      env = undefined;
    }
    if (env === null || typeof env !== "object" || env.format !== FORMAT) {
      const plain = env && typeof env === "object" && ("entries" in env || "key" in env);
      throw new StoreError(
        `the store file ${where} is ${plain ? "from a plain file store, not an encrypted one" : "not an encrypted deviceflow store"}; it was left untouched`,
        { path: where },
      );
    }
    if (env.version !== VERSION || env.cipher !== CIPHER) {
      throw new StoreError(`the encrypted store ${where} uses version ${env.version} with ${env.cipher}, which this deviceflow cannot read; it was left untouched`, { path: where });
    }
    let keys;
    if (env.kdf === KDF_NONE) {
      if (this.#key.passphrase !== undefined) throw this.#wrongKey(where, `the file was sealed with a key, and ${this.#key.source} holds a passphrase`);
      keys = await this.#key.resolve();
    } else if (env.kdf === KDF_PBKDF2) {
      if (this.#key.passphrase === undefined) throw this.#wrongKey(where, `the file was sealed with a passphrase, and ${this.#key.source} holds a key`);
      const salt = typeof env.salt === "string" ? Buffer.from(env.salt, "base64") : Buffer.alloc(0);
      if (!Number.isInteger(env.iterations) || env.iterations < 1 || env.iterations > MAX_ITERATIONS || salt.length < 8) {
        throw new StoreError(`the encrypted store ${where} has bad key derivation parameters; it was left untouched`, { path: where });
      }
      keys = [await this.#derive(salt, env.iterations)];
    } else {
      throw new StoreError(`the encrypted store ${where} uses an unknown key derivation ${JSON.stringify(env.kdf)}; it was left untouched`, { path: where });
    }
    const nonce = typeof env.nonce === "string" ? Buffer.from(env.nonce, "base64") : Buffer.alloc(0);
    const sealed = typeof env.ciphertext === "string" ? Buffer.from(env.ciphertext, "base64") : Buffer.alloc(0);
    if (nonce.length === 12 && sealed.length >= 16) {
      for (const key of keys) {
        try {
          const decipher = createDecipheriv("aes-256-gcm", key, nonce);
          decipher.setAAD(AAD);
          decipher.setAuthTag(sealed.subarray(sealed.length - 16));
          return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
        } catch {
          // Not this key: try the next one.
        }
      }
    }
    throw this.#wrongKey(where, "wrong key, or the file was altered");
  }

  async #derive(salt, iterations) {
    const id = `${iterations}:${salt.toString("hex")}`;
    let key = this.#derived.get(id);
    if (!key) {
      key = await pbkdf2Async(this.#key.passphrase, salt, iterations, 32, "sha256");
      if (this.#derived.size >= 64) this.#derived.clear();
      this.#derived.set(id, key);
      this.#salt = { salt, iterations };
    }
    return key;
  }

  #wrongKey(where, why) {
    return new StoreError(`cannot decrypt the store file ${where} with the key from ${this.#key.source} (${why}); it was left untouched`, { path: where });
  }
}

function defaultEncryptedPath() {
  return FileStore.defaultPath("tokens.enc.json");
}
