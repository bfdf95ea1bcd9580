import { DeviceFlowError, cancelledError, fromCallFailure } from "./errors.js";
import { HttpClient } from "./http.js";
import { MemoryStore } from "./memory-store.js";
import { absentAsUndefined, lockIn, swapIn } from "./store-ops.js";
import { serverOf } from "./strategy.js";

/**
 * The host without its platform: everything a host does that is the same in
 * Node and in browsers. A platform supplies how an export runs (the Extism
 * plugin on a worker in Node, the GOOS=js build in a page), the async scope
 * the host functions run in, and lease ids. host.js (Node) and
 * browser/host.js build their Host on it.
 *
 * @typedef {{
 *   runExport: (exportName: string, input: string, call: Call) => Promise<string>,
 *   scope: () => {runInAsyncScope: <T>(fn: () => T) => T},
 *   leaseId: () => string,
 * }} Platform
 */

const DEFAULT_TIMEOUT_MS = 30_000;
const EXPORTS = new Set(["authenticate", "begin", "poll", "refresh", "check", "logout", "authorize", "info"]);
const DEFAULT_MAX_RESPONSE_BYTES = 1 << 20;

/**
 * Host runs the plugin's exports with this process's capabilities: HTTP
 * (fetch or an @octokit/request instance) inside the sandbox, a clock, a
 * sleep that an AbortSignal cuts short, a store, and an event sink. It holds
 * no protocol logic: slow_down, deadlines, backoff, caching and refresh all
 * happen in the plugin.
 */
export class HostCore {
  /**
   * @param {import("./index.js").HostOptions} options
   * @param {Platform} platform
   */
  constructor(options, platform) {
    options ??= {};
    this.options = options;
    this.platform = platform;
    this.store = options.store ?? new MemoryStore();
    /** @type {Promise<Set<string>> | undefined} */
    this.allowed = options.allowedHosts ? Promise.resolve(new Set(options.allowedHosts.map((h) => h.toLowerCase()))) : undefined;
    /** @type {Promise<any> | undefined} the plugin's info for this Host's server */
    this.infoAnswer = undefined;
    /** @type {Promise<Set<string> | null> | undefined} the response headers the plugin reads */
    this.headersRead = undefined;
    this.http = new HttpClient({
      allowed: new Set(),
      request: options.request,
      fetch: options.fetch,
      timeoutMs: options.requestTimeoutMs > 0 ? options.requestTimeoutMs : DEFAULT_TIMEOUT_MS,
      maxResponseBytes: options.maxResponseBytes > 0 ? options.maxResponseBytes : DEFAULT_MAX_RESPONSE_BYTES,
    });
  }

  /**
   * The plugin's info for this Host's server (the base URL and relay, or a
   * generic server), asked once per Host.
   *
   * @returns {Promise<any>}
   */
  info() {
    const server = serverOf(this.options);
    /** @type {Record<string, string>} */
    const input = server ?? { baseUrl: this.options.baseUrl || "https://github.com" };
    if (!server && this.options.oauthUrl) input.oauthUrl = this.options.oauthUrl;
    this.infoAnswer ??= this.call("info", input);
    return this.infoAnswer;
  }

  /**
   * The response headers the plugin reads (info's responseHeaders): the only
   * ones the HTTP client passes it. null, for a plugin that does not say,
   * passes them all.
   *
   * @returns {Promise<Set<string> | null>}
   */
  responseHeaders() {
    this.headersRead ??= this.info().then(
      (answer) => (Array.isArray(answer?.responseHeaders) ? new Set(answer.responseHeaders.map((h) => String(h).toLowerCase())) : null),
      () => null,
    );
    return this.headersRead;
  }

  /**
   * The sandbox's allow-list: the hosts of the endpoints the plugin derives
   * from the base URL and the relay, if any (its info export), asked once
   * per Host. The rule lives
   * in the engine; a base URL it refuses gets an empty list, and the call
   * itself fails with the plugin's invalid_input.
   *
   * @returns {Promise<Set<string>>}
   */
  allowList() {
    this.allowed ??= this.info().then(
      (answer) => {
        const hosts = new Set();
        // A generic server's origins (answer.allow), else GitHub's roots
        // (and a relay's, oauthUrl).
        const roots = Array.isArray(answer?.allow) ? answer.allow : [answer?.endpoints?.base, answer?.endpoints?.api, answer?.endpoints?.oauth];
        for (const root of roots) {
          if (typeof root === "string") hosts.add(new URL(root).host.toLowerCase());
        }
        // With an issuer, the plugin names the discovered endpoints' origins
        // in its endpoints event before it uses them (see Call#emit).
        this.discover = answer?.endpoints?.discover === true && !this.options.allowedHosts;
        return hosts;
      },
      () => new Set(),
    );
    return this.allowed;
  }

  /**
   * Runs one export. Resolves to its parsed JSON output; rejects with a
   * DeviceFlowError carrying the plugin's code, or with the error an onEvent
   * handler threw (which stops the flow).
   *
   * @param {string} exportName
   * @param {object | string} input
   * @param {{signal?: AbortSignal}} [options]
   */
  async call(exportName, input, { signal } = {}) {
    if (!EXPORTS.has(exportName)) {
      throw new DeviceFlowError({ code: "invalid_input", message: `invalid input: export: unknown export ${JSON.stringify(String(exportName)).slice(0, 40)}` });
    }
    if (signal?.aborted) throw cancelledError(signal);
    const text = typeof input === "string" ? input : JSON.stringify(input ?? {});
    if (exportName !== "info") {
      this.http.allowed = await this.allowList();
      this.http.responseHeaders = await this.responseHeaders();
    }
    const call = new Call(this, signal);
    let out;
    try {
      out = await this.platform.runExport(exportName, text, call);
    } catch (thrown) {
      if (call.handlerError) throw call.handlerError.error;
      if (thrown instanceof DeviceFlowError) throw thrown;
      if (signal?.aborted) throw cancelledError(signal);
      throw fromCallFailure(thrown).error;
    } finally {
      // However the call ended, no lease outlives it.
      await call.releaseLeases();
    }
    try {
      return JSON.parse(out);
    } catch (err) {
      throw new DeviceFlowError({ code: "plugin", message: `deviceflow plugin: malformed output from ${exportName}` }, { cause: err });
    }
  }
}

/**
 * One running export: what the host functions ask for. In Node the host
 * functions are called from the worker's messages; each runs in the async
 * context of the code that started the call (the platform's scope), so the
 * caller's AsyncLocalStorage (and the lock it holds, see lock.js) is seen by
 * fetch, the store and the handlers.
 *
 * A call keeps every store lease it was granted, by lease id, so that
 * releaseLeases can free the ones the plugin did not unlock.
 */
export class Call {
  constructor(host, signal) {
    this.host = host;
    this.signal = signal;
    /** Set when an onEvent handler threw: {error}. */
    this.handlerError = null;
    this.scope = host.platform.scope();
    /** lease id → {key, release} for every lease held now. */
    this.leases = new Map();
    /** Set once the call has ended: a lease granted later is released at once. */
    this.ended = false;
  }

  http(req) {
    return this.scope.runInAsyncScope(() => this.host.http.do(req, this.signal));
  }

  sleep(ms) {
    return this.scope.runInAsyncScope(() => this.#sleep(ms));
  }

  async storeGet(key) {
    return absentAsUndefined(await this.scope.runInAsyncScope(() => this.host.store.get(key)));
  }

  /** Compare-and-swap: {swapped, current?} (see store-ops.js). */
  storeSwap(key, old, next) {
    return this.scope.runInAsyncScope(() => swapIn(this.host.store, key, old, next));
  }

  /** Takes a lease: answers the store-answer record {lease} / {busy} / {cancelled}. */
  storeLock(key, waitMs, ttlMs) {
    return this.scope.runInAsyncScope(() => this.#lock(key, waitMs, ttlMs));
  }

  /** Releases a lease this call holds; an unknown or released lease is fine. */
  storeUnlock(key, lease) {
    const held = this.leases.get(lease);
    if (!held || held.key !== key) return undefined;
    this.leases.delete(lease);
    return this.scope.runInAsyncScope(() => held.release());
  }

  /** Releases every lease still held and refuses new ones. Never rejects. */
  async releaseLeases() {
    this.ended = true;
    const held = [...this.leases.values()];
    this.leases.clear();
    await Promise.all(held.map(({ release }) => Promise.resolve().then(release).catch(() => {})));
  }

  async #lock(key, waitMs, ttlMs) {
    if (this.ended || this.signal?.aborted) return { cancelled: true };
    let release;
    try {
      release = await lockIn(this.host.store, key, waitMs, this.signal, ttlMs);
    } catch (err) {
      if (this.signal?.aborted || err?.code === "cancelled") return { cancelled: true };
      throw err;
    }
    if (!release) return { busy: true };
    if (this.ended) {
      await Promise.resolve().then(release).catch(() => {});
      return { cancelled: true };
    }
    const lease = this.host.platform.leaseId();
    this.leases.set(lease, { key, release });
    return { lease };
  }

  emit(text) {
    return this.scope.runInAsyncScope(() => this.#emit(text));
  }

  async #sleep(ms) {
    const custom = this.host.options.sleep;
    if (this.signal?.aborted) return true;
    if (custom) return Boolean(await custom(ms, this.signal));
    return sleepFor(ms, this.signal);
  }

  now() {
    const clock = this.host.options.now;
    return clock ? Number(clock()) : Date.now();
  }

  /**
   * The monotonic clock: the `monotonic` option, else the `now` option when
   * only that one is given (a test's fake clock stands for both), else
   * performance.now().
   */
  monotonic() {
    const { monotonic, now } = this.host.options;
    if (monotonic) return Number(monotonic());
    if (now) return Number(now());
    return performance.now();
  }

  /** Hands an event to onEvent; answers true to stop the flow. */
  async #emit(text) {
    if (this.signal?.aborted) return true;
    let event;
    try {
      event = JSON.parse(text);
    } catch {
      return false;
    }
    if (event?.type === "endpoints" && this.host.discover && Array.isArray(event.origins)) {
      // The origins of an issuer's discovered endpoints, decided by the
      // plugin: the sandbox allows them from now on (https, or loopback http,
      // is still checked for every request).
      for (const origin of event.origins) {
        try {
          this.host.http.allowed.add(new URL(origin).host.toLowerCase());
        } catch {
          // not a URL: nothing to allow
        }
      }
    }
    const onEvent = this.host.options.onEvent;
    if (!onEvent) return false;
    try {
      const answer = await untilAborted(Promise.resolve(onEvent(event)), this.signal);
      return answer === false || Boolean(this.signal?.aborted);
    } catch (error) {
      this.handlerError = { error };
      return true;
    }
  }
}

/**
 * Resolves like promise, or with undefined as soon as the signal aborts, so a
 * handler still waiting (for "press Enter") cannot hold a cancelled flow.
 */
function untilAborted(promise, signal) {
  if (!signal) return promise;
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(undefined);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

// setTimeout fires at once for delays above 2^31-1 ms; a longer sleep ends
// early and the plugin, seeing its clock short of the wake time, sleeps again.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Waits ms, ending early (answering true) when the signal aborts. */
function sleepFor(ms, signal) {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(true);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(false);
    }, Math.min(Math.max(0, ms), MAX_TIMER_MS));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
