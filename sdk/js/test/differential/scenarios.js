// The differential scenarios: what octokit's users do with
// @octokit/auth-oauth-device, scripted against one fetch mock. Each runs
// through octokit's strategy and through ours (harness.js). `deliberate`
// names the entry of DELIBERATE that explains why the transcripts differ;
// a scenario without it must give identical transcripts.
import { Octokit } from "@octokit/core";
import { FileStore } from "../../src/index.js";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { json, networkFailure } from "./harness.js";

const GH = "https://github.com";
const DC = `POST ${GH}/login/device/code`;
const TOK = `POST ${GH}/login/oauth/access_token`;
const USER = "GET https://api.github.com/user";
const DOCS = "https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow";
const UA = { "user-agent": "my-app/1.2.3" };

const CODE = {
  device_code: "3584d83530557fdd1f46af8289938c8ef79f9dc5",
  user_code: "WDJB-MJHT",
  verification_uri: "https://github.com/login/device",
  expires_in: 900,
  interval: 5,
};
const code = (extra = {}, opts) => json({ ...CODE, ...extra }, opts);
const oauthError = (error, description, extra = {}, opts) => json({ error, error_description: description, error_uri: DOCS, ...extra }, opts);
const pending = oauthError("authorization_pending", "The authorization request is still pending.");
const slowDown = (interval = 10) => oauthError("slow_down", "Too many requests have been made in the same timeframe.", { interval });
const expired = oauthError("expired_token", "The device code has expired.");
const denied = oauthError("access_denied", "The authorization request was denied.");
const gho = (n = 1) => `gho_16C7e42F292c6912E7710c838347Ae178B4${n}`;
const ghu = (n = 1) => `ghu_16C7e42F292c6912E7710c838347Ae178B4${n}`;
const ghr = (n = 1) => `ghr_1B4a2e77838347a7E420ce178F2E7c6912E169246c34E1ccbF66C46812d16D5B1A9Dc86A149873c${n}`;
const oauthToken = (scope = "repo", n = 1, opts) => json({ access_token: gho(n), token_type: "bearer", scope }, opts);
const appToken = (n = 1, opts) => json({ access_token: ghu(n), token_type: "bearer", scope: "" }, opts);
const expiringToken = (n = 1, opts, extra = {}) =>
  json({ access_token: ghu(n), expires_in: 28800, refresh_token: ghr(n), refresh_token_expires_in: 15897600, token_type: "bearer", scope: "", ...extra }, opts);
const user = json({ login: "octocat", id: 1 });

/** `auth({type: "oauth"})` once, through the mock's request instance with a user agent. */
function once(options, { request = { headers: UA }, authOptions = { type: "oauth" } } = {}) {
  return async (env) => {
    const auth = env.create({ onVerification: env.onVerification, ...(request ? { request: env.request(request) } : {}), ...options });
    await env.step("auth", () => auth(authOptions));
  };
}

/** Several auth() calls on one strategy, with clock moves between them ("advance"). */
function calls(options, steps, { request = { headers: UA } } = {}) {
  return async (env) => {
    const auth = env.create({ onVerification: env.onVerification, ...(request ? { request: env.request(request) } : {}), ...options });
    for (const s of steps) {
      if (s.advance) {
        env.advance(s.advance);
        continue;
      }
      await env.step("auth", () => auth(s));
    }
  };
}

/** A request instance with the strategy's hook, as Octokit wires it; then the given routes. */
function hooked(options, routes, { defaults = { headers: UA } } = {}) {
  return async (env) => {
    const request = env.request(defaults);
    const auth = env.create({ onVerification: env.onVerification, request, ...options });
    const withHook = request.defaults({ request: { hook: auth.hook } });
    for (const [route, params] of routes) await env.step(route, () => withHook(route, params));
  };
}

export const scenarios = [
  // ---- README examples ------------------------------------------------
  {
    name: "README: Octokit with authStrategy, GET /user (sdk/js README 'Use')",
    routes: { [DC]: [code()], [TOK]: [oauthToken("repo")], [USER]: [user] },
    async run(env) {
      const store = env.impl === "ours" ? new FileStore(join(mkdtempSync(join(tmpdir(), "df-diff-")), "tokens.json")) : undefined;
      const octokit = new Octokit({
        authStrategy: env.create,
        request: { fetch: env.fetch },
        auth: { clientId: "Ov23liDiff0001", scopes: ["repo"], store, signal: AbortSignal.timeout(10 * 60_000), onVerification: env.onVerification },
      });
      await env.step("GET /user", () => octokit.request("GET /user"));
      await env.step("GET /user again", () => octokit.request("GET /user"));
    },
  },
  {
    name: "README: Octokit with userAgent and a GHES baseUrl",
    routes: { "POST https://ghe.example.com/login/device/code": [code()], "POST https://ghe.example.com/login/oauth/access_token": [oauthToken("repo")], "GET https://ghe.example.com/api/v3/user": [user] },
    async run(env) {
      const octokit = new Octokit({
        authStrategy: env.create,
        userAgent: "my-app/1.2.3",
        baseUrl: "https://ghe.example.com/api/v3",
        request: { fetch: env.fetch },
        auth: { clientId: "Ov23liDiff0002", scopes: ["repo"], onVerification: env.onVerification },
      });
      await env.step("GET /user", () => octokit.request("GET /user"));
    },
  },
  {
    name: "examples/node login.js: Octokit with baseUrl, clientType, scopes, a file store, signal and onEvent",
    routes: { [DC]: [code()], [TOK]: [pending, slowDown(10), oauthToken("read:org repo")], [USER]: [user] },
    async run(env) {
      const store = env.impl === "ours" ? new FileStore(join(mkdtempSync(join(tmpdir(), "df-diff-")), "tokens.json")) : undefined;
      const controller = new AbortController();
      const octokit = new Octokit({
        baseUrl: "https://api.github.com",
        authStrategy: env.create,
        request: { fetch: env.fetch },
        auth: {
          clientId: "Ov23liDiff0006",
          clientType: "oauth-app",
          scopes: "read:org,repo".split(",").filter(Boolean),
          store,
          signal: controller.signal,
          onVerification: env.onVerification,
          onEvent() {},
        },
      });
      await env.step("GET /user", () => octokit.request("GET /user"));
    },
  },
  {
    name: "README: standalone GitHub App, then refresh: true (a new device flow)",
    routes: { [DC]: [code(), code({ device_code: "second", user_code: "WDJB-0002" })], [TOK]: [appToken(1), appToken(2)] },
    run: calls({ clientId: "Iv1.diff0003", clientType: "github-app" }, [{ type: "oauth" }, { type: "oauth", refresh: true }]),
  },
  {
    name: "README: the one-line switch, default request (global fetch)",
    deliberate: "user-agent",
    routes: { [DC]: [code()], [TOK]: [oauthToken("repo")] },
    run: once({ clientId: "Ov23liDiff0004", scopes: ["repo"] }, { request: null }),
  },
  {
    name: "README: default request, GitHub App with expiring tokens",
    deliberate: "user-agent",
    routes: { [DC]: [code()], [TOK]: [expiringToken()] },
    run: once({ clientId: "Iv1.diff0005", clientType: "github-app" }, { request: null }),
  },

  // ---- OAuth Apps ---------------------------------------------------------
  {
    name: "OAuth App, one scope",
    routes: { [DC]: [code()], [TOK]: [oauthToken("repo")] },
    run: once({ clientId: "Ov23liDiff0010", scopes: ["repo"] }),
  },
  {
    name: "OAuth App, no scopes option (scope \"\")",
    routes: { [DC]: [code()], [TOK]: [oauthToken("")] },
    run: once({ clientId: "Ov23liDiff0011" }),
  },
  {
    name: "OAuth App, scopes: []",
    routes: { [DC]: [code()], [TOK]: [oauthToken("")] },
    run: once({ clientId: "Ov23liDiff0012", scopes: [] }),
  },
  {
    name: "OAuth App, two scopes already in order, server answers space-separated",
    routes: { [DC]: [code()], [TOK]: [oauthToken("read:org repo")] },
    run: once({ clientId: "Ov23liDiff0013", scopes: ["read:org", "repo"] }),
  },
  {
    name: "OAuth App, two scopes out of order",
    routes: { [DC]: [code()], [TOK]: [oauthToken("repo read:org")] },
    run: once({ clientId: "Ov23liDiff0014", scopes: ["repo", "read:org"] }),
  },
  {
    name: "OAuth App, GitHub answers scopes comma-separated",
    deliberate: "comma-scopes",
    routes: { [DC]: [code()], [TOK]: [oauthToken("gist,repo")] },
    run: once({ clientId: "Ov23liDiff0015", scopes: ["gist", "repo"] }),
  },
  {
    name: "OAuth App, a scope string holding a comma",
    deliberate: "comma-scopes",
    routes: { [DC]: [code()], [TOK]: [oauthToken("repo gist")] },
    run: once({ clientId: "Ov23liDiff0016", scopes: ["repo,gist"] }),
  },
  {
    name: "OAuth App, the second auth() is answered from the cache",
    routes: { [DC]: [code()], [TOK]: [oauthToken("repo")] },
    run: calls({ clientId: "Ov23liDiff0017", scopes: ["repo"] }, [{ type: "oauth" }, { type: "oauth" }, { type: "oauth", scopes: ["repo"] }]),
  },
  {
    name: "OAuth App, other scopes run a new flow",
    routes: { [DC]: [code(), code({ device_code: "second" })], [TOK]: [pending, oauthToken("repo", 1), oauthToken("gist", 2)] },
    run: calls({ clientId: "Ov23liDiff0018", scopes: ["repo"] }, [{ type: "oauth" }, { type: "oauth", scopes: ["gist"] }]),
  },
  {
    name: "OAuth App, back to the first scope set: cached per scope set",
    deliberate: "persistent-cache",
    routes: { [DC]: [code(), code({ device_code: "second" }), code({ device_code: "third" })], [TOK]: [oauthToken("repo", 1), oauthToken("gist", 2), oauthToken("repo", 3)] },
    run: calls({ clientId: "Ov23liDiff0019", scopes: ["repo"] }, [{ type: "oauth" }, { type: "oauth", scopes: ["gist"] }, { type: "oauth" }]),
  },
  {
    name: "OAuth App, the server grants fewer scopes than asked",
    deliberate: "persistent-cache",
    routes: { [DC]: [code(), code({ device_code: "second" })], [TOK]: [oauthToken("repo", 1), oauthToken("repo", 2)] },
    run: calls({ clientId: "Ov23liDiff0020", scopes: ["gist", "repo"] }, [{ type: "oauth" }, { type: "oauth" }]),
  },
  {
    name: "OAuth App, refresh: true runs a new flow",
    routes: { [DC]: [code(), code({ device_code: "second" })], [TOK]: [oauthToken("repo", 1), oauthToken("repo", 2)] },
    run: calls({ clientId: "Ov23liDiff0021", scopes: ["repo"] }, [{ type: "oauth" }, { type: "oauth", refresh: true }, { type: "oauth" }]),
  },
  {
    name: "OAuth App, the answer carries refresh_token and expires_in",
    deliberate: "expiry-fields",
    routes: { [DC]: [code()], [TOK]: [json({ access_token: gho(), token_type: "bearer", scope: "repo", expires_in: 28800, refresh_token: ghr(), refresh_token_expires_in: 15897600 })] },
    run: once({ clientId: "Ov23liDiff0022", scopes: ["repo"] }),
  },
  {
    name: "clientType: \"oauth\" (unknown)",
    deliberate: "client-type",
    routes: { [DC]: [code()], [TOK]: [oauthToken("repo")] },
    run: once({ clientId: "Ov23liDiff0023", clientType: "oauth", scopes: ["repo"] }),
  },

  // ---- GitHub Apps --------------------------------------------------------
  {
    name: "GitHub App, a token that does not expire",
    routes: { [DC]: [code()], [TOK]: [appToken()] },
    run: once({ clientId: "Iv1.diff0030", clientType: "github-app" }),
  },
  {
    name: "GitHub App, an expiring token: expiresAt from the server's Date",
    routes: { [DC]: [code()], [TOK]: [expiringToken(1, { date: "Tue, 14 Apr 2026 10:20:30 GMT" })] },
    run: once({ clientId: "Iv1.diff0031", clientType: "github-app" }),
  },
  {
    name: "GitHub App, a Date with a one-digit day",
    routes: { [DC]: [code()], [TOK]: [expiringToken(1, { date: "Thu, 1 Jan 2026 08:00:00 GMT" })] },
    run: once({ clientId: "Iv1.diff0032", clientType: "github-app" }),
  },
  {
    name: "GitHub App, a server clock a year off",
    routes: { [DC]: [code()], [TOK]: [expiringToken(1, { date: "Wed, 01 Jan 2025 08:00:00 GMT" })] },
    run: once({ clientId: "Iv1.diff0033", clientType: "github-app" }),
  },
  {
    name: "GitHub App, an answer without a Date header",
    deliberate: "no-date-header",
    routes: { [DC]: [code()], [TOK]: [expiringToken(1, { date: null })] },
    run: once({ clientId: "Iv1.diff0034", clientType: "github-app" }),
  },
  {
    name: "GitHub App, the expiring token is cached while fresh",
    routes: { [DC]: [code()], [TOK]: [expiringToken()] },
    run: calls({ clientId: "Iv1.diff0035", clientType: "github-app" }, [{ type: "oauth" }, { advance: 60 * 60_000 }, { type: "oauth" }]),
  },
  {
    name: "GitHub App, the expiring token after it expired",
    deliberate: "refresh-expiring",
    routes: { [DC]: [code()], [TOK]: [expiringToken(1), expiringToken(2, { date: "Thu, 01 Jan 2026 17:00:00 GMT" })] },
    run: calls({ clientId: "Iv1.diff0036", clientType: "github-app" }, [{ type: "oauth" }, { advance: 9 * 3600_000 }, { type: "oauth" }]),
  },
  {
    name: "GitHub App, refresh: true runs a new flow (not the refresh grant)",
    routes: { [DC]: [code(), code({ device_code: "second" })], [TOK]: [expiringToken(1), expiringToken(2)] },
    run: calls({ clientId: "Iv1.diff0037", clientType: "github-app" }, [{ type: "oauth" }, { type: "oauth", refresh: true }]),
  },
  {
    name: "GitHub App, expires_in without refresh_token",
    deliberate: "expiry-fields",
    routes: { [DC]: [code()], [TOK]: [json({ access_token: ghu(), token_type: "bearer", scope: "", expires_in: 28800 })] },
    run: once({ clientId: "Iv1.diff0038", clientType: "github-app" }),
  },
  {
    name: "GitHub App, a scopes option is not sent",
    deliberate: "github-app-scope",
    routes: { [DC]: [code()], [TOK]: [appToken()] },
    run: once({ clientId: "Iv1.diff0039", clientType: "github-app", scopes: ["repo"] }),
  },
  {
    name: "GitHub App, a lifetime beyond 2^31 s",
    deliberate: "lifetime-clamp",
    routes: { [DC]: [code()], [TOK]: [expiringToken(1, undefined, { expires_in: 2 ** 31 + 5 })] },
    run: once({ clientId: "Iv1.diff0040", clientType: "github-app" }),
  },

  // ---- polling -------------------------------------------------------------
  {
    name: "authorization_pending three times, then the token",
    routes: { [DC]: [code()], [TOK]: [pending, pending, pending, oauthToken("repo")] },
    run: once({ clientId: "Ov23liDiff0050", scopes: ["repo"] }),
  },
  {
    name: "the polling waits",
    deliberate: "polling-schedule",
    compareWaits: true,
    routes: { [DC]: [code()], [TOK]: [pending, pending, oauthToken("repo")] },
    run: once({ clientId: "Ov23liDiff0051", scopes: ["repo"] }),
  },
  {
    name: "slow_down, then the token",
    deliberate: "polling-schedule",
    compareWaits: true,
    routes: { [DC]: [code()], [TOK]: [slowDown(10), pending, oauthToken("repo")] },
    run: once({ clientId: "Ov23liDiff0052", scopes: ["repo"] }),
  },
  {
    name: "slow_down (requests and results only)",
    routes: { [DC]: [code()], [TOK]: [slowDown(10), slowDown(15), pending, oauthToken("repo")] },
    run: once({ clientId: "Ov23liDiff0053", scopes: ["repo"] }),
  },
  {
    name: "a fractional interval",
    routes: { [DC]: [code({ interval: 0.5 })], [TOK]: [pending, oauthToken("repo")] },
    run: once({ clientId: "Ov23liDiff0054", scopes: ["repo"] }),
  },
  {
    name: "expired_token",
    routes: { [DC]: [code()], [TOK]: [pending, expired] },
    run: once({ clientId: "Ov23liDiff0055", scopes: ["repo"] }),
  },
  {
    name: "access_denied",
    routes: { [DC]: [code()], [TOK]: [pending, denied] },
    run: once({ clientId: "Ov23liDiff0056", scopes: ["repo"] }),
  },
  {
    name: "access_denied without error_uri",
    routes: { [DC]: [code()], [TOK]: [json({ error: "access_denied", error_description: "The authorization request was denied." })] },
    run: once({ clientId: "Ov23liDiff0057", scopes: ["repo"] }),
  },
  {
    name: "incorrect_client_credentials on the token endpoint",
    routes: { [DC]: [code()], [TOK]: [oauthError("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.")] },
    run: once({ clientId: "Ov23liDiff0058", scopes: ["repo"] }),
  },
  {
    name: "incorrect_device_code",
    routes: { [DC]: [code()], [TOK]: [oauthError("incorrect_device_code", "The device_code provided is not valid.")] },
    run: once({ clientId: "Ov23liDiff0059", scopes: ["repo"] }),
  },
  {
    name: "unsupported_grant_type",
    routes: { [DC]: [code()], [TOK]: [oauthError("unsupported_grant_type", "The grant type is not supported.")] },
    run: once({ clientId: "Ov23liDiff0060", scopes: ["repo"] }),
  },
  {
    name: "an OAuth error no client knows",
    routes: { [DC]: [code()], [TOK]: [oauthError("temporarily_unavailable", "Try again later.")] },
    run: once({ clientId: "Ov23liDiff0061", scopes: ["repo"] }),
  },
  {
    name: "HTTP 500 while polling",
    deliberate: "backoff",
    routes: { [DC]: [code()], [TOK]: [json({ message: "Server Error" }, { status: 500 }), oauthToken("repo")] },
    run: once({ clientId: "Ov23liDiff0062", scopes: ["repo"] }),
  },
  {
    name: "a network failure while polling",
    deliberate: "backoff",
    routes: { [DC]: [code()], [TOK]: [networkFailure(), oauthToken("repo")] },
    run: once({ clientId: "Ov23liDiff0063", scopes: ["repo"] }),
  },

  // ---- device-code failures -------------------------------------------------
  {
    name: "device code: device_flow_disabled",
    deliberate: "unsupported-app",
    routes: { [DC]: [oauthError("device_flow_disabled", "Device flow is disabled for this app.")] },
    run: once({ clientId: "Ov23liDiff0070", scopes: ["repo"] }),
  },
  {
    name: "device code: HTTP 400 unauthorized_client",
    deliberate: "unsupported-app",
    routes: { [DC]: [oauthError("unauthorized_client", "The client is not authorized.", {}, { status: 400 })] },
    run: once({ clientId: "Ov23liDiff0071", scopes: ["repo"] }),
  },
  {
    name: "device code: HTTP 404",
    deliberate: "unsupported-app",
    routes: { [DC]: [json({ message: "Not Found", documentation_url: "https://docs.github.com" }, { status: 404 })] },
    run: once({ clientId: "Ov23liDiff0072", scopes: ["repo"] }),
  },
  {
    name: "device code: incorrect_client_credentials",
    routes: { [DC]: [oauthError("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.")] },
    run: once({ clientId: "Ov23liDiff0073", scopes: ["repo"] }),
  },
  {
    name: "device code: HTTP 500",
    deliberate: "http-error",
    routes: { [DC]: [json({ message: "Server Error" }, { status: 500 })] },
    run: once({ clientId: "Ov23liDiff0074", scopes: ["repo"] }),
  },
  {
    name: "device code: a network failure",
    deliberate: "network-error",
    routes: { [DC]: [networkFailure()] },
    run: once({ clientId: "Ov23liDiff0075", scopes: ["repo"] }),
  },

  // ---- verification ------------------------------------------------------------
  {
    name: "verification_uri_complete is passed on",
    routes: { [DC]: [code({ verification_uri_complete: "https://github.com/login/device?user_code=WDJB-MJHT" })], [TOK]: [oauthToken("repo")] },
    run: once({ clientId: "Ov23liDiff0080", scopes: ["repo"] }),
  },
  {
    name: "extra fields in the device-code answer",
    deliberate: "verification-fields",
    routes: { [DC]: [code({ message: "hello" })], [TOK]: [oauthToken("repo")] },
    run: once({ clientId: "Ov23liDiff0081", scopes: ["repo"] }),
  },
  {
    name: "an async onVerification is awaited before polling",
    routes: { [DC]: [code()], [TOK]: [oauthToken("repo")] },
    async run(env) {
      const auth = env.create({
        clientId: "Ov23liDiff0082",
        scopes: ["repo"],
        request: env.request({ headers: UA }),
        async onVerification(v) {
          await new Promise((r) => setImmediate(r));
          env.note({ prompted: v.user_code });
        },
      });
      await env.step("auth", () => auth({ type: "oauth" }));
    },
  },
  {
    name: "onVerification throws: the error as is, no polling",
    routes: { [DC]: [code()], [TOK]: [oauthToken("repo")] },
    async run(env) {
      class Stop extends Error {}
      const auth = env.create({
        clientId: "Ov23liDiff0083",
        scopes: ["repo"],
        request: env.request({ headers: UA }),
        onVerification() {
          throw new Stop("no terminal");
        },
      });
      await env.step("auth", () => auth({ type: "oauth" }));
    },
  },
  {
    name: "missing clientId and onVerification throw octokit's errors",
    routes: {},
    async run(env) {
      await env.step("no clientId", () => env.create({ onVerification() {} }));
      await env.step("no onVerification", () => env.create({ clientId: "Ov23liDiff0084" }));
    },
  },

  // ---- the request instance -------------------------------------------------------
  {
    name: "request instance: user-agent and other headers",
    routes: { [DC]: [code()], [TOK]: [oauthToken("repo")] },
    run: once({ clientId: "Ov23liDiff0090", scopes: ["repo"] }, { request: { headers: { ...UA, "x-trace": "t-1", "accept-language": "de" } } }),
  },
  {
    name: "request instance: its fetch only (no user-agent of the user's)",
    deliberate: "user-agent",
    routes: { [DC]: [code()], [TOK]: [oauthToken("repo")] },
    run: once({ clientId: "Ov23liDiff0091", scopes: ["repo"] }, { request: {} }),
  },
  {
    name: "request instance: an accept header of its own",
    routes: { [DC]: [code()], [TOK]: [oauthToken("repo")] },
    run: once({ clientId: "Ov23liDiff0092", scopes: ["repo"] }, { request: { headers: { ...UA, accept: "application/vnd.github+json" } } }),
  },
  {
    name: "request instance: a hook that adds a header and sees every request",
    routes: { [DC]: [code()], [TOK]: [pending, oauthToken("repo")] },
    async run(env) {
      const hook = async (request, options) => {
        const endpoint = request.endpoint.merge(options);
        env.note({ hook: `${endpoint.method} ${endpoint.url}` });
        endpoint.headers["x-hooked"] = "yes";
        return request(endpoint);
      };
      const auth = env.create({ clientId: "Ov23liDiff0093", scopes: ["repo"], onVerification: env.onVerification, request: env.request({ headers: UA, request: { hook } }) });
      await env.step("auth", () => auth({ type: "oauth" }));
    },
  },
  {
    name: "request instance: GHES baseUrl https://HOST/api/v3",
    routes: { "POST https://ghe.example.com/login/device/code": [code()], "POST https://ghe.example.com/login/oauth/access_token": [oauthToken("repo")] },
    run: once({ clientId: "Ov23liDiff0094", scopes: ["repo"] }, { request: { headers: UA, baseUrl: "https://ghe.example.com/api/v3" } }),
  },
  {
    name: "request instance: GHES baseUrl https://HOST",
    routes: { "POST https://ghe.example.com/login/device/code": [code()], "POST https://ghe.example.com/login/oauth/access_token": [appToken()] },
    run: once({ clientId: "Iv1.diff0095", clientType: "github-app" }, { request: { headers: UA, baseUrl: "https://ghe.example.com" } }),
  },
  {
    name: "request instance: GitHub Enterprise Cloud with data residency (api.SUBDOMAIN.ghe.com)",
    routes: { "POST https://acme.ghe.com/login/device/code": [code()], "POST https://acme.ghe.com/login/oauth/access_token": [oauthToken("repo")] },
    run: once({ clientId: "Ov23liDiff0096", scopes: ["repo"] }, { request: { headers: UA, baseUrl: "https://api.acme.ghe.com" } }),
  },

  // ---- auth.hook ---------------------------------------------------------------------
  {
    name: "auth.hook on GET /user: a device flow, then the token on the request",
    routes: { [DC]: [code()], [TOK]: [pending, oauthToken("repo")], [USER]: [user] },
    run: hooked({ clientId: "Ov23liDiff0100", scopes: ["repo"] }, [["GET /user"], ["GET /user"]]),
  },
  {
    name: "auth.hook on an API route with parameters",
    routes: { [DC]: [code()], [TOK]: [appToken()], "GET https://api.github.com/repos/octocat/hello-world/issues?per_page=2": [json([{ id: 1 }])] },
    run: hooked({ clientId: "Iv1.diff0101", clientType: "github-app" }, [["GET /repos/{owner}/{repo}/issues", { owner: "octocat", repo: "hello-world", per_page: 2 }]]),
  },
  {
    name: "auth.hook on POST /login/device/code: sent without credentials, no flow",
    routes: { [DC]: [code()] },
    run: hooked({ clientId: "Ov23liDiff0102", scopes: ["repo"] }, [["POST /login/device/code", { baseUrl: GH, headers: { accept: "application/json" }, client_id: "Ov23liDiff0102" }]]),
  },
  {
    name: "auth.hook on POST /login/oauth/access_token: sent without credentials, no flow",
    routes: { [TOK]: [pending] },
    run: hooked({ clientId: "Ov23liDiff0103", scopes: ["repo"] }, [["POST /login/oauth/access_token", { baseUrl: GH, headers: { accept: "application/json" }, client_id: "Ov23liDiff0103", device_code: "x", grant_type: "urn:ietf:params:oauth:grant-type:device_code" }]]),
  },
  {
    name: "auth.hook with a GHES request instance",
    routes: { "POST https://ghe.example.com/login/device/code": [code()], "POST https://ghe.example.com/login/oauth/access_token": [oauthToken("repo")], "GET https://ghe.example.com/api/v3/user": [user] },
    run: hooked({ clientId: "Ov23liDiff0104", scopes: ["repo"] }, [["GET /user"]], { defaults: { headers: UA, baseUrl: "https://ghe.example.com/api/v3" } }),
  },
  {
    name: "auth.hook: the API answers 401",
    routes: { [DC]: [code()], [TOK]: [oauthToken("repo")], [USER]: [json({ message: "Bad credentials", documentation_url: "https://docs.github.com/rest" }, { status: 401 })] },
    run: hooked({ clientId: "Ov23liDiff0105", scopes: ["repo"] }, [["GET /user"]]),
  },
  {
    name: "auth.hook: the device flow fails with access_denied",
    routes: { [DC]: [code()], [TOK]: [denied] },
    run: hooked({ clientId: "Ov23liDiff0106", scopes: ["repo"] }, [["GET /user"]]),
  },
];
