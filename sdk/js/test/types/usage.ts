// Compiled by test/types.test.js (tsc --noEmit): the declarations accept
// octokit-style code unchanged, with an @octokit/request instance.
import { request } from "@octokit/request";
import {
  createOAuthDeviceAuth,
  DeviceFlowError,
  FileStore,
  MemoryStore,
  Host,
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
  await new Host({ store, now: () => Date.now() }).call("info", {});
  try {
    await oauth({ type: "oauth" });
  } catch (e) {
    if (e instanceof DeviceFlowError && e.code === "access_denied") console.log(e.status, e.response?.data.error);
  }
}
void main;
