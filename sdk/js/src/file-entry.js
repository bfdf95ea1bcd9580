import { createHash, randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { StoreError } from "./errors.js";

/**
 * One entry of the file store, layout v2 (the same files Go and Python
 * write): the store is a directory, and the value under a key lives in
 * `N.json`, with N the first 32 hex digits of sha256(key), holding
 * `{"version":2,"key":"<key>","value":"<value>"}` (mode 0600).
 */

export const ENTRY_VERSION = 2;

/**
 * A codec turns an entry's document into the bytes on disk and back: none
 * for FileStore (the document as it is), AES-256-GCM for EncryptedFileStore
 * (encrypted-store.js). `where` names the file, for messages.
 *
 * @typedef {{encode(doc: Buffer): Promise<Buffer>, decode(stored: Buffer, where: string): Promise<Buffer>}} Codec
 */

/** The entry name of a key: the first 32 hex digits of its SHA-256. */
export function entryName(key) {
  return createHash("sha256").update(key, "utf8").digest("hex").slice(0, 32);
}

/** The entry file of a name in the store directory dir. */
export function entryFile(dir, name) {
  return join(dir, `${name}.json`);
}

/**
 * Reads an entry file. Resolves to {key, value}, or undefined when the file
 * does not exist; a file it cannot read as an entry is a StoreError naming
 * it (never "absent"), and it is left as it is.
 *
 * @param {string} file
 * @param {Codec} [codec]
 * @returns {Promise<{key: string, value: string} | undefined>}
 */
export async function readEntryFile(file, codec) {
  let text;
  try {
    const raw = await readFile(file);
    text = (codec ? await codec.decode(raw, file) : raw).toString("utf8");
  } catch (err) {
    if (err instanceof StoreError) throw err;
    if (err.code === "ENOENT" || err.code === "ENOTDIR") return undefined;
    throw new StoreError(`cannot read the token store entry ${file}: ${err.code ?? err.message}`, { path: file, cause: err });
  }
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new StoreError(`the token store entry ${file} is not valid JSON: remove it to sign in again`, { path: file, cause: err });
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw new StoreError(`the token store entry ${file} is not a JSON object: remove it to sign in again`, { path: file });
  }
  if (doc.version !== ENTRY_VERSION) {
    throw new StoreError(
      `the token store entry ${file} has format version ${JSON.stringify(doc.version ?? null)}, not ${ENTRY_VERSION}: ` +
        "it was left untouched; upgrade deviceflow or remove it to sign in again",
      { path: file },
    );
  }
  if (typeof doc.key !== "string" || typeof doc.value !== "string") {
    throw new StoreError(`the token store entry ${file} lacks a string key or value: remove it to sign in again`, { path: file });
  }
  return { key: doc.key, value: doc.value };
}

/**
 * Reads the value under key from the store directory dir, or undefined.
 *
 * @param {string} dir
 * @param {string} key
 * @param {Codec} [codec]
 */
export async function readValue(dir, key, codec) {
  const file = entryFile(dir, entryName(key));
  const entry = await readEntryFile(file, codec);
  if (entry === undefined) return undefined;
  if (entry.key !== key) {
    throw new StoreError(`the token store entry ${file} holds another key than its name says: remove it to sign in again`, { path: file });
  }
  return entry.value;
}

/**
 * Writes the value under key, atomically: a temporary file `.N.<random>.tmp`
 * created exclusively with mode 0600, flushed, renamed over `N.json`, and
 * the directory flushed, so that a crash leaves either the old entry or the
 * new one. The directory is created (0700) when missing.
 *
 * @param {string} dir
 * @param {string} key
 * @param {string} value
 * @param {Codec} [codec]
 */
export async function writeValue(dir, key, value, codec) {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const name = entryName(key);
  const doc = JSON.stringify({ version: ENTRY_VERSION, key, value: String(value) });
  const data = codec ? await codec.encode(Buffer.from(doc, "utf8")) : Buffer.from(doc + "\n", "utf8");
  const tmp = join(dir, `.${name}.${randomBytes(8).toString("hex")}.tmp`);
  try {
    const fh = await open(tmp, "wx", 0o600);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, entryFile(dir, name));
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw new StoreError(`cannot write the token store entry ${entryFile(dir, name)}: ${err.code ?? err.message}`, { path: entryFile(dir, name), cause: err });
  }
  await syncDir(dir);
}

/**
 * Removes the entry of key; removing an absent entry is not an error.
 *
 * @param {string} dir
 * @param {string} key
 */
export async function removeValue(dir, key) {
  const file = entryFile(dir, entryName(key));
  try {
    await unlink(file);
  } catch (err) {
    if (err.code === "ENOENT" || err.code === "ENOTDIR") return;
    throw new StoreError(`cannot remove the token store entry ${file}: ${err.code ?? err.message}`, { path: file, cause: err });
  }
  await syncDir(dir);
}

/**
 * Flushes a directory, so that a rename or unlink in it survives a crash.
 * Systems that cannot open a directory for that (Windows) skip it.
 *
 * @param {string} dir
 */
export async function syncDir(dir) {
  let fh;
  try {
    fh = await open(dir, "r");
  } catch (err) {
    if (["EISDIR", "EPERM", "EACCES"].includes(err.code)) return;
    throw new StoreError(`cannot open the token store ${dir}: ${err.code ?? err.message}`, { path: dir, cause: err });
  }
  try {
    await fh.sync();
  } catch (err) {
    if (!["EINVAL", "EPERM", "EBADF", "EISDIR"].includes(err.code)) {
      throw new StoreError(`cannot flush the token store ${dir}: ${err.code ?? err.message}`, { path: dir, cause: err });
    }
  } finally {
    await fh.close();
  }
}
