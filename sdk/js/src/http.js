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
      return await Promise.race([attempt, expired]);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /** One exchange through a fetch function. */
  async #viaFetch(fetchFn, req, signal) {
    const res = await fetchFn(req.url, fetchInit(req, signal));
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
      url: req.url,
      headers: { ...(req.headers ?? {}) },
      request: { fetch: capture, redirect: "manual", signal },
    };
    if (hasBody(req)) options.data = req.body;
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

function hasBody(req) {
  const m = (req.method || "GET").toUpperCase();
  return m !== "GET" && m !== "HEAD" && typeof req.body === "string" && req.body !== "";
}

function fetchInit(req, signal) {
  const init = { method: req.method || "GET", headers: req.headers ?? {}, redirect: "manual", signal };
  if (hasBody(req)) init.body = req.body;
  return init;
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
