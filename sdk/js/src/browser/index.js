/**
 * @deviceflow/auth-oauth-device in browsers (package.json's "browser"
 * condition): the same createOAuthDeviceAuth — auth({type: "oauth"}),
 * auth.hook, onVerification, signal, onEvent — run by the engine built for
 * GOOS=js, with stores for the page. Nothing here reaches a Node built-in:
 * it loads from a bundler and from a plain <script type="module">.
 */
import { createStrategy } from "../strategy.js";
import { Host } from "./host.js";
import { lockFor } from "./lock.js";

export { Host };
export { MemoryStore } from "../memory-store.js";
export { IndexedDBStore } from "./idb-store.js";
export { webLock } from "./web-locks.js";
export { DeviceFlowError, StoreError, codes } from "../errors.js";
export { ABI_VERSION } from "../abi.js";
export { preload, setEngineSource } from "./engine.js";

/**
 * createOAuthDeviceAuth is @octokit/auth-oauth-device's strategy, run by the
 * deviceflow engine in the page: the same options, auth(), hook and results
 * as in Node (see the package's README). In a browser, `baseUrl` names where
 * the OAuth endpoints answer with CORS headers (GitHub's do not: a relay),
 * and `store` is a MemoryStore of its own unless you pass an IndexedDBStore.
 *
 * @param {import("../index.js").OAuthAppStrategyOptions | import("../index.js").GitHubAppStrategyOptions} options
 */
export function createOAuthDeviceAuth(options) {
  return createStrategy(options, { Host, lockFor });
}
