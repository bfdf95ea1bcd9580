// The browser entry against a generic RFC 8628 server: the emulator's
// generic profile (`deviceflow emulator --profile generic --cors`) on
// another origin, from its issuer URL alone — discovery, a client secret,
// the id_token, userinfo and revocation — in headless Chromium.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startEmulator, emulatorMissing } from "../support/emulator.js";
import { approveInBrowser, chromiumMissing, launchChromium, openHarness, serveRepo } from "./support.js";

const skip = process.env.CI === "true" ? false : (chromiumMissing() ?? emulatorMissing() ?? false);
const SECRET = "browser-generic-secret";
let browser;
let site;
let emu;

before(async () => {
  if (skip) return;
  site = await serveRepo();
  emu = await startEmulator(["--profile", "generic", "--cors", "--interval", "100ms", "--client-id", "browser-generic", "--client-secret", SECRET]);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await emu?.stop();
  await site?.close();
});

test("a device flow from an issuer URL alone, in the browser", { skip }, async () => {
  const { page, context, errors } = await openHarness(browser, site.origin);
  const running = page.evaluate(
    async ({ issuer, secret }) => {
      const w = /** @type {any} */ (window);
      w.verifications = [];
      w.events = [];
      const auth = w.df.createOAuthDeviceAuth({
        clientId: "browser-generic",
        clientSecret: secret,
        issuer,
        scopes: ["openid", "profile"],
        onVerification: (v) => w.verifications.push(v),
        onEvent: (e) => w.events.push(e),
      });
      w.auth = auth;
      try {
        return { ok: await auth({ type: "oauth" }) };
      } catch (e) {
        return { error: { code: e.code, message: e.message } };
      }
    },
    { issuer: emu.issuer, secret: SECRET },
  );
  await page.waitForFunction(() => /** @type {any} */ (window).verifications?.length > 0, null, { timeout: 10_000 });
  const v = await page.evaluate(() => /** @type {any} */ (window).verifications[0]);
  assert.ok(v.verification_uri_complete, "the generic emulator sends verification_uri_complete");
  assert.equal(await approveInBrowser(context, v.verification_uri, v.user_code), "authorized");
  const { ok, error } = await running;
  assert.equal(error, undefined);
  assert.equal(ok.tokenType, "bearer");
  assert.equal(ok.clientType, undefined);
  assert.deepEqual(ok.scopes, ["openid", "profile"]);
  assert.ok(ok.idToken && ok.expiresAt);
  const events = await page.evaluate(() => /** @type {any} */ (window).events);
  assert.equal(events[0].type, "endpoints");
  const text = JSON.stringify(events);
  for (const secret of [ok.token, ok.idToken, SECRET]) assert.ok(!text.includes(secret), "no event carries a secret");
  const after = await page.evaluate(async () => {
    const auth = /** @type {any} */ (window).auth;
    return { check: await auth.check(), logout: await auth.logout() };
  });
  assert.equal(after.check.valid, true);
  assert.equal(after.check.login, "octocat");
  assert.deepEqual(after.logout, { removed: true, revoked: true });
  assert.deepEqual(errors, []);
  await context.close();
});
