from lib import *

IN = {"clientId": CID, "scopes": ["repo"], "baseUrl": "{server}"}
K = key(scopes=["repo"])
A = auth(scopes=["repo"])
STORE = {K: stored(A)}
DCX = ex(dc_request(scope="repo"), json_response(dc_body()))

# --- cache ----------------------------------------------------------------
vector("cache-hit-no-requests",
       "A cached OAuth App token for the same base, client and scopes is returned with no request, no event, no sleep.",
       [6], export="authenticate", input=IN, store=STORE, result=A)

vector("cache-hit-scopes-normalised",
       "Scopes \"repo, read:org repo\" name the same entry as [\"read:org\", \"repo\"]: sorted, de-duplicated.",
       [6], export="authenticate", input={"clientId": CID, "scopes": "repo, read:org repo", "baseUrl": "{server}"},
       store={key(scopes=["read:org", "repo"]): stored(auth(scopes=["read:org", "repo"]))},
       result=auth(scopes=["read:org", "repo"]))

vector("cache-hit-api-v3-base",
       "A base URL ending in /api/v3 names the same server (and cache entry) as its origin.",
       [6, 9], export="authenticate", input={"clientId": CID, "scopes": ["repo"], "baseUrl": "{server}/api/v3"},
       store=STORE, result=A)

vector("cache-hit-trailing-slash-base",
       "A base URL with a trailing slash names the same cache entry.",
       [6, 9], export="authenticate", input={"clientId": CID, "scopes": ["repo"], "baseUrl": "{server}/"},
       store=STORE, result=A)

f = Flow(); f.first_wait(); f.poll()
gk = key(scopes=["gist"])
vector("cache-miss-other-scopes",
       "An entry for other scopes is not used: a device flow for [\"gist\"] runs and both entries remain.",
       [6], export="authenticate", input={"clientId": CID, "scopes": ["gist"], "baseUrl": "{server}"}, store=STORE,
       exchanges=[ex(dc_request(scope="gist"), json_response(dc_body())), ex(token_request(), oauth_token(TOK2, "gist"))],
       sleeps=f.sleeps, events=f.events,
       storeAfter={K: STORE[K], gk: stored(auth(TOK2, scopes=["gist"]))}, result=auth(TOK2, scopes=["gist"]))

f = Flow(); f.first_wait(); f.poll()
vector("cache-miss-other-client-type",
       "An OAuth App entry is not a GitHub App entry for the same client id: the client type is part of the key.",
       [6], export="authenticate", input={"clientId": CID, "clientType": "github-app", "baseUrl": "{server}"},
       store={key(scopes=[]): stored(auth(scopes=[]))},
       exchanges=[ex(dc_request(app=True), json_response(dc_body())),
                  ex(token_request(), json_response({"access_token": UTOK, "token_type": "bearer", "scope": ""}))],
       sleeps=f.sleeps, events=f.events,
       storeAfter={key(scopes=[]): stored(auth(scopes=[])), key(ctype="github-app"): stored(auth(UTOK, ctype="github-app"))},
       result=auth(UTOK, ctype="github-app"))

f = Flow(); f.first_wait(); f.poll()
vector("cache-refresh-true-bypasses",
       "refresh: true skips the cached token: a new device flow runs and its token replaces the entry.",
       [6], export="authenticate", input=dict(IN, refresh=True), store=STORE,
       exchanges=[DCX, ex(token_request(), oauth_token(TOK2, "repo"))],
       sleeps=f.sleeps, events=f.events, storeAfter={K: stored(auth(TOK2, scopes=["repo"]))}, result=auth(TOK2, scopes=["repo"]))

f = Flow(); f.first_wait(); f.poll()
vector("cache-unreadable-value",
       "A cached value that is not an authentication object counts as absent: a device flow runs and overwrites it; nothing traps.",
       [11], export="authenticate", input=IN, store={K: "{not json"},
       exchanges=[DCX, ex(token_request(), oauth_token(TOK, "repo"))],
       sleeps=f.sleeps, events=f.events, storeAfter=STORE, result=A)

DAMAGED = {"code": "store", "messageContains": "not valid JSON"}
vector("cache-damaged-value-check",
       "check with a cached value that is not JSON at all: a store error saying the store is damaged, not \"nothing cached\"; no request, the value left as it is.",
       [11], export="check", input=IN, store={K: "{not json"}, error=DAMAGED)
vector("cache-damaged-value-non-interactive",
       "authenticate with interactive false and a damaged value: the same store error, the value left as it is.",
       [11], export="authenticate", input=dict(IN, interactive=False), store={K: "{not json"}, error=DAMAGED)

# --- GHES -----------------------------------------------------------------
f = Flow(); f.first_wait(); f.poll()
vector("ghes-api-v3-base-url",
       "GitHub Enterprise Server given as {server}/api/v3: the OAuth endpoints are at {server}/login/..., the cache key uses the origin.",
       [9], export="authenticate", input={"clientId": CID, "scopes": ["repo"], "baseUrl": "{server}/api/v3"},
       exchanges=[DCX, ex(token_request(), oauth_token(TOK, "repo"))],
       sleeps=f.sleeps, events=f.events, storeAfter=STORE, result=A)

USER_HEADERS = lambda tok: {"authorization": "token " + tok, "accept": "application/vnd.github+json"}


def user_req(tok=TOK, base="{server}"):
    return {"method": "GET", "url": base + "/api/v3/user", "headers": USER_HEADERS(tok)}


# --- check ----------------------------------------------------------------
vector("check-valid-with-scopes",
       "check with the cached token: GET /user answers 200; the login and the X-OAuth-Scopes header's scopes (in the server's order) are returned.",
       [6, 9], export="check", input=IN, store=STORE,
       exchanges=[ex(user_req(), json_response({"login": "octocat", "id": 1}, headers={"x-oauth-scopes": "repo, read:org"}))],
       result={"valid": True, "login": "octocat", "scopes": ["repo", "read:org"]})

vector("check-ghes-api-v3",
       "check on GitHub Enterprise Server given as {server}/api/v3 asks {server}/api/v3/user.",
       [9], export="check", input={"clientId": CID, "scopes": ["repo"], "baseUrl": "{server}/api/v3"}, store=STORE,
       exchanges=[ex(user_req(), json_response({"login": "monalisa"}, headers={"x-oauth-scopes": "repo"}))],
       result={"valid": True, "login": "monalisa", "scopes": ["repo"]})

vector("check-invalid-401",
       "check when GET /user answers 401 (revoked token): valid false, not an error; the entry is left to the caller.",
       [], export="check", input=IN, store=STORE,
       exchanges=[ex(user_req(), json_response({"message": "Bad credentials"}, 401))],
       result={"valid": False})

vector("check-explicit-token",
       "check with an explicit token asks about that token, without reading the store.",
       [], export="check", input=dict(IN, token=TOK2),
       exchanges=[ex(user_req(TOK2), json_response({"login": "hubot"}, headers={"x-oauth-scopes": ""}))],
       result={"valid": True, "login": "hubot", "scopes": []})

vector("check-github-app-no-scopes",
       "A GitHub App token: GET /user has no X-OAuth-Scopes header, so the answer has no scopes.",
       [], export="check", input={"clientId": APPID, "clientType": "github-app", "baseUrl": "{server}"},
       store={key(APPID, "github-app"): stored(auth(UTOK, APPID, "github-app"))},
       exchanges=[ex(user_req(UTOK), json_response({"login": "octocat"}))],
       result={"valid": True, "login": "octocat"})

vector("check-not-found",
       "check with nothing cached and no token: not_found, no request.",
       [], export="check", input=IN, error={"code": "not_found"})

vector("check-server-error",
       "check when GET /user answers 503: network with the status.",
       [], export="check", input=IN, store=STORE,
       exchanges=[ex(user_req(), json_response({"message": "Service Unavailable"}, 503))],
       error={"code": "network", "status": 503})

vector("check-no-login",
       "GET /user answers 200 without a login: invalid_response.",
       [11], export="check", input=IN, store=STORE,
       exchanges=[ex(user_req(), json_response({"id": 1}))], error={"code": "invalid_response"})

# --- logout ---------------------------------------------------------------
vector("logout-removes-only-its-entry",
       "logout removes this configuration's entry and leaves entries for other scopes alone.",
       [6], export="logout", input=IN,
       store={K: stored(A), key(scopes=["gist"]): stored(auth(TOK2, scopes=["gist"]))},
       storeAfter={key(scopes=["gist"]): stored(auth(TOK2, scopes=["gist"]))},
       result={"removed": True})

vector("logout-nothing-to-remove",
       "logout with nothing cached: removed false.",
       [], export="logout", input=IN, result={"removed": False})

# --- authorize ------------------------------------------------------------
vector("authorize-cached-token",
       "authorize for an API request answers the cached token's authorization header, with no request.",
       [], export="authorize", input=dict(IN, method="GET", url="{server}/api/v3/user/repos"), store=STORE,
       result={"headers": {"authorization": "token " + TOK}})

vector("authorize-oauth-token-endpoint",
       "authorize for the token endpoint answers no headers, reads nothing and sends nothing (octokit's hook leaves the OAuth endpoints alone).",
       [], export="authorize", input=dict(IN, method="POST", url="https://github.com/login/oauth/access_token"), store=STORE,
       result={"headers": {}})

vector("authorize-oauth-device-code-endpoint",
       "authorize for the device-code endpoint answers no headers, even with nothing cached: no device flow starts.",
       [], export="authorize", input=dict(IN, method="POST", url="{server}/login/device/code"),
       result={"headers": {}})

vector("authorize-oauth-endpoint-any-method",
       "The OAuth endpoints never get a token, whatever the method (octokit matches the URL only).",
       [10], export="authorize", input=dict(IN, method="GET", url="{server}/login/oauth/access_token"), store=STORE,
       result={"headers": {}})

f = Flow(); f.first_wait(); f.poll()
vector("authorize-no-cache-runs-flow",
       "authorize with nothing cached runs the device flow (as octokit's hook does), stores the token and answers its header.",
       [], export="authorize", input=dict(IN, method="GET", url="{server}/api/v3/user"),
       exchanges=[DCX, ex(token_request(), oauth_token(TOK, "repo"))],
       sleeps=f.sleeps, events=f.events, storeAfter=STORE, result={"headers": {"authorization": "token " + TOK}})

vector("authorize-missing-url",
       "authorize without a url: invalid_input naming url.",
       [11], export="authorize", input=dict(IN, method="GET"), error={"code": "invalid_input", "messageContains": "url"})

# --- info -----------------------------------------------------------------
vector("info-export",
       "info names the plugin, its ABI, exports, imports, error codes and the response headers the engine reads (a host passes those and may drop the rest).",
       [], export="info", input={},
       result={"name": "deviceflow", "version": "{any}", "abi": "2.0.0",
               "exports": ["authenticate", "begin", "poll", "refresh", "check", "logout", "authorize", "info"],
               "imports": ["http_request", "sleep", "now", "monotonic", "store_get", "store_swap", "store_lock", "store_unlock", "emit"],
               "errorCodes": ["authorization_pending", "slow_down", "expired_token", "access_denied", "device_flow_disabled",
                              "unsupported", "incorrect_client_credentials", "incorrect_device_code", "unsupported_grant_type",
                              "bad_refresh_token", "oauth_error", "not_found", "cancelled", "network", "http_denied", "store",
                              "invalid_input", "invalid_response"],
               "responseHeaders": ["cache-control", "content-type", "date", "retry-after", "x-oauth-scopes"],
               "endpoints": {"base": "https://github.com", "api": "https://api.github.com"}})
vector("info-endpoints-ghes",
       "info with a GitHub Enterprise Server baseUrl answers the derived OAuth and API roots, so hosts need not derive them (rule 9).",
       [9], export="info", input={"baseUrl": "https://ghe.example.com/api/v3"},
       result={"name": "deviceflow", "version": "{any}", "abi": "2.0.0", "exports": "{any}", "imports": "{any}",
               "errorCodes": "{any}", "responseHeaders": "{any}", "endpoints": {"base": "https://ghe.example.com", "api": "https://ghe.example.com/api/v3"}})
vector("info-endpoints-refused-base-url",
       "info with a base URL the plugin refuses answers the engine's own error in endpointsError instead of endpoints, so a host refuses it in the engine's words and derives nothing itself.",
       [9, 11], export="info", input={"baseUrl": "http://ghe.example.com"},
       result={"name": "deviceflow", "version": "{any}", "abi": "2.0.0", "exports": "{any}", "imports": "{any}",
               "errorCodes": "{any}", "responseHeaders": "{any}", "endpointsError": {"code": "invalid_input", "message": "{any}"}})
vector("info-input-error-control-character",
       "info with a whole input judges it as every export would: a client id with a control character is answered in inputError (invalid_input naming clientId), so a command refuses the flag in the plugin's words.",
       [11], export="info", input={"clientId": "Iv1.bad\u001b[2J", "baseUrl": "https://github.com"},
       result={"name": "deviceflow", "version": "{any}", "abi": "2.0.0", "exports": "{any}", "imports": "{any}",
               "errorCodes": "{any}", "responseHeaders": "{any}", "endpoints": {"base": "https://github.com", "api": "https://api.github.com"},
               "inputError": {"code": "invalid_input", "message": "{any}"}})
