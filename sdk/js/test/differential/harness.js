// The differential harness: one scripted scenario run through
// @octokit/auth-oauth-device and through @deviceflow/auth-oauth-device
// against the same fetch mock, each producing a transcript — every request
// (method, URL, headers in the order given, body), every onVerification
// argument, every result or error (class, name, message, status,
// response.data), and, where a scenario asks for it, every wait — compared
// byte for byte as JSON.
//
// Time is fake on both sides: octokit waits with setTimeout, which is
// replaced during its run by one that advances the scenario's clock and fires
// at once; ours is given the same clock as `now`/`monotonic` and a `sleep`
// that advances it. The Date header of each answer is scripted, so expiry
// stamps depend on the script only.
import { request as octokitRequest } from "@octokit/request";
import { createOAuthDeviceAuth as octokitCreate } from "@octokit/auth-oauth-device";
import { createOAuthDeviceAuth as oursCreate } from "../../src/index.js";

export const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);
export const DATE0 = new Date(T0).toUTCString(); // "Thu, 01 Jan 2026 08:00:00 GMT"

/**
 * Every difference the suite accepts, by name, with its reason. A scenario
 * that differs must name one of these; README.md lists the same.
 */
export const DELIBERATE = {
  "polling-schedule":
    "we wait the interval (plus 5 %) before every poll, the first one included, and slow_down adds 5 s for good (RFC 8628 §3.5); octokit polls at once and waits interval + 7 s once after slow_down",
  "user-agent":
    "when the user's request instance carries no user-agent of its own (or there is no instance), ours names deviceflow and then what octokit would have sent: `deviceflow/0.1.0 <@octokit/request's default or universal-user-agent's>`",
  "persistent-cache":
    "we cache per base URL, client and sorted scope set in a store and refresh expiring tokens; octokit keeps one token and compares scopes in order",
  "refresh-expiring":
    "an expiring GitHub App token within 5 minutes of its expiry is refreshed with its refresh token; octokit hands out the expired token",
  "comma-scopes":
    "scopes are split on commas and white space (GitHub answers `repo,gist`); octokit splits on white space only",
  "client-type": "an unknown clientType is invalid_input; octokit treats it as an OAuth App",
  "no-date-header":
    "an answer without a usable Date header gets expiry stamps from the host's clock; octokit throws RangeError: Invalid time value",
  "expiry-fields":
    "refresh_token/expires_in are kept whatever the app type, and expires_in without refresh_token gives expiresAt alone; octokit keeps them for GitHub Apps only and only with a refresh_token",
  "unsupported-app":
    "a device-code request the app cannot make (404/401/403/422, 400 unauthorized_client, device_flow_disabled) is `unsupported` with a message saying where to enable the device flow",
  "backoff":
    "network faults, 429 and 5xx while polling back off and poll again until the code's deadline; octokit fails on the first",
  "network-error":
    "a network failure is code `network` with our message and no status; octokit's RequestError has the fetch error's message and status 500",
  "verification-fields":
    "onVerification receives the fields of RFC 8628 (device_code, user_code, verification_uri, verification_uri_complete?, expires_in, interval), not extra fields of the answer",
  "error-class":
    "errors are DeviceFlowError (with `code`, name \"HttpError\" for a server's OAuth error) rather than @octokit/request-error's RequestError; message, status and response.data are octokit's",
  "lifetime-clamp": "an expires_in of 2^31 s or more is clamped to 2^31-1 s; octokit adds it as it is",
  "http-error":
    "an HTTP error outside polling is described by us (status kept, the body never quoted, since a server may echo a token); octokit's RequestError quotes the body's message",
  "github-app-scope":
    "a GitHub App sends no scope (GitHub ignores it); octokit sends the scopes option if one is given",
};

/**
 * For some deliberate differences, the transform that takes that difference
 * out of both transcripts: a scenario naming one must then be identical, so
 * it differs in that way only. (The others change what follows too — a
 * refresh, a cache hit, an error instead of a result — and are checked by the
 * unit tests.)
 */
export const NORMALIZE = {
  "user-agent": (t) => mapRequests(t, (r) => ({ ...r, headers: r.headers.filter(([k]) => k.toLowerCase() !== "user-agent") })),
  "polling-schedule": (t) => t.filter((e) => !("wait" in e)),
  "verification-fields": (t) =>
    t.map((e) => {
      if (!e.verification) return e;
      const keep = ["device_code", "user_code", "verification_uri", "expires_in", "interval", "verification_uri_complete"];
      return { verification: Object.fromEntries(Object.entries(e.verification).filter(([k]) => keep.includes(k))) };
    }),
  "github-app-scope": (t) =>
    mapRequests(t, (r) => (r.url.endsWith("/login/device/code") ? { ...r, body: JSON.stringify(withoutScope(JSON.parse(r.body))) } : r)),
};

function withoutScope({ scope: _scope, ...rest }) {
  return rest;
}

function mapRequests(transcript, fn) {
  return transcript.map((e) => (e.request ? { request: fn(e.request) } : e));
}

/** A fake wall clock and monotonic clock, moved by waits only. */
export class Clock {
  constructor() {
    this.t = T0;
    this.mono = 1_000_000;
  }
  now = () => this.t;
  monotonic = () => this.mono;
  advance(ms) {
    this.t += ms;
    this.mono += ms;
  }
}

/** A JSON answer, as GitHub gives it. */
export function json(body, { status = 200, date = DATE0, headers = {} } = {}) {
  const h = { "content-type": "application/json; charset=utf-8" };
  if (date !== null) h.date = date;
  return { status, headers: { ...h, ...headers }, body: JSON.stringify(body) };
}

/** A fetch that fails as undici's does when the connection is refused. */
export function networkFailure() {
  return { fail: true };
}

/**
 * The fetch mock: answers each request from the route's queue
 * (`"METHOD URL"` → answers; the last answer repeats) and records it.
 */
export class Mock {
  constructor(routes, log) {
    this.routes = new Map(Object.entries(routes).map(([k, v]) => [k, [...v]]));
    this.log = log;
    this.count = 0;
    this.fetch = this.fetch.bind(this);
  }

  async fetch(input, init = {}) {
    const url = typeof input === "string" ? input : input.url;
    const method = (init.method ?? "GET").toUpperCase();
    let headers;
    if (init.headers instanceof Headers) headers = [...init.headers];
    else headers = Object.entries(init.headers ?? {}).map(([k, v]) => [k, String(v)]);
    const body = init.body === undefined || init.body === null ? null : String(init.body);
    this.log.push({ request: { method, url, headers, body } });
    if (++this.count > 40) throw new Error("mock: too many requests");
    const queue = this.routes.get(`${method} ${url}`);
    if (!queue || queue.length === 0) {
      return new Response(JSON.stringify({ message: "Not Found" }), { status: 404, headers: { "content-type": "application/json; charset=utf-8", date: DATE0 } });
    }
    const answer = queue.length > 1 ? queue.shift() : queue[0];
    if (answer.fail) {
      const cause = Object.assign(new Error("connect ECONNREFUSED 140.82.112.4:443"), { code: "ECONNREFUSED" });
      throw new TypeError("fetch failed", { cause });
    }
    return new Response(answer.body, { status: answer.status, headers: answer.headers });
  }
}

/** A result as compared: octokit responses (from the hook) without their headers. */
function normalizeResult(value) {
  if (value && typeof value === "object" && "status" in value && "data" in value && "headers" in value) {
    return { status: value.status, data: value.data };
  }
  return value;
}

function normalizeError(e) {
  if (!(e instanceof Error)) return { thrown: String(e) };
  const out = { class: e.constructor.name, name: e.name, message: e.message };
  if (e.status !== undefined) out.status = e.status;
  if (e.response !== undefined) out.data = e.response?.data;
  return out;
}

/**
 * Runs one scenario with one implementation ("octokit" or "ours") and
 * answers its transcript.
 */
export async function runScenario(scenario, impl) {
  const log = [];
  const clock = new Clock();
  const mock = new Mock(scenario.routes, log);
  const waits = scenario.compareWaits === true;
  const create =
    impl === "octokit"
      ? octokitCreate
      : (options) =>
          oursCreate({
            ...options,
            now: clock.now,
            monotonic: clock.monotonic,
            sleep: (ms) => {
              clock.advance(ms);
              if (waits) log.push({ wait: ms });
              return false;
            },
          });
  const env = {
    impl,
    create,
    mock,
    clock,
    fetch: mock.fetch,
    /** An @octokit/request instance that sends through the mock. */
    request(defaults = {}) {
      return octokitRequest.defaults({ ...defaults, request: { fetch: mock.fetch, ...(defaults.request ?? {}) } });
    },
    onVerification(v) {
      log.push({ verification: v });
    },
    note(entry) {
      log.push(entry);
    },
    /** Runs a step and records its result or error. */
    async step(label, fn) {
      try {
        log.push({ [label]: normalizeResult(await fn()) });
      } catch (e) {
        log.push({ [`${label} error`]: normalizeError(e) });
      }
    },
    advance(ms) {
      clock.advance(ms);
    },
  };

  const realFetch = globalThis.fetch;
  const realSetTimeout = globalThis.setTimeout;
  globalThis.fetch = mock.fetch;
  if (impl === "octokit") {
    globalThis.setTimeout = (fn, ms, ...args) => {
      clock.advance(ms ?? 0);
      if (waits) log.push({ wait: ms });
      return realSetTimeout(fn, 0, ...args);
    };
  }
  try {
    await scenario.run(env);
  } finally {
    globalThis.fetch = realFetch;
    globalThis.setTimeout = realSetTimeout;
  }
  return log;
}

/** The first entries where two transcripts part, for a failure message. */
export function firstDifference(a, b) {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = JSON.stringify(a[i]);
    const y = JSON.stringify(b[i]);
    if (x !== y) return `entry ${i}:\n  octokit: ${x}\n  ours:    ${y}`;
  }
  return "";
}
