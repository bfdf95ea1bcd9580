from lib import *

IN = {"clientId": CID, "scopes": ["repo"], "baseUrl": "{server}"}
DONE = {key(scopes=["repo"]): stored(auth(scopes=["repo"]))}
RESULT = auth(scopes=["repo"])
DCX = ex(dc_request(scope="repo"), json_response(dc_body()))


def ok_vector(name, desc, rules, f, polls, dcx=DCX, **kw):
    vector(name, desc, rules, export="authenticate", input=kw.pop("input", IN),
           exchanges=[dcx] + polls, sleeps=f.sleeps, events=f.events,
           storeAfter=kw.pop("storeAfter", DONE), result=kw.pop("result", RESULT), **kw)


# --- slow_down -------------------------------------------------------------
f = Flow(); f.first_wait()
f.poll(); assert f.after_slow_down()
f.poll()
ok_vector("slow-down-once",
          "slow_down without an interval: the interval grows by 5 s for this and later polls (10 s + margin), a slow_down event, never fatal.",
          [2], f, [ex(token_request(), slow_down()), ex(token_request(), oauth_token(TOK, "repo"))])

f = Flow(); f.first_wait()
f.poll(); assert f.after_slow_down()
f.poll(); assert f.after_slow_down()
f.poll(); assert f.after_pending()
f.poll()
ok_vector("slow-down-repeated",
          "Two slow_downs in a row: 5 s → 10 s → 15 s; a later authorization_pending keeps the grown interval.",
          [2], f, [ex(token_request(), slow_down()), ex(token_request(), slow_down()),
                   ex(token_request(), pending()), ex(token_request(), oauth_token(TOK, "repo"))])

f = Flow(); f.first_wait()
f.poll(); assert f.after_slow_down(20000)
f.poll()
ok_vector("slow-down-server-interval-larger",
          "slow_down carrying interval 20: max(5 + 5, 20) = 20 s.",
          [2], f, [ex(token_request(), slow_down(20)), ex(token_request(), oauth_token(TOK, "repo"))])

f = Flow(interval_ms=10000); f.first_wait()
f.poll(); assert f.after_slow_down(12000)
f.poll()
ok_vector("slow-down-server-interval-smaller",
          "Interval 10 s, then slow_down carrying interval 12: max(10 + 5, 12) = 15 s; the server's smaller figure never shrinks the step.",
          [2], f, [ex(token_request(), slow_down(12)), ex(token_request(), oauth_token(TOK, "repo"))],
          dcx=ex(dc_request(scope="repo"), json_response(dc_body(interval=10))))

f = Flow(); f.first_wait()
f.poll(); assert f.after_slow_down(3000)
f.poll(); assert f.after_slow_down(30000)
f.poll()
ok_vector("slow-down-mixed-server-intervals",
          "slow_down with interval 3 (ignored: 5 + 5 = 10 is larger), then slow_down with interval 30 (taken: larger than 15).",
          [2], f, [ex(token_request(), slow_down(3)), ex(token_request(), slow_down(30)),
                   ex(token_request(), oauth_token(TOK, "repo"))])

f = Flow(interval_ms=2500); f.first_wait()
f.poll(); assert f.after_slow_down()
f.poll()
ok_vector("fractional-interval-with-slow-down",
          "A fractional interval of 2.5 s waits 2625 ms; slow_down makes it 7.5 s (7875 ms with margin); events carry 2.5 and 7.5.",
          [1, 2], f, [ex(token_request(), slow_down()), ex(token_request(), oauth_token(TOK, "repo"))],
          dcx=ex(dc_request(scope="repo"), json_response(dc_body(interval=2.5))))

f = Flow(interval_ms=500); f.first_wait()
f.poll(); assert f.after_pending()
f.poll()
ok_vector("fractional-interval-half-second",
          "interval 0.5: each wait is 500 ms + ceil(500/20) = 525 ms.",
          [1, 2], f, [ex(token_request(), pending()), ex(token_request(), oauth_token(TOK, "repo"))],
          dcx=ex(dc_request(scope="repo"), json_response(dc_body(interval=0.5))))

f = Flow(); f.first_wait()
f.poll()
ok_vector("defaults-missing-interval-and-expires-in",
          "The device-code response has no interval and no expires_in: 5 s and 900 s are used, and the verification event says so.",
          [2, 3], f, [ex(token_request(), oauth_token(TOK, "repo"))],
          dcx=ex(dc_request(scope="repo"), json_response(dc_body(interval=None, expires_in=None))))

# --- backoff ---------------------------------------------------------------
f = Flow(); f.first_wait()
f.poll(); assert f.after_failure("network")
f.poll(); assert f.after_pending()
f.poll()
ok_vector("backoff-reset-then-recovery",
          "A poll whose connection is reset: backoff (twice the interval + margin), then the next answer resets the wait to the interval.",
          [4], f, [ex(token_request(), fault="reset"), ex(token_request(), pending()),
                   ex(token_request(), oauth_token(TOK, "repo"))])

f = Flow(); f.first_wait()
f.poll(); assert f.after_failure("timeout")
f.poll()
ok_vector("backoff-timeout",
          "A poll that times out at the host's cap: a backoff event with reason timeout, then polling goes on.",
          [4], f, [ex(token_request(), fault="timeout"), ex(token_request(), oauth_token(TOK, "repo"))])

f = Flow(); f.first_wait()
f.poll(); assert f.after_failure("http", 429, 30000)
f.poll()
ok_vector("backoff-429-retry-after",
          "HTTP 429 with Retry-After: 30 waits 30 s (longer than the doubled interval) + margin.",
          [4], f, [ex(token_request(), json_response({"message": "rate limited"}, 429, {"retry-after": "30"})),
                   ex(token_request(), oauth_token(TOK, "repo"))])

f = Flow(); f.first_wait()
f.poll(); assert f.after_failure("http", 429, 2000)
f.poll()
ok_vector("backoff-429-retry-after-shorter",
          "HTTP 429 with Retry-After: 2 shorter than the doubled interval: the doubled interval wins.",
          [4], f, [ex(token_request(), json_response({"message": "rate limited"}, 429, {"retry-after": "2"})),
                   ex(token_request(), oauth_token(TOK, "repo"))])

f = Flow(); f.first_wait()
polls = []
for i in range(5):
    f.poll(); assert f.after_failure("http", 500)
    polls.append(ex(token_request(), {"status": 500, "headers": {"content-type": "text/plain"}, "body": "oops"}))
f.poll()
polls.append(ex(token_request(), oauth_token(TOK, "repo")))
ok_vector("backoff-500-doubling-capped",
          "Five HTTP 500s in a row: waits double (10, 20, 40 s) and stop at 60 s (+ margin), then the token.",
          [4], f, polls)

f = Flow(); f.first_wait()
f.poll(); assert f.after_failure("http", 503)
f.poll(); assert f.after_pending()
f.poll(); assert f.after_failure("http", 503)
f.poll()
ok_vector("backoff-503-failures-reset",
          "503, pending, 503: the second failure waits twice the interval again, not four times: an answer resets the failure count.",
          [4], f, [ex(token_request(), json_response({"message": "Service Unavailable"}, 503)),
                   ex(token_request(), pending()),
                   ex(token_request(), json_response({"message": "Service Unavailable"}, 503)),
                   ex(token_request(), oauth_token(TOK, "repo"))])

f = Flow(interval_ms=70000); f.first_wait()
f.poll(); assert f.after_failure("http", 502)
f.poll()
ok_vector("backoff-long-interval",
          "With a 70 s interval the backoff cap is the interval itself: a 502 waits 70 s + margin, never less than the interval.",
          [2, 4], f, [ex(token_request(), {"status": 502, "headers": {"content-type": "text/html"}, "body": "<html>Bad Gateway</html>"}),
                      ex(token_request(), oauth_token(TOK, "repo"))],
          dcx=ex(dc_request(scope="repo"), json_response(dc_body(interval=70))))

f = Flow(); f.first_wait()
f.poll(); assert f.after_slow_down()
f.poll(); assert f.after_failure("network")
f.poll()
ok_vector("slow-down-then-backoff",
          "After slow_down (10 s) a reset backs off from the grown interval: 20 s + 500 ms margin.",
          [2, 4], f, [ex(token_request(), slow_down()), ex(token_request(), fault="reset"),
                      ex(token_request(), oauth_token(TOK, "repo"))])

# --- deadline --------------------------------------------------------------
f = Flow(expires_ms=5000)
vector("deadline-before-first-poll",
       "expires_in 5 with interval 5: the first poll would fall on the deadline, so none is made: verification, then expired_token.",
       [3], export="authenticate", input=IN,
       exchanges=[ex(dc_request(scope="repo"), json_response(dc_body(expires_in=5)))],
       events=f.events, error={"code": "expired_token"})

f = Flow(expires_ms=12000); f.first_wait()
f.poll(); assert f.after_pending()
f.poll(); assert not f.after_pending()
vector("deadline-expires-in-small",
       "expires_in 12: polls at 5.25 s and 10.5 s; the next would be at 15.75 s, past the deadline: expired_token without a third request.",
       [3], export="authenticate", input=IN,
       exchanges=[ex(dc_request(scope="repo"), json_response(dc_body(expires_in=12))),
                  ex(token_request(), pending()), ex(token_request(), pending())],
       sleeps=f.sleeps, events=f.events, error={"code": "expired_token"})

f = Flow(expires_ms=20000); f.first_wait()
f.poll(latency=12000); assert not f.after_pending()
vector("deadline-latency-pushes-past",
       "A slow poll (12 s in flight) answers pending at 17.25 s of a 20 s code: the next poll would be late, so the flow ends with expired_token.",
       [3], export="authenticate", input=IN,
       exchanges=[ex(dc_request(scope="repo"), json_response(dc_body(expires_in=20))),
                  ex(token_request(), pending(), advance=12000)],
       sleeps=f.sleeps, events=f.events, error={"code": "expired_token"})

f = Flow(expires_ms=30000); f.first_wait()
f.poll(); assert f.after_failure("http", 500)
f.poll(); assert not f.after_failure("http", 500)
vector("deadline-during-backoff",
       "Backoff keeps polling only until the deadline: a second 500 asks for a 20 s wait that would end past the 30 s code, so the flow ends (after the backoff event).",
       [3, 4], export="authenticate", input=IN,
       exchanges=[ex(dc_request(scope="repo"), json_response(dc_body(expires_in=30))),
                  ex(token_request(), json_response({"message": "Server Error"}, 500)),
                  ex(token_request(), json_response({"message": "Server Error"}, 500))],
       sleeps=f.sleeps, events=f.events, error={"code": "expired_token"})

f = Flow(latency=4000)
f.first_wait()
f.poll()
vector("deadline-counts-from-response",
       "The device-code response takes 4 s to arrive: the deadline counts from its arrival, so the first poll has 900 s - 5.25 s left.",
       [3], export="authenticate", input=IN,
       exchanges=[ex(dc_request(scope="repo"), json_response(dc_body()), advance=4000),
                  ex(token_request(), oauth_token(TOK, "repo"))],
       sleeps=f.sleeps, events=f.events, storeAfter=DONE, result=RESULT)

f = Flow(expires_ms=10000); f.first_wait()
f.poll(latency=6000)
vector("deadline-token-in-flight-accepted",
       "A poll sent before the deadline whose token arrives after it: the token is good and is returned.",
       [3], export="authenticate", input=IN,
       exchanges=[ex(dc_request(scope="repo"), json_response(dc_body(expires_in=10))),
                  ex(token_request(), oauth_token(TOK, "repo"), advance=6000)],
       sleeps=f.sleeps, events=f.events, storeAfter=DONE, result=RESULT)

# --- cancellation ----------------------------------------------------------
f = Flow(); f.sleep(wait(5000), cancelled=True)
vector("cancel-at-first-sleep",
       "The host cancels the first wait: cancelled, no poll made, nothing stored.",
       [], export="authenticate", input=IN, exchanges=[DCX], sleeps=f.sleeps, cancelAtSleep=1,
       events=f.events, error={"code": "cancelled"})

f = Flow(); f.first_wait()
f.poll(); f.failures += 1
w = backoff_wait(f.iv, 1)
f.events.append({"type": "backoff", "reason": "http", "waitMs": w, "status": 503})
f.sleep(w, cancelled=True)
vector("cancel-during-backoff",
       "The host cancels the backoff wait after a 503: cancelled.",
       [4], export="authenticate", input=IN,
       exchanges=[DCX, ex(token_request(), json_response({"message": "Service Unavailable"}, 503))],
       sleeps=f.sleeps, cancelAtSleep=2, events=f.events, error={"code": "cancelled"})

f = Flow()
vector("cancel-at-verification-event",
       "The application cancels from the verification event (the user closed the prompt): cancelled before any wait or poll.",
       [], export="authenticate", input=IN, exchanges=[DCX], cancelAtEvent="verification",
       events=f.events, error={"code": "cancelled"})

f = Flow(); f.first_wait(); f.poll()
vector("cancel-at-polling-event",
       "The application cancels from the first polling event: the poll request is never sent.",
       [], export="authenticate", input=IN, exchanges=[DCX], cancelAtEvent="polling",
       sleeps=f.sleeps, events=f.events, error={"code": "cancelled"})
