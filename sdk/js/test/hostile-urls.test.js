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

/**
 * Signs in once through octokit's request (the token is cached in the
 * store) and answers what the tests need.
 */
async function signedIn(t) {
  const github = await recorder(t, "github");
  const foreign = await recorder(t, "foreign");
  const log = [];
  const fetchFn = routedFetch({ "api.github.com": github.port, "evil.example": foreign.port }, log);
  const base = octokitRequest.defaults({ baseUrl: "https://api.github.com", request: { fetch: fetchFn } });
  const store = new MemoryStore();
  const auth = createOAuthDeviceAuth({ clientId: "Iv1.hostile", scopes: ["repo"], request: base, store, onVerification() {} });
  assert.equal((await auth({ type: "oauth" })).token, TOKEN);
  assert.equal(Object.keys(store.snapshot()).length, 1);
  return { github, foreign, log, fetchFn, base, auth };
}

/**
 * Sends each request and reports where it went: "foreign", "github", or
 * "nowhere" with the failure (octokit refuses some forms as invalid URLs).
 */
async function sendAll(send, forms, { github, foreign }) {
  const outcomes = [];
  for (const form of forms) {
    const before = { github: github.seen.length, foreign: foreign.seen.length };
    let failure = null;
    try {
      await send(form);
    } catch (err) {
      failure = err.code ?? err.name;
    }
    const where = foreign.seen.length > before.foreign ? "foreign" : github.seen.length > before.github ? "github" : "nowhere";
    const leaked = foreign.seen.slice(before.foreign).some((r) => r.headers.authorization !== undefined);
    outcomes.push({ form: JSON.stringify(form), where, leaked, failure });
  }
  const report = outcomes.map((o) => `${o.form} → ${o.where}${o.failure ? ` (${o.failure})` : ""}${o.leaked ? " WITH THE TOKEN" : ""}`).join("\n");
  assert.deepEqual(
    foreign.seen.filter((r) => r.headers.authorization !== undefined).map((r) => r.path),
    [],
    `the foreign server received an authorization header:\n${report}`,
  );
  for (const o of outcomes) assert.ok(o.where !== "nowhere" || o.failure, report);
  assert.ok(outcomes.some((o) => o.where === "foreign"), `no hostile form reached the foreign server, the test proves nothing:\n${report}`);
  return outcomes;
}

test("no URL octokit's request sends to another host gets the token through auth.hook", async (t) => {
  const fx = await signedIn(t);
  const hooked = fx.base.defaults({ request: { hook: fx.auth.hook } });
  // The control: a route on GitHub's API carries the token.
  const own = await hooked("GET /user");
  assert.equal(own.data.server, "github");
  assert.equal(fx.github.seen.at(-1).headers.authorization, `token ${TOKEN}`);

  // octokit reads ":name" as a URL template parameter and percent-encodes
  // backslashes, so some forms only reach fetch through a parameter.
  const forms = [
    ...HOSTILE.map((url) => ({ method: "GET", url })),
    { method: "GET", url: "https:{host}/x", host: "evil.example" },
    { method: "GET", url: "http:{host}/x", host: "evil.example" },
    { method: "POST", url: "https:{+host}/x", host: "/evil.example" },
  ];
  const outcomes = await sendAll((form) => hooked(form), forms, fx);
  for (const via of ['"https:{host}/x"', '"http:{host}/x"']) {
    assert.equal(outcomes.find((o) => o.form.includes(via))?.where, "foreign", `${via} reaches evil.example through fetch`);
  }
  assert.equal(fx.log.filter((u) => u.startsWith("https://github.com/login/device/code")).length, 1, "no new device flow was started");
});

test("a client passing URLs raw to fetch through auth.hook gets no token for another host either", async (t) => {
  const fx = await signedIn(t);
  // An @octokit/request-shaped client that resolves the URL as written
  // against GitHub's API the way a browser does (WHATWG, no template, no
  // encoding), so every backslash form arrives raw and the URL parser decides
  // where it goes.
  const resolve = (url) => new URL(url, "https://api.github.com/").href;
  const raw = Object.assign(async (options) => fx.fetchFn(resolve(options.url), { method: options.method, headers: options.headers }), {
    endpoint: {
      DEFAULTS: fx.base.endpoint.DEFAULTS,
      merge: (route, parameters) => ({ headers: {}, ...route, ...parameters }),
      parse: (options) => ({ method: options.method, url: options.url, headers: options.headers }),
    },
  });
  const outcomes = await sendAll((url) => fx.auth.hook(raw, { method: "GET", url }), HOSTILE, fx);
  // Every form reached a server here (no template mangling), so each one was judged by the engine.
  for (const o of outcomes) assert.equal(o.failure, null, `${o.form}: ${o.failure}`);
  const reachedForeign = outcomes.filter((o) => o.where === "foreign").map((o) => JSON.parse(o.form));
  assert.deepEqual(reachedForeign, HOSTILE.filter((url) => new URL(url, "https://api.github.com/").hostname === "evil.example"));
});
