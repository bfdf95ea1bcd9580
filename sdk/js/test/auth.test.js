// The octokit-compatible strategy against a local fake GitHub: results,
// caching, validation, errors, onVerification and the hook.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { request as octokitRequest } from "@octokit/request";
import { createOAuthDeviceAuth, DeviceFlowError, closeIdle } from "../src/index.js";
import { FakeGitHub, pending, token } from "./support/fake-github.js";

after(() => closeIdle());

async function fake(script) {
  const gh = new FakeGitHub(script);
  await gh.start();
  return gh;
}

test("missing clientId and onVerification fail as octokit's do", () => {
  assert.throws(() => createOAuthDeviceAuth({ onVerification() {} }), {
    message: '[@octokit/auth-oauth-device] "clientId" option must be set (https://github.com/octokit/auth-oauth-device.js#usage)',
  });
  assert.throws(() => createOAuthDeviceAuth({ clientId: "Iv1.x" }), {
    message: '[@octokit/auth-oauth-device] "onVerification" option must be a function (https://github.com/octokit/auth-oauth-device.js#usage)',
  });
});

test("an OAuth App gets octokit's authentication object, then the cached one", async (t) => {
  const gh = await fake({ answers: [pending, token("gho_first", "repo,read:org")] });
  t.after(() => gh.close());
  const verifications = [];
  const auth = createOAuthDeviceAuth({
    clientId: "Iv1.oauth",
    scopes: ["repo", "read:org"],
    baseUrl: gh.url,
    onVerification: async (v) => {
      await new Promise((r) => setTimeout(r, 10));
      verifications.push(v);
    },
  });
  const a = await auth({ type: "oauth" });
  assert.deepEqual(a, {
    type: "token",
    tokenType: "oauth",
    clientType: "oauth-app",
    clientId: "Iv1.oauth",
    token: "gho_first",
    scopes: ["repo", "read:org"], // as the server answered them
  });
  assert.equal(verifications.length, 1);
  assert.deepEqual(verifications[0], {
    device_code: "DC1",
    user_code: "ABCD-0001",
    verification_uri: `${gh.url}/login/device`,
    expires_in: 900,
    interval: 0.02,
  });
  assert.deepEqual(gh.to("/login/device/code")[0].body, { client_id: "Iv1.oauth", scope: "repo read:org" }); // in the order asked, as octokit sends them
  assert.equal(gh.to("/login/oauth/access_token").length, 2);

  const again = await auth({ type: "oauth" });
  assert.deepEqual(again, a);
  assert.equal(gh.requests.length, 3, "the second auth() is answered from the store");

  const other = await auth({ type: "oauth", scopes: ["gist"] });
  assert.equal(other.token, "gho_first");
  assert.equal(gh.to("/login/device/code").length, 2, "other scopes run a new flow");
  assert.equal(gh.to("/login/device/code")[1].body.scope, "gist");

  await auth({ type: "oauth", refresh: true });
  assert.equal(gh.to("/login/device/code").length, 3, "refresh: true runs a new flow");
});

test("a GitHub App gets no scopes; an expiring one gets refresh fields and is refreshed", async (t) => {
  let refreshed = 0;
  const gh = await fake({
    answers: [
      {
        access_token: "ghu_one",
        token_type: "bearer",
        scope: "",
        expires_in: 60,
        refresh_token: "ghr_one",
        refresh_token_expires_in: 15897600,
      },
    ],
    refresh: (body) => {
      refreshed++;
      assert.equal(body.refresh_token, "ghr_one");
      assert.equal(body.client_secret, undefined);
      return { access_token: "ghu_two", token_type: "bearer", scope: "", expires_in: 28800, refresh_token: "ghr_two", refresh_token_expires_in: 15897600 };
    },
  });
  t.after(() => gh.close());
  const events = [];
  const auth = createOAuthDeviceAuth({
    clientId: "Iv1.app",
    clientType: "github-app",
    baseUrl: gh.url,
    onVerification() {},
    onEvent: (e) => events.push(e.type),
  });
  const a = await auth({ type: "oauth" });
  assert.deepEqual(Object.keys(a).sort(), ["clientId", "clientType", "expiresAt", "refreshToken", "refreshTokenExpiresAt", "token", "tokenType", "type"]);
  assert.equal(a.clientType, "github-app");
  assert.equal(a.token, "ghu_one");
  assert.equal(a.refreshToken, "ghr_one");
  assert.match(a.expiresAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(gh.to("/login/device/code")[0].body.scope, undefined, "a GitHub App sends no scope");

  // It expires within the refresh margin: the next auth() refreshes it.
  const b = await auth({ type: "oauth" });
  assert.equal(b.token, "ghu_two");
  assert.equal(b.refreshToken, "ghr_two");
  assert.equal(refreshed, 1);
  assert.ok(events.includes("refreshed"));
  const c = await auth({ type: "oauth" });
  assert.equal(c.token, "ghu_two", "the refreshed token is cached");
  assert.equal(refreshed, 1);
});

test("a plain GitHub App token has exactly octokit's fields", async (t) => {
  const gh = await fake({ answers: [token("ghu_plain")] });
  t.after(() => gh.close());
  const auth = createOAuthDeviceAuth({ clientId: "Iv1.app2", clientType: "github-app", baseUrl: gh.url, onVerification() {} });
  assert.deepEqual(await auth({ type: "oauth" }), {
    type: "token",
    tokenType: "oauth",
    clientType: "github-app",
    clientId: "Iv1.app2",
    token: "ghu_plain",
  });
});

test("errors look like octokit's RequestError and carry a code", async (t) => {
  const gh = await fake({
    answers: [
      pending,
      { error: "access_denied", error_description: "The authorization request was denied.", error_uri: "https://docs.github.com/x" },
    ],
  });
  t.after(() => gh.close());
  const auth = createOAuthDeviceAuth({ clientId: "Iv1.deny", baseUrl: gh.url, onVerification() {} });
  const err = await auth({ type: "oauth" }).catch((e) => e);
  assert.ok(err instanceof DeviceFlowError);
  assert.ok(err instanceof Error);
  assert.equal(err.code, "access_denied");
  assert.ok(err.message.startsWith("The authorization request was denied. (access_denied, https://docs.github.com/x)"), err.message);
  assert.equal(err.status, 400);
  assert.equal(err.response.data.error, "access_denied");
  assert.equal(err.response.data.error_description, "The authorization request was denied.");
  assert.equal(err.oauthError, "access_denied");
});

test("bad input is invalid_input naming the field", async () => {
  const auth = createOAuthDeviceAuth({ clientId: "Iv1.x", clientType: "oauth_app", onVerification() {} });
  const err = await auth({ type: "oauth" }).catch((e) => e);
  assert.equal(err.code, "invalid_input");
  assert.match(err.message, /clientType/);
  const auth2 = createOAuthDeviceAuth({ clientId: "Iv1.x", baseUrl: "http://example.com", onVerification() {} });
  const err2 = await auth2({ type: "oauth" }).catch((e) => e);
  assert.equal(err2.code, "invalid_input");
  assert.match(err2.message, /baseUrl/);
});

test("an error thrown by onVerification stops the flow and is rethrown as is", async (t) => {
  const gh = await fake({ answers: [pending] });
  t.after(() => gh.close());
  const mine = new Error("no terminal");
  const auth = createOAuthDeviceAuth({
    clientId: "Iv1.throw",
    baseUrl: gh.url,
    onVerification() {
      throw mine;
    },
  });
  await assert.rejects(auth({ type: "oauth" }), (e) => e === mine);
  assert.equal(gh.to("/login/oauth/access_token").length, 0, "no poll after the handler failed");
});

test("concurrent auth() calls collapse into one device flow", async (t) => {
  const gh = await fake({ answers: [pending, token("gho_once")] });
  t.after(() => gh.close());
  let shown = 0;
  const auth = createOAuthDeviceAuth({ clientId: "Iv1.many", baseUrl: gh.url, onVerification: () => shown++ });
  const all = await Promise.all([auth({ type: "oauth" }), auth({ type: "oauth" }), auth({ type: "oauth" })]);
  assert.deepEqual(all.map((a) => a.token), ["gho_once", "gho_once", "gho_once"]);
  assert.equal(shown, 1);
  assert.equal(gh.to("/login/device/code").length, 1);
});

test("hook sends requests with the token and the OAuth endpoints without", async (t) => {
  const gh = await fake({ answers: [token("gho_hook", "repo")] });
  t.after(() => gh.close());
  const request = octokitRequest.defaults({ baseUrl: `${gh.url}/api/v3` });
  const auth = createOAuthDeviceAuth({ clientId: "Iv1.hook", scopes: ["repo"], onVerification() {}, request });
  const res = await auth.hook(request, "GET /user");
  assert.equal(res.status, 200);
  assert.equal(res.data.login, "octocat");
  const users = gh.to("/api/v3/user");
  assert.equal(users.length, 1);
  assert.equal(users[0].headers.authorization, "token gho_hook");

  await auth.hook(request, "POST /login/oauth/access_token", { baseUrl: gh.url, client_id: "Iv1.hook", device_code: "x", grant_type: "g" });
  const last = gh.to("/login/oauth/access_token").at(-1);
  assert.equal(last.headers.authorization, undefined, "the OAuth endpoints get no credentials");
});

test("logout forgets the token and check asks /user", async (t) => {
  const gh = await fake({ answers: [token("gho_check", "repo")] });
  t.after(() => gh.close());
  const request = octokitRequest.defaults({ baseUrl: `${gh.url}/api/v3` });
  const auth = createOAuthDeviceAuth({ clientId: "Iv1.out", scopes: ["repo"], onVerification() {}, request });
  await auth({ type: "oauth" });
  assert.deepEqual(await auth.check(), { valid: true, login: "octocat", scopes: ["repo"] });
  assert.equal(gh.to("/api/v3/user")[0].headers.authorization, "token gho_check");
  assert.deepEqual(await auth.logout(), { removed: true });
  assert.deepEqual(await auth.logout(), { removed: false });
  assert.equal((await auth.check().catch((e) => e)).code, "not_found");
});
