// Issue 11 §3, end to end: octokit's `request`, hooked with `auth.hook`,
// sent to URLs that octokit and WHATWG URL parsing read as absolute URLs to
// another host. Each goes where fetch takes it: evil.example is routed to a
// real loopback "foreign" server and api.github.com to a "GitHub" one. The
// foreign server must never receive an authorization header.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { request as octokitRequest } from "@octokit/request";
import { createOAuthDeviceAuth, MemoryStore, closeIdle } from "../src/index.js";

after(() => closeIdle());

const TOKEN = "gho_16C7e42F292c6912E7710c838347Ae178B4a";

// In JavaScript source a backslash is written twice: these are the forms of
// the issue, as a caller would type them.
const HOSTILE = [
  "https:evil.example/x",
  "https:/evil.example/x",
  "http:evil.example/x",
  "https:\\\\evil.example/x",
  "https:///evil.example/x",
  "\\\\evil.example\\x",
  "/\\evil.example/x",
  "//evil.example/x",
  "HTTPS://EVIL.EXAMPLE/x",
  "https://evil.example/x",
  "https://api.github.com@evil.example/x",
];

/** A loopback server recording every request's method, path and headers. */
async function recorder(t, name) {
  const seen = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method, path: req.url, headers: { ...req.headers } });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ server: name, login: "mona" }));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { seen, port: server.address().port };
}

/**
 * A fetch that parses the URL it is given as fetch itself would (WHATWG URL
 * parsing) and sends the request to the loopback server standing for that
 * host, with the same method, path and headers. github.com's OAuth
 * endpoints answer a device flow that ends with TOKEN at the first poll.
 */
function routedFetch(routes, log) {
  return async (input, init = {}) => {
    const url = new URL(String(input));
    log.push(url.href);
    if (url.hostname === "github.com") {
      const body =
        url.pathname === "/login/device/code"
          ? { device_code: "DC", user_code: "WDJB-MJHT", verification_uri: "https://github.com/login/device", expires_in: 900, interval: 0.01 }
          : { access_token: TOKEN, token_type: "bearer", scope: "repo" };
      return new Response(JSON.stringify(body), { headers: { "content-type": "application/json; charset=utf-8" } });
    }
    const port = routes[url.hostname];
    if (!port) throw new TypeError(`fetch failed: no route to ${url.hostname}`);
    return fetch(`http://127.0.0.1:${port}${url.pathname}${url.search}`, { ...init, redirect: "manual" });
  };
}

test("no URL octokit sends to another host gets the token through auth.hook", async (t) => {
  const github = await recorder(t, "github");
  const foreign = await recorder(t, "foreign");
  const log = [];
  const fetchFn = routedFetch({ "api.github.com": github.port, "evil.example": foreign.port }, log);
  const base = octokitRequest.defaults({ baseUrl: "https://api.github.com", request: { fetch: fetchFn } });
  const store = new MemoryStore();
  const auth = createOAuthDeviceAuth({ clientId: "Iv1.hostile", scopes: ["repo"], request: base, store, onVerification() {} });

  // Sign in once: the token is cached, and every hooked request below uses it.
  assert.equal((await auth({ type: "oauth" })).token, TOKEN);
  assert.equal(Object.keys(store.snapshot()).length, 1);

  const hooked = base.defaults({ request: { hook: auth.hook } });
  // The control: a route on GitHub's API carries the token.
  const own = await hooked("GET /user");
  assert.equal(own.data.server, "github");
  assert.equal(github.seen.at(-1).headers.authorization, `token ${TOKEN}`);

  const outcomes = [];
  for (const url of HOSTILE) {
    const before = { github: github.seen.length, foreign: foreign.seen.length };
    let failure = null;
    try {
      await hooked({ method: "GET", url });
    } catch (err) {
      failure = err.code ?? err.name;
    }
    const where = foreign.seen.length > before.foreign ? "foreign" : github.seen.length > before.github ? "github" : "nowhere";
    const leaked = foreign.seen.slice(before.foreign).some((r) => r.headers.authorization !== undefined);
    outcomes.push({ url, where, leaked, failure });
  }
  const report = outcomes.map((o) => `${JSON.stringify(o.url)} → ${o.where}${o.failure ? ` (${o.failure})` : ""}${o.leaked ? " WITH THE TOKEN" : ""}`).join("\n");
  assert.deepEqual(
    foreign.seen.filter((r) => r.headers.authorization !== undefined).map((r) => r.path),
    [],
    `the foreign server received an authorization header:\n${report}`,
  );
  // The routing is real: the forms WHATWG reads as evil.example reached it.
  for (const o of outcomes) {
    if (o.failure) continue;
    assert.notEqual(o.where, "nowhere", report);
  }
  assert.ok(outcomes.some((o) => o.where === "foreign"), `no hostile form reached the foreign server:\n${report}`);
  assert.equal(log.filter((u) => u.startsWith("https://github.com/login/device/code")).length, 1, "no new device flow was started");
});
