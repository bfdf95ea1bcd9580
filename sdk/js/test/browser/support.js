// Browser test support: a static file server for the repository (the pages
// load the SDK's browser entry and the engine as a page would, by URL), and
// the distribution's Chromium driven by playwright-core. No browser is ever
// downloaded: Chromium comes from the machine (Debian's package,
// /usr/bin/chromium, or $DEVICEFLOW_CHROMIUM).
import { createServer } from "node:http";
import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";

export const repo = fileURLToPath(new URL("../../../../", import.meta.url));
export const chromiumPath = process.env.DEVICEFLOW_CHROMIUM ?? "/usr/bin/chromium";

/** Why the browser tests cannot run here, or null when they can. */
export function chromiumMissing() {
  if (existsSync(chromiumPath)) return null;
  return `no Chromium at ${chromiumPath} (apt-get install chromium, or set DEVICEFLOW_CHROMIUM)`;
}

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".css": "text/css; charset=utf-8",
};

/**
 * Serves the repository's files read-only on 127.0.0.1 (a secure context,
 * so WebCrypto and Web Locks are there). Resolves to {origin, close,
 * requests, extra}; `requests` lists the paths asked, in order; `extra` maps
 * more paths to {body, type} (a test's generated files).
 */
export async function serveRepo() {
  const requests = [];
  /** @type {Map<string, {body: string | Uint8Array, type: string}>} */
  const extra = new Map();
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    requests.push(path);
    const generated = extra.get(path);
    if (generated) {
      res.writeHead(200, { "content-type": generated.type, "cache-control": "no-store" });
      res.end(generated.body);
      return;
    }
    const file = normalize(join(repo, path));
    if (!file.startsWith(repo) || file.split(sep).includes("node_modules") || file.split(sep).includes(".git")) {
      res.writeHead(404).end();
      return;
    }
    try {
      const s = await stat(file);
      const target = s.isDirectory() ? join(file, "index.html") : file;
      const body = await readFile(target);
      res.writeHead(200, { "content-type": TYPES[extname(target)] ?? "application/octet-stream", "cache-control": "no-store" });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    requests,
    extra,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve(undefined));
      }),
  };
}

/** Launches headless Chromium (the machine's) through playwright-core. */
export async function launchChromium() {
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: ["--no-sandbox"] });
}

/**
 * Opens the harness page (pages/harness.html: the SDK's browser entry as
 * window.df) in a new context, with the page's console errors collected.
 */
export async function openHarness(browser, origin, context) {
  const ctx = context ?? (await browser.newContext());
  const page = await ctx.newPage();
  const errors = [];
  page.on("pageerror", (err) => errors.push(String(err)));
  await page.goto(`${origin}/sdk/js/test/browser/pages/harness.html`);
  await page.waitForFunction(() => /** @type {any} */ (window).dfReady === true);
  return { page, context: ctx, errors };
}

/**
 * Approves (or cancels) a user code on the emulator's verification page in
 * its own tab, as a person does: type the code, press the button. Resolves
 * to the answer's data-result.
 */
export async function approveInBrowser(context, verificationUri, userCode, choice = "authorize") {
  const page = await context.newPage();
  try {
    await page.goto(verificationUri);
    await page.fill("#user_code", userCode);
    await Promise.all([page.waitForNavigation(), page.click(choice === "authorize" ? "#authorize" : "#cancel")]);
    return await page.getAttribute("#result", "data-result");
  } finally {
    await page.close();
  }
}

/**
 * Starts `deviceflow relay` in front of github (the emulator) for the given
 * page origins, on a free loopback port. Resolves to {url, stop}.
 *
 * @param {string} github
 * @param {string[]} origins
 */
export async function startRelay(github, origins) {
  const { spawn } = await import("node:child_process");
  const { createInterface } = await import("node:readline");
  const { deviceflowBinary } = await import("../support/emulator.js");
  const args = ["relay", "--listen", "127.0.0.1:0", "--github", github, "--rate", "0", "--quiet", "--json"];
  for (const o of origins) args.push("--allow-origin", o);
  const child = spawn(deviceflowBinary(), args, { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const first = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`the relay exited (${code}): ${stderr}`)));
    child.once("error", reject);
  });
  const { url } = JSON.parse(first);
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve(undefined);
      child.once("exit", () => resolve(undefined));
      child.kill("SIGTERM");
    });
  return { url, stop };
}
