from lib import *

APP_IN = {"clientId": APPID, "clientType": "github-app", "baseUrl": "{server}"}
APP_KEY = key(APPID, "github-app", [])
EXP_S = 28800          # 8 hours
REXP_S = 15811200      # 183 days
DCX = ex(dc_request(APPID, app=True), json_response(dc_body()))


def app_token(token=UTOK, refresh=RTOK, date=None, rexp=True, ctype="json"):
    body = {"access_token": token, "expires_in": EXP_S, "refresh_token": refresh,
            "token_type": "bearer", "scope": ""}
    if rexp:
        body["refresh_token_expires_in"] = REXP_S
    headers = {}
    if date is not None:
        headers["date"] = date
    return json_response(body, headers=headers)


def app_auth(token=UTOK, refresh=RTOK, base=None, rexp=True):
    return auth(token, APPID, "github-app", refresh=refresh, exp=iso(base + EXP_S * 1000),
                rexp=iso(base + REXP_S * 1000) if rexp else None)


f = Flow(); f.first_wait(); f.poll()
vector("github-app-no-scope",
       "A GitHub App sends no scope (even when scopes are passed), its result has no scopes, and its cache key has an empty scope part.",
       [1, 6], export="authenticate", input=dict(APP_IN, scopes=["repo", "gist"]),
       exchanges=[DCX, ex(token_request(APPID), json_response({"access_token": UTOK, "token_type": "bearer", "scope": ""}))],
       sleeps=f.sleeps, events=f.events,
       storeAfter={APP_KEY: stored(auth(UTOK, APPID, "github-app"))},
       result=auth(UTOK, APPID, "github-app"))


def expiring(name, desc, date_ms=None, date_str=None, rexp=True, rules=(7,)):
    f = Flow(); f.first_wait(); f.poll()
    now = f.now
    date = date_str if date_str is not None else (http_date(date_ms) if date_ms is not None else None)
    # octokit: the server's Date, whatever it says, when it parses.
    parsed = parse_http_date(date) if date else None
    base = parsed if parsed is not None else now
    a = app_auth(base=base, rexp=rexp)
    vector(name, desc, list(rules), export="authenticate", input=APP_IN,
           exchanges=[DCX, ex(token_request(APPID), app_token(date=date, rexp=rexp))],
           sleeps=f.sleeps, events=f.events, storeAfter={APP_KEY: stored(a, received=now)}, result=a)


T = CLOCK + 5250  # host time when the token arrives after one wait
expiring("github-app-expiring-sane-date",
         "An expiring GitHub App token: expiresAt and refreshTokenExpiresAt count from the server's Date (5 s, in whole seconds), as ISO with milliseconds.",
         date_ms=CLOCK + 5000)
expiring("github-app-expiring-server-clock-ahead",
         "The server's Date is 10 minutes ahead of the host: within a day, so it is believed.",
         date_ms=T + 600000)
expiring("github-app-expiring-date-within-a-day",
         "A Date 23 h 59 min 59 s behind the host clock is still believed.",
         date_ms=CLOCK + 5000 - 86399000)
expiring("github-app-expiring-date-over-a-day",
         "A Date more than a day behind the host clock: expiresAt still counts from it, as octokit computes it; the local stamps kept beside it count from the host's clock.",
         date_ms=CLOCK + 5000 - 86401000)
expiring("github-app-expiring-insane-date",
         "A Date in 2001: expiresAt counts from it, as octokit computes it (octokit users see the same value); refresh decisions use the local stamps, so the token is not refreshed at once.",
         date_str="Mon, 01 Jan 2001 00:00:00 GMT")
expiring("github-app-expiring-one-digit-day-date",
         "A Date with a one-digit day (RFC 9110's forms, as JavaScript's Date parses them): expiry counts from it.",
         date_str="Thu, 1 Jan 2026 00:00:05 GMT")
expiring("github-app-expiring-rfc850-date",
         "A Date in RFC 850 form: expiry counts from it.",
         date_str="Thursday, 01-Jan-26 00:00:05 GMT")
expiring("github-app-expiring-asctime-date",
         "A Date in asctime form: expiry counts from it.",
         date_str="Thu Jan  1 00:00:05 2026")
expiring("github-app-expiring-unparseable-date",
         "A Date that does not parse: expiry counts from the host's clock.",
         date_str="yesterday at noon")
expiring("github-app-expiring-missing-date",
         "No Date header: expiry counts from the host's clock.")
expiring("github-app-expiring-no-refresh-expiry",
         "An expiring token whose response has no refresh_token_expires_in: no refreshTokenExpiresAt.",
         date_ms=CLOCK + 5000, rexp=False)

# --- cached GitHub App tokens ---------------------------------------------
def cached_app(exp_ms, rexp_ms=CLOCK + 100 * 86400000, token=UTOK, refresh=RTOK):
    return auth(token, APPID, "github-app", refresh=refresh, exp=iso(exp_ms), rexp=iso(rexp_ms) if rexp_ms else None)


fresh = cached_app(CLOCK + 3600000)
vector("github-app-cache-hit-fresh",
       "A cached expiring token with an hour left is handed out: no request.",
       [7], export="authenticate", input=APP_IN, store={APP_KEY: stored(fresh)}, result=fresh)

edge = cached_app(CLOCK + 300001)
vector("github-app-cache-just-fresh",
       "A cached token 5 minutes + 1 ms from expiry is still fresh: no request.",
       [7], export="authenticate", input=APP_IN, store={APP_KEY: stored(edge)}, result=edge)


def refreshed_vector(name, desc, cached, export="authenticate", inp=APP_IN, rules=(7,), form=False, result_fn=None):
    new = app_auth(UTOK2, RTOK2, base=CLOCK)
    result = new if result_fn is None else result_fn(new)
    vector(name, desc, list(rules), export=export, input=inp, store={APP_KEY: stored(cached)},
           exchanges=[ex(refresh_request(RTOK, form=form), app_token(UTOK2, RTOK2, date=http_date(CLOCK)))],
           events=[{"type": "refreshed", "expiresAt": new["expiresAt"]}],
           storeAfter={APP_KEY: stored(new, received=CLOCK)}, result=result)


refreshed_vector("github-app-cache-expiring-refreshed",
                 "A cached token 4 minutes from expiry is refreshed with the refresh-token grant (no secret); the new pair is stored and returned.",
                 cached_app(CLOCK + 240000))
refreshed_vector("github-app-cache-refresh-at-margin",
                 "A cached token exactly 5 minutes from expiry is refreshed.",
                 cached_app(CLOCK + 300000))
refreshed_vector("github-app-cache-expired-refreshed",
                 "A cached token that expired an hour ago, with a live refresh token: refreshed, not a new device flow.",
                 cached_app(CLOCK - 3600000))
refreshed_vector("refresh-export-rotates",
                 "The refresh export refreshes even a fresh token: the single-use refresh token is exchanged and the new pair stored before it is returned.",
                 fresh, export="refresh")
refreshed_vector("refresh-export-form-encoding",
                 "The refresh grant honours encoding \"form\".",
                 fresh, export="refresh", inp=dict(APP_IN, encoding="form"), rules=(1, 7), form=True)
refreshed_vector("authorize-refreshes-expiring",
                 "authorize with an expiring cached token refreshes it first and answers the new token's header.",
                 cached_app(CLOCK + 60000), export="authorize", inp=dict(APP_IN, method="GET", url="{server}/api/v3/user"),
                 result_fn=lambda a: {"headers": {"authorization": "token " + a["token"]}})


def new_flow_after(name, desc, cached, pre=(), rules=(7,)):
    f = Flow(); f.first_wait(); f.poll()
    a = app_auth(UTOK2, RTOK2, base=CLOCK + 5000)
    vector(name, desc, list(rules), export="authenticate", input=APP_IN, store={APP_KEY: stored(cached)},
           exchanges=list(pre) + [DCX, ex(token_request(APPID), app_token(UTOK2, RTOK2, date=http_date(CLOCK + 5000)))],
           sleeps=f.sleeps, events=f.events, storeAfter={APP_KEY: stored(a, received=f.now)}, result=a)


new_flow_after("github-app-refresh-token-expired-new-flow",
               "The cached token and its refresh token have both expired: no refresh attempt, a new device flow, the new pair replaces the entry.",
               cached_app(CLOCK - 3600000, CLOCK - 1))
new_flow_after("github-app-expired-without-refresh-token-new-flow",
               "An expired cached token without a refresh token: a new device flow.",
               cached_app(CLOCK - 1000, None, refresh=None))
new_flow_after("github-app-bad-refresh-token-new-flow",
               "The refresh grant answers bad_refresh_token (HTTP 200, as GitHub does): the entry is dropped and a new device flow runs.",
               cached_app(CLOCK + 1000),
               pre=[ex(refresh_request(RTOK), json_response({"error": "bad_refresh_token", "error_description": "The refresh token passed is incorrect or expired.",
                                                             "error_uri": "https://docs.github.com"}))])

vector("refresh-export-bad-refresh-token",
       "The refresh export with a dead refresh token: the entry is dropped and the export fails with bad_refresh_token.",
       [7], export="refresh", input=APP_IN, store={APP_KEY: stored(fresh)},
       exchanges=[ex(refresh_request(RTOK), json_response({"error": "bad_refresh_token", "error_description": "The refresh token passed is incorrect or expired.",
                                                           "error_uri": "https://docs.github.com"}))],
       storeAfter={}, error={"code": "bad_refresh_token", "error": "bad_refresh_token",
                             "description": "The refresh token passed is incorrect or expired.", "uri": "https://docs.github.com",
                             "messageContains": "The refresh token passed is incorrect or expired. (bad_refresh_token, https://docs.github.com)"})

vector("refresh-export-not-found",
       "The refresh export with nothing cached: not_found.",
       [7], export="refresh", input=APP_IN, error={"code": "not_found"})

okey = key(scopes=["repo"])
vector("refresh-export-oauth-app-not-found",
       "The refresh export for an OAuth App token, which has no refresh token: not_found, no request, the entry kept.",
       [7], export="refresh", input={"clientId": CID, "scopes": ["repo"], "baseUrl": "{server}"},
       store={okey: stored(auth(scopes=["repo"]))}, error={"code": "not_found"})

vector("refresh-export-server-error",
       "The refresh grant answers HTTP 500: network with the status; the cached pair is kept (the old refresh token was not consumed).",
       [7], export="refresh", input=APP_IN, store={APP_KEY: stored(fresh)},
       exchanges=[ex(refresh_request(RTOK), json_response({"message": "Server Error"}, 500))],
       error={"code": "network", "status": 500})

vector("github-app-refresh-network-error",
       "authenticate with an expiring token whose refresh fails on the network: network, the entry kept for the next try.",
       [7], export="authenticate", input=APP_IN, store={APP_KEY: stored(cached_app(CLOCK + 1000))},
       exchanges=[ex(refresh_request(RTOK), fault="reset")], error={"code": "network"})

# Refresh that returns a non-expiring token (expiration switched off).
plain = auth(UTOK2, APPID, "github-app")
vector("refresh-export-non-expiring-answer",
       "The refresh grant answers a token without expiry (the app stopped expiring tokens): stored and returned without expiry fields; the refreshed event has no expiresAt.",
       [7], export="refresh", input=APP_IN, store={APP_KEY: stored(fresh)},
       exchanges=[ex(refresh_request(RTOK), json_response({"access_token": UTOK2, "token_type": "bearer", "scope": ""}))],
       events=[{"type": "refreshed"}], storeAfter={APP_KEY: stored(plain)}, result=plain)


# interactive: false (a token command or a request transport): cached,
# refreshed, or not_found — never a device flow.
vector("non-interactive-nothing-cached",
       "interactive false with nothing cached: not_found at once, no request, no device flow.",
       [7], export="authenticate", input=dict(APP_IN, interactive=False),
       error={"code": "not_found", "messageContains": "sign in first"})
vector("non-interactive-stale-entry",
       "interactive false with an expired token and a dead refresh token: not_found, no request; the entry stays.",
       [7], export="authenticate", input=dict(APP_IN, interactive=False),
       store={APP_KEY: stored(cached_app(CLOCK - 3600000, CLOCK - 1))},
       error={"code": "not_found"})
refreshed_vector("non-interactive-refreshes",
                 "interactive false still refreshes an expiring cached token.",
                 cached_app(CLOCK + 60000), inp=dict(APP_IN, interactive=False))


vector("authorize-foreign-host-no-token",
       "authorize for an absolute URL outside the configured GitHub's origins answers no credentials, without reading the cache: a token never travels to another host.",
       [10], export="authorize", input=dict(APP_IN, method="GET", url="https://collector.example/upload"),
       result={"headers": {}})
