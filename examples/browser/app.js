// Sign in with GitHub's device flow from a web page: @deviceflow/auth-oauth-device's
// browser entry, tokens kept in IndexedDB (sealed with a non-extractable
// WebCrypto key), the OAuth requests through a CORS relay (`deviceflow relay`),
// the API called directly.
import { createOAuthDeviceAuth, Host, IndexedDBStore } from "@deviceflow/auth-oauth-device";

// Your app's settings. The query string may override them (the test does):
// ?clientId=…&clientType=…&baseUrl=…&oauthUrl=…&scopes=repo,read:org
const settings = {
  clientId: "Iv1.0123456789abcdef", // your GitHub App's (or OAuth App's) client id
  clientType: "github-app",
  baseUrl: "https://github.com", // or https://HOST for GitHub Enterprise Server
  oauthUrl: "http://127.0.0.1:8787", // your relay: deviceflow relay --allow-origin <this page's origin>
  scopes: "",
  ...Object.fromEntries(new URLSearchParams(location.search)),
};

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const store = new IndexedDBStore({ name: "deviceflow-example" });
/** @type {AbortController | null} */
let flow = null;

const auth = createOAuthDeviceAuth({
  clientId: settings.clientId,
  clientType: /** @type {any} */ (settings.clientType),
  ...(settings.scopes ? { scopes: settings.scopes.split(",") } : {}),
  baseUrl: settings.baseUrl,
  oauthUrl: settings.oauthUrl || undefined,
  store,
  onVerification(verification) {
    $("user-code").textContent = verification.user_code;
    const link = /** @type {HTMLAnchorElement} */ ($("verify-link"));
    link.href = verification.verification_uri;
    link.textContent = `Open ${verification.verification_uri}`;
    show("verify", "Waiting for you to approve the code on GitHub…");
  },
});

/** Shows one section and a status line. */
function show(section, status) {
  for (const id of ["signed-out", "verify", "signed-in"]) $(id).hidden = id !== section;
  $("status").textContent = status;
}

function fail(err) {
  $("error").textContent = err?.code === "cancelled" ? "" : `${err?.message ?? err}`;
}

/** The API root for baseUrl, as the engine derives it (api.github.com or HOST/api/v3). */
async function apiRoot() {
  const info = await new Host({ baseUrl: settings.baseUrl }).call("info", { baseUrl: settings.baseUrl });
  return info.endpoints.api;
}

async function showSignedIn(authentication) {
  const check = await auth.check();
  if (!check.valid) {
    await auth.logout();
    show("signed-out", "Your session has ended: sign in again.");
    return;
  }
  $("login").textContent = check.login ?? "";
  const res = await fetch(`${await apiRoot()}/user/repos?per_page=100&sort=updated`, {
    headers: { accept: "application/vnd.github+json", authorization: `token ${authentication.token}` },
  });
  const repos = res.ok ? await res.json() : [];
  const list = $("repos");
  list.replaceChildren(
    ...repos.map((repo) => {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = repo.html_url;
      a.textContent = repo.full_name;
      li.append(a);
      if (repo.private) {
        const tag = document.createElement("span");
        tag.className = "private";
        tag.textContent = "private";
        li.append(tag);
      }
      return li;
    }),
  );
  if (!res.ok) $("error").textContent = `Could not list repositories (HTTP ${res.status}).`;
  show("signed-in", "Signed in.");
}

$("sign-in").addEventListener("click", async () => {
  $("error").textContent = "";
  flow = new AbortController();
  $("status").textContent = "Asking GitHub for a code…";
  try {
    await showSignedIn(await auth({ type: "oauth", signal: flow.signal }));
  } catch (err) {
    fail(err);
    show("signed-out", "Signed out.");
  } finally {
    flow = null;
  }
});

$("copy").addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText($("user-code").textContent ?? "");
    $("copy").textContent = "Copied";
    setTimeout(() => ($("copy").textContent = "Copy"), 2000);
  } catch {
    $("copy").textContent = "Select and copy the code";
  }
});

$("cancel").addEventListener("click", () => flow?.abort());

$("sign-out").addEventListener("click", async () => {
  await auth.logout();
  $("repos").replaceChildren();
  show("signed-out", "Signed out.");
});

// On load: the stored token (refreshed when it is about to expire), never a new flow.
try {
  await showSignedIn(await auth({ type: "oauth", interactive: false }));
} catch (err) {
  if (err?.code !== "not_found") fail(err);
  show("signed-out", "Signed out.");
}
