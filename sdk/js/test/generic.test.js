// The generic profile end to end: a device flow against the emulator's
// generic RFC 8628 server (`deviceflow emulator --profile generic`) from its
// issuer URL alone — discovery under an issuer path, a client secret, an
// id_token, userinfo and revocation — approved through the page.
import { test as nodeTest, before, after } from "node:test";
import assert from "node:assert/strict";
import { createOAuthDeviceAuth, closeIdle, Host } from "../src/index.js";
import { startEmulator, approveThroughPage, emulatorMissing } from "./support/emulator.js";

const missing = emulatorMissing();
const test = (name, fn) => nodeTest(name, { skip: missing ?? false }, fn);
const SECRET = "js-generic-secret";
let emu;

before(async () => {
  if (missing) return;
  emu = await startEmulator(["--profile", "generic", "--interval", "50ms", "--client-id", "js-generic", "--client-secret", SECRET]);
});

after(async () => {
  await emu?.stop();
  await closeIdle();
});

test("a device flow from an issuer URL alone, with a client secret", async () => {
  assert.match(emu.issuer, /\/realms\/emulator$/);
  const events = [];
  let result = null;
  const auth = createOAuthDeviceAuth({
    clientId: "js-generic",
    clientSecret: SECRET,
    issuer: emu.issuer,
    scopes: ["openid", "profile"],
    onVerification: (v) => {
      setTimeout(async () => {
        result = await approveThroughPage(v.verification_uri, v.user_code);
      }, 50);
    },
    onEvent: (e) => events.push(e),
  });
  const a = await auth({ type: "oauth" });
  assert.equal(result, "authorized");
  assert.equal(a.tokenType, "bearer");
  assert.equal(a.clientType, undefined);
  assert.deepEqual(a.scopes, ["openid", "profile"]);
  assert.ok(a.idToken && a.expiresAt && !a.refreshToken);
  const origin = new URL(emu.issuer).origin;
  assert.deepEqual(events[0], { type: "endpoints", issuer: emu.issuer, origins: [origin] });
  for (const e of events) {
    const text = JSON.stringify(e);
    for (const secret of [a.token, a.idToken, SECRET]) assert.ok(!text.includes(secret), `event ${text} carries a secret`);
  }
  assert.equal((await auth({ type: "oauth" })).token, a.token, "the cached token");
  const check = await auth.check();
  assert.equal(check.valid, true);
  assert.equal(check.login, "octocat");
  assert.ok(check.sub);
  assert.deepEqual(await auth.logout(), { removed: true, revoked: true });
  assert.deepEqual(await auth.check({ token: a.token }), { valid: false });
});

test("info answers the allow-list for an issuer: its origin, discovery pending", async () => {
  const info = await new Host().call("info", { issuer: emu.issuer });
  assert.deepEqual(info.allow, [new URL(emu.issuer).origin]);
  assert.equal(info.endpoints.discover, true);
});

test("configured endpoints, without the client secret the server requires: incorrect_client_credentials", async () => {
  const auth = createOAuthDeviceAuth({
    clientId: "js-generic",
    deviceEndpoint: emu.issuer + "/device",
    tokenEndpoint: emu.issuer + "/token",
    onVerification: () => {},
  });
  await assert.rejects(auth({ type: "oauth" }), (e) => e.code === "incorrect_client_credentials");
});
