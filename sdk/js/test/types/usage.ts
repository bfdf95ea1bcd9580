// Compiled by test/types.test.js (tsc --noEmit): the declarations accept
// octokit-style code unchanged, with an @octokit/request instance.
import { request } from "@octokit/request";
import {
  createOAuthDeviceAuth,
  DeviceFlowError,
  FileStore,
  MemoryStore,
  Host,
  StoreError,
  ABI_VERSION,
  type OAuthAppStrategyOptions,
  type GitHubAppStrategyOptions,
  type OAuthAppAuthentication,
  type GitHubAppAuthentication,
  type GitHubAppAuthenticationWithExpiration,
  type Verification,
  type DeviceFlowEvent,
  type Store,
} from "@deviceflow/auth-oauth-device";

const onVerification = (v: Verification) => {
  console.log(`Open ${v.verification_uri} and enter ${v.user_code}`);
};

const oauthOptions: OAuthAppStrategyOptions = {
  clientId: "Iv1.x",
  scopes: ["repo"],
  onVerification,
  request: request.defaults({ baseUrl: "https://ghe.example.com/api/v3" }),
};
const oauth = createOAuthDeviceAuth(oauthOptions);

const appOptions: GitHubAppStrategyOptions = {
  clientId: "Iv1.y",
  clientType: "github-app",
  onVerification,
  store: new FileStore(),
  signal: AbortSignal.timeout(60_000),
  onEvent: (e: DeviceFlowEvent) => {
    if (e.type === "slow_down") console.log(e.interval);
    if (e.type === "waiting") console.log(e.reason, e.waitMs);
  },
};
const app = createOAuthDeviceAuth(appOptions);

async function main() {
  const a: OAuthAppAuthentication = await oauth({ type: "oauth", scopes: ["gist"] });
  const scopes: string[] = a.scopes;
  const b: GitHubAppAuthentication | GitHubAppAuthenticationWithExpiration = await app({ type: "oauth", refresh: true });
  if ("refreshToken" in b) console.log(b.expiresAt, b.refreshTokenExpiresAt);
  const res = await oauth.hook(request, "GET /user");
  console.log(res.status, scopes);
  const { removed }: { removed: boolean } = await oauth.logout();
  console.log(removed, (await app.check()).valid);
  const store: Store = new MemoryStore({ k: "v" });
  await new Host({ store, now: () => Date.now(), monotonic: () => performance.now() }).call("info", {});
  // A store of one's own: get/set/delete only, or with swap and lock.
  const plain: Store = { get: () => undefined, set() {}, delete() {} };
  const shared: Store = {
    ...plain,
    swap: async (_key, old, next) => ({ swapped: old === undefined && next !== undefined }),
    lock: async (_key, _waitMs, _signal, _ttlMs) => () => {},
  };
  const file = new FileStore("/tmp/x");
  const swapped: boolean = (await file.swap("k", undefined, "v")).swapped;
  const release = await file.lock("k", 1000, AbortSignal.timeout(5000));
  if (release) await release();
  const keys: string[] = await file.keys();
  console.log(swapped, keys, FileStore.crossProcess, ABI_VERSION, shared);
  try {
    await file.get("k");
  } catch (e) {
    if (e instanceof StoreError) console.log(e.code, e.path);
    if (e instanceof DeviceFlowError && e.code === "plugin_abi") console.log(e.abi, e.expectedAbi);
  }
  try {
    await oauth({ type: "oauth" });
  } catch (e) {
    if (e instanceof DeviceFlowError && e.code === "access_denied") console.log(e.status, e.response?.data.error);
  }
}
void main;
