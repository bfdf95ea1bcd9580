import { lstat, mkdir, readFile, rename, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { StoreError } from "./errors.js";
import { entryFile, entryName, readEntryFile, syncDir, writeValue } from "./file-entry.js";

/**
 * Moves a legacy single-file store to layout v2, in the steps Go and Python
 * take: rename PATH to PATH.v1, create the directory PATH, write every entry
 * not already there, then remove PATH.v1. When PATH is a directory and
 * PATH.v1 is still there (a process stopped mid-way), the same steps finish
 * the job. Running it again changes nothing, and a kill at any point loses
 * nothing: until PATH.v1 is removed, every entry is in one place or the other.
 *
 * Legacy files come in two shapes, both read: the Go and Python document
 * `{"version":1,"entries":{key: value}}` and the Node SDK's flat
 * `{key: value}`. A file that is neither is a StoreError naming it, and it is
 * left untouched.
 *
 * Callers run it one at a time per path, under the flock on PATH.lock that
 * Go and Python take for it when flock is available (see file-store.js).
 *
 * @param {string} path the store's path
 * @param {import("./file-entry.js").Codec} [codec] EncryptedFileStore's: the legacy file is sealed as one
 * @returns {Promise<boolean>} whether PATH is now a directory
 */
export async function migrateLegacy(path, codec) {
  const legacy = `${path}.v1`;
  const kind = await kindOf(path);
  if (kind === "file") {
    if ((await kindOf(legacy)) !== "absent") {
      throw new StoreError(`both ${path} (a version 1 store) and ${legacy} (one being migrated) exist: move one of them away`, { path });
    }
    await readLegacy(path, codec); // refuse an unreadable file before moving it
    try {
      await rename(path, legacy);
    } catch (err) {
      throw new StoreError(`cannot move the old token store ${path} aside: ${err.code ?? err.message}`, { path, cause: err });
    }
    await syncDir(dirname(path));
  } else if (kind === "other") {
    throw new StoreError(`the token store ${path} is neither a directory nor a file`, { path });
  }
  if ((await kindOf(legacy)) !== "file") return kind === "directory";
  const entries = await readLegacy(legacy, codec);
  await mkdir(path, { recursive: true, mode: 0o700 });
  for (const [key, value] of Object.entries(entries)) {
    if ((await readEntryFile(entryFile(path, entryName(key)), codec).catch(() => "present")) !== undefined) continue;
    await writeValue(path, key, value, codec);
  }
  try {
    await unlink(legacy);
  } catch (err) {
    if (err.code !== "ENOENT") throw new StoreError(`cannot remove ${legacy} after moving its entries: ${err.code ?? err.message}`, { path: legacy, cause: err });
  }
  await syncDir(dirname(path));
  return true;
}

/**
 * Whether a migration has work to do at path (PATH is a file, or PATH.v1 is
 * there), and whether PATH is a directory now. Cheap: two lstat calls.
 *
 * @param {string} path
 * @returns {Promise<{pending: boolean, directory: boolean}>}
 */
export async function legacyState(path) {
  const kind = await kindOf(path);
  if (kind === "file") return { pending: true, directory: false };
  const pending = (await kindOf(`${path}.v1`)) !== "absent";
  return { pending, directory: kind === "directory" };
}

/** "absent", "file", "directory" or "other" (a socket, a device, a link's target aside). */
async function kindOf(path) {
  try {
    const st = await lstat(path);
    if (st.isDirectory()) return "directory";
    if (st.isFile()) return "file";
    return "other";
  } catch (err) {
    if (err.code === "ENOENT") return "absent";
    throw new StoreError(`cannot read the token store ${path}: ${err.code ?? err.message}`, { path, cause: err });
  }
}

/**
 * Reads a legacy store file's entries (either shape).
 *
 * @param {string} file
 * @param {import("./file-entry.js").Codec} [codec]
 * @returns {Promise<Record<string, string>>}
 */
export async function readLegacy(file, codec) {
  let text;
  try {
    const raw = await readFile(file);
    text = raw.toString("utf8");
    if (codec && text.trim() !== "") text = (await codec.decode(raw, file)).toString("utf8");
  } catch (err) {
    if (err instanceof StoreError) throw err;
    throw new StoreError(`cannot read the old token store ${file}: ${err.code ?? err.message}`, { path: file, cause: err });
  }
  if (text.trim() === "") return {};
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new StoreError(`the token store ${file} is not valid JSON: it was left untouched; remove it to sign in again`, { path: file, cause: err });
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw new StoreError(`the token store ${file} is not a JSON object: it was left untouched; remove it to sign in again`, { path: file });
  }
  let entries = doc;
  if (typeof doc.version === "number") {
    if (doc.version !== 1 || doc.entries === null || typeof doc.entries !== "object" || Array.isArray(doc.entries)) {
      throw new StoreError(`the token store ${file} has format version ${doc.version}, which this deviceflow cannot read: it was left untouched`, { path: file });
    }
    entries = doc.entries;
  }
  for (const [k, v] of Object.entries(entries)) {
    if (typeof v !== "string") {
      throw new StoreError(`the token store ${file} holds a value that is not a string under ${JSON.stringify(k).slice(0, 80)}: it was left untouched`, { path: file });
    }
  }
  return { ...entries };
}
