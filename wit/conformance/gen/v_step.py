from lib import *

IN = {"clientId": CID, "scopes": ["repo"], "baseUrl": "{server}"}
K = key(scopes=["repo"])
A = auth(scopes=["repo"])
DCX = ex(dc_request(scope="repo"), json_response(dc_body()))
POLL = {"state": "{state}"}


def pending_result(f, next_at):
    return {"status": "pending", "state": "{any}", "nextPollAt": next_at, "interval": secs(f.iv),
            "expiresAt": f.deadline, "verification": f.events[0]}


# begin, an early poll, a pending poll, a completing poll.
f = Flow()
first_wake = f.now + wait(f.iv)
calls = [{"export": "begin", "input": IN, "result": pending_result(f, first_wake)}]
calls.append({"export": "poll", "input": POLL, "advanceMs": 1000, "result": pending_result(f, first_wake)})
f.now = first_wake
f.poll()
f.failures = 0
next_wake = f.now + wait(f.iv)
calls.append({"export": "poll", "input": POLL, "advanceMs": first_wake - CLOCK - 1000, "result": pending_result(f, next_wake)})
step = next_wake - f.now
f.now = next_wake
f.poll()
calls.append({"export": "poll", "input": POLL, "advanceMs": step,
              "result": {"status": "complete", "authentication": A}})
vector("begin-poll-complete",
       "begin answers the verification and nextPollAt without sleeping; a poll before nextPollAt sends nothing; later polls poll once each; the completing poll stores the token.",
       [2, 3], calls=calls, exchanges=[DCX, ex(token_request(), pending()), ex(token_request(), oauth_token(TOK, "repo"))],
       events=f.events, storeAfter={K: stored(A)})

# slow_down through the stepwise exports.
f = Flow()
first_wake = f.now + wait(f.iv)
calls = [{"export": "begin", "input": IN, "result": pending_result(f, first_wake)}]
f.now = first_wake
f.poll()
f.iv += 5000
f.events.append({"type": "slow_down", "interval": secs(f.iv)})
nxt = f.now + wait(f.iv)
calls.append({"export": "poll", "input": POLL, "advanceMs": wait(5000), "result": pending_result(f, nxt)})
# 10 s later is still too early for a 10.5 s wait.
calls.append({"export": "poll", "input": POLL, "advanceMs": 10000, "result": pending_result(f, nxt)})
f.now = nxt
f.poll()
calls.append({"export": "poll", "input": POLL, "advanceMs": 500, "result": {"status": "complete", "authentication": A}})
vector("begin-poll-slow-down",
       "slow_down between stepwise polls: the state carries the 10 s interval, so a poll 10 s later is still early and sends nothing.",
       [2], calls=calls, exchanges=[DCX, ex(token_request(), slow_down()), ex(token_request(), oauth_token(TOK, "repo"))],
       events=f.events, storeAfter={K: stored(A)})

# backoff through the stepwise exports.
f = Flow()
first_wake = f.now + wait(f.iv)
calls = [{"export": "begin", "input": IN, "result": pending_result(f, first_wake)}]
f.now = first_wake
f.poll()
w = backoff_wait(f.iv, 1)
f.events.append({"type": "backoff", "reason": "http", "waitMs": w, "status": 503})
calls.append({"export": "poll", "input": POLL, "advanceMs": wait(5000), "result": pending_result(f, f.now + w)})
f.now += w
f.poll()
calls.append({"export": "poll", "input": POLL, "advanceMs": w, "result": {"status": "complete", "authentication": A}})
vector("begin-poll-backoff",
       "A 503 answered to a stepwise poll: nextPollAt moves out by the doubled interval + margin.",
       [4], calls=calls, exchanges=[DCX, ex(token_request(), json_response({"message": "Service Unavailable"}, 503)),
                                    ex(token_request(), oauth_token(TOK, "repo"))],
       events=f.events, storeAfter={K: stored(A)})

# poll after the deadline.
f = Flow()
vector("begin-poll-after-deadline",
       "A poll called after the device code expired sends nothing and fails with expired_token.",
       [3], calls=[{"export": "begin", "input": IN, "result": pending_result(f, f.now + wait(5000))},
                   {"export": "poll", "input": POLL, "advanceMs": 900000, "error": {"code": "expired_token"}}],
       exchanges=[DCX], events=f.events)

# poll answered access_denied.
f = Flow()
first_wake = f.now + wait(f.iv)
calls = [{"export": "begin", "input": IN, "result": pending_result(f, first_wake)}]
f.now = first_wake; f.poll()
calls.append({"export": "poll", "input": POLL, "advanceMs": wait(5000),
              "error": {"code": "access_denied", "error": "access_denied"}})
vector("begin-poll-access-denied",
       "A stepwise poll answered access_denied fails with access_denied; nothing is stored.",
       [4], calls=calls, exchanges=[DCX, ex(token_request(), json_response({"error": "access_denied", "error_description": "The authorization request was denied."}))],
       events=f.events)

vector("begin-device-flow-disabled",
       "begin when the device flow is disabled: unsupported, at once.",
       [5], export="begin", input=IN,
       exchanges=[ex(dc_request(scope="repo"), json_response({"error": "device_flow_disabled", "error_description": "Device Flow must be explicitly enabled for this App"}, 400))],
       error={"code": "unsupported", "error": "device_flow_disabled"})

f = Flow(expires_ms=5000)
vector("begin-expires-before-first-poll",
       "begin with a code that expires before the first poll could be made: verification, then expired_token.",
       [3], export="begin", input=IN,
       exchanges=[ex(dc_request(scope="repo"), json_response(dc_body(expires_in=5)))],
       events=f.events, error={"code": "expired_token"})

vector("poll-missing-state",
       "poll without a state: invalid_input naming state.",
       [11], export="poll", input={"clientId": CID}, error={"code": "invalid_input", "messageContains": "state"})

vector("poll-foreign-state",
       "poll with a state no plugin wrote: invalid_input naming state, no request.",
       [11], export="poll", input={"state": {"v": 1, "phase": "waiting", "deviceCode": "DC1"}},
       error={"code": "invalid_input", "messageContains": "state"})

vector("poll-state-wrong-type",
       "poll with a state that is a string: invalid_input naming state.",
       [11], export="poll", input={"state": "eyJ2IjoxfQ=="}, error={"code": "invalid_input", "messageContains": "state"})
