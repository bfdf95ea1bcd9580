// Node and Go on one file store (layout v2): an entry Node writes is read by
// the Go `deviceflow` command and the other way round, and Node processes
// and Go processes racing to refresh one expiring GitHub App token spend the
// refresh token once between them (flock on N.lease in both languages).
// Runs against the emulator; needs Go (or DEVICEFLOW_BIN) and, for the race,
// flock(1).
import { test as nodeTest, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { createServer, request as httpRequest } from "node:http";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createOAuthDeviceAuth, FileStore, closeIdle } from "../src/index.js";
import { approveThroughPage, deviceflowBinary, emulatorMissing, startEmulator } from "./support/emulator.js";

const missing = emulatorMissing();
const test = (name, options, fn) => nodeTest(name, { skip: missing ?? options.skip ?? false }, fn);

const APP = "Iv1.interop";
let emu;
let proxy;

/**
 * A reverse proxy in front of the emulator that counts refresh-token
 * grants, so the race can be judged by what reached the server, and holds
 * each one for a while, so that every racer arrives while the first refresh
 * is in flight.
 */
async function countingProxy(target) {
  const seen = { refreshes: 0, refreshDelayMs: 0 };
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const refresh = req.url.startsWith("/login/oauth/access_token") && /"grant_type"\s*:\s*"refresh_token"|grant_type=refresh_token/.test(body.toString("utf8"));
      if (refresh) seen.refreshes++;
      setTimeout(() => forward(req, res, body), refresh ? seen.refreshDelayMs : 0);
    });
  });
  const forward = (req, res, body) => {
    const headers = { ...req.headers, host: upstream.host };
    const out = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (up) => {
      res.writeHead(up.statusCode, up.headers);
      up.pipe(res);
    });
    out.on("error", () => res.destroy());
    out.end(body);
  };
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    seen,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(r));
    },
  };
}

before(async () => {
  if (missing) return;
  // A GitHub App with expiring tokens that live an hour.
  emu = await startEmulator(["--interval", "50ms", "--client-id", APP, "--client-type", "github-app", "--token-lifetime", "1h"]);
  proxy = await countingProxy(emu.url);
});

after(async () => {
  await proxy?.close();
  await emu?.stop();
  await closeIdle();
});

/** Runs the Go command; resolves to {code, stdout, stderr}. */
function goDeviceflow(args) {
  return new Promise((resolve) => {
    execFile(deviceflowBinary(), args, { timeout: 60_000 }, (err, stdout, stderr) => resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }));
  });
}

const storeArgs = (dir, clientId, type) => ["--store", "file", "--store-path", dir, "--base-url", proxy.url, "--client-id", clientId, "--client-type", type];

/** Signs in through Node into a FileStore, approving through the emulator's page. */
async function nodeSignsIn(dir, clientId, clientType) {
  const auth = createOAuthDeviceAuth({
    clientId,
    clientType,
    baseUrl: proxy.url,
    store: new FileStore(dir),
    onVerification: (v) => {
      setTimeout(() => approveThroughPage(v.verification_uri, v.user_code), 50);
    },
  });
  return auth({ type: "oauth" });
}

test("a token Node stored is read by the Go command, and Go's logout is seen by Node", {}, async () => {
  const dir = join(mkdtempSync(join(tmpdir(), "deviceflow-interop-")), "tokens.json");
  const signedIn = await nodeSignsIn(dir, "Ov23li.interop", "oauth-app");
  const go = await goDeviceflow(["token", ...storeArgs(dir, "Ov23li.interop", "oauth-app")]);
  assert.equal(go.code, 0, go.stderr);
  assert.equal(go.stdout.trim(), signedIn.token, "Go read Node's entry");

  const out = await goDeviceflow(["logout", ...storeArgs(dir, "Ov23li.interop", "oauth-app")]);
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(await new FileStore(dir).keys(), [], "Go removed the entry Node wrote");
});

test("Node and Go processes racing to refresh one token spend its refresh token once", { skip: FileStore.crossProcess ? false : "flock(1) is not available" }, async () => {
  const dir = join(mkdtempSync(join(tmpdir(), "deviceflow-interop-")), "tokens.json");
  const first = await nodeSignsIn(dir, APP, "github-app");
  // Make the stored token due for a refresh (2 minutes left: inside the
  // 5-minute margin); the refreshed one will live an hour.
  const store = new FileStore(dir);
  const [key] = await store.keys();
  const entry = JSON.parse(await store.get(key));
  const soon = Date.now() + 2 * 60_000;
  entry.expiresAt = new Date(soon).toISOString();
  if (entry.local) entry.local.expiresAt = soon;
  await store.set(key, JSON.stringify(entry));
  const before = proxy.seen.refreshes;
  proxy.seen.refreshDelayMs = 2500;

  const child = fileURLToPath(new URL("./support/race-child.js", import.meta.url));
  const node = () =>
    new Promise((resolve) => {
      const p = spawn(process.execPath, [child, proxy.url, dir, APP], { env: { ...process.env, NODE_NO_WARNINGS: "1" }, stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      p.stdout.on("data", (d) => (out += d));
      p.on("close", () => resolve(JSON.parse(out.trim().split("\n").at(-1) || "{}").token ?? out));
    });
  const go = () => goDeviceflow(["token", ...storeArgs(dir, APP, "github-app")]).then((r) => (r.code === 0 ? r.stdout.trim() : `exit ${r.code}: ${r.stderr}`));
  const tokens = await Promise.all([node(), go(), node(), go(), node(), go()]);

  assert.equal(proxy.seen.refreshes - before, 1, `refresh requests that reached the server; tokens: ${JSON.stringify(tokens)}`);
  assert.equal(new Set(tokens).size, 1, `every process printed the same token: ${JSON.stringify(tokens)}`);
  assert.notEqual(tokens[0], first.token, "and it is the refreshed one");
});
