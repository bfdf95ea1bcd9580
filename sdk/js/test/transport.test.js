// HTTP transports and the sandbox: an @octokit/request instance (its
// baseUrl selects GHES; its fetch mock sees every exchange), the fetch
// option, and the host's limits.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { request as octokitRequest } from "@octokit/request";
import { createOAuthDeviceAuth, closeIdle } from "../src/index.js";
import { HttpClient } from "../src/http.js";
import { Host } from "../src/host.js";

after(() => closeIdle());

const json = (status, body, headers = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json; charset=utf-8", ...headers } });

/** A fetch mock playing GitHub: one pending poll, then a token. */
function mockGitHub() {
  const seen = [];
  let polls = 0;
  const fetch = async (url, init) => {
    seen.push({ url: String(url), method: init.method, headers: { ...init.headers }, body: init.body });
    const path = new URL(url).pathname;
    if (path === "/login/device/code") {
      return json(200, { device_code: "DC", user_code: "WDJB-MJHT", verification_uri: "https://ghe.example.com/login/device", expires_in: 900, interval: 0.01 });
    }
    if (path === "/login/oauth/access_token") {
      return json(200, polls++ === 0 ? { error: "authorization_pending" } : { access_token: "gho_mock", token_type: "bearer", scope: "repo" });
    }
    if (path.endsWith("/user")) return json(200, { login: "mona" }, { "x-oauth-scopes": "repo" });
    return json(404, { message: "Not Found" });
  };
  return { fetch, seen };
}

test("an @octokit/request instance: its GHES baseUrl and its fetch mock carry every exchange", async () => {
  const mock = mockGitHub();
  const request = octokitRequest.defaults({ baseUrl: "https://ghe.example.com/api/v3", request: { fetch: mock.fetch } });
  const auth = createOAuthDeviceAuth({ clientId: "Iv1.ghes", scopes: ["repo"], request, onVerification() {} });
  const a = await auth({ type: "oauth" });
  assert.equal(a.token, "gho_mock");
  assert.deepEqual(
    mock.seen.map((s) => `${s.method} ${s.url}`),
    [
      "POST https://ghe.example.com/login/device/code",
      "POST https://ghe.example.com/login/oauth/access_token",
      "POST https://ghe.example.com/login/oauth/access_token",
    ],
  );
  assert.equal(mock.seen[0].headers["content-type"], "application/json; charset=utf-8");
  assert.equal(mock.seen[0].headers.accept, "application/json");
  assert.deepEqual(JSON.parse(mock.seen[0].body), { client_id: "Iv1.ghes", scope: "repo" });

  const res = await auth.hook(request, "GET /user");
  assert.equal(res.data.login, "mona");
  const last = mock.seen.at(-1);
  assert.equal(last.url, "https://ghe.example.com/api/v3/user");
  assert.equal(last.headers.authorization, "token gho_mock");
});

test("the fetch option carries every exchange to github.com when no request is given", async () => {
  const mock = mockGitHub();
  const auth = createOAuthDeviceAuth({ clientId: "Iv1.fetch", fetch: mock.fetch, onVerification() {} });
  assert.equal((await auth({ type: "oauth" })).token, "gho_mock");
  assert.equal(mock.seen[0].url, "https://github.com/login/device/code");
  assert.deepEqual(await auth.check(), { valid: true, login: "mona", scopes: ["repo"] });
  assert.equal(mock.seen.at(-1).url, "https://api.github.com/user");
});

test("a request instance mocked by a hook (no fetch at all) still works", async () => {
  let polls = 0;
  const request = octokitRequest.defaults({
    request: {
      hook: async (_request, options) => {
        if (options.url.endsWith("/login/device/code")) {
          return { status: 200, url: options.url, headers: {}, data: { device_code: "D", user_code: "U-1", verification_uri: "https://github.com/login/device", interval: 0.01 } };
        }
        polls++;
        return { status: 200, url: options.url, headers: {}, data: { access_token: "gho_hooked", token_type: "bearer", scope: "" } };
      },
    },
  });
  const auth = createOAuthDeviceAuth({ clientId: "Iv1.hooked", request, onVerification() {} });
  assert.equal((await auth({ type: "oauth" })).token, "gho_hooked");
  assert.equal(polls, 1);
});

test("only the response headers the plugin reads reach it; an octokit instance's hooks still see them all", async () => {
  const host = new Host({ allowedHosts: ["github.com", "api.github.com"] });
  assert.deepEqual([...(await host.responseHeaders())].sort(), ["cache-control", "content-type", "date", "retry-after", "x-oauth-scopes"]);
  const github = () =>
    json(429, { message: "slow" }, { "retry-after": "1", "set-cookie": "_gh_sess=secret; HttpOnly", "content-security-policy": "default-src 'none'", "x-github-request-id": "C0DE:1" });
  const client = new HttpClient({ allowed: new Set(["github.com"]), fetch: async () => github(), timeoutMs: 1000, maxResponseBytes: 1024 });
  client.responseHeaders = await host.responseHeaders();
  const r = await client.do({ method: "POST", url: "https://github.com/login/oauth/access_token", headers: {}, body: "" });
  assert.deepEqual(Object.keys(r.headers).sort(), ["content-type", "retry-after"]);

  // Through an @octokit/request instance: its hook sees every header; the
  // plugin honours Retry-After (its backoff waits the second).
  const hookSaw = [];
  let tokenPolls = 0;
  const request = octokitRequest.defaults({
    request: {
      fetch: async (url) => {
        const path = new URL(url).pathname;
        if (path === "/login/device/code") return json(200, { device_code: "DC", user_code: "WDJB-MJHT", verification_uri: "https://github.com/login/device", expires_in: 900, interval: 0.01 });
        if (tokenPolls++ === 0) return github();
        return json(200, { access_token: "gho_headers", token_type: "bearer", scope: "" }, { "set-cookie": "logged_in=no" });
      },
      hook: async (req, options) => {
        try {
          const res = await req(options);
          hookSaw.push(res.headers["set-cookie"]);
          return res;
        } catch (err) {
          hookSaw.push(err.response?.headers["set-cookie"]);
          throw err;
        }
      },
    },
  });
  const events = [];
  const auth = createOAuthDeviceAuth({ clientId: "Iv1.headers", request, onVerification() {}, onEvent: (e) => events.push(e) });
  assert.equal((await auth({ type: "oauth" })).token, "gho_headers");
  assert.ok(hookSaw.includes("_gh_sess=secret; HttpOnly") && hookSaw.includes("logged_in=no"), `the hook saw ${JSON.stringify(hookSaw)}`);
  const backoff = events.find((e) => e.type === "backoff");
  assert.ok(backoff && backoff.waitMs >= 1000, `backoff ${JSON.stringify(backoff)}: Retry-After: 1 was not honoured`);
});

test("the sandbox refuses hosts outside the allow-list and plain http off loopback", async () => {
  const client = new HttpClient({ allowed: new Set(["github.com", "api.github.com"]), fetch: () => assert.fail("no request may leave"), timeoutMs: 1000, maxResponseBytes: 1024 });
  for (const url of ["https://evil.example/login/device/code", "http://github.com/login/device/code", "ftp://github.com/x", "not a url"]) {
    const r = await client.do({ method: "POST", url, headers: {}, body: "" });
    assert.equal(r.error?.kind, "denied", url);
  }
});

test("the allow-list is the plugin's: the hosts of the endpoints its info export derives", async () => {
  const hosts = async (baseUrl) => [...(await new Host({ baseUrl }).allowList())].sort();
  assert.deepEqual(await hosts("https://api.github.com"), ["api.github.com", "github.com"]);
  assert.deepEqual(await hosts("https://ghe.example.com/api/v3"), ["ghe.example.com"]);
  assert.deepEqual(await hosts("https://Octo.GHE.com"), ["api.octo.ghe.com", "octo.ghe.com"]);
  // The engine refuses a plain-http .ghe.com base (a copy of the rule in a
  // host once let it through): nothing is allowed.
  assert.deepEqual(await hosts("http://octo.ghe.com"), []);
  assert.deepEqual(await hosts("not a url"), []);
});

test("responses are capped, timeouts are reported, redirects are not followed", async (t) => {
  const server = createServer((req, res) => {
    if (req.url === "/big") return res.end("x".repeat(4096));
    if (req.url === "/redirect") {
      res.writeHead(302, { location: "https://evil.example/" });
      return res.end();
    }
    if (req.url === "/slow") return; // never answers
    res.end("ok");
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const origin = `http://127.0.0.1:${server.address().port}`;
  for (const transport of ["fetch", "request"]) {
    const client = new HttpClient({
      allowed: new Set([new URL(origin).host]),
      request: transport === "request" ? octokitRequest : undefined,
      timeoutMs: 200,
      maxResponseBytes: 1024,
    });
    const big = await client.do({ method: "GET", url: `${origin}/big`, headers: {}, body: "" });
    assert.equal(big.error?.kind, "network", transport);
    assert.match(big.error.message, /larger than/);
    const start = performance.now();
    const slow = await client.do({ method: "GET", url: `${origin}/slow`, headers: {}, body: "", timeoutMs: 30000 });
    assert.equal(slow.error?.kind, "timeout", transport);
    assert.ok(performance.now() - start < 1000);
    const redirect = await client.do({ method: "GET", url: `${origin}/redirect`, headers: {}, body: "" });
    assert.equal(redirect.status, 302, transport);
    assert.equal(redirect.headers.location, "https://evil.example/");
    const ok = await client.do({ method: "GET", url: `${origin}/ok`, headers: {}, body: "" });
    assert.equal(ok.status, 200);
    assert.equal(ok.body, "ok");
  }
  const closed = createServer();
  await new Promise((r) => closed.listen(0, "127.0.0.1", r));
  const dead = `http://127.0.0.1:${closed.address().port}`;
  await new Promise((r) => closed.close(r));
  const refused = await new HttpClient({ allowed: new Set([new URL(dead).host]), timeoutMs: 1000, maxResponseBytes: 1024 }).do({ method: "GET", url: `${dead}/`, headers: {}, body: "" });
  assert.deepEqual(refused.error, { kind: "network", message: "the connection was refused" });
});
