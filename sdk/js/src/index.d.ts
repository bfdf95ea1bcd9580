// Type declarations for @deviceflow/auth-oauth-device. The option, result and
// interface names are @octokit/auth-oauth-device's, so switching is a change
// of the import line only.

export type ClientType = "oauth-app" | "github-app";

/**
 * The structural shape of an @octokit/request instance (octokit.request or
 * request.defaults(...)): its baseUrl selects GitHub Enterprise Server and
 * every HTTP exchange goes through it and through its `request.fetch`.
 */
export interface RequestInterface {
  (route: any, parameters?: any): Promise<any>;
  endpoint: {
    DEFAULTS: { baseUrl: string; request?: { fetch?: any } };
    merge(route: any, parameters?: any): any;
    parse(options: any): { method: string; url: string; headers: Record<string, string>; body?: any };
  };
}

/** What onVerification receives: the server's own fields, as octokit passes them. */
export type Verification = {
  device_code: string;
  user_code: string;
  verification_uri: string;
  /** Passed on when the server sends it (GitHub does not). */
  verification_uri_complete?: string;
  expires_in: number;
  interval: number;
};

export type OnVerificationCallback = (verification: Verification) => any | Promise<any>;

/** The plugin's events (wit/deviceflow.wit). None ever carries a token. */
export type VerificationEvent = { type: "verification" } & Verification;
export type PollingEvent = { type: "polling"; attempt: number; interval: number; remainingMs: number };
export type SlowDownEvent = { type: "slow_down"; interval: number };
export type BackoffEvent = { type: "backoff"; reason: "network" | "timeout" | "http" | "invalid_response" | (string & {}); waitMs: number; status?: number };
/** Another holder (a call, a process) has the lease on this cache key: the plugin waits for its refresh or device flow, then uses its token. */
export type WaitingEvent = { type: "waiting"; reason: "lease" | (string & {}); waitMs: number };
export type RefreshedEvent = { type: "refreshed"; expiresAt?: string };
export type DeviceFlowEvent = VerificationEvent | PollingEvent | SlowDownEvent | BackoffEvent | WaitingEvent | RefreshedEvent;

/** What `Store.swap` answers: whether it replaced the value, and the value held otherwise. */
export type SwapResult = { swapped: boolean; current?: string | null };

/** Releases a lease; releasing twice does nothing. */
export type ReleaseLease = () => void | Promise<void>;

/**
 * Keeps cached authentications under keys the plugin builds. Methods may be
 * sync or async; a throw or rejection fails the call with code "store".
 *
 * `swap` and `lock` are optional. A store without them gets both emulated
 * inside this process (get-compare-set under a mutex per key, and a lock per
 * key): safe for the calls of one process only. Stores shared between
 * processes or machines should implement them.
 */
export interface Store {
  get(key: string): string | undefined | null | Promise<string | undefined | null>;
  set(key: string, value: string): void | Promise<void>;
  delete(key: string): void | Promise<void>;
  /**
   * Compare-and-swap, atomic for everyone sharing the store: replace the
   * value under key with `next` only when the value held now is `old`
   * (`undefined`: "no value"); `next` undefined removes the entry.
   */
  swap?(key: string, old: string | undefined, next: string | undefined): SwapResult | Promise<SwapResult>;
  /**
   * Takes the exclusive lease on key, waiting up to `waitMs` (0: try once).
   * Resolves to the release function, or null when another holder kept it
   * for `waitMs`; rejects when `signal` aborts while waiting. Not
   * re-entrant. `ttlMs` is how long the plugin expects to hold it, for
   * stores whose leases must expire after a crashed holder.
   */
  lock?(key: string, waitMs: number, signal?: AbortSignal, ttlMs?: number): ReleaseLease | null | Promise<ReleaseLease | null>;
}

/** Options every strategy takes beyond octokit's. */
export interface DeviceFlowStrategyOptions {
  onVerification: OnVerificationCallback;
  /** An @octokit/request instance: its baseUrl and fetch are used. */
  request?: RequestInterface;
  /** GitHub's URL when no request is given: https://github.com (default), https://HOST or https://HOST/api/v3. */
  baseUrl?: string;
  /**
   * A relay for the two OAuth POSTs (`deviceflow relay`, host/relay): what a
   * browser app needs, since GitHub's OAuth endpoints send no CORS headers.
   * The API is still called at baseUrl's API; the relay never gets a token.
   */
  oauthUrl?: string;
  /** The fetch to use when no request is given; globalThis.fetch by default. */
  fetch?: typeof fetch;
  /** Where tokens are cached: a MemoryStore of its own by default. */
  store?: Store;
  /** Cancels a running flow (and every later call) when it aborts. */
  signal?: AbortSignal;
  /** Receives every event: verification, polling, slow_down, backoff, refreshed. */
  onEvent?: (event: DeviceFlowEvent) => any | Promise<any>;
  /** Caps each HTTP request; 30 000 ms by default. */
  requestTimeoutMs?: number;
  /** Request body encoding: "json" (GitHub's, the default) or "form" (other RFC 8628 servers). */
  encoding?: "json" | "form";
  /** For tests, as in HostOptions: the wall clock the plugin sees (Unix ms). */
  now?: () => number;
  /** For tests, as in HostOptions: the monotonic clock every wait runs on. */
  monotonic?: () => number;
  /** For tests, as in HostOptions: waits ms, resolves true when cut short. */
  sleep?: (ms: number, signal?: AbortSignal) => boolean | Promise<boolean>;
}

export type OAuthAppStrategyOptions = DeviceFlowStrategyOptions & {
  clientId: string;
  clientType?: "oauth-app";
  scopes?: string[];
};

export type GitHubAppStrategyOptions = DeviceFlowStrategyOptions & {
  clientId: string;
  clientType: "github-app";
};

/** Where a generic RFC 8628 server is: its issuer (endpoints discovered), or its endpoints, or both. */
export type GenericServer = {
  /** The issuer URL: its OpenID Connect or RFC 8414 metadata names the endpoints. */
  issuer?: string;
  deviceEndpoint?: string;
  tokenEndpoint?: string;
  /** For check (OpenID Connect userinfo). */
  userinfoEndpoint?: string;
  /** For logout's RFC 7009 revocation. */
  revocationEndpoint?: string;
};

/**
 * Any other RFC 8628 server (Google, Entra ID, Keycloak, Okta, Auth0, Dex…):
 * form-encoded requests (unless `encoding: "json"`), HTTP Basic client
 * authentication with `clientSecret`, bearer tokens; no GitHub client types.
 */
export type GenericStrategyOptions = Omit<DeviceFlowStrategyOptions, "baseUrl"> &
  GenericServer & {
    clientId: string;
    clientType?: never;
    baseUrl?: never;
    scopes?: string[];
    /** A confidential client's secret (Google's device flow needs one); never in an event or a result. */
    clientSecret?: string;
  };

/** A generic server's token: the neutral shape beside octokit's. */
export type GenericAuthentication = {
  type: "token";
  /** The server's token_type, lower case: "bearer". */
  tokenType: string;
  clientId: string;
  token: string;
  /** The scopes granted, or those requested when the server named none (RFC 6749 5.1). */
  scopes: string[];
  refreshToken?: string;
  expiresAt?: string;
  refreshTokenExpiresAt?: string;
  /** An OpenID Connect server's id_token, when the scope asked for openid. */
  idToken?: string;
};

export interface GenericAuthInterface extends Omit<ExtraMethods, "refresh" | "poll"> {
  (options?: OAuthAppAuthOptions): Promise<GenericAuthentication>;
  refresh(options?: ExtraAuthOptions): Promise<GenericAuthentication>;
  poll(pending: PendingFlow, options?: { signal?: AbortSignal }): Promise<PendingFlow | { status: "complete"; authentication: GenericAuthentication }>;
}

export type OAuthAppAuthOptions = {
  type: "oauth";
  scopes?: string[];
  /** Skip the cache and run a new device flow. */
  refresh?: boolean;
  /** false: never start a device flow — the cached token, refreshed when needed, or a not_found error. */
  interactive?: boolean;
  signal?: AbortSignal;
};

export type GitHubAppAuthOptions = {
  type: "oauth";
  refresh?: boolean;
  /** false: never start a device flow — the cached token, refreshed when needed, or a not_found error. */
  interactive?: boolean;
  signal?: AbortSignal;
};

export type OAuthAppAuthentication = {
  type: "token";
  tokenType: "oauth";
  clientType: "oauth-app";
  clientId: string;
  token: string;
  /** The granted scopes, in the server's order. */
  scopes: string[];
  /** Present when the server answered an expiring token (refresh_token, expires_in). */
  refreshToken?: string;
  expiresAt?: string;
  refreshTokenExpiresAt?: string;
};

export type GitHubAppAuthentication = {
  type: "token";
  tokenType: "oauth";
  clientType: "github-app";
  clientId: string;
  token: string;
  /** Set for a token that expires without a refresh token to renew it. */
  expiresAt?: string;
};

export type GitHubAppAuthenticationWithExpiration = GitHubAppAuthentication & {
  refreshToken: string;
  expiresAt: string;
  refreshTokenExpiresAt: string;
};

/** `revoked`: a generic server with a revocation endpoint took the token back (RFC 7009). */
export type LogoutResult = { removed: boolean; revoked?: boolean };
/** A flow started by auth.begin: pass it to auth.poll no sooner than nextPollAt (Unix ms). `state` holds the device code. */
export type PendingFlow = {
  status: "pending";
  state: unknown;
  nextPollAt: number;
  expiresAt: number;
  interval: number;
  verification: Verification;
};
/** `sub`: the subject a generic server's userinfo names (login is then its preferred_username, email or sub). */
export type CheckResult = { valid: boolean; login?: string; scopes?: string[]; sub?: string };
export type ExtraAuthOptions = { scopes?: string[]; signal?: AbortSignal };

interface ExtraMethods {
  hook(request: RequestInterface, route: any, parameters?: Record<string, unknown>): Promise<any>;
  /** Forgets the cached token. */
  logout(options?: ExtraAuthOptions): Promise<LogoutResult>;
  /** Asks GET /user whether the cached token (or `token`) works. */
  check(options?: ExtraAuthOptions & { token?: string }): Promise<CheckResult>;
  /** Spends the cached refresh token now; the new pair is stored before it is returned. */
  refresh(options?: ExtraAuthOptions): Promise<OAuthAppAuthentication | GitHubAppAuthentication>;
  /** The step API: starts a device flow without waiting. */
  begin(options?: ExtraAuthOptions): Promise<PendingFlow>;
  /** The step API: polls once, never sleeping. */
  poll(
    pending: PendingFlow,
    options?: { signal?: AbortSignal },
  ): Promise<PendingFlow | { status: "complete"; authentication: OAuthAppAuthentication | GitHubAppAuthentication }>;
}

export interface OAuthAppAuthInterface extends ExtraMethods {
  (options?: OAuthAppAuthOptions): Promise<OAuthAppAuthentication>;
}

export interface GitHubAppAuthInterface extends ExtraMethods {
  (options?: GitHubAppAuthOptions): Promise<GitHubAppAuthentication | GitHubAppAuthenticationWithExpiration>;
}

export declare function createOAuthDeviceAuth(options: OAuthAppStrategyOptions): OAuthAppAuthInterface;
export declare function createOAuthDeviceAuth(options: GitHubAppStrategyOptions): GitHubAppAuthInterface;
export declare function createOAuthDeviceAuth(options: GenericStrategyOptions): GenericAuthInterface;

/** A plugin failure; `code` is one of `codes`. Looks like octokit's RequestError for OAuth errors. */
export declare class DeviceFlowError extends Error {
  /** "HttpError" (as octokit's RequestError) for a server's OAuth error, "DeviceFlowError" otherwise. */
  name: "DeviceFlowError" | "HttpError";
  /**
   * For a server's OAuth error, octokit's message exactly:
   * "<error_description> (<error>, <error_uri>)"; otherwise (and for
   * "unsupported") the plugin's message, which says what to do.
   */
  message: string;
  /** The plugin's message: what happened and what to do. */
  detail: string;
  code: string;
  /** HTTP status; 400 for an OAuth error answered with HTTP 200, as octokit reports it. */
  status?: number;
  /** The server's OAuth error string, e.g. "access_denied". */
  oauthError?: string;
  description?: string;
  uri?: string;
  response?: { status: number; headers: Record<string, string>; data: { error: string; error_description?: string; error_uri?: string } };
  /** With code "plugin_abi": the ABI the plugin reports (or why it is unknown). */
  abi?: string;
  /** With code "plugin_abi": the ABI this SDK speaks. */
  expectedAbi?: string;
}

/** What the SDK's stores throw; `code` is always "store", `path` names the file concerned. */
export declare class StoreError extends Error {
  /** "StoreError", or "KeyringUnavailableError" for that subclass. */
  name: string;
  code: "store";
  path?: string;
}

export declare const codes: readonly string[];

/** The contract version this SDK speaks; a plugin of another major version is refused with code "plugin_abi". */
export declare const ABI_VERSION: string;

/** Values in memory for the life of the process; atomic swap, leases exclusive among the calls of this process. */
export declare class MemoryStore implements Store {
  constructor(initial?: Record<string, string>);
  get(key: string): string | undefined;
  set(key: string, value: string): void;
  delete(key: string): void;
  swap(key: string, old: string | undefined, next: string | undefined): SwapResult;
  lock(key: string, waitMs?: number, signal?: AbortSignal): Promise<(() => void) | null>;
  snapshot(): Record<string, string>;
}

/**
 * A directory (0700) with one 0600 file per entry, written atomically, in
 * the layout Go and Python share; a legacy single-file store is migrated on
 * first use. Default path: $DEVICEFLOW_STORE, $DEVICEFLOW_CONFIG_DIR/tokens.json or ~/.config/deviceflow/tokens.json
 * (a directory despite its name). swap and lock exclude other processes
 * where flock(1) is available (`FileStore.crossProcess`), else only the
 * calls of this process.
 */
export declare class FileStore implements Store {
  constructor(path?: string);
  /** Whether file stores exclude other processes here, or only this process's calls. */
  static readonly crossProcess: boolean;
  readonly path: string;
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
  swap(key: string, old: string | undefined, next: string | undefined): Promise<SwapResult>;
  lock(key: string, waitMs?: number, signal?: AbortSignal): Promise<(() => void | Promise<void>) | null>;
  /** Every key held. */
  keys(): Promise<string[]>;
}

/** Options of an EncryptedFileStore: where its key comes from (see the class). */
export interface EncryptedFileStoreOptions {
  /**
   * A base64 32-byte key (either alphabet, padded or not), several (the
   * first seals, each one opens), or "passphrase:" and at least 12
   * characters. Default: $DEVICEFLOW_ENCRYPTION_KEY in the same forms
   * (keys separated by commas).
   */
  key?: string | string[];
  /**
   * Without `key` and $DEVICEFLOW_ENCRYPTION_KEY: the key is the keyring
   * entry "encryption-key" (created before the first write of a store that
   * holds nothing), as Go's store keeps it.
   */
  keyring?: Pick<KeyringStore, "get" | "set">;
  /** PBKDF2 iterations for new passphrase files (600 000, Go's). For tests. */
  pbkdf2Iterations?: number;
}

/**
 * A FileStore whose entry files are sealed with AES-256-GCM in the envelope
 * Go and Python write (wit/stores.md): the three languages read one
 * another's encrypted stores with the same key. A file the key does not open
 * is a StoreError naming it, left untouched; nothing is written in plain
 * text. Default path: $DEVICEFLOW_CONFIG_DIR/tokens.enc.json, else
 * ~/.config/deviceflow/tokens.enc.json (a directory).
 */
export declare class EncryptedFileStore extends FileStore {
  /** Throws a StoreError when no key is found or the key is malformed. */
  constructor(path?: string, options?: EncryptedFileStoreOptions);
  /** "the key passed in", "DEVICEFLOW_ENCRYPTION_KEY" or "the OS keyring". */
  readonly keySource: string;
  /** A new random key, standard base64: a value for $DEVICEFLOW_ENCRYPTION_KEY. */
  static generateKey(): string;
}

/** "DEVICEFLOW_ENCRYPTION_KEY": the environment variable that holds the encrypted store's key in every language. */
export declare const KEY_ENV: "DEVICEFLOW_ENCRYPTION_KEY";

/** What a KeyringStore keeps its secrets in: the OS keyring by default, or one passed in (tests). */
export interface KeyringBackend {
  /** The secret, or null (or undefined) when there is none. */
  getPassword(service: string, user: string): string | null | undefined | Promise<string | null | undefined>;
  setPassword(service: string, user: string, secret: string): void | Promise<void>;
  /** Removing an absent secret is not an error. */
  deletePassword(service: string, user: string): unknown;
}

export interface KeyringStoreOptions {
  /** The keyring service; "deviceflow" (Go's and Python's) by default. */
  service?: string;
  /** Each keyring call's limit; 10 000 ms by default. */
  timeoutMs?: number;
  /** Where N.lock and N.lease live; deviceflow/keyring-locks in the user cache directory by default. */
  lockDir?: string;
  /** Replaces the OS keyring (`@napi-rs/keyring`, the Secret Service required on Linux). */
  backend?: KeyringBackend;
}

/**
 * Each value a secret in the OS keyring (Keychain, Credential Manager, the
 * Secret Service), under service "deviceflow" with the key as user name, as
 * in Go and Python. Where the keyring cannot be used every call rejects with
 * a KeyringUnavailableError naming the other stores; there is no fallback.
 * swap and lock go through the lock files Go and Python use.
 */
export declare class KeyringStore implements Store {
  constructor(options?: KeyringStoreOptions);
  readonly service: string;
  readonly timeoutMs: number;
  readonly lockDir: string;
  /** Resolves when the keyring answers; rejects with a KeyringUnavailableError otherwise. */
  check(): Promise<void>;
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
  swap(key: string, old: string | undefined, next: string | undefined): Promise<SwapResult>;
  lock(key: string, waitMs?: number, signal?: AbortSignal): Promise<(() => void | Promise<void>) | null>;
}

/** The OS keyring cannot be used here (no Secret Service, no answer in time, no native binary). */
export declare class KeyringUnavailableError extends StoreError {}

export interface HostOptions extends GenericServer {
  baseUrl?: string;
  /** The relay the plugin sends the OAuth POSTs to (allowed by the sandbox too). */
  oauthUrl?: string;
  /** Replaces the hosts derived from baseUrl ("host" or "host:port"). */
  allowedHosts?: string[];
  request?: RequestInterface;
  fetch?: typeof fetch;
  store?: Store;
  /** The wall clock the plugin sees, Unix ms (for expiry stamps); Date.now by default. */
  now?: () => number;
  /**
   * The monotonic clock, ms from an arbitrary origin, that every wait and
   * deadline runs on: performance.now by default, or `now` when only that is
   * given (a test's fake clock then stands for both).
   */
  monotonic?: () => number;
  /** Waits ms; resolves true when cut short. A timer that the signal ends by default. */
  sleep?: (ms: number, signal?: AbortSignal) => boolean | Promise<boolean>;
  /** Receives every event; a throw stops the flow with that error, `false` cancels it. */
  onEvent?: (event: DeviceFlowEvent) => any | Promise<any>;
  requestTimeoutMs?: number;
  maxResponseBytes?: number;
}

/** The plugin's exports, one call at a time: authenticate, begin, poll, refresh, check, logout, authorize, info. */
export declare class Host {
  constructor(options?: HostOptions);
  call(exportName: string, input?: object | string, options?: { signal?: AbortSignal }): Promise<any>;
}

/** Compiles the plugin and starts one instance ahead of the first call. */
export declare function preload(): Promise<void>;
/** Stops the idle plugin instances (worker threads). */
export declare function closeIdle(): Promise<void>;
