"""Rule 4's clocks: poll timeouts clamped to the code's time left, and waits
measured on the monotonic clock while the wall clock steps."""
from lib import *

IN = {"clientId": CID, "scopes": ["repo"], "baseUrl": "{server}"}
APP_IN = {"clientId": APPID, "clientType": "github-app", "baseUrl": "{server}"}

# A 45 s code, pending until it expires: every poll asks for 30 s clamped to
# the time left, so no request outlives the deadline.
f = Flow(expires_ms=45000)
f.events[0]["expires_in"] = 45
f.first_wait()
exchanges = [ex(dc_request(scope="repo"), json_response(dc_body(expires_in=45)))]
while True:
    t = f.poll_timeout()
    f.poll()
    exchanges.append(ex(timed(token_request(), t), pending()))
    if not f.after_pending():
        break
vector("deadline-poll-timeout-clamped",
       "Each poll asks the host for a timeout of 30 s clamped to the time the device code has left (45 s code: 30 s, ..., 3 s), so no request outlives the deadline; then expired_token.",
       [3, 4], export="authenticate", input=IN, exchanges=exchanges,
       sleeps=f.sleeps, events=f.events, error={"code": "expired_token"})


def stepped(name, desc, step_ms, app=False):
    f = Flow()
    f.first_wait()
    f.poll()
    f.after_pending()
    f.poll()
    if app:
        wall = f.now + step_ms  # the wall clock when the token arrives
        a = auth(UTOK, APPID, "github-app", refresh=RTOK, exp=iso(wall + 28800000), rexp=iso(wall + 15811200000))
        body = json_response({"access_token": UTOK, "expires_in": 28800, "refresh_token": RTOK,
                              "refresh_token_expires_in": 15811200, "token_type": "bearer", "scope": ""})
        vector(name, desc, [4, 7], export="authenticate", input=APP_IN, wallSteps=[{"atSleep": 1, "ms": step_ms}],
               exchanges=[ex(dc_request(APPID, app=True), json_response(dc_body())),
                          ex(token_request(APPID), pending()), ex(token_request(APPID), body)],
               sleeps=f.sleeps, events=f.events, storeAfter={key(APPID, "github-app", []): stored(a, received=wall)}, result=a)
        return
    vector(name, desc, [2, 3, 4], export="authenticate", input=IN, wallSteps=[{"atSleep": 1, "ms": step_ms}],
           exchanges=[ex(dc_request(scope="repo"), json_response(dc_body())),
                      ex(token_request(), pending()), ex(token_request(), oauth_token(scope="repo"))],
           sleeps=f.sleeps, events=f.events, storeAfter={key(scopes=["repo"]): stored(auth(scopes=["repo"]))},
           result=auth(scopes=["repo"]))


stepped("clock-wall-steps-back-an-hour",
        "The wall clock is set back an hour during the first wait: polling goes on at the interval (waits and the deadline run on the monotonic clock) and the token arrives.", -3600000)
stepped("clock-wall-steps-forward-an-hour",
        "The wall clock jumps an hour ahead during the first wait: the code has not expired (its deadline is monotonic), polling goes on, the token arrives.", 3600000)
stepped("clock-wall-steps-back-a-day",
        "The wall clock is set back a day during the first wait: polling goes on at the interval and the token arrives.", -86400000)
stepped("clock-wall-steps-forward-a-day",
        "The wall clock jumps a day ahead during the first wait: polling goes on and the token arrives.", 86400000)
stepped("clock-wall-step-expiry-stamps-use-wall",
        "Expiry stamps use the wall clock as it is when the token arrives (no Date header): set back an hour, expiresAt is an hour earlier, while the waits are unchanged.", -3600000, app=True)
