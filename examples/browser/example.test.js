// The example page in headless Chromium, as a person uses it: sign in (the
// code shown with a copy button and a link), approve on the emulator's page
// in another tab, the repositories listed, a reload (still signed in, from
// the encrypted IndexedDB store), sign out (and still out after a reload).
// The emulator stands for GitHub; `deviceflow relay` carries the OAuth
// requests, as it would for github.com. Run by `make test-browser`.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startEmulator, emulatorMissing } from "../../sdk/js/test/support/emulator.js";
import { approveInBrowser, chromiumMissing, launchChromium, serveRepo, startRelay } from "../../sdk/js/test/browser/support.js";

const skip = process.env.CI === "true" ? false : (chromiumMissing() ?? emulatorMissing() ?? false);
let browser;
let site;
let emu;
let relay;

before(async () => {
  if (skip) return;
  site = await serveRepo();
  emu = await startEmulator(["--cors", "--interval", "100ms", "--client-id", "Iv1.example", "--client-type", "github-app"]);
  relay = await startRelay(emu.url, [site.origin]);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await relay?.stop();
  await emu?.stop();
  await site?.close();
});

test("sign in, list repositories, survive a reload, sign out", { skip }, async () => {
  const context = await browser.newContext();
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: site.origin });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  const query = new URLSearchParams({ clientId: "Iv1.example", clientType: "github-app", baseUrl: emu.url, oauthUrl: relay.url });
  const t0 = Date.now();
  await page.goto(`${site.origin}/examples/browser/?${query}`);
  await page.waitForSelector("#sign-in", { state: "visible" });
  await page.click("#sign-in");
  await page.waitForSelector("#user-code:not(:empty)", { state: "visible" });
  console.log(`# figure: example page, load to code shown: ${Date.now() - t0} ms`);

  const code = await page.textContent("#user-code");
  assert.match(code, /^[0-9A-Z]{4}-[0-9A-Z]{4}$/);
  const link = await page.getAttribute("#verify-link", "href");
  assert.equal(link, `${emu.url}/login/device`);
  await page.click("#copy");
  await page.waitForFunction(() => document.getElementById("copy")?.textContent === "Copied");
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), code, "the copy button copies the code");

  assert.equal(await approveInBrowser(context, link, code), "authorized");
  await page.waitForSelector("#signed-in", { state: "visible", timeout: 10_000 });
  assert.equal(await page.textContent("#login"), "octocat");
  const repos = await page.$$eval("#repos li", (lis) => lis.map((li) => li.textContent));
  assert.deepEqual(repos, ["octocat/hello-world", "octocat/dotfiles", "octocat/notesprivate"]);

  await page.reload();
  await page.waitForSelector("#signed-in", { state: "visible" });
  assert.equal(await page.textContent("#login"), "octocat", "still signed in after a reload");
  assert.equal(await page.isVisible("#verify"), false);

  await page.click("#sign-out");
  await page.waitForSelector("#signed-out", { state: "visible" });
  await page.reload();
  await page.waitForSelector("#signed-out", { state: "visible" });
  assert.equal(await page.textContent("#error"), "");
  assert.deepEqual(errors, []);
  await context.close();
});

test("cancel during the flow returns to signed out", { skip }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const query = new URLSearchParams({ clientId: "Iv1.example", clientType: "github-app", baseUrl: emu.url, oauthUrl: relay.url });
  await page.goto(`${site.origin}/examples/browser/?${query}`);
  await page.click("#sign-in");
  await page.waitForSelector("#verify", { state: "visible" });
  await page.click("#cancel");
  await page.waitForSelector("#signed-out", { state: "visible" });
  assert.equal(await page.textContent("#error"), "");
  await context.close();
});
