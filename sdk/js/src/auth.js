import { Host } from "./host.js";
import { lockFor } from "./lock.js";
import { createStrategy } from "./strategy.js";

/**
 * createOAuthDeviceAuth is @octokit/auth-oauth-device's strategy, run by the
 * deviceflow plugin. Same options, same auth(), same hook, same results; in
 * addition: `store`, `signal`, `onEvent`, `baseUrl` and `fetch`, refresh of
 * expiring GitHub App tokens, and `auth.logout()` / `auth.check()`.
 *
 * @param {import("./index.js").OAuthAppStrategyOptions | import("./index.js").GitHubAppStrategyOptions} options
 */
export function createOAuthDeviceAuth(options) {
  return createStrategy(options, { Host, lockFor });
}
