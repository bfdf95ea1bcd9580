// index.d.ts against the JavaScript (npm run typecheck, through tsconfig.json
// at the package's root): every value the declarations promise is the
// implementation's, and the implementation's type is assignable to the
// declared one — a missing export, method or field, or a different arity,
// fails the check.
import type * as declared from "../../src/index.js";
import * as auth from "../../src/auth.js";
import * as encryptedStore from "../../src/encrypted-store.js";
import * as errors from "../../src/errors.js";
import * as fileStore from "../../src/file-store.js";
import * as host from "../../src/host.js";
import * as keyringStore from "../../src/keyring-store.js";
import * as memoryStore from "../../src/memory-store.js";
import * as plugin from "../../src/plugin.js";

export const createOAuthDeviceAuth: typeof declared.createOAuthDeviceAuth = auth.createOAuthDeviceAuth;
export const DeviceFlowError: typeof declared.DeviceFlowError = errors.DeviceFlowError;
export const StoreError: typeof declared.StoreError = errors.StoreError;
export const codes: typeof declared.codes = errors.codes;
export const FileStore: typeof declared.FileStore = fileStore.FileStore;
export const EncryptedFileStore: typeof declared.EncryptedFileStore = encryptedStore.EncryptedFileStore;
export const KEY_ENV: typeof declared.KEY_ENV = encryptedStore.KEY_ENV;
export const KeyringStore: typeof declared.KeyringStore = keyringStore.KeyringStore;
export const KeyringUnavailableError: typeof declared.KeyringUnavailableError = keyringStore.KeyringUnavailableError;
export const Host: typeof declared.Host = host.Host;
export const MemoryStore: typeof declared.MemoryStore = memoryStore.MemoryStore;
export const preload: typeof declared.preload = plugin.preload;
export const closeIdle: typeof declared.closeIdle = plugin.closeIdle;
export const ABI_VERSION: typeof declared.ABI_VERSION = plugin.ABI_VERSION;
