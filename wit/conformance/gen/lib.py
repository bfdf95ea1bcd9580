"""Helpers to write conformance vectors. Expected values are computed here
from DESIGN.md's rules (not copied from the engine)."""
import json, os, datetime, email.utils

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vectors")
CLOCK = 1767225600000  # 2026-01-01T00:00:00Z
CID = "Iv1.test"
APPID = "Iv23.app"
DC_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
JSON_CT = {"content-type": "application/json; charset=utf-8"}
FORM_CT = {"content-type": "application/x-www-form-urlencoded"}
REQ_JSON_HEADERS = {"content-type": "application/json; charset=utf-8", "accept": "application/json"}
REQ_FORM_HEADERS = {"content-type": "application/x-www-form-urlencoded", "accept": "application/json"}
TOK = "gho_16C7e42F292c6912E7710c838347Ae178B4a"
TOK2 = "gho_2Bf0e8C1a7d94E3b6F5a2c9D0e1F7a8B3c4D"
UTOK = "ghu_16C7e42F292c6912E7710c838347Ae178B4a"
UTOK2 = "ghu_9aB8c7D6e5F4a3B2c1D0e9F8a7B6c5D4e3F2"
RTOK = "ghr_1B4a2e77838347a7E420ce178F2E7c6912E169246c34E1ccbF66C46812d16D5B1A9Dc86A1498"
RTOK2 = "ghr_7Fa3c2B1d0E9f8A7b6C5d4E3f2A1b0C9d8E7f6A5b4C3d2E1f0A9b8C7d6E5f4A3b2C1d0E9f8A7"

ALL = {}


def margin(ms):
    """Rule 2's safety margin: ceil(interval / 20)."""
    return -(-ms // 20)


def wait(iv):
    return iv + margin(iv)


def backoff_wait(iv, failures, retry_ms=0):
    """Rule 4: doubled per failure (shift capped at 4), capped at max(60 s, interval),
    at least Retry-After, plus the interval's margin."""
    w = iv << min(failures, 4)
    w = min(w, max(60000, iv))
    w = max(w, retry_ms)
    return w + margin(iv)


def secs(ms):
    """Milliseconds as the JSON number of seconds events carry."""
    return ms // 1000 if ms % 1000 == 0 else ms / 1000


def iso(ms):
    d = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


def http_date(ms):
    return email.utils.formatdate(ms // 1000, usegmt=True)


def key(client=CID, ctype="oauth-app", scopes=(), base="{server}"):
    return "deviceflow:v1:%s|%s|%s|%s" % (base, ctype, client, ",".join(scopes))


def auth(token=TOK, client=CID, ctype="oauth-app", scopes=None, refresh=None, exp=None, rexp=None):
    a = {"type": "token", "tokenType": "oauth", "clientType": ctype, "clientId": client, "token": token}
    if ctype == "oauth-app":
        a["scopes"] = list(scopes or [])
    if refresh:
        a["refreshToken"] = refresh
    if exp:
        a["expiresAt"] = exp
    if rexp:
        a["refreshTokenExpiresAt"] = rexp
    return a


def stored(a, received=None, exp_s=28800, rexp_s=15811200):
    """A store value. For a token the engine received at host time
    `received` with lifetimes exp_s and rexp_s, the value keeps the local
    expiry stamps beside octokit's (rule 7: refresh decisions use them)."""
    d = dict(a)
    if received is not None:
        loc = {}
        if "expiresAt" in a:
            loc["expiresAt"] = received + exp_s * 1000
        if "refreshTokenExpiresAt" in a:
            loc["refreshTokenExpiresAt"] = received + rexp_s * 1000
        d["local"] = loc
    return json.dumps(d, separators=(",", ":"))


def parse_http_date(s):
    """RFC 9110 section 5.6.7's three forms, one-digit days too; None when
    it does not parse."""
    import datetime as dt
    for fmt in ("%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %d %H:%M:%S %Y"):
        try:
            d = dt.datetime.strptime(" ".join(s.split()), fmt).replace(tzinfo=dt.timezone.utc)
            return int(d.timestamp()) * 1000
        except ValueError:
            pass
    return None


def dc_request(client=CID, scope="", app=False, form=False, base="{server}"):
    body = {"client_id": client}
    if not app:
        body["scope"] = scope
    r = {"method": "POST", "url": base + "/login/device/code",
         "headers": dict(REQ_FORM_HEADERS if form else REQ_JSON_HEADERS)}
    r["form" if form else "json"] = body
    return r


def token_request(client=CID, dc="DC1", form=False, base="{server}"):
    body = {"client_id": client, "device_code": dc, "grant_type": DC_GRANT}
    r = {"method": "POST", "url": base + "/login/oauth/access_token",
         "headers": dict(REQ_FORM_HEADERS if form else REQ_JSON_HEADERS)}
    r["form" if form else "json"] = body
    return r


def refresh_request(refresh_token, client=APPID, form=False, base="{server}"):
    body = {"client_id": client, "grant_type": "refresh_token", "refresh_token": refresh_token}
    r = {"method": "POST", "url": base + "/login/oauth/access_token",
         "headers": dict(REQ_FORM_HEADERS if form else REQ_JSON_HEADERS)}
    r["form" if form else "json"] = body
    return r


def json_response(obj, status=200, headers=None):
    h = dict(JSON_CT)
    if headers:
        h.update(headers)
    r = {"status": status, "headers": h, "json": obj}
    return r


def dc_body(dc="DC1", user_code="WDJB-MJHT", interval=5, expires_in=900, **extra):
    b = {"device_code": dc, "user_code": user_code, "verification_uri": "https://github.com/login/device"}
    if expires_in is not None:
        b["expires_in"] = expires_in
    if interval is not None:
        b["interval"] = interval
    b.update(extra)
    return b


def ex(request, response=None, fault=None, advance=None, store_writes=None):
    e = {"request": request}
    if response is not None:
        e["response"] = response
    if fault:
        e["fault"] = fault
    if advance:
        e["advanceMs"] = advance
    if store_writes is not None:
        e["storeWrites"] = store_writes
    return e


def timed(request, timeout_ms):
    """A request that must ask the host for exactly this timeoutMs."""
    r = dict(request)
    r["timeoutMs"] = timeout_ms
    return r


def pending():
    return json_response({"error": "authorization_pending",
                          "error_description": "The authorization request is still pending."})


def slow_down(interval=None):
    b = {"error": "slow_down", "error_description": "Too many requests have been made in the same timeframe."}
    if interval is not None:
        b["interval"] = interval
    return json_response(b)


def oauth_token(token=TOK, scope=""):
    return json_response({"access_token": token, "token_type": "bearer", "scope": scope})


def verification(dc="DC1", user_code="WDJB-MJHT", interval=5, expires_in=900, uri="https://github.com/login/device", complete=None):
    v = {"type": "verification", "device_code": dc, "user_code": user_code, "verification_uri": uri,
         "expires_in": expires_in, "interval": interval}
    if complete:
        v["verification_uri_complete"] = complete
    return v


def polling(attempt, interval_ms, remaining):
    return {"type": "polling", "attempt": attempt, "interval": secs(interval_ms), "remainingMs": remaining}


class Flow:
    """A device flow timeline, computed from the rules: tracks the clock,
    the deadline, the interval, failures, the sleeps and the events."""

    def __init__(self, clock=CLOCK, interval_ms=5000, expires_ms=900000, latency=0, **verif):
        self.now = clock + latency
        self.deadline = self.now + expires_ms
        self.iv = interval_ms
        self.failures = 0
        self.attempt = 0
        self.sleeps = []
        self.events = [verification(interval=secs(interval_ms), expires_in=secs(expires_ms), **verif)]

    def sleep(self, ms, cancelled=False):
        self.sleeps.append(ms)
        if not cancelled:
            self.now += ms

    def would_expire(self, ms):
        return self.now + ms >= self.deadline

    def first_wait(self):
        """After the verification event: the first wait (rule 2)."""
        w = wait(self.iv)
        assert not self.would_expire(w)
        self.sleep(w)

    def poll(self, latency=0):
        """A poll: the polling event at wake time; latency is advanceMs."""
        self.attempt += 1
        self.events.append(polling(self.attempt, self.iv, self.deadline - self.now))
        self.now += latency

    def after_pending(self):
        self.failures = 0
        w = wait(self.iv)
        if self.would_expire(w):
            return False
        self.sleep(w)
        return True

    def after_slow_down(self, server_interval_ms=None):
        self.failures = 0
        nxt = self.iv + 5000
        if server_interval_ms is not None and server_interval_ms > nxt:
            nxt = server_interval_ms
        self.iv = nxt
        self.events.append({"type": "slow_down", "interval": secs(nxt)})
        w = wait(nxt)
        if self.would_expire(w):
            return False
        self.sleep(w)
        return True

    def poll_timeout(self):
        """Rule 4: a poll's timeout is 30 s clamped to the time left."""
        return min(30000, self.deadline - self.now)

    def after_garbage(self, status):
        """Rule 4: an unusable answer backs off like a 5xx."""
        return self.after_failure("invalid_response", status)

    def after_failure(self, reason, status=None, retry_ms=0):
        self.failures += 1
        w = backoff_wait(self.iv, self.failures, retry_ms)
        e = {"type": "backoff", "reason": reason, "waitMs": w}
        if status:
            e["status"] = status
        self.events.append(e)
        if self.would_expire(w):
            return False
        self.sleep(w)
        return True


ORDER = ["name", "description", "rules", "export", "input", "clock", "monoClock", "wallSteps", "store",
         "otherLease", "exchanges", "sleeps", "cancelAtSleep", "cancelAtEvent", "events", "storeAfter",
         "result", "error", "calls"]


def vector(name, description, rules, **kw):
    assert name not in ALL, name
    v = {"name": name, "description": description, "rules": sorted(set(rules))}
    for k, val in kw.items():
        assert k in ORDER, k
        if val is None:
            continue
        v[k] = val
    if v.get("sleeps") == []:
        del v["sleeps"]
    if v.get("events") == []:
        del v["events"]
    out = {k: v[k] for k in ORDER if k in v}
    ALL[name] = out
    return out


# Vectors written by hand, which write_all keeps: a pending-then-token transcript, and the
# relay base (oauthUrl) cases added with the browser build.
HAND_WRITTEN = {"oauth-app-pending-then-token", "relay-oauth-url-invalid", "relay-oauth-url-refresh"}


def write_all():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".json") and f[:-5] not in ALL and f[:-5] not in HAND_WRITTEN:
            os.remove(os.path.join(OUT, f))
    for name, v in ALL.items():
        with open(os.path.join(OUT, name + ".json"), "w") as f:
            json.dump(v, f, indent=2, ensure_ascii=False)
            f.write("\n")
