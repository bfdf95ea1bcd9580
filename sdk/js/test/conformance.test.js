// Plays every wit/conformance/vectors/*.json through the real plugin in the
// Node host, with the exact semantics of wit/conformance/README.md: a
// scripted server on 127.0.0.1, fake wall and monotonic clocks (wallSteps
// move the wall clock alone) and a fake sleep, cancelAtSleep and
// cancelAtEvent, a 1 s per-request cap, the timeoutMs the plugin asks for,
// another process writing the store (storeWrites) or holding a lease
// (otherLease), exact sleeps, events and store, and no lease left held after
// any call.
// Each vector runs twice: through fetch, and through an @octokit/request
// instance (the `request` option's transport).
import { test, describe, before, after } from "node:test";
import { createServer } from "node:http";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { request as octokitRequest } from "@octokit/request";
import { Host, closeIdle, preload } from "../src/index.js";
import { refusal } from "../src/sandbox.js";
import { parseWithSource } from "./support/jsonraw.js";
import { jsonEqual } from "./support/match.js";
import { VectorStore } from "./support/vector-store.js";
import { checkOutcome, checkStore } from "./support/vector-checks.js";
import { ScriptedServer } from "./support/scripted-server.js";

const DEFAULT_CLOCK = 1767225600000;
const DEFAULT_MONO_CLOCK = 1000000000;
const dir = process.env.DEVICEFLOW_VECTORS ?? fileURLToPath(new URL("../../../wit/conformance/vectors/", import.meta.url));
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".json"))
  .sort();

const FIELDS = new Set([
  "name", "description", "rules", "export", "input", "clock", "store", "exchanges", "sleeps",
  "cancelAtSleep", "cancelAtEvent", "events", "storeAfter", "result", "error", "calls",
  "monoClock", "wallSteps", "otherLease",
]);

// Node loads its fetch implementation on first use, which can take longer
// than the vectors' 1 s request cap on a busy machine: warm it (and the
// plugin) before the first vector.
before(async () => {
  const server = createServer((req, res) => res.end("ok"));
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${server.address().port}/`;
  await (await fetch(url)).text();
  await octokitRequest(`GET ${url}`);
  server.close();
  await preload();
});

after(() => closeIdle());

test("there are vectors to play", () => {
  assert.ok(files.length > 0, `no vectors in ${dir}`);
});

for (const transport of ["fetch", "octokit-request"]) {
  describe(`conformance via ${transport}`, () => {
    for (const file of files) {
      const name = file.replace(/\.json$/, "");
      test(name, () => play(name, readFileSync(join(dir, file), "utf8"), transport));
    }
  });
}

async function play(name, rawText, transport) {
  let clock = DEFAULT_CLOCK;
  let mono = DEFAULT_MONO_CLOCK;
  // The network's and the calls' time passes on both clocks.
  const advance = (ms) => {
    clock += ms;
    mono += ms;
  };
  let store;
  const server = new ScriptedServer({ advance, writeStore: (writes) => store.apply(writes) });
  const origin = await server.start();
  try {
    const { value: v, sources } = parseWithSource(rawText.replaceAll("{server}", origin));
    for (const k of Object.keys(v)) assert.ok(FIELDS.has(k), `bad vector: unknown field ${k}`);
    assert.equal(v.name, name, "vector name matches its file");
    server.exchanges = v.exchanges ?? [];
    server.sources = sources;
    clock = v.clock || DEFAULT_CLOCK;
    mono = v.monoClock ?? DEFAULT_MONO_CLOCK;
    const wallSteps = v.wallSteps ?? [];

    const sleeps = [];
    const events = [];
    let eventCancelled = false;
    store = new VectorStore(v.store, v.otherLease);
    const host = new Host({
      baseUrl: origin,
      requestTimeoutMs: 1000,
      request: transport === "octokit-request" ? octokitRequest.defaults({ baseUrl: origin }) : undefined,
      now: () => clock,
      monotonic: () => mono,
      sleep: (ms) => {
        sleeps.push(ms);
        if (sleeps.length === v.cancelAtSleep) return true;
        advance(ms);
        for (const step of wallSteps) if (step.atSleep === sleeps.length) clock += step.ms;
        return false;
      },
      store,
      onEvent: (event) => {
        events.push(event);
        if (v.cancelAtEvent && event.type === v.cancelAtEvent && !eventCancelled) {
          eventCancelled = true;
          return false;
        }
        return undefined;
      },
    });
    recordAskedTimeouts(host, server.asked);

    const calls = v.calls ?? [{ export: v.export, input: v.input, result: v.result, error: v.error }];
    let prevState;
    for (const [i, c] of calls.entries()) {
      advance(c.advanceMs ?? 0);
      // An absent input is an empty one, as the Go runner passes it.
      let input = c.input === undefined ? "" : JSON.stringify(c.input);
      if (prevState !== undefined) input = input.replaceAll('"{state}"', prevState);
      const label = `call ${i + 1} (${c.export})`;
      let out;
      let err;
      try {
        out = await host.call(c.export, input);
      } catch (e) {
        err = e;
      }
      assert.deepEqual(store.heldKeys(), [], `${label}: no lease is held after the call`);
      checkOutcome(label, out, err, c.result, c.error);
      if (out && typeof out === "object" && out.state !== undefined) prevState = JSON.stringify(out.state);
    }

    assert.deepEqual(server.failures, [], "every request matched its exchange");
    assert.equal(server.next, server.exchanges.length, `${server.next} of ${server.exchanges.length} exchanges used`);
    assert.deepEqual(sleeps, v.sleeps ?? [], "sleeps");
    const wantEvents = v.events ?? [];
    assert.equal(events.length, wantEvents.length, `events:\n got: ${events.map((e) => JSON.stringify(e)).join("\n      ")}`);
    events.forEach((e, i) => assert.ok(jsonEqual(e, wantEvents[i]), `event ${i + 1} = ${JSON.stringify(e)}, want ${JSON.stringify(wantEvents[i])}`));
    checkStore(store.snapshot(), v.storeAfter ?? v.store ?? {});
  } finally {
    await server.close();
  }
}

/**
 * Records the timeoutMs the plugin asked for in every request the sandbox
 * lets out, in order, so the scripted server can check `request.timeoutMs`.
 */
function recordAskedTimeouts(host, asked) {
  const send = host.http.do.bind(host.http);
  host.http.do = (req, signal) => {
    if (!refusal(host.http.allowed, req.url)) asked.push(req.timeoutMs);
    return send(req, signal);
  };
}
