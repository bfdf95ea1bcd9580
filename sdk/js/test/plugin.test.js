// The plugin links in Node: every import it declares is one Extism's JS
// runtime or this host supplies, it instantiates on a worker, and it answers.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { Host, preload, closeIdle, ABI_VERSION } from "../src/index.js";
import { compiledModule } from "../src/plugin.js";
import { hostFunctions } from "../src/hostfuncs.js";

after(() => closeIdle());

// The Extism kernel functions @extism/extism 1.0.3 implements in JS.
const EXTISM_ENV = [
  "alloc", "free", "load_u8", "load_u64", "store_u8", "store_u64", "input_offset", "input_length",
  "input_load_u8", "input_load_u64", "output_set", "error_set", "config_get", "var_get", "var_set",
  "http_request", "http_status_code", "length", "length_unsafe", "log_warn", "log_info", "log_debug", "log_error",
];

test("every import of the plugin is supplied", async () => {
  const module = await compiledModule();
  const ours = Object.keys(hostFunctions({ call: null }));
  const missing = [];
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.module === "wasi_snapshot_preview1") continue; // node:wasi
    if (imp.module === "extism:host/env" && EXTISM_ENV.includes(imp.name)) continue;
    if (imp.module === "extism:host/user" && ours.includes(imp.name)) continue;
    missing.push(`${imp.module}.${imp.name}`);
  }
  assert.deepEqual(missing, []);
  const exports = WebAssembly.Module.exports(module).map((e) => e.name);
  for (const name of ["authenticate", "begin", "poll", "refresh", "check", "logout", "authorize", "info"]) {
    assert.ok(exports.includes(name), `export ${name}`);
  }
});

test("the module is compiled once per process", async () => {
  assert.equal(await compiledModule(), await compiledModule());
});

test("info answers through a real instance", async () => {
  await preload();
  const info = await new Host().call("info", {});
  assert.equal(info.name, "deviceflow");
  assert.equal(info.abi, ABI_VERSION);
  assert.deepEqual(info.imports, ["http_request", "sleep", "now", "monotonic", "store_get", "store_swap", "store_lock", "store_unlock", "emit"]);
  assert.ok(info.errorCodes.includes("cancelled"));
});

test("begin and poll run one step at a time", async () => {
  const host = new Host({
    baseUrl: "https://github.com",
    now: () => 1767225600000,
    fetch: async (url) => {
      if (url.endsWith("/login/device/code")) {
        return new Response(JSON.stringify({ device_code: "D", user_code: "U-1", verification_uri: "https://github.com/login/device", expires_in: 900, interval: 5 }), {
          headers: { "content-type": "application/json" },
        });
      }
      throw new Error("no poll before nextPollAt");
    },
  });
  const begun = await host.call("begin", { clientId: "Iv1.step" });
  assert.equal(begun.status, "pending");
  assert.equal(begun.verification.user_code, "U-1");
  assert.ok(begun.nextPollAt > 1767225600000);
  const polled = await host.call("poll", { clientId: "Iv1.step", state: begun.state });
  assert.equal(polled.status, "pending", "poll before nextPollAt does not poll");
});

test("an unknown export or malformed input is invalid_input, and the host goes on", async () => {
  const host = new Host();
  await assert.rejects(host.call("steal", {}), { code: "invalid_input" });
  await assert.rejects(host.call("authenticate", "{not json"), { code: "invalid_input" });
  await assert.rejects(host.call("authenticate", undefined), { code: "invalid_input", message: /clientId/ });
  assert.equal((await host.call("info", {})).name, "deviceflow");
});
