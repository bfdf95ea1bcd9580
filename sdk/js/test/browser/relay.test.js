// The browser entry through the CORS relay (`deviceflow relay`), as a web
// app on GitHub uses it: the OAuth POSTs go to the relay (oauthUrl), which
// forwards them to the emulator standing for GitHub; the API is called
// directly (the emulator with --cors, as api.github.com sends CORS). And the
// relay refusing what it must: other paths, other origins.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startEmulator, emulatorMissing } from "../support/emulator.js";
import { approveInBrowser, chromiumMissing, launchChromium, openHarness, serveRepo, startRelay } from "./support.js";

const skip = process.env.CI === "true" ? false : (chromiumMissing() ?? emulatorMissing() ?? false);
let browser;
let site;
let emu;
let relay;

before(async () => {
  if (skip) return;
  site = await serveRepo();
  emu = await startEmulator(["--cors", "--interval", "100ms", "--client-id", "Iv1.relayapp", "--client-type", "github-app", "--token-lifetime", "4m"]);
  relay = await startRelay(emu.url, [site.origin]);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await relay?.stop();
  await emu?.stop();
  await site?.close();
});

test("sign in and refresh through the relay; the API directly; the relay never sees the token's use", { skip }, async () => {
  const { page, context, errors } = await openHarness(browser, site.origin);
  const requests = [];
  page.on("request", (r) => requests.push({ url: r.url(), method: r.method(), authorization: r.headers().authorization ?? null }));
  const running = page.evaluate(
    async ({ baseUrl, oauthUrl }) => {
      const w = /** @type {any} */ (window);
      w.verifications = [];
      const auth = w.df.createOAuthDeviceAuth({
        clientId: "Iv1.relayapp",
        clientType: "github-app",
        baseUrl,
        oauthUrl,
        store: new w.df.IndexedDBStore({ name: "relay-test" }),
        onVerification: (v) => w.verifications.push(v),
      });
      const first = await auth({ type: "oauth" });
      const refreshed = await auth({ type: "oauth" });
      const check = await auth.check();
      return { first, refreshed, check };
    },
    { baseUrl: emu.url, oauthUrl: relay.url },
  );
  await page.waitForFunction(() => /** @type {any} */ (window).verifications?.length > 0, null, { timeout: 10_000 });
  const v = await page.evaluate(() => /** @type {any} */ (window).verifications[0]);
  assert.equal(await approveInBrowser(context, v.verification_uri, v.user_code), "authorized");
  const out = await running;
  assert.match(out.first.token, /^ghu_/);
  assert.notEqual(out.refreshed.token, out.first.token, "refreshed through the relay");
  assert.equal(out.check.valid, true);
  const toRelay = requests.filter((r) => r.url.startsWith(relay.url));
  const toEmu = requests.filter((r) => r.url.startsWith(emu.url));
  assert.ok(toRelay.some((r) => r.url.endsWith("/login/device/code")), "the device code through the relay");
  assert.ok(toRelay.some((r) => r.url.endsWith("/login/oauth/access_token")), "the token through the relay");
  assert.ok(toRelay.every((r) => r.authorization === null), "no authorization to the relay");
  assert.ok(!toEmu.some((r) => r.url.includes("/login/")), "no OAuth request straight to GitHub");
  assert.ok(toEmu.some((r) => r.url.endsWith("/api/v3/user") && /^token ghu_/.test(r.authorization ?? "")), "the API directly, with the token");
  assert.deepEqual(errors, []);
  await context.close();
});

test("the relay refuses other paths, and pages of other origins", { skip }, async () => {
  const { page, context } = await openHarness(browser, site.origin);
  const paths = await page.evaluate(async (relayUrl) => {
    const out = {};
    for (const path of ["/user", "/login/device", "/login/oauth/authorize", "/api/v3/user"]) {
      // A simple request (no preflight): the answer is readable when the
      // relay sends CORS headers with it.
      try {
        const res = await fetch(relayUrl + path, { method: "POST", body: "{}" });
        out[path] = { status: res.status, error: (await res.json()).error };
      } catch (e) {
        out[path] = { blocked: e.name };
      }
    }
    return out;
  }, relay.url);
  for (const [path, got] of Object.entries(paths)) assert.deepEqual(got, { status: 404, error: "not_found" }, path);
  await context.close();

  // The same page from another origin (localhost is not 127.0.0.1 to a
  // browser): the relay answers it no CORS headers, so the page cannot read
  // anything, and the SDK reports a network failure.
  const other = await browser.newContext();
  const p = await other.newPage();
  await p.goto(`${site.origin.replace("127.0.0.1", "localhost")}/sdk/js/test/browser/pages/harness.html`);
  await p.waitForFunction(() => /** @type {any} */ (window).dfReady === true);
  const refused = await p.evaluate(
    async ({ baseUrl, oauthUrl }) => {
      const w = /** @type {any} */ (window);
      const auth = w.df.createOAuthDeviceAuth({ clientId: "Iv1.relayapp", clientType: "github-app", baseUrl, oauthUrl, onVerification: () => {} });
      let raw;
      try {
        raw = (await fetch(`${oauthUrl}/login/device/code`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"client_id":"Iv1.relayapp"}' })).status;
      } catch (e) {
        raw = e.name;
      }
      try {
        await auth({ type: "oauth", signal: AbortSignal.timeout(3000) });
        return { raw, code: "resolved" };
      } catch (e) {
        return { raw, code: e.code };
      }
    },
    { baseUrl: emu.url, oauthUrl: relay.url },
  );
  assert.equal(refused.raw, "TypeError", "the browser blocks the answer (no CORS for this origin)");
  assert.equal(refused.code, "network", JSON.stringify(refused));
  await other.close();
});
