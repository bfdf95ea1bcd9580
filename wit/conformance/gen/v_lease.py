"""Rule 7's lease and compare-and-swap: one refresh per credential across
processes, and no writer's fresh pair is ever dropped."""
from lib import *
from v_app import APP_IN, APP_KEY, app_auth, app_token, cached_app, EXP_S

expiring = cached_app(CLOCK + 60000)
other = app_auth(UTOK2, RTOK2, base=CLOCK)
WAIT_LONG = 960000
WAIT_QUIET = 60000


def waiting(ms):
    return {"type": "waiting", "reason": "lease", "waitMs": ms}


vector("lease-holder-refreshed-first",
       "Another process holds the lease on the expiring entry: this run says it is waiting, waits, then reads the pair the holder stored and uses it; it sends no request and spends no refresh token.",
       [7], export="authenticate", input=APP_IN, store={APP_KEY: stored(expiring)},
       otherLease={"key": APP_KEY, "writes": {APP_KEY: stored(other)}},
       events=[waiting(WAIT_LONG)], storeAfter={APP_KEY: stored(other)}, result=other)

vector("lease-holder-refreshed-first-quiet",
       "The same with interactive false (a token command): it waits a minute at most for the holder, then uses the holder's pair.",
       [7], export="authenticate", input=dict(APP_IN, interactive=False), store={APP_KEY: stored(expiring)},
       otherLease={"key": APP_KEY, "writes": {APP_KEY: stored(other)}},
       events=[waiting(WAIT_QUIET)], storeAfter={APP_KEY: stored(other)}, result=other)

f = Flow(); f.first_wait(); f.poll()
new = app_auth(UTOK2, RTOK2, base=CLOCK + 5000)
f.events.insert(0, waiting(WAIT_LONG))
vector("lease-holder-signed-out",
       "The lease holder removed the entry (a logout): under the lease this run finds nothing and runs a new device flow.",
       [7], export="authenticate", input=APP_IN, store={APP_KEY: stored(expiring)},
       otherLease={"key": APP_KEY, "writes": {APP_KEY: None}},
       exchanges=[ex(dc_request(APPID, app=True), json_response(dc_body())),
                  ex(token_request(APPID), app_token(UTOK2, RTOK2, date=http_date(CLOCK + 5000)))],
       sleeps=f.sleeps, events=f.events, storeAfter={APP_KEY: stored(new, received=f.now)}, result=new)

vector("lease-refresh-export-waits",
       "The refresh export waits for the lease too, then spends the refresh token it finds under the lease (the holder's), not the one it saw before.",
       [7], export="refresh", input=APP_IN, store={APP_KEY: stored(expiring)},
       otherLease={"key": APP_KEY, "writes": {APP_KEY: stored(other)}},
       exchanges=[ex(refresh_request(RTOK2), app_token(UTOK, RTOK, date=http_date(CLOCK)))],
       events=[waiting(WAIT_QUIET), {"type": "refreshed", "expiresAt": app_auth(base=CLOCK)["expiresAt"]}],
       storeAfter={APP_KEY: stored(app_auth(base=CLOCK), received=CLOCK)}, result=app_auth(base=CLOCK))

BAD = json_response({"error": "bad_refresh_token", "error_description": "The refresh token passed is incorrect or expired."})
vector("refresh-race-writer-without-lease",
       "While this run's refresh request is in flight, a writer that takes no lease stores a fresh pair and the server answers bad_refresh_token: the fresh pair is kept and used, nothing is deleted, no device flow.",
       [7], export="authenticate", input=APP_IN, store={APP_KEY: stored(expiring)},
       exchanges=[ex(refresh_request(RTOK), BAD, store_writes={APP_KEY: stored(other)})],
       storeAfter={APP_KEY: stored(other)}, result=other)

other_expiring = cached_app(CLOCK + 30000, token=UTOK2, refresh=RTOK2)
third = app_auth(UTOK, RTOK, base=CLOCK)
vector("refresh-race-writer-stored-expiring-pair",
       "The writer's pair is itself about to expire: this run refreshes once more with the writer's refresh token and stores the result over the writer's value.",
       [7], export="authenticate", input=APP_IN, store={APP_KEY: stored(expiring)},
       exchanges=[ex(refresh_request(RTOK), BAD, store_writes={APP_KEY: stored(other_expiring)}),
                  ex(refresh_request(RTOK2), app_token(UTOK, RTOK, date=http_date(CLOCK)))],
       events=[{"type": "refreshed", "expiresAt": third["expiresAt"]}],
       storeAfter={APP_KEY: stored(third, received=CLOCK)}, result=third)

vector("refresh-write-over-concurrent-change",
       "A writer without a lease replaces the entry while this run's refresh succeeds: the conditional write sees the change and the newly granted pair, the newest, is written over it.",
       [7], export="authenticate", input=APP_IN, store={APP_KEY: stored(expiring)},
       exchanges=[ex(refresh_request(RTOK), app_token(UTOK2, RTOK2, date=http_date(CLOCK)), store_writes={APP_KEY: stored(cached_app(CLOCK + 7200000, token="ghu_WriterWithoutLease0000000000000000", refresh="ghr_WriterWithoutLease000000000000000000000000000000000000000000000000000000000"))})],
       events=[{"type": "refreshed", "expiresAt": other["expiresAt"]}],
       storeAfter={APP_KEY: stored(other, received=CLOCK)}, result=other)
