import { createServer } from "node:http";

/**
 * A small programmable GitHub for the SDK's own tests, on 127.0.0.1. The
 * device-code endpoint hands out codes with a short interval; the token
 * endpoint answers from a script (`answers`, one per poll, the last one
 * repeated); /user and /api/v3/user answer for any token. Every request is
 * recorded (tokens included: tests only).
 */
export class FakeGitHub {
  /**
   * @param {{interval?: number, expiresIn?: number, answers?: Array<object | ((body: object) => object)>, deviceCode?: (body: object) => {status?: number, json: object}, refresh?: (body: object) => object, refreshDelayMs?: number, user?: (req) => {status: number, json?: object, headers?: object}}} [script]
   */
  constructor(script = {}) {
    this.script = script;
    this.requests = [];
    this.polls = 0;
    this.codes = 0;
    this.server = createServer((req, res) => this.#handle(req, res));
  }

  async start() {
    await new Promise((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${this.server.address().port}`;
    return this.url;
  }

  async close() {
    this.server.closeAllConnections?.();
    await new Promise((resolve) => this.server.close(resolve));
  }

  async #handle(req, res) {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const text = Buffer.concat(chunks).toString("utf8");
    let body;
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      body = Object.fromEntries(new URLSearchParams(text));
    }
    const path = req.url.split("?")[0];
    this.requests.push({ method: req.method, path, headers: req.headers, body });
    const send = (status, json, headers = {}) => {
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
      res.end(JSON.stringify(json));
    };
    if (req.method === "POST" && path === "/login/device/code") {
      this.codes++;
      if (this.script.deviceCode) {
        const a = this.script.deviceCode(body);
        return send(a.status ?? 200, a.json);
      }
      return send(200, {
        device_code: `DC${this.codes}`,
        user_code: `ABCD-000${this.codes}`,
        verification_uri: `${this.url}/login/device`,
        expires_in: this.script.expiresIn ?? 900,
        interval: this.script.interval ?? 0.02,
      });
    }
    if (req.method === "POST" && path === "/login/oauth/access_token") {
      if (body.grant_type === "refresh_token") {
        if (this.script.refreshDelayMs) await new Promise((r) => setTimeout(r, this.script.refreshDelayMs));
        return send(200, this.script.refresh ? this.script.refresh(body) : { error: "bad_refresh_token" });
      }
      const answers = this.script.answers ?? [{ access_token: "gho_fake", token_type: "bearer", scope: "" }];
      const a = answers[Math.min(this.polls, answers.length - 1)];
      this.polls++;
      return send(200, typeof a === "function" ? a(body) : a);
    }
    if (req.method === "GET" && (path === "/user" || path === "/api/v3/user")) {
      if (this.script.user) {
        const a = this.script.user(req);
        return send(a.status, a.json ?? {}, a.headers);
      }
      return send(200, { login: "octocat" }, { "x-oauth-scopes": "repo" });
    }
    send(404, { message: "Not Found" });
  }

  /** The requests to one path. */
  to(path) {
    return this.requests.filter((r) => r.path === path);
  }
}

/** An OAuth App's token answer. */
export const token = (t = "gho_fake", scope = "") => ({ access_token: t, token_type: "bearer", scope });
export const pending = { error: "authorization_pending", error_description: "pending" };
