// The packed tarball (npm pack) installs into an empty folder and works: it
// carries the plugin, and a real flow runs against a local server.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FakeGitHub, pending, token } from "./support/fake-github.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

test("npm pack → npm install in an empty folder → a device flow runs", { timeout: 120_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), "deviceflow-pack-"));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const quiet = { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] };
  const packed = JSON.parse(execFileSync(npm, ["pack", "--json", "--pack-destination", work], { cwd: root, ...quiet }));
  const files = packed[0].files.map((f) => f.path);
  assert.ok(files.includes("deviceflow.wasm"), "the tarball carries the plugin");
  assert.ok(files.includes("src/index.d.ts"), "the tarball carries the declarations");
  for (const f of ["src/browser/index.js", "src/browser/index.d.ts", "browser/deviceflow.wasm", "browser/wasm_exec.js", "browser/wasm_exec.d.ts"]) {
    assert.ok(files.includes(f), `the tarball carries the browser entry: ${f}`);
  }
  assert.ok(!files.some((f) => f.startsWith("test/") || f.startsWith("node_modules/")), "no tests or dependencies in the tarball");
  assert.ok(!existsSync(join(root, "deviceflow.wasm")), "postpack removed the copy");

  const app = join(work, "app");
  execFileSync(process.execPath, ["-e", `require("fs").mkdirSync(${JSON.stringify(app)})`]);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  execFileSync(npm, ["install", "--no-audit", "--no-fund", "--prefer-offline", join(work, packed[0].filename)], { cwd: app, ...quiet });

  const gh = new FakeGitHub({ answers: [pending, token("gho_packed", "repo")] });
  await gh.start();
  t.after(() => gh.close());
  writeFileSync(
    join(app, "main.js"),
    `import { createOAuthDeviceAuth } from "@deviceflow/auth-oauth-device";
const auth = createOAuthDeviceAuth({
  clientId: "Iv1.packed", scopes: ["repo"], baseUrl: process.env.BASE_URL,
  onVerification: (v) => console.log("code", v.user_code),
});
const a = await auth({ type: "oauth" });
console.log(JSON.stringify({ ok: a.token === "gho_packed", scopes: a.scopes }));
`,
  );
  const env = { ...process.env, BASE_URL: gh.url };
  delete env.DEVICEFLOW_WASM;
  const out = await run(process.execPath, ["main.js"], { cwd: app, env });
  const lines = out.trim().split("\n");
  assert.equal(lines[0], "code ABCD-0001");
  assert.deepEqual(JSON.parse(lines.at(-1)), { ok: true, scopes: ["repo"] });
});

/** Runs a child process without blocking this one (the fake server lives here). */
async function run(cmd, args, options) {
  const { spawn } = await import("node:child_process");
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err}`))));
  });
}
