// The host checks the plugin's contract before running it: a plugin of
// another major ABI is refused with a typed "plugin_abi" error, whether it
// does not even link (imports this host lacks) or links and says so in info.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ABI_VERSION } from "../src/index.js";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const index = fileURLToPath(new URL("../src/index.js", import.meta.url));
// The last plugin of contract 1 in this repository's history.
const V1_COMMIT = "8870a95";

/** Runs `info` in a fresh process on the plugin at path; answers {code, name, message, abi} or {abi}. */
function infoWith(path) {
  const script = `
    import { Host, closeIdle } from ${JSON.stringify(index)};
    try {
      const info = await new Host().call("info", {});
      console.log(JSON.stringify({ abi: info.abi }));
    } catch (e) {
      console.log(JSON.stringify({ code: e.code, name: e.name, message: e.message, abi: e.abi, expected: e.expectedAbi }));
    }
    await closeIdle();`;
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    env: { ...process.env, DEVICEFLOW_WASM: path, NODE_NO_WARNINGS: "1" },
    encoding: "utf8",
    timeout: 60_000,
  });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout.trim().split("\n").at(-1));
}

function v1Plugin() {
  try {
    const bytes = execFileSync("git", ["-C", repo, "show", `${V1_COMMIT}:plugin/deviceflow.wasm`], { maxBuffer: 64 << 20 });
    const path = join(mkdtempSync(join(tmpdir(), "deviceflow-abi-")), "v1.wasm");
    writeFileSync(path, bytes);
    return path;
  } catch {
    return null;
  }
}

const v1 = v1Plugin();

test("this SDK speaks ABI 2", () => {
  assert.equal(ABI_VERSION.split(".")[0], "2");
});

test("a plugin of ABI 1 is refused with code plugin_abi, without killing the process", { skip: v1 ? false : "no git history to take the ABI 1 plugin from" }, () => {
  const answer = infoWith(v1);
  assert.equal(answer.code, "plugin_abi", JSON.stringify(answer));
  assert.equal(answer.name, "DeviceFlowError");
  assert.equal(answer.expected, ABI_VERSION);
  assert.match(answer.message, /store_set/);
  assert.match(answer.message, /needs ABI 2\.x/);
  assert.ok(answer.message.includes(v1), "the message names the plugin file");
});

test("a plugin that links but reports another major ABI in info is refused", () => {
  // The current plugin with its ABI string changed in place: same length, so
  // the module stays valid and links.
  const bytes = readFileSync(join(repo, "plugin", "deviceflow.wasm"));
  const from = Buffer.from(`"abi":"${ABI_VERSION}"`);
  let at = bytes.indexOf(from);
  if (at < 0) {
    // The ABI may be kept as a bare string constant.
    at = bytes.indexOf(Buffer.from(ABI_VERSION));
    assert.ok(at >= 0, "the plugin holds its ABI version as text");
    bytes.write("9", at);
  } else {
    bytes.write("9", at + `"abi":"`.length);
  }
  const path = join(mkdtempSync(join(tmpdir(), "deviceflow-abi-")), "v9.wasm");
  writeFileSync(path, bytes);
  const answer = infoWith(path);
  assert.equal(answer.code, "plugin_abi", JSON.stringify(answer));
  assert.match(answer.abi, /^9\./);
  assert.match(answer.message, /speaks contract ABI 9\.0\.0/);
});

test("the plugin this SDK ships with passes the check", () => {
  assert.deepEqual(infoWith(join(repo, "plugin", "deviceflow.wasm")), { abi: ABI_VERSION });
});
