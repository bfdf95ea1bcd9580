import { homedir } from "node:os";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { StoreError } from "./errors.js";
import { entryName } from "./file-entry.js";
import { mustLock } from "./file-store.js";
import { flockAvailable, withFlock } from "./flock.js";
import { KeyedMutex, Leases } from "./leases.js";

/** The keyring service deviceflow's entries live under, in every language. */
export const DEFAULT_KEYRING_SERVICE = "deviceflow";

/** How long one keyring call may take (as Go's DefaultKeyringTimeout). */
const DEFAULT_TIMEOUT_MS = 10_000;

const ALTERNATIVES = "use FileStore, or EncryptedFileStore with DEVICEFLOW_ENCRYPTION_KEY (deviceflow never falls back to a plain file)";

/**
 * KeyringUnavailableError: the OS keyring cannot be used here (no Secret
 * Service on a headless Linux, a locked keyring that does not answer, no
 * native binary for this platform). Its message says which store to use
 * instead. It is a StoreError, code "store".
 */
export class KeyringUnavailableError extends StoreError {
  /**
   * @param {string} message
   * @param {{cause?: unknown}} [options]
   */
  constructor(message, options) {
    super(message, options);
    this.name = "KeyringUnavailableError";
  }
}

/**
 * KeyringStore keeps each value as a secret in the OS keyring (macOS
 * Keychain, Windows Credential Manager, the Secret Service on Linux: GNOME
 * Keyring, KWallet) through `@napi-rs/keyring`: the service is "deviceflow"
 * and the user name is the plugin's key, as Go's and Python's KeyringStore
 * name them.
 *
 * On Linux the store requires the Secret Service, as Go and Python do:
 * `@napi-rs/keyring` would otherwise fall back to the kernel's keyutils
 * keyring, which forgets everything at reboot and which the other languages
 * never see. Where the keyring cannot be used, every call fails with a
 * KeyringUnavailableError that names the other stores; nothing is ever
 * written in plain text. Every call is time-boxed (`timeoutMs`).
 *
 * A keyring has no compare-and-swap and no leases, so `swap` and `lock` go
 * through the lock files Go and Python use, in `lockDir` (by default
 * deviceflow/keyring-locks in the user's cache directory: $XDG_CACHE_HOME or
 * ~/.cache on Linux, ~/Library/Caches on macOS, %LOCALAPPDATA% on Windows):
 * flock on N.lock around one read-compare-write and on N.lease for a lease,
 * N being the first 32 hex digits of the SHA-256 of the key. They exclude
 * the processes of this user where flock(1) is available (see FileStore),
 * else the calls of this process.
 *
 * `backend` replaces the OS keyring (tests, or another secret store): an
 * object with getPassword(service, user) (a string, or null when absent),
 * setPassword(service, user, secret) and deletePassword(service, user),
 * sync or async.
 */
export class KeyringStore {
  #backend;
  #loading;

  /**
   * @param {{service?: string, timeoutMs?: number, lockDir?: string, backend?: KeyringBackend}} [options]
   */
  constructor(options = {}) {
    this.service = options.service || DEFAULT_KEYRING_SERVICE;
    this.timeoutMs = options.timeoutMs > 0 ? options.timeoutMs : DEFAULT_TIMEOUT_MS;
    this.lockDir = options.lockDir ?? join(cacheDir(), "keyring-locks");
    this.#backend = options.backend;
  }

  /**
   * Resolves when the keyring answers (looking up an entry that need not
   * exist); rejects with a KeyringUnavailableError otherwise.
   */
  async check() {
    await this.get("deviceflow-check");
  }

  /**
   * @param {string} key
   * @returns {Promise<string | undefined>}
   */
  async get(key) {
    const v = await this.#call("read", "", (b) => b.getPassword(this.service, key));
    return typeof v === "string" ? v : undefined;
  }

  /**
   * @param {string} key
   * @param {string} value
   */
  async set(key, value) {
    await this.#call("write", String(value), (b) => b.setPassword(this.service, key, String(value)));
  }

  /** Removes key; an absent key is not an error. */
  async delete(key) {
    await this.#call("delete", "", (b) => b.deletePassword(this.service, key));
  }

  /**
   * Replaces the value under key with next only when the value held now is
   * old (undefined: no value), under the flock on N.lock.
   *
   * @param {string} key
   * @param {string | undefined} old
   * @param {string | undefined} next
   * @returns {Promise<{swapped: boolean, current?: string}>}
   */
  swap(key, old, next) {
    const name = entryName(key);
    return writers.run(`${this.lockDir}\0${name}`, async () => {
      const release = flockAvailable() ? await mustLock(await this.#lockFile(name, "lock")) : null;
      try {
        const current = await this.get(key);
        if (current !== (old ?? undefined)) return current === undefined ? { swapped: false } : { swapped: false, current };
        if (next === undefined || next === null) {
          if (current !== undefined) await this.delete(key);
        } else await this.set(key, String(next));
        return { swapped: true };
      } finally {
        await release?.();
      }
    });
  }

  /**
   * Takes the lease on key (flock on N.lease), waiting up to waitMs.
   * Resolves to the release function, or null when still held after waitMs.
   *
   * @param {string} key
   * @param {number} [waitMs]
   * @param {AbortSignal} [signal]
   * @returns {Promise<(() => Promise<void> | void) | null>}
   */
  async lock(key, waitMs = 0, signal) {
    const start = performance.now();
    const name = entryName(key);
    const inProcess = await leases.acquire(`${this.lockDir}\0${name}`, waitMs, signal);
    return withFlock(inProcess, () => this.#lockFile(name, "lease"), start, waitMs, signal);
  }

  /** The lock file of an entry name, making the lock directory (0700) when missing. */
  async #lockFile(name, kind) {
    try {
      await mkdir(this.lockDir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new StoreError(`cannot create the keyring's lock directory ${this.lockDir}: ${err.code ?? err.message}`, { path: this.lockDir, cause: err });
    }
    return join(this.lockDir, `${name}.${kind}`);
  }

  /** The backend: the one passed in, or the OS keyring through @napi-rs/keyring, loaded on first use. */
  async #getBackend() {
    if (this.#backend) return this.#backend;
    this.#loading ??= osKeyring().then((b) => (this.#backend = b));
    return this.#loading;
  }

  /**
   * Runs one keyring call, waiting at most timeoutMs. Any failure is a
   * KeyringUnavailableError whose message has the value being written cut
   * out.
   */
  async #call(op, secret, fn) {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => {
        reject(
          new KeyringUnavailableError(
            `the OS keyring did not ${op} within ${this.timeoutMs} ms (is it locked, or is no Secret Service running?): unlock it, or ${ALTERNATIVES}`,
          ),
        );
      }, this.timeoutMs);
    });
    try {
      return await Promise.race([(async () => fn(await this.#getBackend()))(), timeout]);
    } catch (err) {
      if (err instanceof KeyringUnavailableError) throw err;
      let detail = err instanceof Error ? err.message : String(err);
      if (secret) detail = detail.split(secret).join("[redacted]");
      if (detail.length > 300) detail = `${detail.slice(0, 300)}…`;
      throw new KeyringUnavailableError(`the OS keyring is not available (${detail}): ${ALTERNATIVES}`);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * @typedef {{
 *   getPassword(service: string, user: string): string | null | undefined | Promise<string | null | undefined>,
 *   setPassword(service: string, user: string, secret: string): void | Promise<void>,
 *   deletePassword(service: string, user: string): unknown,
 * }} KeyringBackend
 */

/** The OS keyring through @napi-rs/keyring; the Secret Service is required on Linux. */
async function osKeyring() {
  let mod;
  try {
    mod = await import("@napi-rs/keyring");
  } catch (err) {
    throw new KeyringUnavailableError(
      `the OS keyring cannot be loaded here (@napi-rs/keyring: ${err instanceof Error ? err.message : String(err)}): ${ALTERNATIVES}`,
      { cause: err },
    );
  }
  const { AsyncEntry } = mod;
  const options = process.platform === "linux" ? { linux: { store: /** @type {const} */ ("secret-service") } } : undefined;
  const entry = (service, user) => new AsyncEntry(service, user, options);
  return {
    getPassword: (service, user) => entry(service, user).getPassword(),
    setPassword: (service, user, secret) => entry(service, user).setPassword(secret),
    deletePassword: (service, user) => entry(service, user).deleteCredential(),
  };
}

/** deviceflow's per-user cache directory, as Go's os.UserCacheDir and Python's cache_dir. */
export function cacheDir() {
  let base;
  if (process.platform === "win32") base = process.env.LOCALAPPDATA || join(homedir(), "AppData", "Local");
  else if (process.platform === "darwin") base = join(homedir(), "Library", "Caches");
  else base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "deviceflow");
}

/** Per (lock dir, entry): this process's swaps, one at a time. */
const writers = new KeyedMutex();
/** Per (lock dir, entry): this process's leases. */
const leases = new Leases();
