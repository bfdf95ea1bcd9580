// The plugin's worker thread (src/plugin-worker.js): host calls cross to this
// thread and back without ever waiting on a lost wake-up; without a clock
// option the worker reads the clocks itself, with one every reading is the
// user's; without onEvent an abort still reaches the plugin; a closed pool
// starts new workers.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { Host, MemoryStore, closeIdle, preload } from "../src/index.js";

after(() => closeIdle());

const json = (body) => new Response(JSON.stringify(body), { headers: { "content-type": "application/json; charset=utf-8" } });
const codeAnswer = { device_code: "DC", user_code: "WDJB-MJHT", verification_uri: "https://github.com/login/device", expires_in: 900, interval: 0.01 };

test("host calls do not stall", async () => {
  await preload();
  const origin = "http://127.0.0.1:9";
  const key = `deviceflow:v1:${origin}|oauth-app|Iv1.wake|`;
  const value = JSON.stringify({ type: "token", tokenType: "oauth", clientType: "oauth-app", clientId: "Iv1.wake", token: "gho_wake", scopes: [] });
  const host = new Host({ baseUrl: origin, store: new MemoryStore({ [key]: value }) });
  const input = JSON.stringify({ clientId: "Iv1.wake", baseUrl: origin });
  const stalls = [];
  // @extism/extism 1.0.3's own channel lost a wake-up about once in 300
  // host calls and then waited for its 500 ms timeout; this one has no
  // timeout to wait for, so a lost wake-up would hang the test instead.
  for (let i = 0; i < 1200; i++) {
    const start = performance.now();
    await host.call("authenticate", input);
    const ms = performance.now() - start;
    if (ms % 500 >= 0 && ms % 500 < 20 && ms >= 495) stalls.push(Math.round(ms));
  }
  assert.deepEqual(stalls, [], "calls that waited for a 500 ms timeout");
});

test("without a clock option the plugin reads this process's clocks; with one, every reading is the user's", async () => {
  const fetch = async () => json(codeAnswer);
  const before = Date.now();
  const real = await new Host({ fetch }).call("begin", { clientId: "Iv1.clock" });
  assert.ok(real.nextPollAt >= before + 10 && real.nextPollAt <= Date.now() + 1000, `nextPollAt ${real.nextPollAt - before} ms after the call began`);

  let readings = 0;
  const faked = await new Host({ fetch, now: () => (readings++, 1767225600000) }).call("begin", { clientId: "Iv1.clock" });
  assert.ok(readings >= 2, `the fake clock was read ${readings} times`);
  assert.equal(faked.nextPollAt, 1767225600000 + 11, "interval 10 ms plus its margin, on the fake clock");
});

test("without onEvent, an abort during a call still stops the plugin", async () => {
  const controller = new AbortController();
  const polls = [];
  const fetch = async (url) => {
    if (String(url).endsWith("/login/device/code")) return json(codeAnswer);
    polls.push(url);
    controller.abort(new Error("stop"));
    return json({ error: "authorization_pending" });
  };
  const host = new Host({ fetch });
  await assert.rejects(host.call("authenticate", { clientId: "Iv1.abort" }, { signal: controller.signal }), { code: "cancelled" });
  assert.equal(polls.length, 1, "no poll after the abort");
});

test("after closeIdle the next call starts a new worker", async () => {
  const host = new Host();
  assert.equal((await host.call("info", {})).name, "deviceflow");
  await closeIdle();
  assert.equal((await host.call("info", {})).name, "deviceflow");
  await closeIdle();
  const [a, b, c] = await Promise.all([host.call("info", {}), host.call("info", {}), host.call("info", {})]);
  assert.deepEqual([a.name, b.name, c.name], ["deviceflow", "deviceflow", "deviceflow"], "concurrent calls, one worker each");
});
