// Plays every wit/conformance/vectors/*.json through the browser build: the
// GOOS=js engine and the browser entry's Host in headless Chromium, with the
// page's own fetch to a scripted server on another origin (CORS). The page
// side is pages/vectors.js; the checks are the Node runner's
// (support/vector-checks.js), so both hosts are held to the same answers.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { DeviceFlowError } from "../../src/errors.js";
import { parseWithSource } from "../support/jsonraw.js";
import { jsonEqual } from "../support/match.js";
import { ScriptedServer } from "../support/scripted-server.js";
import { checkOutcome, checkStore } from "../support/vector-checks.js";
import { chromiumMissing, launchChromium, serveRepo } from "./support.js";

const skip = process.env.CI === "true" ? false : (chromiumMissing() ?? false);
const dir = process.env.DEVICEFLOW_VECTORS ?? fileURLToPath(new URL("../../../../wit/conformance/vectors/", import.meta.url));
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".json"))
  .sort();

let browser;
let site;
let page;
/** The vector being played: its server, and what the server did that the page must apply. */
let current = null;
let passed = 0;

before(async () => {
  if (skip) return;
  site = await serveRepo();
  browser = await launchChromium();
  page = await (await browser.newContext()).newPage();
  await page.exposeFunction("vectorAsked", (ms) => {
    current?.server.asked.push(ms);
  });
  await page.exposeFunction("vectorEffects", () => (current ? current.effects.splice(0) : []));
  await page.goto(`${site.origin}/sdk/js/test/browser/pages/harness.html`);
  await page.waitForFunction(() => /** @type {any} */ (window).dfReady === true);
  await page.evaluate(async () => {
    const w = /** @type {any} */ (window);
    w.vectors = await import("./vectors.js");
    await w.df.preload();
  });
});

after(async () => {
  if (!skip) console.log(`# figure: ${passed} of ${files.length} conformance vectors passed in Chromium`);
  await browser?.close();
  await site?.close();
});

test("there are vectors to play", { skip }, () => {
  assert.ok(files.length > 0, `no vectors in ${dir}`);
});

for (const file of files) {
  const name = file.replace(/\.json$/, "");
  test(`browser: ${name}`, { skip }, async () => {
    await play(name, readFileSync(join(dir, file), "utf8"));
    passed++;
  });
}

async function play(name, rawText) {
  const effects = [];
  const server = new ScriptedServer({
    cors: true,
    advance: (ms) => effects.push({ advanceMs: ms }),
    writeStore: (writes) => effects.push({ writes }),
  });
  const origin = await server.start();
  current = { server, effects };
  try {
    const { value: v, sources } = parseWithSource(rawText.replaceAll("{server}", origin));
    assert.equal(v.name, name, "vector name matches its file");
    server.exchanges = v.exchanges ?? [];
    server.sources = sources;
    const got = await page.evaluate(
      ({ v, origin }) => {
        const w = /** @type {any} */ (window);
        return w.vectors.playVector(v, origin, { asked: w.vectorAsked, effects: w.vectorEffects });
      },
      { v, origin },
    );
    const calls = v.calls ?? [{ export: v.export, input: v.input, result: v.result, error: v.error }];
    for (const [i, c] of calls.entries()) {
      const label = `call ${i + 1} (${c.export})`;
      const { out, err, held } = got.outcomes[i];
      assert.deepEqual(held, [], `${label}: no lease is held after the call`);
      checkOutcome(label, out, err && revive(err), c.result, c.error);
    }
    assert.deepEqual(server.failures, [], "every request matched its exchange");
    assert.equal(server.next, server.exchanges.length, `${server.next} of ${server.exchanges.length} exchanges used`);
    assert.deepEqual(got.sleeps, v.sleeps ?? [], "sleeps");
    const wantEvents = v.events ?? [];
    assert.equal(got.events.length, wantEvents.length, `events:\n got: ${got.events.map((e) => JSON.stringify(e)).join("\n      ")}`);
    got.events.forEach((e, i) => assert.ok(jsonEqual(e, wantEvents[i]), `event ${i + 1} = ${JSON.stringify(e)}, want ${JSON.stringify(wantEvents[i])}`));
    checkStore(got.store, v.storeAfter ?? v.store ?? {});
  } finally {
    current = null;
    await server.close();
  }
}

/** The page's error as the Node runner sees one: a DeviceFlowError with the same fields. */
function revive(e) {
  if (!e.deviceFlowError) return Object.assign(new Error(e.detail), { stack: e.stack });
  return new DeviceFlowError({ code: e.code, message: e.detail, error: e.oauthError, description: e.description, uri: e.uri, status: e.status });
}
