// The browser entry in headless Chromium against the emulator (`deviceflow
// emulator --cors`, a page on another origin, as GitHub is for an app): the
// code shown, approval on the emulator's own page in another tab, the token,
// the token again after a reload from the encrypted IndexedDB store, an
// expiring GitHub App token refreshed, cancellation through an AbortSignal,
// the store's sealing and cross-tab leases, and auth.hook.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startEmulator, emulatorMissing } from "../support/emulator.js";
import { approveInBrowser, chromiumMissing, launchChromium, openHarness, serveRepo } from "./support.js";

// In CI a missing Chromium fails the run rather than skipping it.
const skip = process.env.CI === "true" ? false : (chromiumMissing() ?? emulatorMissing() ?? false);
let browser;
let site;
let emu;
let appEmu;

const OAUTH_APP = "Ov23liBrowserTest";
const GITHUB_APP = "Iv1.browsertest";

before(async () => {
  if (skip) return;
  site = await serveRepo();
  emu = await startEmulator(["--cors", "--interval", "100ms"]);
  // A GitHub App whose tokens live 4 minutes: inside the engine's 5-minute
  // refresh margin, so every later auth() spends the refresh token.
  appEmu = await startEmulator(["--cors", "--interval", "100ms", "--client-id", GITHUB_APP, "--client-type", "github-app", "--token-lifetime", "4m"]);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await emu?.stop();
  await appEmu?.stop();
  await site?.close();
});

/** Starts auth() in the page with the given strategy options; verifications land in window.verifications. */
function startAuth(page, options) {
  return page.evaluate(async (o) => {
    const w = /** @type {any} */ (window);
    w.verifications = [];
    w.events = [];
    const store = o.store === "idb" ? new w.df.IndexedDBStore({ name: o.dbName }) : undefined;
    const auth = w.df.createOAuthDeviceAuth({
      clientId: o.clientId,
      clientType: o.clientType,
      scopes: o.scopes,
      baseUrl: o.baseUrl,
      store,
      onVerification: (v) => {
        w.verifications.push(v);
      },
      onEvent: (e) => {
        w.events.push(e);
      },
    });
    w.auth = auth;
    try {
      return { ok: await auth({ type: "oauth" }) };
    } catch (e) {
      return { error: { name: e.name, code: e.code, message: e.message } };
    }
  }, options);
}

async function shownCode(page) {
  await page.waitForFunction(() => /** @type {any} */ (window).verifications?.length > 0, null, { timeout: 10_000 });
  return page.evaluate(() => /** @type {any} */ (window).verifications[0]);
}

test("time to the first info in Chromium (page load to the engine's answer)", { skip }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const t0 = Date.now();
  await page.goto(`${site.origin}/sdk/js/test/browser/pages/harness.html`);
  await page.waitForFunction(() => /** @type {any} */ (window).dfReady === true);
  const info = await page.evaluate(async () => {
    const w = /** @type {any} */ (window);
    const start = performance.now();
    const out = await new w.df.Host().call("info", {});
    return { out, ms: performance.now() - start };
  });
  const total = Date.now() - t0;
  assert.equal(info.out.abi.split(".")[0], "2");
  assert.deepEqual(info.out.endpoints, { base: "https://github.com", api: "https://api.github.com" });
  console.log(`# figure: first info ${info.ms.toFixed(0)} ms after the module loaded (engine fetch, compile, start); ${total} ms from navigation`);
  await context.close();
});

test("sign in: code shown, approved on the emulator's page, token; cached after a reload from IndexedDB", { skip }, async () => {
  const { page, context, errors } = await openHarness(browser, site.origin);
  const t0 = Date.now();
  const running = startAuth(page, { clientId: OAUTH_APP, scopes: ["repo", "read:org"], baseUrl: emu.url, store: "idb", dbName: "e2e-signin" });
  const v = await shownCode(page);
  console.log(`# figure: code shown ${Date.now() - t0} ms after auth() was called`);
  assert.match(v.user_code, /^[0-9A-Z]{4}-[0-9A-Z]{4}$/);
  assert.equal(v.verification_uri, `${emu.url}/login/device`);
  assert.deepEqual(Object.keys(v), ["device_code", "user_code", "verification_uri", "expires_in", "interval"], "octokit's fields in GitHub's order");
  assert.equal(await approveInBrowser(context, v.verification_uri, v.user_code), "authorized");
  const { ok, error } = await running;
  assert.equal(error, undefined);
  assert.equal(ok.type, "token");
  assert.equal(ok.clientType, "oauth-app");
  assert.deepEqual([...ok.scopes].sort(), ["read:org", "repo"]);
  assert.match(ok.token, /^gho_/);
  const events = await page.evaluate(() => /** @type {any} */ (window).events);
  assert.ok(events.some((e) => e.type === "polling"), "polling events");
  assert.ok(!JSON.stringify(events).includes(ok.token), "no event carries the token");

  // A reload: a fresh page, the engine started again, the token read back
  // from the encrypted store without a device flow.
  await page.reload();
  await page.waitForFunction(() => /** @type {any} */ (window).dfReady === true);
  const again = await page.evaluate(async ({ clientId, baseUrl }) => {
    const w = /** @type {any} */ (window);
    const auth = w.df.createOAuthDeviceAuth({
      clientId,
      scopes: ["read:org", "repo"],
      baseUrl,
      store: new w.df.IndexedDBStore({ name: "e2e-signin" }),
      onVerification: () => {
        throw new Error("no device flow expected after a reload");
      },
    });
    const a = await auth({ type: "oauth", interactive: false });
    const check = await auth.check();
    return { a, check };
  }, { clientId: OAUTH_APP, baseUrl: emu.url });
  assert.equal(again.a.token, ok.token, "the cached token");
  assert.equal(again.check.valid, true);
  assert.deepEqual(errors, []);
  await context.close();
});

test("IndexedDBStore: values sealed (no token in the database), the key non-extractable, compare-and-swap", { skip }, async () => {
  const { page, context } = await openHarness(browser, site.origin);
  const out = await page.evaluate(async () => {
    const w = /** @type {any} */ (window);
    const store = new w.df.IndexedDBStore({ name: "e2e-sealed" });
    const secret = "gho_SECRETSECRETSECRET";
    await store.set("k", JSON.stringify({ token: secret }));
    const back = await store.get("k");
    const raw = await new Promise((resolve, reject) => {
      const open = indexedDB.open("e2e-sealed");
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const db = open.result;
        const tx = db.transaction(["values", "keys"], "readonly");
        const value = tx.objectStore("values").get("k");
        const key = tx.objectStore("keys").get("aes-gcm");
        tx.oncomplete = () => {
          db.close();
          resolve({ value: value.result, key: key.result });
        };
      };
    });
    const text = new TextDecoder("latin1").decode(raw.value.data);
    let exported = "exported";
    try {
      await crypto.subtle.exportKey("raw", raw.key);
    } catch (e) {
      exported = e.name;
    }
    const conflict = await store.swap("k", "not the value", "x");
    const swapped = await store.swap("k", back, "y");
    const removed = await store.swap("k", "y", undefined);
    const gone = await store.get("k");
    // Tampering: a sealed value moved under another key does not open.
    await store.set("a", "value-a");
    let moved = "opened";
    await new Promise((resolve) => {
      const open = indexedDB.open("e2e-sealed");
      open.onsuccess = () => {
        const db = open.result;
        const tx = db.transaction("values", "readwrite");
        const s = tx.objectStore("values");
        const r = s.get("a");
        r.onsuccess = () => s.put(r.result, "b");
        tx.oncomplete = () => {
          db.close();
          resolve(undefined);
        };
      };
    });
    try {
      await store.get("b");
    } catch (e) {
      moved = e.name;
    }
    await store.clear();
    return {
      back,
      plaintextInDb: text.includes(secret),
      extractable: raw.key.extractable,
      keyType: raw.key.algorithm.name,
      exported,
      conflict,
      swapped,
      removed,
      gone: gone === undefined,
      moved,
    };
  });
  assert.equal(out.back, JSON.stringify({ token: "gho_SECRETSECRETSECRET" }));
  assert.equal(out.plaintextInDb, false);
  assert.equal(out.extractable, false);
  assert.equal(out.keyType, "AES-GCM");
  assert.equal(out.exported, "InvalidAccessError");
  assert.deepEqual(out.conflict, { swapped: false, current: out.back });
  assert.deepEqual(out.swapped, { swapped: true });
  assert.deepEqual(out.removed, { swapped: true });
  assert.equal(out.gone, true);
  assert.equal(out.moved, "StoreError");
  await context.close();
});

test("a lease holds across tabs (Web Locks): the second tab is busy until the first releases", { skip }, async () => {
  const context = await browser.newContext();
  const a = (await openHarness(browser, site.origin, context)).page;
  const b = (await openHarness(browser, site.origin, context)).page;
  await a.evaluate(async () => {
    const w = /** @type {any} */ (window);
    w.release = await new w.df.IndexedDBStore({ name: "e2e-lease" }).lock("key", 0);
  });
  const busy = await b.evaluate(async () => {
    const w = /** @type {any} */ (window);
    return (await new w.df.IndexedDBStore({ name: "e2e-lease" }).lock("key", 0)) === null;
  });
  assert.equal(busy, true, "tab B finds the lease held by tab A");
  const waited = b.evaluate(async () => {
    const w = /** @type {any} */ (window);
    const release = await new w.df.IndexedDBStore({ name: "e2e-lease" }).lock("key", 10_000);
    release?.();
    return typeof release;
  });
  await a.evaluate(() => /** @type {any} */ (window).release());
  assert.equal(await waited, "function", "tab B gets the lease once tab A releases it");
  // A closed tab's lease is released by the browser.
  await a.evaluate(async () => {
    const w = /** @type {any} */ (window);
    w.release = await new w.df.IndexedDBStore({ name: "e2e-lease" }).lock("key", 0);
  });
  await a.close();
  const afterClose = await b.evaluate(async () => {
    const w = /** @type {any} */ (window);
    const release = await new w.df.IndexedDBStore({ name: "e2e-lease" }).lock("key", 5000);
    release?.();
    return typeof release;
  });
  assert.equal(afterClose, "function");
  await context.close();
});

test("an expiring GitHub App token is refreshed (after a reload, from IndexedDB)", { skip }, async () => {
  const { page, context } = await openHarness(browser, site.origin);
  const running = startAuth(page, { clientId: GITHUB_APP, clientType: "github-app", baseUrl: appEmu.url, store: "idb", dbName: "e2e-app" });
  const v = await shownCode(page);
  assert.equal(await approveInBrowser(context, v.verification_uri, v.user_code), "authorized");
  const { ok: first, error } = await running;
  assert.equal(error, undefined);
  assert.equal(first.clientType, "github-app");
  assert.ok(first.refreshToken && first.expiresAt, "an expiring token with a refresh token");

  await page.reload();
  await page.waitForFunction(() => /** @type {any} */ (window).dfReady === true);
  const second = await page.evaluate(async ({ clientId, baseUrl }) => {
    const w = /** @type {any} */ (window);
    const events = [];
    const auth = w.df.createOAuthDeviceAuth({
      clientId,
      clientType: "github-app",
      baseUrl,
      store: new w.df.IndexedDBStore({ name: "e2e-app" }),
      onVerification: () => {
        throw new Error("no device flow expected: the token is refreshed");
      },
      onEvent: (e) => events.push(e),
    });
    const a = await auth({ type: "oauth" });
    const again = await auth({ type: "oauth", interactive: false });
    return { a, events, again };
  }, { clientId: GITHUB_APP, baseUrl: appEmu.url });
  assert.notEqual(second.a.token, first.token, "a new access token");
  assert.notEqual(second.a.refreshToken, first.refreshToken, "a new refresh token");
  assert.ok(second.events.some((e) => e.type === "refreshed"), "a refreshed event");
  assert.ok(!JSON.stringify(second.events).includes(second.a.token), "no event carries the token");
  assert.notEqual(second.again.token, first.token, "the stored pair is the new one");
  await context.close();
});

test("two tabs asking at once spend the refresh token once (the engine's lease through Web Locks)", { skip }, async () => {
  // Tokens that live the default 8 hours; the tabs' clocks run 7 h 56 min
  // ahead, so the first token is inside the 5-minute refresh margin and the
  // refreshed one is not.
  const eightHours = await startEmulator(["--cors", "--interval", "100ms", "--client-id", GITHUB_APP, "--client-type", "github-app"]);
  const context = await browser.newContext();
  const a = (await openHarness(browser, site.origin, context)).page;
  const running = startAuth(a, { clientId: GITHUB_APP, clientType: "github-app", baseUrl: eightHours.url, store: "idb", dbName: "e2e-tabs" });
  const v = await shownCode(a);
  assert.equal(await approveInBrowser(context, v.verification_uri, v.user_code), "authorized");
  const { ok: first } = await running;
  assert.ok(first.refreshToken, "an expiring token");
  const b = (await openHarness(browser, site.origin, context)).page;
  // Both tabs find the token inside the refresh margin at once; a refresh
  // token is single use, so a second spend would fail (bad_refresh_token).
  const ask = (page) =>
    page.evaluate(async ({ clientId, baseUrl }) => {
      const w = /** @type {any} */ (window);
      const events = [];
      const auth = w.df.createOAuthDeviceAuth({
        clientId,
        clientType: "github-app",
        baseUrl,
        store: new w.df.IndexedDBStore({ name: "e2e-tabs" }),
        now: () => Date.now() + (8 * 60 - 4) * 60_000,
        onVerification: () => {
          throw new Error("no device flow expected");
        },
        onEvent: (e) => events.push(e.type),
      });
      await new Promise((r) => setTimeout(r, 50));
      try {
        const got = await auth({ type: "oauth" });
        return { token: got.token, events };
      } catch (e) {
        return { error: e.code, events };
      }
    }, { clientId: GITHUB_APP, baseUrl: eightHours.url });
  const [ra, rb] = await Promise.all([ask(a), ask(b)]);
  await eightHours.stop();
  assert.equal(ra.error, undefined, JSON.stringify(ra));
  assert.equal(rb.error, undefined, JSON.stringify(rb));
  assert.notEqual(ra.token, first.token, "refreshed");
  assert.equal(ra.token, rb.token, "both tabs end with the one new token");
  const refreshes = [ra, rb].filter((r) => r.events.includes("refreshed")).length;
  assert.equal(refreshes, 1, `one tab refreshed, the other waited for it: ${JSON.stringify([ra.events, rb.events])}`);
  await context.close();
});

test("cancellation through an AbortSignal stops a waiting flow at once", { skip }, async () => {
  const { page, context } = await openHarness(browser, site.origin);
  const out = await page.evaluate(async (baseUrl) => {
    const w = /** @type {any} */ (window);
    const controller = new AbortController();
    let abortedAt = 0;
    const auth = w.df.createOAuthDeviceAuth({
      clientId: "Ov23liCancel",
      baseUrl,
      signal: controller.signal,
      onVerification: () => {
        setTimeout(() => {
          abortedAt = performance.now();
          controller.abort();
        }, 300);
      },
    });
    try {
      await auth({ type: "oauth" });
      return { resolved: true };
    } catch (e) {
      return { name: e.name, code: e.code, ms: performance.now() - abortedAt };
    }
  }, emu.url);
  assert.equal(out.code, "cancelled");
  assert.equal(out.name, "DeviceFlowError");
  assert.ok(out.ms < 2000, `rejected ${out.ms} ms after the abort (the flow polls every 100 ms for 15 minutes otherwise)`);
  // A per-call signal too, and an aborted signal before the call.
  const early = await page.evaluate(async (baseUrl) => {
    const w = /** @type {any} */ (window);
    const auth = w.df.createOAuthDeviceAuth({ clientId: "Ov23liCancel", baseUrl, onVerification: () => {} });
    try {
      await auth({ type: "oauth", signal: AbortSignal.abort() });
      return "resolved";
    } catch (e) {
      return e.code;
    }
  }, emu.url);
  assert.equal(early, "cancelled");
  await context.close();
});

test("auth.hook: the API request carries the token, the OAuth endpoints none", { skip }, async () => {
  const { page, context } = await openHarness(browser, site.origin);
  const running = page.evaluate(async ({ baseUrl, apiUrl }) => {
    const w = /** @type {any} */ (window);
    w.verifications = [];
    const auth = w.df.createOAuthDeviceAuth({ clientId: "Ov23liHook", baseUrl, onVerification: (v) => w.verifications.push(v) });
    const { fakeRequest } = await import("./fake-request.js");
    const { request, seen } = fakeRequest(apiUrl);
    const user = await auth.hook(request, "GET /user");
    return { login: user.data.login, seen };
  }, { baseUrl: emu.url, apiUrl: emu.apiUrl });
  const v = await shownCode(page);
  assert.equal(await approveInBrowser(context, v.verification_uri, v.user_code), "authorized");
  const out = await running;
  assert.equal(typeof out.login, "string");
  const api = out.seen.filter((r) => r.url.endsWith("/user"));
  const oauth = out.seen.filter((r) => r.url.includes("/login/"));
  assert.equal(api.length, 1, JSON.stringify(out.seen));
  assert.match(api[0].authorization, /^token gho_/);
  assert.ok(oauth.length >= 2, "the device flow went through the request instance");
  assert.ok(oauth.every((r) => r.authorization === null), "the OAuth endpoints carry no authorization");
  await context.close();
});
