from lib import *

IN = {"clientId": CID, "scopes": ["repo"], "baseUrl": "{server}"}
DCX = ex(dc_request(scope="repo"), json_response(dc_body()))
APP_IN = {"clientId": APPID, "clientType": "github-app", "baseUrl": "{server}"}
APP_KEY = key(APPID, "github-app", [])

f = Flow(); f.first_wait(); f.poll()
vector("redact-token-in-error-description",
       "A server echoes an access token in error_description: message and description carry [redacted], never the token.",
       [10], export="authenticate", input=IN,
       exchanges=[DCX, ex(token_request(), json_response({"error": "access_denied",
                                                          "error_description": "Token " + TOK + " was revoked"}))],
       sleeps=f.sleeps, events=f.events,
       error={"code": "access_denied", "error": "access_denied", "description": "Token [redacted] was revoked",
              "message": "Token [redacted] was revoked (access_denied). The request was cancelled in the browser: run the flow again to retry."})

f = Flow(); f.first_wait(); f.poll()
vector("redact-token-in-error-uri",
       "A server echoes a token in error_uri: the uri field and the message carry [redacted].",
       [10], export="authenticate", input=IN,
       exchanges=[DCX, ex(token_request(), json_response({"error": "odd_error", "error_description": "Odd.",
                                                          "error_uri": "https://example.com/help?token=" + TOK}))],
       sleeps=f.sleeps, events=f.events,
       error={"code": "oauth_error", "error": "odd_error", "uri": "https://example.com/help?token=[redacted]",
              "message": "Odd. (odd_error, https://example.com/help?token=[redacted])"})

f = Flow(complete="https://github.com/login/device?t=[redacted]")
f.first_wait(); f.poll()
vector("redact-token-in-verification-event",
       "A server puts a token-shaped string in verification_uri_complete: the verification event carries [redacted] instead (no event ever carries a token).",
       [8, 10], export="authenticate", input=IN,
       exchanges=[ex(dc_request(scope="repo"), json_response(dc_body(verification_uri_complete="https://github.com/login/device?t=" + TOK2))),
                  ex(token_request(), oauth_token(TOK, "repo"))],
       sleeps=f.sleeps, events=f.events, storeAfter={key(scopes=["repo"]): stored(auth(scopes=["repo"]))},
       result=auth(scopes=["repo"]))

# A refresh token without a GitHub prefix (older GHES, other servers), echoed back.
ODD_RT = "rt-5f0c1e9a7b3d4c2e8f6a"
cached = auth("tok-8d2b6e4f1a3c5e7d9b0f", APPID, "github-app", refresh=ODD_RT,
              exp=iso(CLOCK + 3600000), rexp=iso(CLOCK + 86400000))
vector("redact-echoed-refresh-token",
       "A server echoes the refresh token it was sent (not GitHub-shaped) in error_description: the plugin knows it and redacts it; the dead entry is dropped.",
       [7, 10], export="refresh", input=APP_IN, store={APP_KEY: stored(cached)},
       exchanges=[ex(refresh_request(ODD_RT), json_response({"error": "bad_refresh_token",
                                                             "error_description": "refresh token " + ODD_RT + " is expired"}))],
       storeAfter={},
       error={"code": "bad_refresh_token", "description": "refresh token [redacted] is expired",
              "message": "refresh token [redacted] is expired (bad_refresh_token). The refresh token is expired, revoked or already used: sign in again."})

f = Flow(); f.first_wait(); f.poll(); assert f.after_pending(); f.poll()
vector("events-never-carry-tokens",
       "A full flow with an expiring GitHub App token: the events are exactly verification and polling, none carries the access or refresh token.",
       [7, 10], export="authenticate", input=APP_IN,
       exchanges=[ex(dc_request(APPID, app=True), json_response(dc_body())),
                  ex(token_request(APPID), pending()),
                  ex(token_request(APPID), json_response({"access_token": UTOK, "expires_in": 28800, "refresh_token": RTOK,
                                                          "refresh_token_expires_in": 15811200, "token_type": "bearer", "scope": ""}))],
       sleeps=f.sleeps, events=f.events,
       storeAfter={APP_KEY: stored(auth(UTOK, APPID, "github-app", refresh=RTOK, exp=iso(f.now + 28800000), rexp=iso(f.now + 15811200000)), received=f.now)},
       result=auth(UTOK, APPID, "github-app", refresh=RTOK, exp=iso(f.now + 28800000), rexp=iso(f.now + 15811200000)))
