import { MemoryStore } from "./memory-store.js";

const USAGE = "(https://github.com/octokit/auth-oauth-device.js#usage)";

/**
 * The strategy behind createOAuthDeviceAuth, for any platform: Node's
 * (auth.js: the Extism plugin, a lock re-entrant through AsyncLocalStorage)
 * or the browser's (browser/index.js: the GOOS=js build). The platform
 * supplies the Host class and the per-store lock; everything else, the
 * options, the octokit checks and results, is the same code.
 *
 * @param {import("./index.js").OAuthAppStrategyOptions | import("./index.js").GitHubAppStrategyOptions | import("./index.js").GenericStrategyOptions} options
 * @param {{Host: new (options: object) => {call: (exportName: string, input: object, options?: {signal?: AbortSignal}) => Promise<any>}, lockFor: (store: object) => {run: <T>(fn: () => Promise<T>, signal?: AbortSignal) => Promise<T>}}} platform
 */
export function createStrategy(options, platform) {
  // The same checks, in the same order and words, as octokit.
  if (!options?.clientId) {
    throw new Error(`[@octokit/auth-oauth-device] "clientId" option must be set ${USAGE}`);
  }
  if (!options.onVerification) {
    throw new Error(`[@octokit/auth-oauth-device] "onVerification" option must be a function ${USAGE}`);
  }
  const state = {
    clientId: options.clientId,
    clientType: options.clientType,
    scopes: "scopes" in options ? options.scopes : undefined,
    baseUrl: options.baseUrl,
    oauthUrl: options.oauthUrl,
    request: options.request,
    fetch: options.fetch,
    store: options.store ?? new MemoryStore(),
    signal: options.signal,
    onVerification: options.onVerification,
    onEvent: options.onEvent,
    encoding: options.encoding,
    // A generic RFC 8628 server (instead of GitHub): its issuer or endpoints,
    // and a confidential client's secret (never in an event or a result).
    server: serverOf(options),
    clientSecret: "clientSecret" in options ? options.clientSecret : undefined,
    requestTimeoutMs: options.requestTimeoutMs,
    // For tests, as in HostOptions: a fake wall clock, monotonic clock and sleep.
    now: options.now,
    monotonic: options.monotonic,
    sleep: options.sleep,
  };
  const hosts = new WeakMap();
  let plainHost = null;

  /** The host for a transport: one per @octokit/request instance. */
  const hostFor = (request) => {
    if (!request) {
      plainHost ??= newHost(platform, state, undefined);
      return plainHost;
    }
    let host = hosts.get(request);
    if (!host) {
      host = newHost(platform, state, request);
      hosts.set(request, host);
    }
    return host;
  };

  const input = (request, extra) => {
    const scopes = extra.scopes ?? state.scopes;
    const out = { clientId: state.clientId };
    if (state.server) {
      Object.assign(out, state.server);
    } else {
      out.baseUrl = baseUrlOf(state, request);
      if (state.oauthUrl) out.oauthUrl = state.oauthUrl;
    }
    if (state.clientSecret) out.clientSecret = state.clientSecret;
    if (state.clientType) out.clientType = state.clientType;
    if (scopes !== undefined) out.scopes = scopes;
    if (extra.refresh) out.refresh = true;
    if (extra.interactive === false) out.interactive = false;
    if (state.encoding) out.encoding = state.encoding;
    return out;
  };

  const lock = platform.lockFor(state.store);

  /**
   * Resolves to the authentication: the cached one, a refreshed one, or one
   * from a new device flow (`refresh: true` forces a new flow).
   *
   * `interactive: false` never starts a device flow: the cached token,
   * refreshed when needed, or a `not_found` error (for commands that must
   * not prompt).
   *
   * @param {{type?: "oauth", scopes?: string[], refresh?: boolean, interactive?: boolean, signal?: AbortSignal}} [authOptions]
   */
  async function auth(authOptions = {}) {
    const signal = anySignal(state.signal, authOptions.signal);
    const host = hostFor(state.request);
    const body = input(state.request, {
      scopes: authOptions.scopes,
      refresh: authOptions.refresh,
      interactive: authOptions.interactive,
    });
    return lock.run(() => host.call("authenticate", body, { signal }), signal);
  }

  /**
   * Spends the cached refresh token now (GitHub Apps with expiring tokens):
   * resolves to the new authentication, stored before it is returned.
   */
  auth.refresh = function refresh(authOptions = {}) {
    const signal = anySignal(state.signal, authOptions.signal);
    const host = hostFor(state.request);
    const body = input(state.request, { scopes: authOptions.scopes });
    return lock.run(() => host.call("refresh", body, { signal }), signal);
  };

  /**
   * The step API, for event loops and platforms running many flows: starts
   * a device flow without waiting. Resolves to
   * `{status: "pending", state, nextPollAt, expiresAt, interval, verification}`;
   * pass it to `auth.poll` no sooner than `nextPollAt` (Unix ms). `state`
   * holds the device code: keep it as private as a token.
   */
  auth.begin = function begin(authOptions = {}) {
    const signal = anySignal(state.signal, authOptions.signal);
    const host = hostFor(state.request);
    return host.call("begin", input(state.request, { scopes: authOptions.scopes }), { signal });
  };

  /**
   * Polls a flow started by `auth.begin` once, never sleeping: resolves to
   * the next pending answer, or `{status: "complete", authentication}` (the
   * authentication stored before it is returned).
   */
  auth.poll = function poll(pending, authOptions = {}) {
    const signal = anySignal(state.signal, authOptions.signal);
    const host = hostFor(state.request);
    return host.call("poll", { ...input(state.request, {}), state: pending?.state }, { signal });
  };

  /**
   * octokit's hook: sends the request with an `authorization: token …`
   * header, running a device flow first if there is no usable token. The
   * OAuth endpoints themselves are sent without credentials.
   */
  auth.hook = async function hook(request, route, parameters) {
    const endpoint = request.endpoint.merge(route, parameters);
    const { method, url } = request.endpoint.parse(endpoint);
    const host = hostFor(request);
    const body = { ...input(request, {}), method, url };
    const signal = state.signal;
    const { headers } = await lock.run(() => host.call("authorize", body, { signal }), signal);
    endpoint.headers = { ...endpoint.headers, ...headers };
    return request(endpoint);
  };

  /**
   * Forgets the cached token for these options. Resolves to
   * `{removed: boolean}`.
   */
  auth.logout = function logout(authOptions = {}) {
    const signal = anySignal(state.signal, authOptions.signal);
    const host = hostFor(state.request);
    const body = input(state.request, { scopes: authOptions.scopes });
    return lock.run(() => host.call("logout", body, { signal }), signal);
  };

  /**
   * Asks the API whether the cached token (or `token`) works: resolves to
   * `{valid, login?, scopes?}`.
   */
  auth.check = function check(authOptions = {}) {
    const signal = anySignal(state.signal, authOptions.signal);
    const host = hostFor(state.request);
    const body = input(state.request, { scopes: authOptions.scopes });
    if (authOptions.token) body.token = authOptions.token;
    return host.call("check", body, { signal });
  };

  return auth;
}

function newHost(platform, state, request) {
  return new platform.Host({
    ...(state.server ?? { baseUrl: baseUrlOf(state, request), oauthUrl: state.oauthUrl }),
    request,
    fetch: state.fetch,
    store: state.store,
    requestTimeoutMs: state.requestTimeoutMs,
    now: state.now,
    monotonic: state.monotonic,
    sleep: state.sleep,
    onEvent: async (event) => {
      if (event.type === "verification") {
        await state.onVerification(verificationOf(event));
      }
      if (state.onEvent) await state.onEvent(event);
    },
  });
}

/** The verification event's fields in the order GitHub sends them, as octokit hands them on. */
const VERIFICATION_ORDER = ["device_code", "user_code", "verification_uri", "expires_in", "interval", "verification_uri_complete"];
function verificationOf(event) {
  const { type: _type, ...fields } = event;
  const out = {};
  for (const k of VERIFICATION_ORDER) if (k in fields) out[k] = fields[k];
  for (const [k, v] of Object.entries(fields)) if (!(k in out)) out[k] = v;
  return out;
}

const SERVER_FIELDS = ["issuer", "deviceEndpoint", "tokenEndpoint", "userinfoEndpoint", "revocationEndpoint"];

/**
 * The generic server the options name (issuer or endpoints), or null for GitHub.
 *
 * @param {object} options
 * @returns {Record<string, string> | null}
 */
export function serverOf(options) {
  /** @type {Record<string, string>} */
  const out = {};
  for (const k of SERVER_FIELDS) if (options?.[k]) out[k] = options[k];
  return Object.keys(out).length ? out : null;
}

/**
 * The base URL handed to the plugin: the `baseUrl` option, else the
 * @octokit/request instance's (api.github.com and HOST/api/v3 are understood
 * by the plugin), else github.com.
 */
function baseUrlOf(state, request) {
  return state.baseUrl ?? request?.endpoint?.DEFAULTS?.baseUrl ?? "https://github.com";
}

/** A signal that aborts when any of the given ones does (AbortSignal.any needs Node 20.3). */
function anySignal(...signals) {
  const list = signals.filter(Boolean);
  if (list.length <= 1) return list[0];
  const controller = new AbortController();
  for (const s of list) {
    if (s.aborted) {
      controller.abort(s.reason);
      break;
    }
    s.addEventListener("abort", () => controller.abort(s.reason), { once: true });
  }
  return controller.signal;
}
