from lib import *


def bad(name, desc, inp, field, export="authenticate"):
    vector(name, desc, [11], export=export, input=inp,
           error={"code": "invalid_input", "messageContains": field})


bad("invalid-input-missing-client-id", "No clientId: invalid_input naming clientId, no request.",
    {"scopes": ["repo"], "baseUrl": "{server}"}, "clientId")
bad("invalid-input-blank-client-id", "A clientId of white space only: invalid_input naming clientId.",
    {"clientId": "   ", "baseUrl": "{server}"}, "clientId")
bad("invalid-input-client-id-number", "clientId given as a number: invalid_input naming clientId.",
    {"clientId": 12345, "baseUrl": "{server}"}, "clientId")
bad("invalid-input-unknown-client-type", "clientType \"app\": invalid_input naming clientType.",
    {"clientId": CID, "clientType": "app", "baseUrl": "{server}"}, "clientType")
bad("invalid-input-http-base-url", "A plain-http base URL that is not loopback: invalid_input naming baseUrl.",
    {"clientId": CID, "baseUrl": "http://github.example.com"}, "baseUrl")
bad("invalid-input-ftp-base-url", "A base URL with another scheme: invalid_input naming baseUrl.",
    {"clientId": CID, "baseUrl": "ftp://github.example.com"}, "baseUrl")
bad("invalid-input-base-url-path", "A base URL with a path other than /api/v3: invalid_input naming baseUrl.",
    {"clientId": CID, "baseUrl": "{server}/github"}, "baseUrl")
bad("invalid-input-base-url-credentials", "A base URL carrying credentials: invalid_input naming baseUrl.",
    {"clientId": CID, "baseUrl": "https://user:secret@github.example.com"}, "baseUrl")
bad("invalid-input-relative-base-url", "A relative base URL: invalid_input naming baseUrl.",
    {"clientId": CID, "baseUrl": "github.example.com"}, "baseUrl")
bad("invalid-input-scopes-number", "scopes given as a number: invalid_input naming scopes.",
    {"clientId": CID, "scopes": 5, "baseUrl": "{server}"}, "scopes")
bad("invalid-input-scopes-list-of-numbers", "scopes given as a list of numbers: invalid_input naming scopes.",
    {"clientId": CID, "scopes": [1, 2], "baseUrl": "{server}"}, "scopes")
bad("invalid-input-refresh-string", "refresh given as a string: invalid_input naming refresh.",
    {"clientId": CID, "refresh": "yes", "baseUrl": "{server}"}, "refresh")
bad("invalid-input-unknown-encoding", "An unknown body encoding: invalid_input naming encoding.",
    {"clientId": CID, "encoding": "xml", "baseUrl": "{server}"}, "encoding")
bad("invalid-input-not-an-object", "An input that is a JSON array, not an object: invalid_input saying a JSON object is needed.",
    ["Iv1.test"], "input: not a JSON object: it is a JSON array")
bad("invalid-input-check", "check validates its input like every export: a missing clientId is invalid_input.",
    {"token": TOK, "baseUrl": "{server}"}, "clientId", export="check")
bad("invalid-input-logout", "logout validates its input: an unknown clientType is invalid_input.",
    {"clientId": CID, "clientType": "GitHub App", "baseUrl": "{server}"}, "clientType", export="logout")
