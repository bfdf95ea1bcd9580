// Type declarations for the browser entry of @deviceflow/auth-oauth-device
// (package.json's "browser" condition). The strategy, options and results
// are the Node entry's; the stores are the page's.

export type {
  ClientType,
  RequestInterface,
  Verification,
  OnVerificationCallback,
  VerificationEvent,
  PollingEvent,
  SlowDownEvent,
  BackoffEvent,
  WaitingEvent,
  RefreshedEvent,
  DeviceFlowEvent,
  SwapResult,
  ReleaseLease,
  Store,
  DeviceFlowStrategyOptions,
  OAuthAppStrategyOptions,
  GitHubAppStrategyOptions,
  OAuthAppAuthOptions,
  GitHubAppAuthOptions,
  OAuthAppAuthentication,
  GitHubAppAuthentication,
  GitHubAppAuthenticationWithExpiration,
  LogoutResult,
  PendingFlow,
  CheckResult,
  ExtraAuthOptions,
  OAuthAppAuthInterface,
  GitHubAppAuthInterface,
  HostOptions,
} from "../index.js";
export { createOAuthDeviceAuth, MemoryStore, DeviceFlowError, StoreError, codes, ABI_VERSION, Host } from "../index.js";

/**
 * Tokens in IndexedDB, sealed with AES-GCM under a non-extractable WebCrypto
 * key kept in the same database; compare-and-swap across tabs, and a lease
 * for every tab of the origin through the Web Locks API.
 */
export declare class IndexedDBStore {
  constructor(options?: { name?: string; indexedDB?: IDBFactory; locks?: LockManager });
  readonly name: string;
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
  swap(key: string, old: string | undefined, next: string | undefined): Promise<{ swapped: boolean; current?: string }>;
  lock(key: string, waitMs?: number, signal?: AbortSignal): Promise<(() => void) | null>;
  /** Deletes the database: every value and the encryption key. */
  clear(): Promise<void>;
  close(): Promise<void>;
}

/**
 * An exclusive lease for every tab and worker of the origin (Web Locks API):
 * the release function, or null when another holder kept it for waitMs.
 */
export declare function webLock(name: string, waitMs?: number, signal?: AbortSignal, locks?: LockManager): Promise<(() => void) | null>;

/** Loads and starts the engine now, so that the first call is fast. */
export declare function preload(): Promise<void>;

/**
 * Where the engine's wasm comes from, set before the first call: a URL, or a
 * function answering a Response, bytes or a compiled module. By default
 * browser/deviceflow.wasm beside this package's sources.
 */
export declare function setEngineSource(from: string | URL | (() => Promise<Response | ArrayBuffer | WebAssembly.Module>)): void;
