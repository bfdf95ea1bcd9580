import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";

const repo = fileURLToPath(new URL("../../../../", import.meta.url));
let built = null;

/** Why the emulator cannot run here, or null when it can. */
export function emulatorMissing() {
  if (process.env.DEVICEFLOW_BIN) return null;
  if (existsSync(join(repo, "sdk", "cmd", "deviceflow", "main.go"))) return null;
  return "the deviceflow command (sdk/cmd/deviceflow) is not in this tree and DEVICEFLOW_BIN is not set";
}

/**
 * The `deviceflow` command: $DEVICEFLOW_BIN when set, otherwise built once
 * per process from the repository (go build ./sdk/cmd/deviceflow).
 */
export function deviceflowBinary() {
  if (process.env.DEVICEFLOW_BIN) return process.env.DEVICEFLOW_BIN;
  if (!built) {
    const out = join(mkdtempSync(join(tmpdir(), "deviceflow-bin-")), process.platform === "win32" ? "deviceflow.exe" : "deviceflow");
    execFileSync("go", ["build", "-o", out, "./sdk/cmd/deviceflow"], { cwd: repo, stdio: ["ignore", "ignore", "pipe"] });
    built = out;
  }
  if (!existsSync(built)) throw new Error(`deviceflow binary missing at ${built}`);
  return built;
}

/**
 * Starts the GitHub device-flow emulator (`deviceflow emulator`) on a free
 * loopback port. Resolves to {url, apiUrl, stop}.
 *
 * @param {string[]} args extra flags, such as ["--interval", "50ms"]
 */
export async function startEmulator(args = []) {
  const child = spawn(deviceflowBinary(), ["emulator", "--addr", "127.0.0.1:0", "--json", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const first = await new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once("line", (line) => resolve(line));
    child.once("exit", (code) => reject(new Error(`the emulator exited (${code}): ${stderr}`)));
    child.once("error", reject);
  });
  const { url, apiUrl, issuer } = JSON.parse(first);
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  return { url, apiUrl, issuer, stop };
}

/**
 * Does what a person does: opens the verification page, finds its form, types
 * the user code and presses Authorize (or Cancel), with a real HTTP POST of
 * that form. Resolves to the answer page's data-result ("authorized",
 * "cancelled" or "invalid").
 *
 * @param {string} verificationUri
 * @param {string} userCode
 * @param {"authorize" | "cancel"} [choice]
 */
export async function approveThroughPage(verificationUri, userCode, choice = "authorize") {
  const page = await (await fetch(verificationUri)).text();
  const form = /<form\b[^>]*\bid="device-form"[^>]*>([\s\S]*?)<\/form>/.exec(page);
  if (!form) throw new Error("the verification page has no device form");
  const attr = (tag, name) => new RegExp(`\\b${name}="([^"]*)"`).exec(tag)?.[1];
  const openTag = /<form\b[^>]*>/.exec(form[0])[0];
  const action = new URL(attr(openTag, "action") ?? "", verificationUri);
  const method = (attr(openTag, "method") ?? "get").toUpperCase();
  const input = /<input\b[^>]*\bid="user_code"[^>]*>/.exec(form[1]);
  const button = new RegExp(`<button\\b[^>]*\\bvalue="${choice}"[^>]*>`).exec(form[1]);
  if (!input || !button) throw new Error("the verification form lacks the code field or the button");
  const fields = new URLSearchParams();
  fields.set(attr(input[0], "name"), userCode);
  fields.set(attr(button[0], "name"), attr(button[0], "value"));
  const res = await fetch(action, {
    method,
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: fields.toString(),
  });
  const answer = await res.text();
  return /\bid="result"[^>]*\bdata-result="([^"]*)"/.exec(answer)?.[1] ?? /\bdata-result="([^"]*)"[^>]*\bid="result"/.exec(answer)?.[1];
}
