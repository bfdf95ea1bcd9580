// End to end against the GitHub device-flow emulator (`deviceflow emulator`),
// approved through its web page with a real POST of its form, as a person
// would. Also runs @octokit/auth-oauth-device itself against the same
// emulator to show that the results have the same shape.
import { test as nodeTest, before, after } from "node:test";
import assert from "node:assert/strict";
import { request as octokitRequest } from "@octokit/request";
import { createOAuthDeviceAuth as octokitCreateOAuthDeviceAuth } from "@octokit/auth-oauth-device";
import { createOAuthDeviceAuth, closeIdle } from "../src/index.js";
import { startEmulator, approveThroughPage, emulatorMissing } from "./support/emulator.js";

const missing = emulatorMissing();
const test = (name, fn) => nodeTest(name, { skip: missing ?? false }, fn);

const APP = "Iv1.e2eapp";
let emu;

before(async () => {
  if (missing) return;
  // Unknown client ids are OAuth Apps; APP is a GitHub App whose tokens
  // live 2 minutes, inside the plugin's 5-minute refresh margin.
  emu = await startEmulator(["--interval", "50ms", "--client-id", APP, "--client-type", "github-app", "--token-lifetime", "2m"]);
});

after(async () => {
  await emu?.stop();
  await closeIdle();
});

/** An onVerification that approves a moment later, through the page. */
function personApproves(choice = "authorize") {
  const seen = { verification: null, result: null };
  seen.handler = (v) => {
    seen.verification = v;
    setTimeout(async () => {
      seen.result = await approveThroughPage(v.verification_uri, v.user_code, choice);
    }, 120);
  };
  return seen;
}

test("an OAuth App signs in through the page, with a GHES-style @octokit/request", async () => {
  const request = octokitRequest.defaults({ baseUrl: emu.apiUrl });
  const person = personApproves();
  const events = [];
  const auth = createOAuthDeviceAuth({
    clientId: "Ov23li.e2e",
    scopes: ["repo", "read:org"],
    request,
    onVerification: person.handler,
    onEvent: (e) => events.push(e.type),
  });
  const a = await auth({ type: "oauth" });
  assert.equal(person.result, "authorized");
  assert.deepEqual(Object.keys(a), ["type", "tokenType", "clientType", "clientId", "token", "scopes"]);
  assert.equal(a.clientType, "oauth-app");
  assert.match(a.token, /^gho_/);
  assert.deepEqual(a.scopes, ["read:org", "repo"]);
  assert.ok(events.includes("polling"));
  assert.ok(!events.includes("slow_down"), "the plugin never polls too early");

  const { data } = await auth.hook(request, "GET /user");
  assert.equal(data.login, "octocat");
  const check = await auth.check();
  assert.equal(check.valid, true);
});

test("a GitHub App with expiring tokens is refreshed automatically, the old pair dies", async () => {
  const person = personApproves();
  const events = [];
  const auth = createOAuthDeviceAuth({ clientId: APP, clientType: "github-app", baseUrl: emu.url, onVerification: person.handler, onEvent: (e) => events.push(e) });
  const first = await auth({ type: "oauth" });
  assert.match(first.token, /^ghu_/);
  assert.match(first.refreshToken, /^ghr_/);
  assert.ok(Date.parse(first.expiresAt) - Date.now() < 3 * 60_000);
  assert.equal(first.scopes, undefined);

  const second = await auth({ type: "oauth" });
  assert.notEqual(second.token, first.token, "refreshed: a new token");
  assert.notEqual(second.refreshToken, first.refreshToken);
  assert.equal(events.filter((e) => e.type === "verification").length, 1, "no second device flow");
  const refreshed = events.find((e) => e.type === "refreshed");
  assert.equal(refreshed.expiresAt, second.expiresAt);
  assert.equal(JSON.stringify(events).includes(second.token), false, "no event carries a token");

  const old = await auth.check({ token: first.token });
  assert.equal(old.valid, false, "the refreshed-away token no longer works");
  assert.equal((await auth.check({ token: second.token })).valid, true);
});

test("cancelling on the page is access_denied, reported as octokit reports it", async () => {
  const person = personApproves("cancel");
  const auth = createOAuthDeviceAuth({ clientId: "Ov23li.deny", baseUrl: emu.url, onVerification: person.handler });
  const err = await auth({ type: "oauth" }).catch((e) => e);
  assert.equal(person.result, "cancelled");
  assert.equal(err.code, "access_denied");
  assert.equal(err.status, 400);
  assert.equal(err.response.data.error, "access_denied");
  assert.match(err.message, /\(access_denied, https?:\/\/\S+\)/);
});

test("octokit's own strategy gives the same shape against the emulator", async (t) => {
  // octokit polls at once, before the interval has passed, and waits
  // interval + 7 s after the slow_down that earns: an emulator that forgives
  // early polls keeps this test fast.
  const lenient = await startEmulator(["--interval", "50ms", "--poll-tolerance", "200ms"]);
  t.after(() => lenient.stop());
  const request = octokitRequest.defaults({ baseUrl: lenient.url });
  const theirs = await octokitCreateOAuthDeviceAuth({ clientId: "Ov23li.same", scopes: ["repo"], request, onVerification: personApproves().handler })({ type: "oauth" });
  const ours = await createOAuthDeviceAuth({ clientId: "Ov23li.same", scopes: ["repo"], request, onVerification: personApproves().handler })({ type: "oauth" });
  assert.deepEqual(Object.keys(ours), Object.keys(theirs));
  assert.deepEqual({ ...ours, token: "" }, { ...theirs, token: "" });
});

test("the vocabulary every language shares: never prompt, the step API, spend the refresh token, form encoding", async () => {
  const shown = [];
  const auth = createOAuthDeviceAuth({
    clientId: APP,
    clientType: "github-app",
    baseUrl: emu.url,
    encoding: "form",
    onVerification: (v) => shown.push(v),
  });
  // interactive: false never prompts: not_found with nothing cached.
  await assert.rejects(auth({ type: "oauth", interactive: false }), (e) => e.code === "not_found");
  assert.equal(shown.length, 0);
  // begin answers at once; poll never sleeps.
  let p = await auth.begin();
  assert.equal(p.status, "pending");
  assert.ok(p.verification.user_code && p.nextPollAt > Date.now() - 1000);
  assert.equal(await approveThroughPage(p.verification.verification_uri, p.verification.user_code, "authorize"), "authorized");
  for (let i = 0; p.status === "pending" && i < 20; i++) {
    await new Promise((r) => setTimeout(r, Math.max(0, p.nextPollAt - Date.now())));
    p = await auth.poll(p);
  }
  assert.equal(p.status, "complete");
  assert.match(p.authentication.token, /^ghu_/);
  // The stored token answers a call that may not prompt (refreshed first:
  // APP's tokens live 2 minutes, inside the 5-minute margin); refresh spends
  // the refresh token now. Only begin showed a code.
  const cached = await auth({ type: "oauth", interactive: false });
  assert.match(cached.token, /^ghu_/);
  const refreshed = await auth.refresh();
  assert.equal(shown.length, 1);
  assert.notEqual(refreshed.token, cached.token);
  assert.notEqual(refreshed.refreshToken, cached.refreshToken);
});
