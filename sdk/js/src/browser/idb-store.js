import { StoreError } from "../errors.js";
import { webLock } from "./web-locks.js";

const VALUES = "values";
const KEYS = "keys";
const KEY_ID = "aes-gcm";
const VERSION = 1;

/**
 * IndexedDBStore keeps the engine's values (cached authentications) in the
 * browser's IndexedDB, sealed with AES-GCM (256-bit, a fresh 96-bit nonce per
 * write, the entry's key as additional data, so a sealed value cannot be
 * moved to another key) under a WebCrypto key that is generated in the
 * browser, marked non-extractable and kept in the same database: page
 * scripts can use it but never read its bytes, and a copy of the database
 * files alone does not give the tokens away. Tokens never go to
 * localStorage.
 *
 * It implements the store contract in full: `swap` is a compare-and-swap
 * that holds across tabs (the write checks, in one IndexedDB transaction,
 * that the sealed record is still the one read), and `lock` is a lease for
 * every tab and worker of the origin through the Web Locks API, so one
 * refresh token is spent once however many tabs ask.
 *
 * What it does not protect against: a script running in the page (XSS) can
 * ask the store, as the app does. Keep the page's content security tight.
 */
export class IndexedDBStore {
  #name;
  #factory;
  #locks;
  /** @type {Promise<IDBDatabase> | null} */
  #db = null;
  /** @type {Promise<CryptoKey> | null} */
  #key = null;

  /**
   * @param {{name?: string, indexedDB?: IDBFactory, locks?: LockManager}} [options]
   *   name: the database's name ("deviceflow"); indexedDB and locks: for tests.
   */
  constructor(options = {}) {
    this.#name = options.name ?? "deviceflow";
    this.#factory = options.indexedDB ?? globalThis.indexedDB;
    this.#locks = options.locks;
    if (!this.#factory) throw new StoreError("IndexedDBStore: this browser has no IndexedDB (use MemoryStore)");
    if (!globalThis.crypto?.subtle) {
      throw new StoreError("IndexedDBStore: WebCrypto (crypto.subtle) needs a secure context: serve the page over https or from localhost");
    }
  }

  /** The database's name. */
  get name() {
    return this.#name;
  }

  /** @param {string} key */
  async get(key) {
    const record = await this.#read(String(key));
    return record === undefined ? undefined : this.#open(String(key), record);
  }

  /** @param {string} key @param {string} value */
  async set(key, value) {
    const sealed = await this.#seal(String(key), String(value));
    await this.#tx(VALUES, "readwrite", (s) => s.put(sealed, String(key)));
  }

  /** @param {string} key */
  async delete(key) {
    await this.#tx(VALUES, "readwrite", (s) => s.delete(String(key)));
  }

  /**
   * Replaces the value under key with next only when the value held is old
   * (undefined: none); next undefined removes it. Atomic across tabs: the
   * sealed record read is compared again inside the writing transaction,
   * and the whole step is tried again when another tab wrote in between.
   *
   * @param {string} key
   * @param {string | undefined} old
   * @param {string | undefined} next
   * @returns {Promise<{swapped: boolean, current?: string}>}
   */
  async swap(key, old, next) {
    key = String(key);
    for (let attempt = 0; attempt < 16; attempt++) {
      const record = await this.#read(key);
      const current = record === undefined ? undefined : await this.#open(key, record);
      if (current !== (old ?? undefined)) return current === undefined ? { swapped: false } : { swapped: false, current };
      const sealed = next === undefined || next === null ? undefined : await this.#seal(key, String(next));
      const wrote = await this.#tx(VALUES, "readwrite", (s, done) => {
        const r = s.get(key);
        r.onsuccess = () => {
          if (!sameRecord(r.result, record)) return done(false);
          if (sealed === undefined) s.delete(key);
          else s.put(sealed, key);
          done(true);
        };
      });
      if (wrote) return { swapped: true };
    }
    throw new StoreError("IndexedDBStore: the value kept changing under a compare-and-swap");
  }

  /**
   * Takes the exclusive lease on key for every tab of this origin (Web
   * Locks), waiting up to waitMs. Resolves to the release function, or null
   * when another holder kept it.
   *
   * @param {string} key
   * @param {number} [waitMs]
   * @param {AbortSignal} [signal]
   */
  lock(key, waitMs = 0, signal) {
    return webLock(`deviceflow:${this.#name}:${key}`, waitMs, signal, this.#locks);
  }

  /** Removes every value and the encryption key: the database is deleted. */
  async clear() {
    const db = await this.#database();
    db.close();
    this.#db = null;
    this.#key = null;
    await request(this.#factory.deleteDatabase(this.#name));
  }

  /** Closes the database connection (a later call opens it again). */
  async close() {
    if (!this.#db) return;
    const db = await this.#db.catch(() => null);
    db?.close();
    this.#db = null;
  }

  #database() {
    if (!this.#db) {
      this.#db = new Promise((resolve, reject) => {
        const open = this.#factory.open(this.#name, VERSION);
        open.onupgradeneeded = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains(VALUES)) db.createObjectStore(VALUES);
          if (!db.objectStoreNames.contains(KEYS)) db.createObjectStore(KEYS);
        };
        open.onsuccess = () => {
          const db = open.result;
          // Another tab upgrading the database closes this connection.
          db.onversionchange = () => {
            db.close();
            this.#db = null;
          };
          resolve(db);
        };
        open.onerror = () => reject(storeError("opening the database", open.error));
        open.onblocked = () => reject(new StoreError("IndexedDBStore: the database is held open by another tab at an older version"));
      });
      this.#db.catch(() => {
        this.#db = null;
      });
    }
    return this.#db;
  }

  /**
   * Runs body in one transaction on storeName; body gets the object store
   * and done(value), and the promise resolves to that value once the
   * transaction has committed.
   *
   * @template T
   * @param {string} storeName
   * @param {IDBTransactionMode} mode
   * @param {(store: IDBObjectStore, done: (value: T) => void) => any} body
   * @returns {Promise<T>}
   */
  async #tx(storeName, mode, body) {
    const db = await this.#database();
    return new Promise((resolve, reject) => {
      let value;
      let tx;
      try {
        tx = db.transaction(storeName, mode);
      } catch (err) {
        reject(storeError("starting a transaction", err));
        return;
      }
      tx.oncomplete = () => resolve(value);
      tx.onerror = () => reject(storeError("a transaction", tx.error));
      tx.onabort = () => reject(storeError("a transaction", tx.error));
      const store = tx.objectStore(storeName);
      const direct = body(store, (v) => {
        value = v;
      });
      if (direct instanceof IDBRequest) {
        direct.onsuccess = () => {
          value = direct.result;
        };
      }
    });
  }

  /** The sealed record under key, or undefined. */
  #read(key) {
    return this.#tx(VALUES, "readonly", (s) => s.get(key)).then((r) => (r === null ? undefined : r));
  }

  /**
   * The AES-GCM key: the one in the database, or a new non-extractable one
   * put there in the same transaction that found none, so that two tabs
   * starting at once agree on one key.
   */
  #cryptoKey() {
    if (!this.#key) {
      this.#key = (async () => {
        const found = await this.#tx(KEYS, "readonly", (s) => s.get(KEY_ID));
        if (found) return found;
        const fresh = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
        return this.#tx(KEYS, "readwrite", (s, done) => {
          const r = s.get(KEY_ID);
          r.onsuccess = () => {
            if (r.result) return done(r.result);
            s.put(fresh, KEY_ID);
            done(fresh);
          };
        });
      })();
      this.#key.catch(() => {
        this.#key = null;
      });
    }
    return this.#key;
  }

  async #seal(key, value) {
    const cryptoKey = await this.#cryptoKey();
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const data = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(key) },
      cryptoKey,
      new TextEncoder().encode(value),
    );
    return { v: 1, iv, data: new Uint8Array(data) };
  }

  async #open(key, record) {
    if (!record || record.v !== 1 || !(record.iv instanceof Uint8Array) || !(record.data instanceof Uint8Array)) {
      throw new StoreError(`IndexedDBStore: the entry under ${JSON.stringify(key).slice(0, 80)} is not a sealed value`);
    }
    const cryptoKey = await this.#cryptoKey();
    let plain;
    try {
      plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: record.iv, additionalData: new TextEncoder().encode(key) }, cryptoKey, record.data);
    } catch {
      throw new StoreError("IndexedDBStore: a value does not open with this database's key (tampered with, or sealed under another key)");
    }
    return new TextDecoder().decode(plain);
  }
}

/** Whether two sealed records are the same write (each write has its own nonce). */
function sameRecord(a, b) {
  if (a === undefined || a === null) return b === undefined;
  if (b === undefined || !(a.iv instanceof Uint8Array) || !(b.iv instanceof Uint8Array)) return false;
  if (a.iv.length !== b.iv.length) return false;
  for (let i = 0; i < a.iv.length; i++) if (a.iv[i] !== b.iv[i]) return false;
  return true;
}

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(storeError("a request", req.error));
  });
}

function storeError(what, cause) {
  const name = cause && typeof cause === "object" && "name" in cause ? cause.name : "";
  return new StoreError(`IndexedDBStore: ${what} failed${name ? ` (${name})` : ""}`, { cause });
}
