"""Answers the reference clients (octokit, GitHub CLI, x/oauth2) accept,
and the engine accepts too."""
from lib import *
from v_app import APP_IN, APP_KEY, DCX, cached_app

IN = {"clientId": CID, "scopes": ["repo"], "baseUrl": "{server}"}
OKEY = key(scopes=["repo"])

vector("device-code-400-unauthorized-client",
       "The device-code request answers HTTP 400 unauthorized_client (RFC 6749's error for a client that may not use this grant): unsupported, with how to enable the device flow, as GitHub CLI reads it.",
       [5], export="authenticate", input=IN,
       exchanges=[ex(dc_request(scope="repo"), json_response({"error": "unauthorized_client",
                                                              "error_description": "The client is not authorized to use this grant."}, status=400))],
       error={"code": "unsupported", "status": 400, "error": "unauthorized_client",
              "messageContains": "Enable Device Flow"})

# An OAuth App token answer that carries refresh_token and expires_in.
f = Flow(); f.first_wait(); f.poll()
a = auth(scopes=["repo"], refresh=RTOK, exp=iso(f.now + 28800000), rexp=iso(f.now + 15811200000))
vector("oauth-app-token-with-refresh-and-expiry",
       "An OAuth App token answer carrying refresh_token and expires_in keeps them: the result has scopes and the expiry fields, and it is cached as an expiring token.",
       [7], export="authenticate", input=IN,
       exchanges=[ex(dc_request(scope="repo"), json_response(dc_body())),
                  ex(token_request(), json_response({"access_token": TOK, "token_type": "bearer", "scope": "repo",
                                                     "expires_in": 28800, "refresh_token": RTOK,
                                                     "refresh_token_expires_in": 15811200}))],
       sleeps=f.sleeps, events=f.events, storeAfter={OKEY: stored(a, received=f.now)}, result=a)

# expires_in without refresh_token: an expiring token that cannot be refreshed.
f = Flow(); f.first_wait(); f.poll()
b = auth(UTOK, APPID, "github-app", exp=iso(f.now + 3600000))
vector("token-expiring-without-refresh-token",
       "A token answer with expires_in but no refresh_token is an expiring token that cannot be refreshed: expiresAt set, no refreshToken.",
       [7], export="authenticate", input=APP_IN,
       exchanges=[DCX, ex(token_request(APPID), json_response({"access_token": UTOK, "token_type": "bearer", "scope": "", "expires_in": 3600}))],
       sleeps=f.sleeps, events=f.events, storeAfter={APP_KEY: stored(b, received=f.now, exp_s=3600)}, result=b)

vector("non-interactive-expired-without-refresh-token",
       "Later, with that token expired and no refresh token, a call that may not prompt answers not_found; the entry stays.",
       [7], export="authenticate", input=dict(APP_IN, interactive=False),
       store={APP_KEY: stored(auth(UTOK, APPID, "github-app", exp=iso(CLOCK - 1000)))},
       error={"code": "not_found"})

# A refresh answer without a new refresh_token.
c = auth(UTOK2, APPID, "github-app", exp=iso(CLOCK + 28800000))
vector("refresh-answer-without-refresh-token",
       "A refresh answer with a new token and expires_in but no new refresh_token returns (and stores) the token without one.",
       [7], export="authenticate", input=APP_IN, store={APP_KEY: stored(cached_app(CLOCK + 60000))},
       exchanges=[ex(refresh_request(RTOK), json_response({"access_token": UTOK2, "token_type": "bearer", "scope": "", "expires_in": 28800},
                                                          headers={"date": http_date(CLOCK)}))],
       events=[{"type": "refreshed", "expiresAt": c["expiresAt"]}],
       storeAfter={APP_KEY: stored(c, received=CLOCK)}, result=c)

# An absurd expires_in is clamped to 2^31-1 seconds, not refused.
f = Flow(); f.first_wait(); f.poll()
MAX = 2 ** 31 - 1
d = auth(UTOK, APPID, "github-app", refresh=RTOK, exp=iso(f.now + MAX * 1000), rexp=iso(f.now + MAX * 1000))
vector("token-expires-in-huge-clamped",
       "expires_in and refresh_token_expires_in of 2^32 and 1e300 seconds are clamped to 2^31-1 seconds (68 years), not refused: the token is kept.",
       [7], export="authenticate", input=APP_IN,
       exchanges=[DCX, ex(token_request(APPID), {"status": 200, "headers": JSON_CT,
                                                 "body": '{"access_token":"%s","token_type":"bearer","scope":"","expires_in":4294967296,"refresh_token":"%s","refresh_token_expires_in":1e300}' % (UTOK, RTOK)})],
       sleeps=f.sleeps, events=f.events, storeAfter={APP_KEY: stored(d, received=f.now, exp_s=MAX, rexp_s=MAX)}, result=d)

# Refresh decisions use the local stamps, not the server's clock.
skewed = cached_app(CLOCK - 365 * 86400000)
vector("cache-local-stamps-decide-freshness",
       "A cached token whose expiresAt (from a server clock a year behind) is long past, but whose local stamp says an hour is left, is handed out without a refresh.",
       [7], export="authenticate", input=APP_IN,
       store={APP_KEY: stored(skewed, received=CLOCK - 28800000 + 3600000)},
       result=skewed)
