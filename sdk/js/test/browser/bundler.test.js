// The package from a bundler: esbuild bundles an app that imports
// "@deviceflow/auth-oauth-device" by name for the browser platform (the
// package installed as a dependency would be: a node_modules link), which
// must pick the "browser" export and pull in no Node built-in; the bundle
// then signs in in Chromium against the emulator. (esbuild copies no
// assets, so the app tells the engine where its wasm is served:
// setEngineSource; bundlers that handle new URL(…, import.meta.url) need
// not.)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, symlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startEmulator, emulatorMissing } from "../support/emulator.js";
import { approveInBrowser, chromiumMissing, launchChromium, serveRepo } from "./support.js";

const skip = process.env.CI === "true" ? false : (chromiumMissing() ?? emulatorMissing() ?? false);
const pkg = fileURLToPath(new URL("../../", import.meta.url));
let browser;
let site;
let emu;
let work;

before(async () => {
  if (skip) return;
  site = await serveRepo();
  emu = await startEmulator(["--cors", "--interval", "100ms"]);
  browser = await launchChromium();
  work = mkdtempSync(join(tmpdir(), "deviceflow-bundle-"));
  mkdirSync(join(work, "node_modules", "@deviceflow"), { recursive: true });
  symlinkSync(pkg, join(work, "node_modules", "@deviceflow", "auth-oauth-device"), "dir");
});

after(async () => {
  await browser?.close();
  await emu?.stop();
  await site?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

test("esbuild bundles the browser entry (no Node built-in) and the bundle signs in in Chromium", { skip }, async () => {
  const esbuild = await import("esbuild");
  const result = await esbuild.build({
    entryPoints: [fileURLToPath(new URL("./pages/bundle-entry.js", import.meta.url))],
    bundle: true,
    format: "esm",
    platform: "browser",
    nodePaths: [join(work, "node_modules")],
    preserveSymlinks: true,
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  const inputs = Object.keys(result.metafile.inputs);
  assert.ok(inputs.some((i) => i.endsWith("src/browser/index.js")), "the browser entry");
  assert.ok(!inputs.some((i) => /src\/(plugin|host|lock|file-store|keyring-store)\.js$/.test(i)), `no Node-only module: ${inputs.join(", ")}`);
  assert.ok(!inputs.some((i) => i.startsWith("node:")), "no Node built-in");
  const code = result.outputFiles[0].text;
  console.log(`# figure: esbuild bundle of the browser entry: ${(code.length / 1024).toFixed(0)} KiB of JavaScript (wasm apart)`);

  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  site.extra.set("/bundled/app.js", { body: code, type: "text/javascript" });
  site.extra.set("/bundled/index.html", { body: '<!doctype html><meta charset="utf-8"><script type="module" src="./app.js"></script>', type: "text/html" });
  await page.goto(`${site.origin}/bundled/index.html`);
  await page.waitForFunction(() => /** @type {any} */ (window).appReady === true);
  const info = await page.evaluate(async (wasm) => {
    const w = /** @type {any} */ (window);
    w.app.setEngineSource(wasm);
    return w.app.info("https://github.com");
  }, `${site.origin}/sdk/js/browser/deviceflow.wasm`);
  assert.equal(info.endpoints.api, "https://api.github.com");
  const running = page.evaluate((baseUrl) => /** @type {any} */ (window).app.signIn({ clientId: "Ov23liBundled", baseUrl }), emu.url);
  await page.waitForFunction(() => /** @type {any} */ (window).verifications?.length > 0);
  const v = await page.evaluate(() => /** @type {any} */ (window).verifications[0]);
  assert.equal(await approveInBrowser(context, v.verification_uri, v.user_code), "authorized");
  const authentication = await running;
  assert.match(authentication.token, /^gho_/);
  assert.deepEqual(errors, []);
  await context.close();
});
