import { mkdir, readdir } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { StoreError } from "./errors.js";
import { entryFile, entryName, readEntryFile, readValue, removeValue, writeValue } from "./file-entry.js";
import { legacyState, migrateLegacy } from "./file-migrate.js";
import { flockAvailable, flockFile, withFlock } from "./flock.js";
import { KeyedMutex, Leases } from "./leases.js";

/**
 * The property under which a store subclass (EncryptedFileStore) keeps the
 * codec of its entry files; a FileStore has none (plain JSON).
 */
export const CODEC = Symbol("deviceflow.codec");

/** How long a compare-and-swap or a migration waits for another process's lock (as Go's DefaultLockWait). */
const LOCK_WAIT_MS = 10_000;

/**
 * FileStore keeps the cached authentications in a directory readable by its
 * owner only (0700), one file per entry (0600), in the layout the Go and
 * Python hosts use (layout v2, see file-entry.js): writing one entry costs
 * the same however many others there are. Every write goes to a temporary
 * file that is flushed and renamed over the entry, and the directory is
 * flushed, so a crash never leaves half an entry. Values are read from disk
 * on every get, so another process's login is seen at once.
 *
 * A path that holds a legacy single-file store (this SDK's flat JSON object,
 * or the Go and Python `{"version":1,"entries":…}` document) is moved to the
 * directory layout on first use, without losing an entry.
 *
 * Exclusion: a compare-and-swap (`swap`, and `set`/`delete`) holds flock on
 * `N.lock` and a lease (`lock`) holds flock on `N.lease`, the same locks Go
 * and Python take, so processes of any of the three languages sharing the
 * store exclude each other. Node has no flock of its own: the locks are held
 * through util-linux's flock(1) command (see flock.js). Where that command is
 * missing — macOS, Windows, some minimal containers — the store excludes the
 * calls of this process only (every FileStore on the same path shares that),
 * and processes sharing the store can each spend the same refresh token.
 * `FileStore.crossProcess` says which applies.
 *
 * The default path is $DEVICEFLOW_STORE, else tokens.json in
 * $DEVICEFLOW_CONFIG_DIR, else deviceflow/tokens.json in the user's
 * configuration directory ($XDG_CONFIG_HOME or ~/.config; %APPDATA% on
 * Windows); despite the name, it is a directory now.
 */
export class FileStore {
  /** Whether #ready has seen this store as a migrated directory. */
  #migrated = false;

  /** @param {string} [path] */
  constructor(path) {
    this.path = resolve(path ?? defaultPath());
  }

  /**
   * The default path of a store file named name: in $DEVICEFLOW_CONFIG_DIR,
   * else in deviceflow's directory under the user's configuration directory.
   *
   * @param {string} name
   */
  static defaultPath(name) {
    return join(configDir(), name);
  }

  /**
   * Whether this process's file stores exclude other processes (flock(1) is
   * available), or only the calls of this process.
   */
  static get crossProcess() {
    return flockAvailable();
  }

  /**
   * The value under key, or undefined when there is none.
   *
   * @param {string} key
   * @returns {Promise<string | undefined>}
   */
  async get(key) {
    await this.#ready();
    return readValue(this.path, key, this[CODEC]);
  }

  /**
   * Writes the value under key, whatever value was there; an entry file that
   * cannot be read (not an entry, or sealed with another key) is a
   * StoreError, and is not overwritten (as in Go and Python).
   */
  set(key, value) {
    return this.#exclusive(key, async () => {
      if ((await readValue(this.path, key, this[CODEC])) === String(value)) return;
      await writeValue(this.path, key, String(value), this[CODEC]);
    });
  }

  /** Removes the entry of key; removing an absent one is not an error. */
  delete(key) {
    return this.#exclusive(key, () => removeValue(this.path, key));
  }

  /**
   * Replaces the value under key with next only when the value held now is
   * old; undefined stands for "no value" on both sides (next undefined
   * removes the entry). Other entries are never waited for.
   *
   * @param {string} key
   * @param {string | undefined} old
   * @param {string | undefined} next
   * @returns {Promise<{swapped: boolean, current?: string}>}
   */
  swap(key, old, next) {
    return this.#exclusive(key, async () => {
      const current = await readValue(this.path, key, this[CODEC]);
      if (current !== (old ?? undefined)) return current === undefined ? { swapped: false } : { swapped: false, current };
      if (next === undefined || next === null) await removeValue(this.path, key);
      else await writeValue(this.path, key, String(next), this[CODEC]);
      return { swapped: true };
    });
  }

  /**
   * Takes the exclusive lease on key, waiting up to waitMs for its holder.
   * Resolves to the release function, or null when still held after waitMs;
   * rejects with a "cancelled" error when signal aborts while waiting. The
   * lease excludes every call in this process on the same path, not other
   * processes (see the class's description).
   *
   * @param {string} key
   * @param {number} [waitMs]
   * @param {AbortSignal} [signal]
   * @returns {Promise<(() => void) | null>}
   */
  async lock(key, waitMs = 0, signal) {
    const start = performance.now();
    const name = entryName(key);
    const inProcess = await leases.acquire(`${this.path}\0${name}`, waitMs, signal);
    const lockFile = async () => {
      await this.#ready();
      await this.#mkdir();
      return join(this.path, `${name}.lease`);
    };
    return withFlock(inProcess, lockFile, start, waitMs, signal);
  }

  /**
   * Every key held, read from the entry files, in no particular order.
   *
   * @returns {Promise<string[]>}
   */
  async keys() {
    await this.#ready();
    let names;
    try {
      names = await readdir(this.path);
    } catch (err) {
      if (err.code === "ENOENT") return [];
      throw new StoreError(`cannot list the token store ${this.path}: ${err.code ?? err.message}`, { path: this.path, cause: err });
    }
    const keys = [];
    for (const name of names.filter((n) => /^[0-9a-f]{32}\.json$/.test(n)).sort()) {
      const entry = await readEntryFile(entryFile(this.path, name.slice(0, 32)), this[CODEC]);
      if (entry) keys.push(entry.key);
    }
    return keys;
  }

  /**
   * Runs fn as the only writer of key's entry, once the layout is ready: one
   * at a time in this process, and under flock on N.lock across processes.
   */
  async #exclusive(key, fn) {
    await this.#ready();
    const name = entryName(key);
    return writers.run(`${this.path}\0${name}`, async () => {
      if (!flockAvailable()) return fn();
      await this.#mkdir();
      const release = await mustLock(join(this.path, `${name}.lock`));
      try {
        return await fn();
      } finally {
        await release();
      }
    });
  }

  /** Creates the store directory (0700) when missing. */
  async #mkdir() {
    try {
      await mkdir(this.path, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new StoreError(`cannot create the token store ${this.path}: ${err.code ?? err.message}`, { path: this.path, cause: err });
    }
  }

  /** Moves a legacy store to the directory layout, once, under flock on PATH.lock. */
  async #ready() {
    if (this.#migrated) return;
    this.#migrated = await migrations.run(this.path, async () => {
      const { pending, directory } = await legacyState(this.path);
      if (!pending) return directory;
      const release = flockAvailable() ? await mustLock(`${this.path}.lock`) : null;
      try {
        return await migrateLegacy(this.path, this[CODEC]);
      } finally {
        await release?.();
      }
    });
  }
}

/** Per (path, entry): the CAS and writes of this process, one at a time. */
const writers = new KeyedMutex();
/** Per (path, entry): the leases of this process. */
const leases = new Leases();
/** Per path: the migration, one at a time. */
const migrations = new KeyedMutex();

/** Takes flock on file, waiting up to LOCK_WAIT_MS; a lock still busy then is a StoreError. */
export async function mustLock(file) {
  const release = await flockFile(file, LOCK_WAIT_MS);
  if (!release) throw new StoreError(`the lock ${file} stayed busy for ${LOCK_WAIT_MS / 1000} s: another process holds it`, { path: file });
  return release;
}

function defaultPath() {
  if (process.env.DEVICEFLOW_STORE) return process.env.DEVICEFLOW_STORE;
  return FileStore.defaultPath("tokens.json");
}

/** deviceflow's configuration directory: $DEVICEFLOW_CONFIG_DIR, else deviceflow in the user's. */
export function configDir() {
  if (process.env.DEVICEFLOW_CONFIG_DIR) return process.env.DEVICEFLOW_CONFIG_DIR;
  let base = process.env.XDG_CONFIG_HOME;
  if (!base && process.platform === "win32") base = process.env.APPDATA;
  if (!base) base = join(homedir(), ".config");
  return join(base, "deviceflow");
}
