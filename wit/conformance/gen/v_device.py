from lib import *

IN = {"clientId": CID, "scopes": ["repo"], "baseUrl": "{server}"}
DONE = {key(scopes=["repo"]): stored(auth(scopes=["repo"]))}
RESULT = auth(scopes=["repo"])
DCR = dc_request(scope="repo")


def dc_fail(name, desc, rules, response=None, fault=None, error=None, inp=IN, request=DCR):
    vector(name, desc, rules, export="authenticate", input=inp,
           exchanges=[ex(request, response, fault=fault)], error=error)


dc_fail("device-code-error-200-octokit-message",
        "GitHub answers the device-code request with HTTP 200 and an error: oauth_error, message exactly \"<error_description> (<error>, <error_uri>)\".",
        [1],
        json_response({"error": "some_error", "error_description": "Something went wrong.",
                       "error_uri": "https://docs.github.com/some-error"}),
        error={"code": "oauth_error", "message": "Something went wrong. (some_error, https://docs.github.com/some-error)",
               "error": "some_error", "description": "Something went wrong.", "uri": "https://docs.github.com/some-error",
               "status": 200})

dc_fail("device-code-incorrect-client-credentials",
        "An unknown client id answered with HTTP 200 + incorrect_client_credentials on the device-code request keeps its code.",
        [1],
        json_response({"error": "incorrect_client_credentials", "error_description": "The client_id and/or client_secret passed are incorrect."}),
        error={"code": "incorrect_client_credentials", "error": "incorrect_client_credentials",
               "messageContains": "The client_id and/or client_secret passed are incorrect. (incorrect_client_credentials)"})

dc_fail("device-code-device-flow-disabled",
        "device_flow_disabled (GitHub sends it with HTTP 400): unsupported, the server's fields kept, and a message that says how to enable the device flow.",
        [5],
        json_response({"error": "device_flow_disabled", "error_description": "Device Flow must be explicitly enabled for this App",
                       "error_uri": "https://docs.github.com/en/developers/apps/building-oauth-apps/authorizing-oauth-apps#device-flow"}, 400),
        error={"code": "unsupported", "error": "device_flow_disabled", "status": 400,
               "description": "Device Flow must be explicitly enabled for this App",
               "uri": "https://docs.github.com/en/developers/apps/building-oauth-apps/authorizing-oauth-apps#device-flow",
               "messageContains": "Enable Device Flow"})

for st, body in [(401, {"message": "Bad credentials"}), (403, {"message": "Forbidden"}),
                 (404, {"message": "Not Found"}), (422, {"message": "Validation Failed"})]:
    dc_fail("device-code-http-%d-unsupported" % st,
            "HTTP %d on the device-code request means the app cannot use the device flow: unsupported with status %d and how to enable it." % (st, st),
            [5], json_response(body, st),
            error={"code": "unsupported", "status": st, "messageContains": "Enable Device Flow"})

dc_fail("device-code-http-404-html-unsupported",
        "An HTML 404 page (no OAuth body at all) on the device-code request is still unsupported.",
        [5], {"status": 404, "headers": {"content-type": "text/html; charset=utf-8"}, "body": "<!DOCTYPE html><title>Page not found</title>"},
        error={"code": "unsupported", "status": 404})

dc_fail("device-code-http-503-network",
        "HTTP 503 on the device-code request: network with the status (retrying is the caller's choice; there is no deadline yet).",
        [], json_response({"message": "Service Unavailable"}, 503), error={"code": "network", "status": 503})

dc_fail("device-code-reset-network",
        "The connection is reset on the device-code request: network.",
        [], fault="reset", error={"code": "network"})

dc_fail("device-code-malformed-json",
        "Broken JSON under a JSON content type: invalid_response, nothing traps.",
        [11], {"status": 200, "headers": JSON_CT, "body": "{\"device_code\": \"DC1\", \"user_code\": "},
        error={"code": "invalid_response"})

dc_fail("device-code-json-array",
        "A JSON array instead of an object: invalid_response.",
        [11], {"status": 200, "headers": JSON_CT, "body": "[\"DC1\", \"WDJB-MJHT\"]"},
        error={"code": "invalid_response"})

dc_fail("device-code-missing-user-code",
        "A device-code response without user_code cannot be shown to anyone: invalid_response naming the fields.",
        [11], json_response({"device_code": "DC1", "verification_uri": "https://github.com/login/device", "expires_in": 900, "interval": 5}),
        error={"code": "invalid_response", "messageContains": "user_code"})

dc_fail("device-code-missing-device-code",
        "A device-code response without device_code: invalid_response.",
        [11], json_response({"user_code": "WDJB-MJHT", "verification_uri": "https://github.com/login/device", "expires_in": 900, "interval": 5}),
        error={"code": "invalid_response", "messageContains": "device_code"})

dc_fail("device-code-missing-verification-uri",
        "A device-code response with neither verification_uri nor verification_url: invalid_response.",
        [8, 11], json_response({"device_code": "DC1", "user_code": "WDJB-MJHT", "expires_in": 900, "interval": 5}),
        error={"code": "invalid_response", "messageContains": "verification_uri"})

dc_fail("device-code-malformed-interval",
        "interval \"soon\" is not a number of seconds: invalid_response.",
        [11], json_response(dc_body(interval="soon")),
        error={"code": "invalid_response", "messageContains": "interval"})

dc_fail("device-code-negative-expires-in",
        "A negative expires_in: invalid_response.",
        [11], json_response(dc_body(expires_in=-900)),
        error={"code": "invalid_response", "messageContains": "expires_in"})

dc_fail("device-code-slow-down-not-internal",
        "slow_down is internal to polling: answered to the device-code request it is an oauth_error (the raw error kept), never the internal code.",
        [1], json_response({"error": "slow_down", "error_description": "Too many device codes requested."}),
        error={"code": "oauth_error", "error": "slow_down", "description": "Too many device codes requested.",
               "message": "Too many device codes requested. (slow_down)"})

vector("sandbox-refuses-other-host",
       "baseUrl https://github.com while the host's sandbox allows only the scripted server: the request is refused (http_denied) and nothing is sent.",
       [], export="authenticate", input={"clientId": CID, "baseUrl": "https://github.com"},
       error={"code": "http_denied"})

# --- response formats ------------------------------------------------------
f = Flow(); f.first_wait(); f.poll(); assert f.after_pending(); f.poll()
vector("form-encoded-responses",
       "GitHub's form-encoded answers (content-type application/x-www-form-urlencoded): device code, pending and token all parsed.",
       [1], export="authenticate", input=IN,
       exchanges=[ex(DCR, {"status": 200, "headers": FORM_CT,
                           "body": "device_code=DC1&user_code=WDJB-MJHT&verification_uri=https%3A%2F%2Fgithub.com%2Flogin%2Fdevice&expires_in=900&interval=5"}),
                  ex(token_request(), {"status": 200, "headers": FORM_CT,
                                       "body": "error=authorization_pending&error_description=The+authorization+request+is+still+pending.&error_uri=https%3A%2F%2Fdocs.github.com"}),
                  ex(token_request(), {"status": 200, "headers": FORM_CT,
                                       "body": "access_token=" + TOK + "&scope=repo&token_type=bearer"})],
       sleeps=f.sleeps, events=f.events, storeAfter=DONE, result=RESULT)

f = Flow(); f.first_wait(); f.poll(); assert f.after_pending(); f.poll()
vector("no-content-type-json",
       "Answers with no content-type at all, JSON bodies: recognised as JSON.",
       [1], export="authenticate", input=IN,
       exchanges=[ex(DCR, {"status": 200, "headers": {}, "json": dc_body()}),
                  ex(token_request(), {"status": 200, "headers": {}, "json": {"error": "authorization_pending"}}),
                  ex(token_request(), {"status": 200, "headers": {}, "json": {"access_token": TOK, "token_type": "bearer", "scope": "repo"}})],
       sleeps=f.sleeps, events=f.events, storeAfter=DONE, result=RESULT)

f = Flow(); f.first_wait(); f.poll()
vector("no-content-type-form",
       "Answers with no content-type, form bodies: recognised as form data.",
       [1], export="authenticate", input=IN,
       exchanges=[ex(DCR, {"status": 200, "headers": {},
                           "body": "device_code=DC1&user_code=WDJB-MJHT&verification_uri=https%3A%2F%2Fgithub.com%2Flogin%2Fdevice&expires_in=900&interval=5"}),
                  ex(token_request(), {"status": 200, "headers": {}, "body": "access_token=" + TOK + "&scope=repo&token_type=bearer"})],
       sleeps=f.sleeps, events=f.events, storeAfter=DONE, result=RESULT)

f = Flow(); f.first_wait(); f.poll()
vector("json-text-plain-sniffed",
       "JSON served as text/plain (a misconfigured proxy): sniffed as JSON.",
       [1], export="authenticate", input=IN,
       exchanges=[ex(DCR, {"status": 200, "headers": {"content-type": "text/plain; charset=utf-8"}, "json": dc_body()}),
                  ex(token_request(), {"status": 200, "headers": {"content-type": "text/plain"}, "json": {"access_token": TOK, "token_type": "bearer", "scope": "repo"}})],
       sleeps=f.sleeps, events=f.events, storeAfter=DONE, result=RESULT)

f = Flow(); f.first_wait(); f.poll(); assert f.after_slow_down(); f.poll()
vector("encoding-form-requests",
       "encoding \"form\" (other RFC 8628 servers): every OAuth request is application/x-www-form-urlencoded; a standard server's HTTP 400 authorization errors are handled like GitHub's 200s.",
       [1, 2], export="authenticate", input={"clientId": CID, "scopes": "repo", "baseUrl": "{server}", "encoding": "form"},
       exchanges=[ex(dc_request(scope="repo", form=True), json_response(dc_body())),
                  ex(token_request(form=True), json_response({"error": "slow_down"}, 400)),
                  ex(token_request(form=True), json_response({"access_token": TOK, "token_type": "bearer", "scope": "repo"}))],
       sleeps=f.sleeps, events=f.events, storeAfter=DONE, result=RESULT)

f = Flow(); f.first_wait(); f.poll(); assert f.after_pending(); f.poll()
vector("standard-server-400-pending",
       "An RFC 8628 server answers authorization_pending with HTTP 400 (RFC 6749 section 5.2): still pending, polling goes on.",
       [1, 2], export="authenticate", input=IN,
       exchanges=[ex(DCR, json_response(dc_body())),
                  ex(token_request(), json_response({"error": "authorization_pending"}, 400)),
                  ex(token_request(), oauth_token(TOK, "repo"))],
       sleeps=f.sleeps, events=f.events, storeAfter=DONE, result=RESULT)

# --- verification fields ---------------------------------------------------
COMPLETE = "https://github.com/login/device?user_code=WDJB-MJHT"
f = Flow(complete=COMPLETE); f.first_wait(); f.poll()
vector("verification-uri-complete",
       "verification_uri_complete is passed on in the verification event.",
       [8], export="authenticate", input=IN,
       exchanges=[ex(DCR, json_response(dc_body(verification_uri_complete=COMPLETE))),
                  ex(token_request(), oauth_token(TOK, "repo"))],
       sleeps=f.sleeps, events=f.events, storeAfter=DONE, result=RESULT)

f = Flow(uri="https://example.com/device"); f.first_wait(); f.poll()
body = dc_body(); del body["verification_uri"]; body["verification_url"] = "https://example.com/device"
vector("verification-url-alias",
       "A server that spells it verification_url: accepted and handed on as verification_uri.",
       [8], export="authenticate", input=IN,
       exchanges=[ex(DCR, json_response(body)), ex(token_request(), oauth_token(TOK, "repo"))],
       sleeps=f.sleeps, events=f.events, storeAfter=DONE, result=RESULT)

f = Flow(); f.first_wait(); f.poll()
vector("verification-uri-preferred-over-url",
       "Both verification_uri and verification_url: verification_uri wins.",
       [8], export="authenticate", input=IN,
       exchanges=[ex(DCR, json_response(dc_body(verification_url="https://example.com/other"))),
                  ex(token_request(), oauth_token(TOK, "repo"))],
       sleeps=f.sleeps, events=f.events, storeAfter=DONE, result=RESULT)
