/**
 * @deviceflow/auth-oauth-device: GitHub's OAuth device flow (RFC 8628) with
 * @octokit/auth-oauth-device's API, run by the deviceflow WebAssembly plugin.
 */
export { createOAuthDeviceAuth } from "./auth.js";
export { Host } from "./host.js";
export { MemoryStore } from "./memory-store.js";
export { FileStore } from "./file-store.js";
export { EncryptedFileStore, KEY_ENV } from "./encrypted-store.js";
export { KeyringStore, KeyringUnavailableError } from "./keyring-store.js";
export { DeviceFlowError, StoreError, codes } from "./errors.js";
export { preload, closeIdle, ABI_VERSION } from "./plugin.js";
