// Node without noise: a real Node process that uses the package — a device
// flow through a fetch mock, on Extism's worker threads — writes nothing to
// stderr (no "ExperimentalWarning: WASI …"), while every other warning still
// reaches the user.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const packageDir = fileURLToPath(new URL("..", import.meta.url));

const script = (extra) => `
import { createOAuthDeviceAuth, closeIdle } from "@deviceflow/auth-oauth-device";
const json = (body) => new Response(JSON.stringify(body), { headers: { "content-type": "application/json; charset=utf-8" } });
const fetch = async (url) =>
  String(url).endsWith("/login/device/code")
    ? json({ device_code: "DC", user_code: "WDJB-MJHT", verification_uri: "https://github.com/login/device", expires_in: 900, interval: 0.01 })
    : json({ access_token: "gho_quiet", token_type: "bearer", scope: "repo" });
const auth = createOAuthDeviceAuth({ clientId: "Iv1.quiet", scopes: ["repo"], fetch, onVerification() {} });
const [a, b] = await Promise.all([auth({ type: "oauth" }), auth({ type: "oauth", scopes: ["gist"] })]);
console.log(a.token === "gho_quiet" && b.token === "gho_quiet" ? "ok" : "wrong");
${extra}
await closeIdle();
`;

/** Runs a module in a new Node process (cwd: the package, so it imports itself by name). */
function run(source) {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.NODE_NO_WARNINGS;
    delete env.NODE_OPTIONS;
    const child = spawn(process.execPath, ["--input-type=module", "-e", source], { cwd: packageDir, env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

test("a process using the package prints nothing on stderr (no WASI ExperimentalWarning)", async () => {
  const { code, stdout, stderr } = await run(script(""));
  assert.equal(stderr, "");
  assert.equal(stdout.trim(), "ok");
  assert.equal(code, 0);
});

test("other warnings still reach stderr, experimental ones included", async () => {
  const { code, stdout, stderr } = await run(
    script(`process.emitWarning("Something else is an experimental feature", "ExperimentalWarning"); process.emitWarning("a user's warning");`),
  );
  assert.equal(stdout.trim(), "ok");
  assert.equal(code, 0);
  assert.match(stderr, /ExperimentalWarning: Something else is an experimental feature/);
  assert.match(stderr, /Warning: a user's warning/);
  assert.doesNotMatch(stderr, /WASI/);
});
