// FileStore across processes: its locks are flock on N.lock and N.lease,
// the ones Go and Python take, so a holder in another process — any
// language — excludes it, and Node processes racing to refresh one token
// spend the refresh token once. Skipped where flock(1) is missing (the store
// then excludes within one process only, as its README says).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FileStore, Host, closeIdle } from "../src/index.js";
import { FakeGitHub } from "./support/fake-github.js";

after(() => closeIdle());

const skip = FileStore.crossProcess ? false : "flock(1) is not available: FileStore excludes within one process only";
const nameOf = (key) => createHash("sha256").update(key, "utf8").digest("hex").slice(0, 32);
const tempStore = () => join(mkdtempSync(join(tmpdir(), "deviceflow-xproc-")), "tokens.json");

/** Another process holding flock on file, as a Go or Python store would; resolves once it holds it. */
async function otherProcessHolds(file) {
  const child = spawn("flock", ["-x", file, "sh", "-c", "echo held; exec cat"], { stdio: ["pipe", "pipe", "inherit"] });
  await new Promise((resolve) => child.stdout.once("data", resolve));
  return () =>
    new Promise((resolve) => {
      child.once("close", resolve);
      child.stdin.end();
    });
}

test("a lease held by another process on N.lease makes lock busy, then is waited for", { skip }, async () => {
  const path = tempStore();
  mkdirSync(path, { mode: 0o700 });
  const release = await otherProcessHolds(join(path, `${nameOf("k")}.lease`));
  const store = new FileStore(path);
  assert.equal(await store.lock("k", 0), null);
  assert.equal(await store.lock("k", 100), null, "still busy after the wait");
  const other = await store.lock("other", 0);
  assert.equal(typeof other, "function", "another entry is free");
  await other();
  const waiting = store.lock("k", 10_000);
  setTimeout(release, 100);
  const mine = await waiting;
  assert.equal(typeof mine, "function");
  await mine();
  const controller = new AbortController();
  const release2 = await otherProcessHolds(join(path, `${nameOf("k")}.lease`));
  setTimeout(() => controller.abort(), 50);
  await assert.rejects(store.lock("k", 60_000, controller.signal), { code: "cancelled" });
  await release2();
});

test("a compare-and-swap waits for another process's N.lock", { skip }, async () => {
  const path = tempStore();
  const store = new FileStore(path);
  await store.set("k", "a");
  const release = await otherProcessHolds(join(path, `${nameOf("k")}.lock`));
  let done = false;
  const swapping = store.swap("k", "a", "b").then((r) => {
    done = true;
    return r;
  });
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(done, false, "the swap waits for the lock");
  assert.equal(await store.get("k"), "a", "reads do not wait");
  await release();
  assert.deepEqual(await swapping, { swapped: true });
  assert.equal(await store.get("k"), "b");
});

test("Node processes racing to refresh one token in a FileStore spend the refresh token once", { skip }, async (t) => {
  const spent = new Set();
  let issued = 0;
  const gh = new FakeGitHub({
    answers: [{ access_token: "ghu_0", token_type: "bearer", scope: "", expires_in: 60, refresh_token: "ghr_0", refresh_token_expires_in: 15897600 }],
    refreshDelayMs: 300,
    refresh: (body) => {
      if (spent.has(body.refresh_token)) return { error: "bad_refresh_token", error_description: "spent" };
      spent.add(body.refresh_token);
      issued++;
      return { access_token: `ghu_${issued}`, token_type: "bearer", scope: "", expires_in: 28800, refresh_token: `ghr_${issued}`, refresh_token_expires_in: 15897600 };
    },
  });
  await gh.start();
  t.after(() => gh.close());
  const path = tempStore();
  const clientId = "Iv1.xproc";
  const first = await new Host({ baseUrl: gh.url, store: new FileStore(path) }).call("authenticate", { clientId, clientType: "github-app", baseUrl: gh.url });
  assert.equal(first.token, "ghu_0");

  const child = fileURLToPath(new URL("./support/race-child.js", import.meta.url));
  const run = () =>
    new Promise((resolve) => {
      const p = spawn(process.execPath, [child, gh.url, path, clientId], { env: { ...process.env, NODE_NO_WARNINGS: "1" }, stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      p.stdout.on("data", (d) => (out += d));
      p.on("close", () => resolve(JSON.parse(out.trim().split("\n").at(-1) || "{}")));
    });
  const results = await Promise.all(Array.from({ length: 4 }, run));
  const refreshes = gh.to("/login/oauth/access_token").filter((r) => r.body.grant_type === "refresh_token").length;
  assert.equal(refreshes, 1, `refresh requests: ${refreshes}; results ${JSON.stringify(results)}`);
  assert.deepEqual(results, Array(4).fill({ token: "ghu_1" }));
});
