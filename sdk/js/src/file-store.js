import { mkdir, open, readFile, rename, unlink } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";

/**
 * FileStore keeps the cached authentications in one JSON file readable by its
 * owner only (mode 0600, in a directory created 0700). Every change is written
 * to a temporary file in the same directory, flushed, and renamed over the
 * old file, so a crash never leaves a half-written store. Changes from one
 * process are applied one at a time; values are read from the file on every
 * get, so another process's login is seen at once.
 *
 * The default path is $DEVICEFLOW_STORE, else deviceflow/tokens.json in the
 * user's configuration directory ($XDG_CONFIG_HOME or ~/.config; %APPDATA% on
 * Windows).
 */
export class FileStore {
  /** @param {string} [path] */
  constructor(path) {
    this.path = resolve(path ?? defaultPath());
  }

  async get(key) {
    const all = await this.#readAll();
    return Object.hasOwn(all, key) ? all[key] : undefined;
  }

  set(key, value) {
    return this.#update((all) => {
      all[key] = String(value);
      return true;
    });
  }

  delete(key) {
    return this.#update((all) => {
      if (!Object.hasOwn(all, key)) return false;
      delete all[key];
      return true;
    });
  }

  async #readAll() {
    let text;
    try {
      text = await readFile(this.path, "utf8");
    } catch (err) {
      if (err.code === "ENOENT") return {};
      throw new Error(`cannot read the token store ${this.path}: ${err.code ?? err.message}`);
    }
    if (text.trim() === "") return {};
    let all;
    try {
      all = JSON.parse(text);
    } catch {
      throw new Error(`the token store ${this.path} is not valid JSON: remove it to sign in again`);
    }
    if (all === null || typeof all !== "object" || Array.isArray(all)) {
      throw new Error(`the token store ${this.path} is not a JSON object: remove it to sign in again`);
    }
    return all;
  }

  /** Applies change to the stored object and writes it back atomically. */
  #update(change) {
    return serialize(this.path, async () => {
      const all = await this.#readAll();
      if (!change(all)) return;
      await writeAtomic(this.path, JSON.stringify(all, null, 2) + "\n");
    });
  }
}

function defaultPath() {
  if (process.env.DEVICEFLOW_STORE) return process.env.DEVICEFLOW_STORE;
  let base = process.env.XDG_CONFIG_HOME;
  if (!base && process.platform === "win32") base = process.env.APPDATA;
  if (!base) base = join(homedir(), ".config");
  return join(base, "deviceflow", "tokens.json");
}

const queues = new Map();

/** Runs fn after every earlier update of the same file has finished. */
function serialize(path, fn) {
  const before = queues.get(path) ?? Promise.resolve();
  const run = before.then(fn, fn);
  const tail = run.catch(() => {});
  queues.set(path, tail);
  tail.then(() => {
    if (queues.get(path) === tail) queues.delete(path);
  });
  return run;
}

async function writeAtomic(path, text) {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  const fh = await open(tmp, "wx", 0o600);
  try {
    await fh.writeFile(text, "utf8");
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}
