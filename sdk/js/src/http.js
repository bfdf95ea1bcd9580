import { refusal } from "./sandbox.js";

/**
 * Performs the plugin's HTTP requests (wit: http-request → http-response)
 * inside the sandbox: only allowed hosts, https except loopback, no
 * redirects followed, a cap on the response size, and a timeout that bounds
 * the whole exchange — connecting, the headers and reading the whole body —
 * so a server trickling its answer is cut off at it.
 *
 * Two transports: a fetch function (the global fetch by default), or an
 * @octokit/request instance. Through the instance every request gets its
 * defaults and hooks, and goes out through the fetch the instance was given
 * (`request: {fetch}`), so a user's fetch mock or proxy keeps working; the
 * raw answer is taken from that fetch before octokit parses it.
 */
export class HttpClient {
  /**
   * @param {{allowed: Set<string>, request?: Function, fetch?: typeof fetch, timeoutMs: number, maxResponseBytes: number}} options
   */
  constructor(options) {
    this.allowed = options.allowed;
    this.request = options.request;
    this.fetch = options.fetch;
    this.timeoutMs = options.timeoutMs;
    this.maxResponseBytes = options.maxResponseBytes;
    /**
     * The response headers the plugin reads (its info export): the only ones
     * passed to it. null passes them all.
     * @type {Set<string> | null}
     */
    this.responseHeaders = null;
  }

  /**
   * The answer as the plugin gets it: only the response headers it reads.
   * (An @octokit/request instance's hooks still saw them all.)
   */
  #forPlugin(answer) {
    const read = this.responseHeaders;
    if (read === null || !answer.headers) return answer;
    const headers = {};
    for (const name of Object.keys(answer.headers)) {
      if (read.has(name)) headers[name] = answer.headers[name];
    }
    return { ...answer, headers };
  }

  /**
   * @param {{method: string, url: string, headers?: Record<string, string>, body?: string, timeoutMs?: number}} req
   * @param {AbortSignal | undefined} signal the call's signal
   */
  async do(req, signal) {
    const why = refusal(this.allowed, req.url);
    if (why) return { error: { kind: "denied", message: why } };
    let timeout = this.timeoutMs;
    if (req.timeoutMs > 0 && req.timeoutMs < timeout) timeout = req.timeoutMs;

    const controller = new AbortController();
    let timedOut = false;
    let timer;
    const expired = new Promise((resolve) => {
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort(new Error("timeout"));
        resolve({ error: { kind: "timeout", message: "the request timed out" } });
      }, timeout);
    });
    const onAbort = () => controller.abort(signal.reason);
    if (signal?.aborted) onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const attempt = (this.request ? this.#viaOctokit(req, controller.signal) : this.#viaFetch(this.fetch ?? globalThis.fetch, req, controller.signal)).catch(
        (err) => {
          if (timedOut) return { error: { kind: "timeout", message: "the request timed out" } };
          if (signal?.aborted) return { error: { kind: "network", message: "the request was cancelled" } };
          return { error: { kind: "network", message: describe(err) } };
        },
      );
      return this.#forPlugin(await Promise.race([attempt, expired]));
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /** One exchange through a fetch function. */
  async #viaFetch(fetchFn, req, signal) {
    const res = await fetchFn(req.url, fetchInit(req, signal));
    // A browser does not follow the redirect (redirect: "manual") and hides
    // it: status 0, no headers. It is still a redirect, which the plugin
    // treats as any 3xx (a transient answer while polling); 302 stands for
    // the status the browser would not show.
    if (res.type === "opaqueredirect") return { status: 302, headers: {}, body: "" };
    return this.#read(res, signal);
  }

  /**
   * One exchange through an @octokit/request instance. The instance's own
   * fetch is wrapped so the raw answer is captured before octokit parses or
   * rejects it.
   */
  async #viaOctokit(req, signal) {
    const request = this.request;
    const userFetch = request.endpoint?.DEFAULTS?.request?.fetch ?? globalThis.fetch;
    let captured = null;
    const capture = async (url, init) => {
      const res = await userFetch(url, { ...init, redirect: "manual", signal });
      captured = await this.#read(res, signal);
      if (captured.error) throw new Error(captured.error.message);
      const nullBody = [101, 204, 205, 304].includes(captured.status);
      return new Response(nullBody ? null : captured.body, { status: captured.status, headers: captured.headers });
    };
    const options = {
      method: req.method,
      ...routeOf(req.url, request.endpoint?.DEFAULTS?.baseUrl),
      headers: instanceHeaders(req.headers ?? {}, request.endpoint?.DEFAULTS?.headers ?? {}),
      request: { fetch: capture, redirect: "manual", signal },
    };
    if (hasBody(req)) Object.assign(options, parametersOf(req));
    let response;
    try {
      response = await request(options);
    } catch (err) {
      if (captured) return captured;
      if (err?.response) return fromOctokitResponse(err.response);
      throw err;
    }
    return captured ?? fromOctokitResponse(response);
  }

  /**
   * Reads a fetch Response into the contract's answer, within the size cap.
   * When signal aborts (the timeout or the call's signal), the body is
   * cancelled even if the fetch in use ignores the signal.
   */
  async #read(res, signal) {
    const headers = {};
    res.headers.forEach((value, name) => {
      headers[name.toLowerCase()] = value;
    });
    const chunks = [];
    let size = 0;
    if (res.body) {
      const reader = res.body.getReader();
      const stop = () => reader.cancel(signal.reason).catch(() => {});
      if (signal?.aborted) stop();
      signal?.addEventListener("abort", stop, { once: true });
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (signal?.aborted) throw signal.reason ?? new Error("aborted");
          if (done) break;
          size += value.byteLength;
          if (size > this.maxResponseBytes) {
            await reader.cancel().catch(() => {});
            return { error: { kind: "network", message: "the response is larger than the host's limit" } };
          }
          chunks.push(value);
        }
      } finally {
        signal?.removeEventListener("abort", stop);
      }
    }
    const body = new TextDecoder().decode(concat(chunks, size));
    return { status: res.status, headers, body };
  }
}

/**
 * The URL as octokit's oauth-methods hand it to a request instance: a path
 * under the instance's baseUrl, or under the origin it belongs to
 * (`{baseUrl: "https://github.com", url: "/login/device/code"}`), so the
 * instance's hooks see the endpoint octokit's would.
 */
function routeOf(url, instanceBase) {
  if (typeof instanceBase === "string" && instanceBase && url.startsWith(`${instanceBase.replace(/\/+$/, "")}/`)) {
    return { url: url.slice(instanceBase.replace(/\/+$/, "").length) };
  }
  try {
    const u = new URL(url);
    const rest = url.slice(u.origin.length);
    if (u.origin !== "null" && url.startsWith(u.origin) && rest.startsWith("/") && !/[{}]|:[a-z]/i.test(rest)) {
      return { baseUrl: u.origin, url: rest };
    }
  } catch {
    // Not a URL octokit could split: send it whole.
  }
  return { url };
}

const RESERVED = new Set(["method", "baseUrl", "url", "headers", "request", "mediaType", "data"]);

/**
 * The body as octokit's oauth-methods pass it: a JSON object's fields as
 * parameters (octokit serialises them the same way), so the instance's hooks
 * see `client_id`, `scope`…; any other body as `data`, sent as it is.
 */
function parametersOf(req) {
  const type = headerNamed(req.headers ?? {}, "content-type") ?? "";
  if (/^application\/json\b/i.test(type)) {
    try {
      const value = JSON.parse(req.body);
      if (
        value && typeof value === "object" && !Array.isArray(value) &&
        Object.keys(value).length > 0 &&
        Object.entries(value).every(([k, v]) => !RESERVED.has(k) && typeof v === "string") &&
        JSON.stringify(value) === req.body
      ) {
        return value;
      }
    } catch {
      // Not JSON: sent as it is.
    }
  }
  return { data: req.body };
}

function hasBody(req) {
  const m = (req.method || "GET").toUpperCase();
  return m !== "GET" && m !== "HEAD" && typeof req.body === "string" && req.body !== "";
}

function fetchInit(req, signal) {
  const init = { method: req.method || "GET", headers: fetchHeaders(req.headers ?? {}), redirect: "manual", signal };
  if (hasBody(req)) init.body = req.body;
  return init;
}

// The user-agent rule. The plugin names itself (`user-agent: deviceflow/0.1.0`);
// the host decides what goes on the wire, the way @octokit/auth-oauth-device
// does with its `request`:
//  - through the user's @octokit/request instance, the instance's user-agent
//    is sent as it is (the one the user set, or Octokit's), unless it is only
//    @octokit/request's (or @octokit/endpoint's) own default: then ours comes
//    first, naming both, `deviceflow/0.1.0 octokit-request.js/10.0.16 Node.js/…`;
//  - without an instance (a fetch), octokit's form: ours followed by what
//    universal-user-agent gives, `deviceflow/0.1.0 Node.js/20.20.2 (linux; x64)`.
// Every other header the instance defines is sent as octokit sends it; the
// plugin sets only what the protocol needs (accept, content-type,
// authorization). The JSON content-type is left to octokit, which adds it
// after the instance's hooks ran, unless the instance has one of its own.

/** octokit's own default user agents: the user set none. */
const OCTOKIT_DEFAULT_UA = /^octokit-(?:request|endpoint)\.js\/\S+ /;

/** What universal-user-agent's getUserAgent() answers, as octokit's default user agents end. */
export function runtimeUserAgent() {
  const nav = /** @type {any} */ (globalThis).navigator;
  if (typeof nav === "object" && nav && "userAgent" in nav) return nav.userAgent;
  if (typeof process === "object" && process.version !== undefined) {
    return `Node.js/${process.version.slice(1)} (${process.platform}; ${process.arch})`;
  }
  return "<environment undetectable>";
}

function headerNamed(headers, name) {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return undefined;
}

/**
 * The headers for a fetch (no request instance): in the order @octokit/request
 * sends them (accept, user-agent, others, content-type), with our user agent
 * in octokit's form.
 */
function fetchHeaders(pluginHeaders) {
  const out = {};
  const accept = headerNamed(pluginHeaders, "accept");
  if (accept !== undefined) out.accept = accept;
  const ua = headerNamed(pluginHeaders, "user-agent");
  if (ua !== undefined) out["user-agent"] = `${ua} ${runtimeUserAgent()}`;
  for (const [k, v] of Object.entries(pluginHeaders)) {
    const name = k.toLowerCase();
    if (name !== "accept" && name !== "user-agent" && name !== "content-type") out[name] = v;
  }
  const type = headerNamed(pluginHeaders, "content-type");
  if (type !== undefined) out["content-type"] = type;
  return out;
}

/**
 * The headers passed to the user's request instance, merged by it over its
 * defaults: the instance's user-agent governs (see above).
 */
function instanceHeaders(pluginHeaders, defaults) {
  const out = {};
  const theirs = headerNamed(defaults, "user-agent");
  for (const [k, v] of Object.entries(pluginHeaders)) {
    const name = k.toLowerCase();
    if (name === "user-agent") {
      if (theirs === undefined) out[name] = `${v} ${runtimeUserAgent()}`;
      else if (OCTOKIT_DEFAULT_UA.test(String(theirs))) out[name] = `${v} ${theirs}`;
      continue;
    }
    // octokit adds this one itself, after the instance's hooks have run (and
    // not over a content-type of the instance's own).
    if (name === "content-type" && v === "application/json; charset=utf-8") continue;
    out[name] = v;
  }
  return out;
}

/** An answer from octokit's parsed response, when no raw answer was seen. */
function fromOctokitResponse(r) {
  const headers = {};
  for (const [k, v] of Object.entries(r.headers ?? {})) headers[k.toLowerCase()] = String(v);
  let body = r.data;
  if (body === undefined || body === null) body = "";
  else if (typeof body !== "string") body = JSON.stringify(body);
  return { status: r.status, headers, body };
}

function concat(chunks, size) {
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Names a transport failure without echoing the URL. */
function describe(err) {
  // fetch wraps the socket's error in TypeError("fetch failed"), and
  // @octokit/request wraps that again: look through the chain.
  let innermost = err;
  for (let e = err, depth = 0; e && depth < 5; e = e.cause, depth++) {
    switch (e.code) {
      case "ECONNREFUSED":
        return "the connection was refused";
      case "ECONNRESET":
      case "UND_ERR_SOCKET":
      case "EPIPE":
        return "the connection was closed before a response arrived";
      case "ENOTFOUND":
      case "EAI_AGAIN":
        return "the host name did not resolve";
    }
    innermost = e;
  }
  const msg = innermost?.message ?? String(innermost);
  return `the connection failed: ${msg}`.slice(0, 200);
}
