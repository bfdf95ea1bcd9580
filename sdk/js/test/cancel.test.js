// Cancellation with an AbortSignal: prompt in every place a flow can wait.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { createOAuthDeviceAuth, closeIdle } from "../src/index.js";
import { FakeGitHub, pending } from "./support/fake-github.js";

after(() => closeIdle());

async function fake(script) {
  const gh = new FakeGitHub(script);
  await gh.start();
  return gh;
}

async function timed(promise) {
  const start = performance.now();
  const err = await promise.then(
    () => assert.fail("the flow should have been cancelled"),
    (e) => e,
  );
  return { err, ms: performance.now() - start };
}

test("abort during the wait between polls ends the flow at once", async (t) => {
  const gh = await fake({ interval: 5, answers: [pending] });
  t.after(() => gh.close());
  const controller = new AbortController();
  const auth = createOAuthDeviceAuth({
    clientId: "Iv1.cancel",
    baseUrl: gh.url,
    onVerification: () => setTimeout(() => controller.abort(), 100),
  });
  const { err, ms } = await timed(auth({ type: "oauth", signal: controller.signal }));
  assert.equal(err.code, "cancelled");
  assert.ok(ms < 1500, `took ${ms} ms`);
  assert.equal(gh.to("/login/oauth/access_token").length, 0, "no poll after the abort");
});

test("the strategy's signal cancels too, and an aborted signal stops before any request", async (t) => {
  const gh = await fake({ interval: 5, answers: [pending] });
  t.after(() => gh.close());
  const controller = new AbortController();
  controller.abort(new Error("user quit"));
  const auth = createOAuthDeviceAuth({ clientId: "Iv1.early", baseUrl: gh.url, signal: controller.signal, onVerification() {} });
  const err = await auth({ type: "oauth" }).catch((e) => e);
  assert.equal(err.code, "cancelled");
  assert.equal(err.cause.message, "user quit");
  assert.equal(gh.requests.length, 0);
});

test("abort while onVerification is still waiting ends the flow", async (t) => {
  const gh = await fake({ answers: [pending] });
  t.after(() => gh.close());
  const controller = new AbortController();
  const auth = createOAuthDeviceAuth({
    clientId: "Iv1.wait",
    baseUrl: gh.url,
    onVerification: () => {
      setTimeout(() => controller.abort(), 50);
      return new Promise(() => {}); // a prompt nobody answers
    },
  });
  const { err, ms } = await timed(auth({ type: "oauth", signal: controller.signal }));
  assert.equal(err.code, "cancelled");
  assert.ok(ms < 1500, `took ${ms} ms`);
});

test("abort during an HTTP request in flight ends the flow at once", async (t) => {
  // The server never answers; the abort comes once the request has arrived,
  // so it is in flight whatever the machine's load.
  const held = [];
  const controller = new AbortController();
  let abortedAt = 0;
  const server = createServer((req, res) => {
    held.push(res);
    abortedAt = performance.now();
    controller.abort();
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const url = `http://127.0.0.1:${server.address().port}`;
  const auth = createOAuthDeviceAuth({ clientId: "Iv1.http", baseUrl: url, onVerification() {} });
  const { err } = await timed(auth({ type: "oauth", signal: controller.signal }));
  const ms = performance.now() - abortedAt;
  assert.equal(err.code, "cancelled");
  // Without cancellation the held request would last its 30 s timeout.
  assert.ok(ms < 10000, `took ${ms} ms after the abort`);
  assert.equal(held.length, 1);
});

test("a cancelled call leaves the strategy usable", async (t) => {
  const gh = await fake({ interval: 0.02, answers: [pending, { access_token: "gho_after", token_type: "bearer", scope: "" }] });
  t.after(() => gh.close());
  const controller = new AbortController();
  controller.abort();
  const auth = createOAuthDeviceAuth({ clientId: "Iv1.reuse", baseUrl: gh.url, onVerification() {} });
  await assert.rejects(auth({ type: "oauth", signal: controller.signal }), { code: "cancelled" });
  assert.equal((await auth({ type: "oauth" })).token, "gho_after");
});
