// Contract v2 through the plugin: concurrent calls on separate hosts that
// share one store spend a refresh token once (the lease), whatever the
// store — MemoryStore, FileStore objects on one path, or a plain
// {get, set, delete} object — and a call never leaves a lease behind, even
// when it fails or is cancelled while waiting for one.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Host, FileStore, MemoryStore, closeIdle } from "../src/index.js";
import { FakeGitHub } from "./support/fake-github.js";

after(() => closeIdle());

const CLIENT = "Iv1.race";

/** A GitHub whose first token expires in 60 s (inside the refresh margin) and whose refresh tokens are single use. */
async function singleUseGitHub(t) {
  const spent = new Set();
  let issued = 0;
  const gh = new FakeGitHub({
    answers: [{ access_token: "ghu_0", token_type: "bearer", scope: "", expires_in: 60, refresh_token: "ghr_0", refresh_token_expires_in: 15897600 }],
    // Slow enough that every racing call reaches the refresh decision while the first one is in flight.
    refreshDelayMs: 300,
    refresh: (body) => {
      if (spent.has(body.refresh_token) || !body.refresh_token.startsWith("ghr_")) {
        return { error: "bad_refresh_token", error_description: "The refresh token passed is incorrect or expired." };
      }
      spent.add(body.refresh_token);
      issued++;
      return { access_token: `ghu_${issued}`, token_type: "bearer", scope: "", expires_in: 28800, refresh_token: `ghr_${issued}`, refresh_token_expires_in: 15897600 };
    },
  });
  await gh.start();
  t.after(() => gh.close());
  return gh;
}

const input = (gh) => ({ clientId: CLIENT, clientType: "github-app", baseUrl: gh.url });
const refreshes = (gh) => gh.to("/login/oauth/access_token").filter((r) => r.body.grant_type === "refresh_token").length;

/** Signs in once through a first host, leaving an expiring pair in the store. */
async function signIn(gh, store) {
  const a = await new Host({ baseUrl: gh.url, store }).call("authenticate", input(gh));
  assert.equal(a.token, "ghu_0");
}

async function raceRefresh(gh, makeStore, n = 6) {
  const results = await Promise.all(
    Array.from({ length: n }, () => new Host({ baseUrl: gh.url, store: makeStore() }).call("authenticate", input(gh))),
  );
  return results.map((r) => r.token);
}

test("concurrent calls on separate hosts sharing a MemoryStore refresh once", async (t) => {
  const gh = await singleUseGitHub(t);
  const store = new MemoryStore();
  await signIn(gh, store);
  const tokens = await raceRefresh(gh, () => store);
  assert.equal(refreshes(gh), 1, "one refresh request reached the server");
  assert.deepEqual(new Set(tokens), new Set(["ghu_1"]), "every call got the winner's token");
  assert.match(Object.values(store.snapshot())[0], /ghu_1/);
});

test("FileStore objects on one path refresh once within a process", async (t) => {
  const gh = await singleUseGitHub(t);
  const path = join(mkdtempSync(join(tmpdir(), "deviceflow-race-")), "tokens.json");
  await signIn(gh, new FileStore(path));
  const tokens = await raceRefresh(gh, () => new FileStore(path));
  assert.equal(refreshes(gh), 1);
  assert.deepEqual(new Set(tokens), new Set(["ghu_1"]));
  const [key] = await new FileStore(path).keys();
  assert.match(await new FileStore(path).get(key), /ghu_1/);
});

test("a plain {get, set, delete} store gets the in-process emulation and refreshes once", async (t) => {
  const gh = await singleUseGitHub(t);
  const map = new Map();
  const plain = {
    get: async (k) => map.get(k),
    set: async (k, v) => void map.set(k, v),
    delete: async (k) => void map.delete(k),
  };
  await signIn(gh, plain);
  const tokens = await raceRefresh(gh, () => plain);
  assert.equal(refreshes(gh), 1);
  assert.deepEqual(new Set(tokens), new Set(["ghu_1"]));
});

/** A MemoryStore that counts the leases granted and the ones held now. */
class CountingStore extends MemoryStore {
  held = 0;
  granted = 0;
  async lock(key, waitMs, signal) {
    const release = await super.lock(key, waitMs, signal);
    if (!release) return null;
    this.granted++;
    this.held++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.held--;
      release();
    };
  }
}

test("a call that fails under a lease leaves no lease held", async (t) => {
  const gh = new FakeGitHub({
    answers: [{ access_token: "ghu_0", token_type: "bearer", scope: "", expires_in: 60, refresh_token: "ghr_0", refresh_token_expires_in: 15897600 }],
    refresh: () => ({ error: "unsupported_grant_type", error_description: "no" }),
  });
  await gh.start();
  t.after(() => gh.close());
  const store = new CountingStore();
  await signIn(gh, store);
  store.granted = 0;
  const err = await new Host({ baseUrl: gh.url, store }).call("authenticate", input(gh)).catch((e) => e);
  assert.ok(err instanceof Error, `expected a failure, got ${JSON.stringify(err)}`);
  assert.equal(store.granted, 1, "the refresh ran under a lease");
  assert.equal(store.held, 0, "and the failed call released it");
  const [key] = Object.keys(store.snapshot());
  const release = await store.lock(key, 0);
  assert.equal(typeof release, "function", "the key is free");
  release();
});

test("a call waiting for another holder's lease says so, and an abort ends the wait at once", async (t) => {
  const gh = await singleUseGitHub(t);
  const store = new CountingStore();
  await signIn(gh, store);
  const [key] = Object.keys(store.snapshot());
  const release = await store.lock(key, 0); // another holder
  const controller = new AbortController();
  const events = [];
  const host = new Host({
    baseUrl: gh.url,
    store,
    onEvent: (e) => {
      events.push(e.type);
      if (e.type === "waiting") setTimeout(() => controller.abort(), 50);
    },
  });
  const start = performance.now();
  const err = await host.call("authenticate", input(gh), { signal: controller.signal }).catch((e) => e);
  assert.equal(err.code, "cancelled", String(err));
  assert.ok(performance.now() - start < 2000, "the wait ended with the abort");
  assert.deepEqual(events, ["waiting"]);
  assert.equal(refreshes(gh), 0);
  assert.equal(store.held, 1, "only the other holder's lease remains");
  release();
  assert.equal(store.held, 0);
});

test("a waiter uses the pair the lease holder wrote, without a refresh of its own", async (t) => {
  const gh = await singleUseGitHub(t);
  const store = new MemoryStore();
  await signIn(gh, store);
  const [key] = Object.keys(store.snapshot());
  const release = await store.lock(key, 0);
  const waiting = new Host({ baseUrl: gh.url, store }).call("authenticate", input(gh));
  await new Promise((r) => setTimeout(r, 100));
  // The holder refreshes out of band and writes the new pair, then releases.
  const fresh = JSON.parse(store.get(key));
  const later = Date.now() + 8 * 3600_000;
  fresh.token = "ghu_holder";
  fresh.expiresAt = new Date(later).toISOString();
  if (fresh.local) fresh.local.expiresAt = later; // the local stamp decides refreshes
  store.set(key, JSON.stringify(fresh));
  release();
  assert.equal((await waiting).token, "ghu_holder");
  assert.equal(refreshes(gh), 0);
});
