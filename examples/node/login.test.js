// Runs login.js against the GitHub device-flow emulator, approved through the
// emulator's web page as a person would: first sign-in, a second run from the
// file store, Ctrl-C while waiting, and logout.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { startEmulator, approveThroughPage, emulatorMissing } from "../../sdk/js/test/support/emulator.js";

const skip = emulatorMissing() ?? false;
let emu;
const store = join(mkdtempSync(join(tmpdir(), "deviceflow-example-")), "tokens.json");

before(async () => {
  if (!skip) emu = await startEmulator(["--interval", "50ms"]);
});
after(() => emu?.stop());

/** Starts login.js; `lines` yields its stdout line by line. */
function login(...args) {
  const child = spawn(process.execPath, ["login.js", "--client-id", "Ov23li.example", "--base-url", `${emu.apiUrl}`, "--store", store, ...args], {
    cwd: new URL(".", import.meta.url),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = new Promise((resolve) => child.on("close", (code) => resolve({ code, stderr })));
  return { child, lines, exited };
}

test("first run: the code is shown, a person approves it, the user is named", { skip }, async () => {
  const run = login();
  const first = (await run.lines.next()).value;
  const m = /^Open (\S+) and enter the code (\S+)$/.exec(first);
  assert.ok(m, first);
  assert.equal(await approveThroughPage(m[1], m[2]), "authorized");
  assert.equal((await run.lines.next()).value, "Signed in as octocat");
  assert.equal((await run.exited).code, 0);
});

test("second run: signed in from the file store without a code", { skip }, async () => {
  const run = login();
  assert.equal((await run.lines.next()).value, "Signed in as octocat");
  assert.equal((await run.exited).code, 0);
});

test("Ctrl-C while waiting for the person cancels at once", { skip }, async () => {
  const run = login("--scopes", "gist");
  const first = (await run.lines.next()).value;
  assert.match(first, /^Open /);
  const start = Date.now();
  run.child.kill("SIGINT");
  const { code, stderr } = await run.exited;
  assert.equal(code, 1);
  assert.match(stderr, /Sign-in failed \(cancelled\)/);
  assert.ok(Date.now() - start < 2000);
});

test("logout forgets the token", { skip }, async () => {
  const run = login("--logout");
  assert.equal((await run.lines.next()).value, "Signed out.");
  assert.equal((await run.exited).code, 0);
});
