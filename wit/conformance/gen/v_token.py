from lib import *

IN = {"clientId": CID, "scopes": ["repo"], "baseUrl": "{server}"}


def one_poll_error(name, desc, rules, body, code, status=200, message=None, contains=None, headers=None):
    f = Flow()
    f.first_wait()
    f.poll()
    err = {"code": code, "status": status}
    if "error" in body:
        err["error"] = body["error"]
    if "error_description" in body:
        err["description"] = body["error_description"]
    if "error_uri" in body:
        err["uri"] = body["error_uri"]
    if message:
        err["message"] = message
    if contains:
        err["messageContains"] = contains
    vector(name, desc, rules, export="authenticate", input=IN,
           exchanges=[ex(dc_request(scope="repo"), json_response(dc_body())),
                      ex(token_request(), json_response(body, status=status))],
           sleeps=f.sleeps, events=f.events, error=err)


one_poll_error("token-error-expired-token",
               "The server says the device code expired: polling stops at once with expired_token, in octokit's message form.",
               [1, 4],
               {"error": "expired_token", "error_description": "This 'device_code' has expired.",
                "error_uri": "https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow"},
               "expired_token",
               contains="This 'device_code' has expired. (expired_token, https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow)")

one_poll_error("token-error-access-denied",
               "The user cancelled in the browser: access_denied, no further poll, nothing stored.",
               [1, 4],
               {"error": "access_denied", "error_description": "The authorization request was denied.",
                "error_uri": "https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow"},
               "access_denied",
               contains="The authorization request was denied. (access_denied, https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow)")

one_poll_error("token-error-incorrect-client-credentials",
               "The token endpoint rejects the client id: incorrect_client_credentials.",
               [1, 4],
               {"error": "incorrect_client_credentials", "error_description": "The client_id and/or client_secret passed are incorrect.",
                "error_uri": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#incorrect-client-credentials"},
               "incorrect_client_credentials",
               contains="The client_id and/or client_secret passed are incorrect. (incorrect_client_credentials, https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#incorrect-client-credentials)")

one_poll_error("token-error-incorrect-device-code",
               "The server does not know the device code: incorrect_device_code.",
               [1, 4],
               {"error": "incorrect_device_code", "error_description": "The device_code provided is not valid."},
               "incorrect_device_code",
               contains="The device_code provided is not valid. (incorrect_device_code)")

one_poll_error("token-error-unsupported-grant-type",
               "The server refuses the device-code grant type: unsupported_grant_type.",
               [1, 4],
               {"error": "unsupported_grant_type", "error_description": "The grant type must be urn:ietf:params:oauth:grant-type:device_code.",
                "error_uri": "https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow"},
               "unsupported_grant_type",
               contains="The grant type must be urn:ietf:params:oauth:grant-type:device_code. (unsupported_grant_type, https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow)")

one_poll_error("token-error-unknown-is-oauth-error",
               "An error GitHub never documented: oauth_error carrying the raw error, description and uri, message exactly in octokit's form.",
               [1, 4],
               {"error": "temporarily_confused", "error_description": "Something unexpected happened.",
                "error_uri": "https://example.com/errors#confused"},
               "oauth_error",
               message="Something unexpected happened. (temporarily_confused, https://example.com/errors#confused)")

one_poll_error("token-error-unknown-http-400",
               "An RFC 6749 error with HTTP 400 (as standard servers send it): oauth_error with status 400 and no description or uri.",
               [1, 4],
               {"error": "invalid_request"},
               "oauth_error", status=400,
               contains="(invalid_request)")

one_poll_error("token-error-device-flow-disabled",
               "device_flow_disabled from the token endpoint is unsupported too, with the advice to enable the device flow.",
               [1, 4, 5],
               {"error": "device_flow_disabled", "error_description": "Device Flow must be explicitly enabled for this App",
                "error_uri": "https://docs.github.com"},
               "unsupported", status=400,
               contains="Enable Device Flow")

# A token at the first poll.
f = Flow()
f.first_wait()
f.poll()
vector("oauth-app-token-at-first-poll",
       "The user was quick: the first poll answers the token; one wait of interval + margin, granted scopes parsed from GitHub's comma list.",
       [1, 2, 6], export="authenticate", input={"clientId": CID, "scopes": "repo", "baseUrl": "{server}"},
       exchanges=[ex(dc_request(scope="repo"), json_response(dc_body())),
                  ex(token_request(), oauth_token(TOK, "repo"))],
       sleeps=f.sleeps, events=f.events,
       storeAfter={key(scopes=["repo"]): stored(auth(scopes=["repo"]))},
       result=auth(scopes=["repo"]))

# Granted fewer scopes than asked.
f = Flow()
f.first_wait()
f.poll()
vector("oauth-app-granted-fewer-scopes",
       "The user granted fewer scopes than asked: the result carries the granted scopes; the cache key keeps the requested set.",
       [6], export="authenticate", input={"clientId": CID, "scopes": ["repo", "gist"], "baseUrl": "{server}"},
       exchanges=[ex(dc_request(scope="repo gist"), json_response(dc_body())),
                  ex(token_request(), oauth_token(TOK, "gist"))],
       sleeps=f.sleeps, events=f.events,
       storeAfter={key(scopes=["gist", "repo"]): stored(auth(scopes=["gist"]))},
       result=auth(scopes=["gist"]))

# No scopes at all.
f = Flow()
f.first_wait()
f.poll()
vector("oauth-app-no-scopes",
       "An OAuth App with no scopes sends scope \"\"; the cache key's scope part is empty and the result has an empty scope list.",
       [1, 6], export="authenticate", input={"clientId": CID, "baseUrl": "{server}"},
       exchanges=[ex(dc_request(scope=""), json_response(dc_body())),
                  ex(token_request(), oauth_token(TOK, ""))],
       sleeps=f.sleeps, events=f.events,
       storeAfter={key(scopes=[]): stored(auth(scopes=[]))},
       result=auth(scopes=[]))

# Scopes as one string with commas, whitespace and duplicates.
f = Flow()
f.first_wait()
f.poll()
vector("scopes-string-commas-whitespace",
       "Scopes given as one string split on commas and white space and de-duplicated: sent space-joined in the order given (as octokit sends them), keyed sorted and comma-joined; the result reports the server's granted scopes in the server's order, as octokit does.",
       [1, 6], export="authenticate",
       input={"clientId": CID, "scopes": " repo,read:org\tgist  repo,,", "baseUrl": "{server}"},
       exchanges=[ex(dc_request(scope="repo read:org gist"), json_response(dc_body())),
                  ex(token_request(), oauth_token(TOK, "repo,read:org,gist"))],
       sleeps=f.sleeps, events=f.events,
       storeAfter={key(scopes=["gist", "read:org", "repo"]): stored(auth(scopes=["repo", "read:org", "gist"]))},
       result=auth(scopes=["repo", "read:org", "gist"]))

# Unusable answers while polling are transient (rule 4): back off, keep
# polling; three in a row end with invalid_response.
f = Flow()
f.first_wait()
f.poll()
f.after_garbage(200)
f.poll()
vector("token-response-malformed-json",
       "The token endpoint answers broken JSON under a JSON content type once: a transient fault like a 5xx (backoff), and the next poll's token is used.",
       [4, 11], export="authenticate", input=IN,
       exchanges=[ex(dc_request(scope="repo"), json_response(dc_body())),
                  ex(token_request(), {"status": 200, "headers": JSON_CT, "body": "{\"access_token\": \"gho_"}),
                  ex(token_request(), oauth_token(scope="repo"))],
       sleeps=f.sleeps, events=f.events, storeAfter={key(scopes=["repo"]): stored(auth(scopes=["repo"]))},
       result=auth(scopes=["repo"]))

GARBAGE = [
    ("html-404", {"status": 404, "headers": {"content-type": "text/html"}, "body": "<html><body>Not Found</body></html>"}, 404),
    ("no-access-token", json_response({"token_type": "bearer", "scope": "repo"}), 200),
    ("empty-body", {"status": 200, "headers": JSON_CT, "body": ""}, 200),
    ("redirect", {"status": 302, "headers": {"location": "https://evil.example/login"}, "body": ""}, 302),
    ("wrong-type", json_response({"access_token": 12345, "token_type": "bearer"}), 200),
    ("json-array", json_response(["authorization_pending"]), 200),
]
for gname, gresp, gstatus in GARBAGE:
    f = Flow()
    f.first_wait()
    f.poll()
    f.after_garbage(gstatus)
    f.poll()
    vector("token-response-%s-transient" % gname,
           "One unusable answer while polling (%s) is transient, like a 5xx: back off, poll again, and the token that follows is used (rule 4)." % gname,
           [4, 11], export="authenticate", input=IN,
           exchanges=[ex(dc_request(scope="repo"), json_response(dc_body())),
                      ex(token_request(), gresp),
                      ex(token_request(), oauth_token(scope="repo"))],
           sleeps=f.sleeps, events=f.events, storeAfter={key(scopes=["repo"]): stored(auth(scopes=["repo"]))},
           result=auth(scopes=["repo"]))

f = Flow()
f.first_wait()
f.poll()
f.after_garbage(404)
f.poll()
f.after_garbage(200)
f.poll()
vector("token-response-three-unusable-in-a-row",
       "Three unusable answers in a row while polling (an HTML 404, an empty body, broken JSON) end the flow with invalid_response and the last status.",
       [4, 11], export="authenticate", input=IN,
       exchanges=[ex(dc_request(scope="repo"), json_response(dc_body())),
                  ex(token_request(), {"status": 404, "headers": {"content-type": "text/html"}, "body": "<html>Not Found</html>"}),
                  ex(token_request(), {"status": 200, "headers": JSON_CT, "body": ""}),
                  ex(token_request(), {"status": 200, "headers": JSON_CT, "body": "{\"access_token\": \"gho_"})],
       sleeps=f.sleeps, events=f.events, error={"code": "invalid_response", "status": 200, "messageContains": "3 unusable answers in a row"})

f = Flow()
f.first_wait()
f.poll()
f.after_garbage(200)
f.poll()
f.after_pending()
f.poll()
f.after_garbage(200)
f.poll()
f.after_garbage(200)
f.poll()
vector("token-response-unusable-run-broken-by-pending",
       "An understood answer (authorization_pending) breaks a run of unusable answers: two, a pending, two more, then the token.",
       [4], export="authenticate", input=IN,
       exchanges=[ex(dc_request(scope="repo"), json_response(dc_body())),
                  ex(token_request(), {"status": 200, "headers": JSON_CT, "body": "oops"}),
                  ex(token_request(), pending()),
                  ex(token_request(), {"status": 200, "headers": JSON_CT, "body": ""}),
                  ex(token_request(), {"status": 200, "headers": JSON_CT, "body": "{"}),
                  ex(token_request(), oauth_token(scope="repo"))],
       sleeps=f.sleeps, events=f.events, storeAfter={key(scopes=["repo"]): stored(auth(scopes=["repo"]))},
       result=auth(scopes=["repo"]))
