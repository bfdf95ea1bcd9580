// What goes on the wire: the user's @octokit/request instance governs (its
// user-agent, headers, hooks and fetch), our own user agent only when the
// user set none, in octokit's form naming both.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { request as octokitRequest } from "@octokit/request";
import { Octokit } from "@octokit/core";
import { createOAuthDeviceAuth, closeIdle } from "../src/index.js";
import { runtimeUserAgent } from "../src/http.js";

after(() => closeIdle());

const json = (body) => new Response(JSON.stringify(body), { headers: { "content-type": "application/json; charset=utf-8" } });

/** A fetch mock: a device code with a short interval, then a token; records the headers. */
function mock() {
  const seen = [];
  const fetch = async (url, init) => {
    const headers = init.headers instanceof Headers ? Object.fromEntries(init.headers) : { ...init.headers };
    seen.push({ url: String(url), headers, order: Object.keys(headers) });
    if (String(url).endsWith("/login/device/code")) {
      return json({ device_code: "DC", user_code: "WDJB-MJHT", verification_uri: "https://github.com/login/device", expires_in: 900, interval: 0.01 });
    }
    if (String(url).endsWith("/login/oauth/access_token")) return json({ access_token: "gho_ua", token_type: "bearer", scope: "" });
    return json({ login: "mona" });
  };
  return { fetch, seen };
}

test("universal-user-agent's form: the runtime as octokit's default user agents end", () => {
  const expected =
    typeof navigator === "object" && "userAgent" in navigator
      ? navigator.userAgent
      : `Node.js/${process.version.slice(1)} (${process.platform}; ${process.arch})`;
  assert.equal(runtimeUserAgent(), expected);
});

test("no request instance: ours names deviceflow and then the runtime, headers in octokit's order", async () => {
  const m = mock();
  const auth = createOAuthDeviceAuth({ clientId: "Iv1.ua1", fetch: m.fetch, onVerification() {} });
  await auth({ type: "oauth" });
  for (const s of m.seen) {
    assert.equal(s.headers["user-agent"], `deviceflow/0.1.0 ${runtimeUserAgent()}`);
    assert.deepEqual(s.order, ["accept", "user-agent", "content-type"]);
  }
});

test("a request instance with the user's user-agent: sent as it is, with its other headers", async () => {
  const m = mock();
  const request = octokitRequest.defaults({ headers: { "user-agent": "my-app/1.0", "x-trace": "t1" }, request: { fetch: m.fetch } });
  const auth = createOAuthDeviceAuth({ clientId: "Iv1.ua2", request, onVerification() {} });
  await auth({ type: "oauth" });
  assert.ok(m.seen.length >= 2);
  for (const s of m.seen) {
    assert.equal(s.headers["user-agent"], "my-app/1.0");
    assert.equal(s.headers["x-trace"], "t1");
    assert.equal(s.headers.accept, "application/json");
    assert.deepEqual(s.order, ["accept", "user-agent", "x-trace", "content-type"]);
  }
});

test("a request instance with only @octokit/request's default user agent: ours comes first, naming both", async () => {
  const m = mock();
  const request = octokitRequest.defaults({ request: { fetch: m.fetch } });
  const theirs = request.endpoint.DEFAULTS.headers["user-agent"];
  assert.match(theirs, /^octokit-request\.js\//);
  const auth = createOAuthDeviceAuth({ clientId: "Iv1.ua3", request, onVerification() {} });
  await auth({ type: "oauth" });
  for (const s of m.seen) assert.equal(s.headers["user-agent"], `deviceflow/0.1.0 ${theirs}`);
});

test("Octokit's own user agent (with the app's userAgent) goes out unchanged, on the OAuth endpoints and the API", async () => {
  const m = mock();
  const octokit = new Octokit({
    authStrategy: createOAuthDeviceAuth,
    userAgent: "my-app/2.0",
    request: { fetch: m.fetch },
    auth: { clientId: "Iv1.ua4", onVerification() {} },
  });
  await octokit.request("GET /user");
  assert.equal(m.seen.length, 3);
  for (const s of m.seen) assert.match(s.headers["user-agent"], /^my-app\/2\.0 octokit-core\.js\/\S+ /);
  assert.equal(m.seen.at(-1).headers.authorization, "token gho_ua");
});

test("the instance's hooks see the OAuth requests as octokit's oauth-methods make them", async () => {
  const m = mock();
  const seen = [];
  const hook = async (request, options) => {
    const endpoint = request.endpoint.merge(options);
    const { method, baseUrl, url, client_id, scope, grant_type } = endpoint;
    seen.push({ method, baseUrl, url, client_id, scope, grant_type });
    return request(endpoint);
  };
  const request = octokitRequest.defaults({ headers: { "user-agent": "my-app/1.0" }, request: { fetch: m.fetch, hook } });
  const auth = createOAuthDeviceAuth({ clientId: "Iv1.ua5", request, onVerification() {} });
  await auth({ type: "oauth" });
  assert.deepEqual(seen[0], {
    method: "POST",
    baseUrl: "https://github.com",
    url: "/login/device/code",
    client_id: "Iv1.ua5",
    scope: "",
    grant_type: undefined,
  });
  assert.equal(seen[1].url, "/login/oauth/access_token");
  assert.equal(seen[1].grant_type, "urn:ietf:params:oauth:grant-type:device_code");
});

test("a content-type the instance defines wins over the JSON one, as in octokit", async () => {
  const m = mock();
  const request = octokitRequest.defaults({ headers: { "user-agent": "my-app/1.0", "content-type": "application/json" }, request: { fetch: m.fetch } });
  const auth = createOAuthDeviceAuth({ clientId: "Iv1.ua6", request, onVerification() {} });
  await auth({ type: "oauth" });
  for (const s of m.seen) assert.equal(s.headers["content-type"], "application/json");
});
