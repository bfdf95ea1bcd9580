// An app as a bundler sees it: the package by name. test/browser/bundler.test.js
// bundles this file with esbuild (platform "browser") and runs it in Chromium.
import { createOAuthDeviceAuth, setEngineSource, IndexedDBStore, Host } from "@deviceflow/auth-oauth-device";

const w = /** @type {any} */ (window);
w.app = {
  setEngineSource,
  info: (baseUrl) => new Host({ baseUrl }).call("info", { baseUrl }),
  signIn(options) {
    w.verifications = [];
    const auth = createOAuthDeviceAuth({
      ...options,
      store: new IndexedDBStore({ name: "bundled" }),
      onVerification: (v) => w.verifications.push(v),
    });
    return auth({ type: "oauth" });
  },
};
w.appReady = true;
