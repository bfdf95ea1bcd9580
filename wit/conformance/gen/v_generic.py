"""The generic profile: any RFC 8628 server, named by its issuer (OpenID
Connect Discovery, then RFC 8414) or by its endpoints. Expected values follow
RFC 8628, RFC 6749 (form bodies, errors as HTTP 400, HTTP Basic client
authentication, section 5.1's absent scope), RFC 7009 and OpenID Connect
(id_token, userinfo), and the issue's rules: the id_token is kept in the
result and the store and never in an event; expires_in without a
refresh_token makes the token expire; a refresh answer without a new refresh
token keeps none; the allow-list's origins are named by the plugin."""
import base64
import json
from lib import *

GCID = "cli-generic"
SECRET = "s3cr3t-client-secret"
ISS = "{server}/realms/r"
GTOK = "at.7Hq2Lx9Vb4Nc6Md8Kf1Jg3Ph5Rs0Tw"
GTOK2 = "at.2Zy9Xw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg"
GRT = "rt.Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6"
GRT2 = "rt.Z9x8C7v6B5n4M3l2K1j0H9g8F7d6S5a4"
IDT = "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIiwiaXNzIjoiaXNzIn0."
BASIC = "Basic " + base64.b64encode((GCID + ":" + SECRET).encode()).decode()
FORM_REQ = {"content-type": "application/x-www-form-urlencoded", "accept": "application/json"}
DC_URI = "{server}/device"
SCOPES = ["openid", "profile"]
DKEY = "deviceflow:v1:discovery|" + ISS


def gkey(server=ISS, scopes=SCOPES):
    return "deviceflow:v1:%s|generic|%s|%s" % (server, GCID, ",".join(sorted(scopes)))


def metadata(issuer=ISS, **drop):
    d = {"issuer": issuer,
         "device_authorization_endpoint": ISS + "/device",
         "token_endpoint": ISS + "/token",
         "userinfo_endpoint": ISS + "/userinfo",
         "revocation_endpoint": ISS + "/revoke",
         "grant_types_supported": [DC_GRANT, "refresh_token"]}
    for k in drop:
        d.pop(k, None)
    return d


def discovery_value(expires_at, post=False):
    return json.dumps({"issuer": ISS, "deviceEndpoint": ISS + "/device", "tokenEndpoint": ISS + "/token",
                       "userinfoEndpoint": ISS + "/userinfo", "revocationEndpoint": ISS + "/revoke",
                       "postSecret": post, "expiresAt": expires_at}, separators=(",", ":"))


def get(url):
    return {"method": "GET", "url": url, "headers": {"accept": "application/json"}}


def post(url, form, secret=True):
    h = dict(FORM_REQ)
    r = {"method": "POST", "url": url, "headers": h, "form": form}
    if secret:
        h["authorization"] = BASIC
    else:
        r["absentHeaders"] = ["authorization"]
    return r


def gdc_request(scope="openid profile", secret=True, url=ISS + "/device"):
    form = {"client_id": GCID}
    if scope:
        form["scope"] = scope
    return post(url, form, secret)


def gtoken_request(dc="DC1", secret=True, url=ISS + "/token"):
    return post(url, {"client_id": GCID, "device_code": dc, "grant_type": DC_GRANT}, secret)


def rfc_error(code, status=400, desc=None):
    b = {"error": code}
    if desc:
        b["error_description"] = desc
    return json_response(b, status, {"cache-control": "no-store"})


def gauth(token=GTOK, scopes=SCOPES, exp=None, refresh=None, id_token=None):
    a = {"type": "token", "tokenType": "bearer", "clientId": GCID, "token": token, "scopes": list(scopes)}
    if refresh:
        a["refreshToken"] = refresh
    if exp:
        a["expiresAt"] = exp
    if id_token:
        a["idToken"] = id_token
    return a


def gstored(a, local_exp=None):
    d = dict(a)
    if local_exp is not None:
        d["local"] = {"expiresAt": local_exp}
    return json.dumps(d, separators=(",", ":"))


def endpoints_event(origins=("{server}",)):
    return {"type": "endpoints", "issuer": ISS, "origins": list(origins)}


GIN = {"clientId": GCID, "scopes": SCOPES, "issuer": ISS, "clientSecret": SECRET}
META = ex(get(ISS + "/.well-known/openid-configuration"), json_response(metadata(), headers={"cache-control": "max-age=3600"}))
DISCOVERED = discovery_value(CLOCK + 3600 * 1000)
FRESH_EXP = CLOCK + 8 * 3600 * 1000  # a cached token good for eight hours


# --- a whole device flow from an issuer URL alone ---------------------------

f = Flow(uri=DC_URI, complete=DC_URI + "?user_code=WDJB-MJHT")
f.first_wait()
f.poll()
f.after_pending()
f.poll()
received = f.now
exp = received + 3600 * 1000
vector("generic-issuer-discovery-device-flow",
       "From an issuer with a path alone: the OpenID Connect discovery document (its Cache-Control max-age keeps it an hour in the store), "
       "the endpoints event naming the origins the host may reach, form-encoded requests with HTTP Basic client authentication, "
       "authorization_pending as HTTP 400, and a token answer without scope (the scopes requested), with expires_in and no refresh token "
       "(the cached token expires) and an id_token (kept in the result and the store, never in an event).",
       [1, 3, 7, 8],
       export="authenticate", input=GIN,
       exchanges=[META,
                  ex(gdc_request(), json_response(dc_body(verification_uri=DC_URI, verification_uri_complete=DC_URI + "?user_code=WDJB-MJHT"))),
                  ex(gtoken_request(), rfc_error("authorization_pending")),
                  ex(gtoken_request(), json_response({"access_token": GTOK, "token_type": "Bearer", "expires_in": 3600, "id_token": IDT},
                                                     headers={"cache-control": "no-store"}))],
       sleeps=f.sleeps,
       events=[endpoints_event()] + f.events,
       storeAfter={DKEY: DISCOVERED, gkey(): gstored(gauth(exp=iso(exp), id_token=IDT), exp)},
       result=gauth(exp=iso(exp), id_token=IDT))

vector("generic-discovery-cached",
       "A discovery document cached in the store and not yet expired is used without a request; the host still hears the origins (endpoints event) before any use.",
       [],
       export="authenticate", input=GIN,
       store={DKEY: DISCOVERED, gkey(): gstored(gauth(exp=iso(FRESH_EXP)), FRESH_EXP)},
       events=[endpoints_event()],
       result=gauth(exp=iso(FRESH_EXP)))

vector("generic-discovery-rfc8414-fallback",
       "An expired cached document is fetched again; no OpenID configuration (HTTP 404) falls back to RFC 8414's place, the well-known segment "
       "between the host and the issuer's path; without Cache-Control the document is kept a day.",
       [],
       export="authenticate", input=GIN,
       store={DKEY: discovery_value(CLOCK - 1), gkey(): gstored(gauth(exp=iso(FRESH_EXP)), FRESH_EXP)},
       exchanges=[ex(get(ISS + "/.well-known/openid-configuration"), {"status": 404, "headers": {"content-type": "text/plain"}, "body": "not found"}),
                  ex(get("{server}/.well-known/oauth-authorization-server/realms/r"), json_response(metadata()))],
       events=[endpoints_event()],
       storeAfter={DKEY: discovery_value(CLOCK + 24 * 3600 * 1000), gkey(): gstored(gauth(exp=iso(FRESH_EXP)), FRESH_EXP)},
       result=gauth(exp=iso(FRESH_EXP)))

vector("generic-discovery-post-secret",
       "A server whose metadata offers client_secret_post and not client_secret_basic gets the client secret in the form body, no Authorization header.",
       [1],
       export="begin", input=GIN,
       exchanges=[ex(get(ISS + "/.well-known/openid-configuration"),
                     json_response(dict(metadata(), token_endpoint_auth_methods_supported=["client_secret_post"]))),
                  ex({"method": "POST", "url": ISS + "/device", "headers": dict(FORM_REQ), "absentHeaders": ["authorization"],
                      "form": {"client_id": GCID, "scope": "openid profile", "client_secret": SECRET}},
                     json_response(dc_body(verification_uri=DC_URI)))],
       events=[endpoints_event(), verification(uri=DC_URI)],
       storeAfter={DKEY: discovery_value(CLOCK + 24 * 3600 * 1000, post=True)},
       result={"status": "pending", "state": "{any}", "nextPollAt": "{any}", "interval": 5, "expiresAt": "{any}",
               "verification": verification(uri=DC_URI)})

vector("generic-discovery-issuer-mismatch",
       "A metadata document naming another issuer is refused (OpenID Connect Discovery 4.3, RFC 8414 3.3): invalid_response, nothing sent to its endpoints.",
       [11],
       export="authenticate", input=GIN,
       exchanges=[ex(get(ISS + "/.well-known/openid-configuration"), json_response(metadata(issuer="https://evil.example/realms/r")))],
       error={"code": "invalid_response", "messageContains": "names the issuer"})

vector("generic-discovery-no-device-endpoint",
       "Metadata without device_authorization_endpoint: the server does not offer the device flow, unsupported.",
       [5],
       export="authenticate", input=GIN,
       exchanges=[ex(get(ISS + "/.well-known/openid-configuration"), json_response(metadata(device_authorization_endpoint=1)))],
       error={"code": "unsupported", "messageContains": "device_authorization_endpoint"})

vector("generic-discovery-missing",
       "No metadata at either place: unsupported, naming both URLs and the way out (configured endpoints).",
       [],
       export="authenticate", input=GIN,
       exchanges=[ex(get(ISS + "/.well-known/openid-configuration"), {"status": 404, "headers": {"content-type": "text/plain"}, "body": "nope"}),
                  ex(get("{server}/.well-known/oauth-authorization-server/realms/r"), {"status": 404, "headers": {"content-type": "text/plain"}, "body": "nope"})],
       error={"code": "unsupported", "status": 404, "messageContains": "deviceEndpoint and tokenEndpoint"})

# --- configured endpoints ----------------------------------------------------

EIN = {"clientId": GCID, "scopes": "openid", "deviceEndpoint": "{server}/oauth/device", "tokenEndpoint": "{server}/oauth/token"}
f = Flow(uri=DC_URI)
f.first_wait()
f.poll()
f.after_slow_down()
f.poll()
vector("generic-endpoints-400-slow-down-then-denied",
       "Configured endpoints need no discovery and no endpoints event; a public client sends no Authorization header; slow_down and access_denied "
       "arrive as HTTP 400 bodies: slow_down grows the interval, access_denied ends the flow.",
       [1, 2],
       export="authenticate", input=EIN,
       exchanges=[ex(gdc_request(scope="openid", secret=False, url="{server}/oauth/device"), json_response(dc_body(verification_uri=DC_URI))),
                  ex(gtoken_request(secret=False, url="{server}/oauth/token"), rfc_error("slow_down")),
                  ex(gtoken_request(secret=False, url="{server}/oauth/token"), rfc_error("access_denied", desc="The user denied the request."))],
       sleeps=f.sleeps, events=f.events,
       error={"code": "access_denied", "error": "access_denied", "status": 400, "description": "The user denied the request."})

vector("generic-invalid-client",
       "invalid_client (HTTP 401) on the device authorization request: incorrect_client_credentials, advice about the client id and secret, never GitHub's.",
       [],
       export="authenticate", input=dict(EIN, clientSecret=SECRET),
       exchanges=[ex(dict(gdc_request(scope="openid", url="{server}/oauth/device")),
                     rfc_error("invalid_client", 401, "Client authentication failed."))],
       error={"code": "incorrect_client_credentials", "error": "invalid_client", "status": 401,
              "message": "Client authentication failed. (invalid_client). Check the client id and client secret."})

vector("generic-unauthorized-client",
       "unauthorized_client on the device authorization request: unsupported, with advice to allow the grant for the client, not GitHub's settings.",
       [5],
       export="authenticate", input=EIN,
       exchanges=[ex(gdc_request(scope="openid", secret=False, url="{server}/oauth/device"), rfc_error("unauthorized_client"))],
       error={"code": "unsupported", "error": "unauthorized_client", "status": 400,
              "messageContains": "Allow the device authorization grant for this client"})

f = Flow(uri="https://www.google.com/device")
f.first_wait()
f.poll()
exp = f.now + 3599 * 1000
vector("generic-verification-url-and-granted-scope",
       "Google's shape: verification_url (the alias) and a token answer naming the scope granted, which wins over the one requested.",
       [6, 8],
       export="authenticate", input=EIN,
       exchanges=[ex(gdc_request(scope="openid", secret=False, url="{server}/oauth/device"),
                     json_response({"device_code": "DC1", "user_code": "WDJB-MJHT", "verification_url": "https://www.google.com/device",
                                    "expires_in": 900, "interval": 5})),
                  ex(gtoken_request(secret=False, url="{server}/oauth/token"),
                     json_response({"access_token": GTOK, "expires_in": 3599, "scope": "openid https://www.googleapis.com/auth/userinfo.email",
                                    "token_type": "Bearer"}))],
       sleeps=f.sleeps, events=f.events,
       storeAfter={"deviceflow:v1:{server}/oauth/token|generic|%s|openid" % GCID:
                   gstored(gauth(scopes=["openid", "https://www.googleapis.com/auth/userinfo.email"], exp=iso(exp)), exp)},
       result=gauth(scopes=["openid", "https://www.googleapis.com/auth/userinfo.email"], exp=iso(exp)))

EXPIRED = CLOCK - 1000
vector("generic-expired-without-refresh-starts-flow",
       "A cached token that expired and has no refresh token is stale: authenticate starts a new device flow.",
       [7],
       export="authenticate", input=EIN,
       store={gkey("{server}/oauth/token", ["openid"]): gstored(gauth(scopes=["openid"], exp=iso(EXPIRED)), EXPIRED)},
       exchanges=[ex(gdc_request(scope="openid", secret=False, url="{server}/oauth/device"), rfc_error("invalid_scope"))],
       error={"code": "oauth_error", "error": "invalid_scope", "status": 400})

# --- refresh, logout, check, authorize ---------------------------------------

RIN = dict(EIN, clientSecret=SECRET, revocationEndpoint="{server}/oauth/revoke", userinfoEndpoint="{server}/oauth/userinfo")
RKEY = gkey("{server}/oauth/token", ["openid"])
OLD = gauth(scopes=["openid"], refresh=GRT, exp=iso(CLOCK + 60000), id_token=IDT)


def refresh_req():
    return post("{server}/oauth/token", {"client_id": GCID, "grant_type": "refresh_token", "refresh_token": GRT})


exp = CLOCK + 300 * 1000
vector("generic-refresh-without-new-refresh-token-keeps-none",
       "The refresh grant with Basic client authentication; the server answers no new refresh token, so the new pair keeps none "
       "(the spent one is not carried over), and no new id_token either.",
       [7],
       export="refresh", input=RIN,
       store={RKEY: gstored(OLD, CLOCK + 60000)},
       exchanges=[ex(refresh_req(), json_response({"access_token": GTOK2, "token_type": "Bearer", "expires_in": 300}))],
       events=[{"type": "refreshed", "expiresAt": iso(exp)}],
       storeAfter={RKEY: gstored(gauth(token=GTOK2, scopes=["openid"], exp=iso(exp)), exp)},
       result=gauth(token=GTOK2, scopes=["openid"], exp=iso(exp)))

vector("generic-refresh-rotated",
       "A rotating server answers a new refresh token: it replaces the spent one.",
       [7],
       export="refresh", input=RIN,
       store={RKEY: gstored(OLD, CLOCK + 60000)},
       exchanges=[ex(refresh_req(), json_response({"access_token": GTOK2, "token_type": "Bearer", "expires_in": 300, "refresh_token": GRT2}))],
       events=[{"type": "refreshed", "expiresAt": iso(exp)}],
       storeAfter={RKEY: gstored(gauth(token=GTOK2, scopes=["openid"], exp=iso(exp), refresh=GRT2), exp)},
       result=gauth(token=GTOK2, scopes=["openid"], exp=iso(exp), refresh=GRT2))

vector("generic-refresh-invalid-grant",
       "invalid_grant on the refresh grant (RFC 6749 5.2: invalid, expired or revoked) is bad_refresh_token: the dead entry is removed.",
       [7],
       export="refresh", input=RIN,
       store={RKEY: gstored(OLD, CLOCK + 60000)},
       exchanges=[ex(refresh_req(), rfc_error("invalid_grant", desc="Token is not active"))],
       storeAfter={},
       error={"code": "bad_refresh_token", "error": "invalid_grant", "status": 400})

vector("generic-logout-revokes",
       "Logout removes the entry, then revokes its refresh token at the server's revocation endpoint (RFC 7009, form-encoded, Basic client authentication).",
       [],
       export="logout", input=RIN,
       store={RKEY: gstored(OLD, CLOCK + 60000)},
       exchanges=[ex(post("{server}/oauth/revoke", {"client_id": GCID, "token": GRT, "token_type_hint": "refresh_token"}), {"status": 200, "headers": {}, "body": ""})],
       storeAfter={},
       result={"removed": True, "revoked": True})

vector("generic-logout-revocation-fails",
       "A revocation the server refuses still logs out: removed, revoked false.",
       [],
       export="logout", input=RIN,
       store={RKEY: gstored(OLD, CLOCK + 60000)},
       exchanges=[ex(post("{server}/oauth/revoke", {"client_id": GCID, "token": GRT, "token_type_hint": "refresh_token"}),
                     rfc_error("unsupported_token_type"))],
       storeAfter={},
       result={"removed": True, "revoked": False})

vector("generic-check-userinfo",
       "check asks the userinfo endpoint with a Bearer token: valid, the preferred_username as login, and the subject.",
       [],
       export="check", input=RIN,
       store={RKEY: gstored(OLD, CLOCK + 60000)},
       exchanges=[ex({"method": "GET", "url": "{server}/oauth/userinfo", "headers": {"authorization": "Bearer " + GTOK, "accept": "application/json"}},
                     json_response({"sub": "248289761001", "preferred_username": "jane", "email": "jane@example.com"}))],
       result={"valid": True, "login": "jane", "sub": "248289761001"})

vector("generic-check-userinfo-401",
       "The userinfo endpoint refusing the token (401): valid false.",
       [],
       export="check", input=RIN,
       store={RKEY: gstored(OLD, CLOCK + 60000)},
       exchanges=[ex({"method": "GET", "url": "{server}/oauth/userinfo", "headers": {"authorization": "Bearer " + GTOK}},
                     json_response({"error": "invalid_token"}, 401))],
       result={"valid": False})

vector("generic-check-without-userinfo",
       "check without a userinfo endpoint: unsupported, naming the option.",
       [],
       export="check", input=EIN,
       store={gkey("{server}/oauth/token", ["openid"]): gstored(gauth(scopes=["openid"]))},
       error={"code": "unsupported", "messageContains": "userinfoEndpoint"})

FRESH = gauth(scopes=["openid"], exp=iso(FRESH_EXP))
vector("generic-authorize-bearer",
       "authorize gives a generic server's token as a Bearer credential for the server's own origins.",
       [],
       export="authorize", input=dict(EIN, url="{server}/oauth/userinfo", method="GET"),
       store={RKEY: gstored(FRESH, FRESH_EXP)},
       result={"headers": {"authorization": "Bearer " + GTOK}})

vector("generic-authorize-token-endpoint-no-credentials",
       "authorize gives no credentials for the OAuth endpoints themselves.",
       [],
       export="authorize", input=dict(EIN, url="{server}/oauth/token", method="POST"),
       store={RKEY: gstored(FRESH, FRESH_EXP)},
       result={"headers": {}})

vector("generic-authorize-foreign-origin-no-credentials",
       "authorize gives no credentials to an origin the configuration does not name, nor to a relative URL (a generic server has no API root).",
       [10],
       calls=[{"export": "authorize", "input": dict(EIN, url="https://api.example.com/things", method="GET"), "result": {"headers": {}}},
              {"export": "authorize", "input": dict(EIN, url="/things", method="GET"), "result": {"headers": {}}}],
       store={RKEY: gstored(FRESH, FRESH_EXP)})

# --- begin and poll ----------------------------------------------------------

vector("generic-begin-poll-from-issuer",
       "begin and poll from an issuer: the flow state carries the discovered endpoints (never the client secret, which poll's input names again), "
       "and poll names the origins to its host again before it polls.",
       [1],
       calls=[{"export": "begin", "input": GIN,
               "result": {"status": "pending", "state": "{any}", "nextPollAt": "{any}", "interval": 5, "expiresAt": "{any}",
                          "verification": verification(uri=DC_URI)}},
              {"export": "poll", "input": {"clientId": GCID, "clientSecret": SECRET, "state": "{state}"}, "advanceMs": 5250,
               "result": {"status": "complete", "authentication": gauth(exp=iso(CLOCK + 5250 + 3600000))}}],
       exchanges=[META,
                  ex(gdc_request(), json_response(dc_body(verification_uri=DC_URI))),
                  ex(gtoken_request(), json_response({"access_token": GTOK, "token_type": "Bearer", "expires_in": 3600}))],
       events=[endpoints_event(), verification(uri=DC_URI), endpoints_event(),
               {"type": "polling", "attempt": 1, "interval": 5, "remainingMs": 900000 - 5250}],
       storeAfter={DKEY: DISCOVERED, gkey(): gstored(gauth(exp=iso(CLOCK + 5250 + 3600000)), CLOCK + 5250 + 3600000)})

# --- input and info ----------------------------------------------------------

for name, inp, field, desc in [
    ("generic-input-issuer-and-base-url", dict(GIN, baseUrl="https://github.com"), "baseUrl",
     "An issuer and a GitHub base URL together: invalid_input naming baseUrl."),
    ("generic-input-client-type", dict(GIN, clientType="oauth-app"), "clientType",
     "GitHub's client types mean nothing to a generic server: invalid_input naming clientType."),
    ("generic-input-issuer-http", dict(GIN, issuer="http://idp.example.com/realms/r"), "issuer",
     "An http issuer that is not loopback: invalid_input naming issuer."),
    ("generic-input-issuer-query", dict(GIN, issuer=ISS + "?x=1"), "issuer",
     "An issuer with a query: invalid_input naming issuer."),
    ("generic-input-device-without-token", {"clientId": GCID, "deviceEndpoint": "{server}/oauth/device"}, "tokenEndpoint",
     "A device endpoint without a token endpoint or issuer: invalid_input naming tokenEndpoint."),
    ("github-input-client-secret", {"clientId": CID, "baseUrl": "{server}", "clientSecret": SECRET}, "clientSecret",
     "The GitHub profile keeps its rules: its device flow takes no client secret, invalid_input naming clientSecret."),
]:
    vector(name, desc, [11], export="authenticate", input=inp,
           error={"code": "invalid_input", "messageContains": "invalid input: " + field + ":"})

vector("info-generic-issuer",
       "info with an issuer answers the generic endpoints (discovery pending) and the allow-list the host starts with: the issuer's origin.",
       [],
       export="info", input={"issuer": ISS},
       result={"name": "deviceflow", "version": "{any}", "abi": "{any}", "exports": "{any}", "imports": "{any}", "errorCodes": "{any}", "responseHeaders": "{any}",
               "endpoints": {"base": "{server}", "api": "{server}", "profile": "generic", "issuer": ISS, "discover": True},
               "allow": ["{server}"]})

vector("info-generic-endpoints",
       "info with configured endpoints answers them and the allow-list of all their origins, in order and without duplicates.",
       [],
       export="info", input={"deviceEndpoint": "https://oauth2.googleapis.com/device/code", "tokenEndpoint": "https://oauth2.googleapis.com/token",
                             "userinfoEndpoint": "https://openidconnect.googleapis.com/v1/userinfo"},
       result={"name": "deviceflow", "version": "{any}", "abi": "{any}", "exports": "{any}", "imports": "{any}", "errorCodes": "{any}", "responseHeaders": "{any}",
               "endpoints": {"base": "https://oauth2.googleapis.com", "api": "https://openidconnect.googleapis.com", "profile": "generic",
                             "deviceEndpoint": "https://oauth2.googleapis.com/device/code", "tokenEndpoint": "https://oauth2.googleapis.com/token",
                             "userinfoEndpoint": "https://openidconnect.googleapis.com/v1/userinfo"},
               "allow": ["https://oauth2.googleapis.com", "https://openidconnect.googleapis.com"]})
