import { createServer } from "node:http";
import { compact } from "./jsonraw.js";
import { jsonEqual, tryParse } from "./match.js";

/**
 * The conformance vectors' scripted HTTP server (wit/conformance/README.md):
 * it answers the exchanges in order, checks each request against the
 * exchange (including the timeoutMs the plugin asked for, which the runner
 * records in `asked`), applies the exchange's storeWrites while the request
 * is in flight, and sends the scripted response exactly (no Date header), a
 * reset, or a 3-second hold. With `cors` (the browser runner) every answer
 * also carries CORS headers that expose every response header, and
 * preflight requests are answered without using an exchange.
 */
export class ScriptedServer {
  /**
   * @param {{exchanges?: object[], sources?: WeakMap<object, string>, advance: (ms: number) => void, writeStore?: (writes: Record<string, string | null>) => void, cors?: boolean}} options
   */
  constructor({ exchanges, sources, advance, writeStore, cors }) {
    this.cors = Boolean(cors);
    this.exchanges = exchanges ?? [];
    this.sources = sources;
    this.advance = advance;
    this.writeStore = writeStore;
    /** The timeoutMs of every request the host let out, in order (filled by the runner). */
    this.asked = [];
    this.next = 0;
    this.failures = [];
    this.server = createServer((req, res) => this.#handle(req, res));
    this.origin = "";
  }

  async start() {
    await new Promise((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.origin = `http://127.0.0.1:${this.server.address().port}`;
    return this.origin;
  }

  async close() {
    this.server.closeAllConnections?.();
    await new Promise((resolve) => this.server.close(resolve));
  }

  async #handle(req, res) {
    res.sendDate = false;
    if (this.cors) {
      res.setHeader("access-control-allow-origin", "*");
      res.setHeader("access-control-expose-headers", "*");
      // A fresh connection for every request: Chromium sends a request
      // again by itself when a reused connection is reset, which would
      // hide the reset from the host.
      res.setHeader("connection", "close");
      if (req.method === "OPTIONS" && req.headers["access-control-request-method"]) {
        res.writeHead(204, {
          "access-control-allow-methods": "GET, POST, PUT, PATCH, DELETE",
          "access-control-allow-headers": req.headers["access-control-request-headers"] ?? "*",
          "access-control-max-age": "600",
        });
        res.end();
        return;
      }
    }
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks).toString("utf8");
    if (this.next >= this.exchanges.length) {
      this.failures.push(`unexpected request ${this.next + 1}: ${req.method} ${req.url}`);
      this.next++;
      res.writeHead(500).end();
      return;
    }
    const ex = this.exchanges[this.next++];
    const n = this.next;
    const problem = this.#mismatch(ex.request ?? {}, req, body, this.asked[n - 1]);
    if (problem) {
      this.failures.push(`request ${n}: ${problem}`);
      res.writeHead(500).end(`conformance: ${problem}`);
      return;
    }
    if (ex.storeWrites) this.writeStore(ex.storeWrites);
    if (ex.advanceMs > 0) this.advance(ex.advanceMs);
    if (ex.fault === "reset") {
      req.socket.destroy();
      return;
    }
    if (ex.fault === "timeout") {
      await new Promise((resolve) => {
        const t = setTimeout(resolve, 3000);
        res.on("close", () => {
          clearTimeout(t);
          resolve();
        });
      });
      if (!res.destroyed) res.destroy();
      return;
    }
    const r = ex.response ?? {};
    let payload = "";
    if (typeof r.body === "string") payload = r.body;
    else if (r.json !== undefined) payload = compactValue(r.json, this.sources);
    const headers = { ...(r.headers ?? {}) };
    res.writeHead(r.status || 200, headers);
    res.end(payload);
  }

  #mismatch(want, req, body, askedTimeoutMs) {
    if (req.method !== want.method) return `method ${req.method}, want ${want.method}`;
    if (want.timeoutMs !== undefined && askedTimeoutMs !== want.timeoutMs) {
      return `timeoutMs ${askedTimeoutMs}, want ${want.timeoutMs}`;
    }
    const url = this.origin + req.url;
    if (url !== want.url) return `url ${url}, want ${want.url}`;
    for (const [k, v] of Object.entries(want.headers ?? {})) {
      const got = req.headers[k.toLowerCase()];
      if (got !== v) return `header ${k} = ${JSON.stringify(got ?? "")}, want ${JSON.stringify(v)}`;
    }
    for (const k of want.absentHeaders ?? []) {
      if (req.headers[k.toLowerCase()] !== undefined) return `header ${k} present, want absent`;
    }
    if (want.json !== undefined) {
      const got = tryParse(body);
      if (got === undefined) return "body is not JSON";
      if (!jsonEqual(got, want.json)) return `json body ${body}, want ${JSON.stringify(want.json)}`;
    } else if (want.form !== undefined) {
      const got = {};
      for (const [k, v] of new URLSearchParams(body)) if (!Object.hasOwn(got, k)) got[k] = v;
      if (!jsonEqual(got, want.form)) return `form body ${JSON.stringify(got)}, want ${JSON.stringify(want.form)}`;
    } else if (want.body !== undefined) {
      if (body !== want.body) return `body ${JSON.stringify(body)}, want ${JSON.stringify(want.body)}`;
    }
    return null;
  }
}

/** A vector's JSON body as written, compacted; primitives serialised. */
function compactValue(value, sources) {
  if (value !== null && typeof value === "object" && sources.has(value)) return compact(sources.get(value));
  return JSON.stringify(value);
}
