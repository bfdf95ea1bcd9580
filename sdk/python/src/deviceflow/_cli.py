"""``python -m deviceflow``: login, token, status and logout from a terminal.

The same command as the Go ``deviceflow`` (``sdk/cmd/deviceflow``), in
Python: the same flags with the same meaning, the same environment
variables, the same store names, the same ``--json`` output and the same
exit codes (0 success, 1 runtime failure, 2 usage error, 130 Ctrl-C). The
reference is ``sdk/cmd/deviceflow/README.md``; this package's README lists
the few differences (``login`` opens a browser only with ``--open``; no QR
code, no clipboard).

Messages go to stderr; stdout carries only what a script consumes (the token
of ``token``, the report of ``status``, ``--json`` output). Nothing a server
sends is printed raw: control characters and escape sequences are removed,
host names are shown in ASCII form.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timezone
from typing import IO, TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import urlsplit

from . import _runtime, _ui
from ._text import _ascii_host, clean, display_url, has_control
from .client import DeviceFlow
from .errors import BadRefreshToken, DeviceFlowError, InvalidInput, InvalidResponse, NotFound, StoreError
from .models import Authentication, Verification
from .stores._capabilities import check_writable
from .stores._paths import config_dir

if TYPE_CHECKING:
    from .stores.base import Store

# Each store's module is imported when --store names it (open_store), so a
# command pays only for the store it opens.

#: The stores --store names, as the Go command names them.
STORES = ("keyring", "file", "encrypted", "memory")
#: Other names --store accepts: encrypted-file is what this command called
#: the encrypted store before.
STORE_ALIASES = {"encrypted-file": "encrypted"}
CLIENT_TYPES = ("oauth-app", "github-app")

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

_PREFIX = "deviceflow: "
_NAME = "python -m deviceflow"


class UsageError(Exception):
    """A command line that cannot run: exit 2 with this message."""


class _Failure(Exception):
    """A reported failure: the command ends with ``code`` (already said)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _parser() -> argparse.ArgumentParser:
    env = os.environ.get
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--client-id", default=env("DEVICEFLOW_CLIENT_ID", ""), help="OAuth App or GitHub App client id (env DEVICEFLOW_CLIENT_ID)")
    common.add_argument("--client-type", default=env("DEVICEFLOW_CLIENT_TYPE") or "oauth-app", help="oauth-app (default) or github-app (env DEVICEFLOW_CLIENT_TYPE)")
    common.add_argument("--scopes", default=env("DEVICEFLOW_SCOPES", ""), help="OAuth App scopes, comma or space separated (env DEVICEFLOW_SCOPES)")
    common.add_argument(
        "--hostname",
        default=env("DEVICEFLOW_HOSTNAME") or "github.com",
        help="GitHub host: github.com or a GitHub Enterprise Server host name (env DEVICEFLOW_HOSTNAME)",
    )
    common.add_argument(
        "--base-url",
        default=env("DEVICEFLOW_BASE_URL", ""),
        help="base URL instead of --hostname, such as http://127.0.0.1:8080 for an emulator (env DEVICEFLOW_BASE_URL)",
    )
    common.add_argument(
        "--issuer",
        default=env("DEVICEFLOW_ISSUER", ""),
        help="issuer URL of another RFC 8628 server (OpenID Connect or RFC 8414 discovery), instead of GitHub (env DEVICEFLOW_ISSUER)",
    )
    common.add_argument(
        "--device-endpoint",
        default=env("DEVICEFLOW_DEVICE_ENDPOINT", ""),
        help="device authorization endpoint of another RFC 8628 server, with --token-endpoint (env DEVICEFLOW_DEVICE_ENDPOINT)",
    )
    common.add_argument(
        "--token-endpoint",
        default=env("DEVICEFLOW_TOKEN_ENDPOINT", ""),
        help="token endpoint of another RFC 8628 server (env DEVICEFLOW_TOKEN_ENDPOINT)",
    )
    common.add_argument(
        "--store",
        default=env("DEVICEFLOW_STORE") or "keyring",
        help="where tokens are kept: keyring (default), file, encrypted (key in DEVICEFLOW_ENCRYPTION_KEY), memory (env DEVICEFLOW_STORE)",
    )
    common.add_argument(
        "--store-path",
        default=env("DEVICEFLOW_STORE_PATH", ""),
        help="the directory of the file and encrypted stores, or the keyring service name (env DEVICEFLOW_STORE_PATH)",
    )
    common.add_argument("--json", action="store_true", help="print JSON on stdout (never a token, except from token --json)")

    p = argparse.ArgumentParser(
        prog=_NAME,
        description="Sign in to GitHub with the OAuth device flow and keep the token safe.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    login = sub.add_parser("login", parents=[common], help="sign in to GitHub with a one-time code and store the token")
    login.add_argument("--force", action="store_true", help="accepted for compatibility: login always signs in anew")
    browser = login.add_mutually_exclusive_group()
    browser.add_argument("--open", action="store_true", help="open the page in a browser (https, or http on loopback, only)")
    browser.add_argument("--no-browser", action="store_true", help="do not open a browser (the default here)")
    login.add_argument("--no-qr", action="store_true", help="accepted for compatibility: this command draws no QR code")
    token = sub.add_parser("token", parents=[common], help="print the stored token, refreshed if needed")
    token.add_argument("--login", action="store_true", help="sign in first when no usable token is stored (the code on stderr, only the token on stdout)")
    sub.add_parser("status", parents=[common], help="show the signed-in user, scopes, expiry and store")
    sub.add_parser("logout", parents=[common], help="forget the stored token")
    return p


def go_quote(text: str) -> str:
    """Quotes text as Go's %+q does: ASCII only, escapes for the rest."""
    named = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v", "\\": "\\\\", '"': '\\"'}
    out = []
    for ch in text:
        o = ord(ch)
        if ch in named:
            out.append(named[ch])
        elif 0x20 <= o < 0x7F:
            out.append(ch)
        elif o < 0x80:
            out.append(f"\\x{o:02x}")
        elif o <= 0xFFFF:
            out.append(f"\\u{o:04x}")
        else:
            out.append(f"\\U{o:08x}")
    return '"' + "".join(out) + '"'


class Command:
    """The parsed flags, and what the commands derive from them."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.client_id: str = args.client_id or ""
        self.client_type: str = args.client_type
        # A generic RFC 8628 server: its issuer or endpoints; the client
        # secret from the environment only (a flag would show in ps).
        self.server: Dict[str, str] = {
            k: str(v)
            for k, v in (("issuer", args.issuer), ("deviceEndpoint", args.device_endpoint), ("tokenEndpoint", args.token_endpoint))
            if v
        }
        self.client_secret = os.environ.get("DEVICEFLOW_CLIENT_SECRET", "")
        if self.server and self.client_type == "oauth-app":
            # GitHub's client types mean nothing elsewhere: the default goes.
            self.client_type = ""
        self.store_kind: str = STORE_ALIASES.get(args.store, args.store)
        self.json: bool = bool(args.json)
        self.store: Optional[Store] = None
        self.store_path = ""
        self.store_desc = ""

    def base(self) -> str:
        """The base URL the flags name (a generic server's issuer or token endpoint)."""
        if self.server:
            return str(self.server.get("issuer") or self.server.get("tokenEndpoint", "")).rstrip("/")
        if self.args.base_url:
            return str(self.args.base_url).rstrip("/")
        h = str(self.args.hostname).strip()
        if not h or h.lower() == "github.com":
            return "https://github.com"
        return "https://" + h

    def host(self) -> str:
        """The GitHub the flags point at, for messages: github.com, HOST:PORT; in ASCII."""
        try:
            parts = urlsplit(self.base())
            name, port = parts.hostname, parts.port
        except ValueError:
            return clean(self.base())
        if not name:
            return clean(self.base())
        ascii_name = _ascii_host(name) or name
        if ":" in ascii_name:
            ascii_name = f"[{ascii_name}]"
        return ascii_name if port is None else f"{ascii_name}:{port}"

    def display_base(self) -> str:
        """The base URL for messages: its host name in ASCII."""
        return display_url(self.base())

    def login_hint(self) -> str:
        """The flags that choose the account, for the "run login" advice."""
        if self.server:
            if "issuer" in self.server:
                return " --issuer " + clean(self.server["issuer"])
            return " --device-endpoint " + clean(self.server.get("deviceEndpoint", "")) + " --token-endpoint " + clean(self.server.get("tokenEndpoint", ""))
        if self.args.base_url:
            return " --base-url " + self.display_base()
        if self.host() != "github.com":
            return " --hostname " + self.host()
        return ""

    def usage_text(self, msg: str) -> str:
        """Names the flag an invalid_input message is about, as the Go command does."""
        rest = msg[len("invalid input: "):] if msg.startswith("invalid input: ") else None
        if rest is None or ": " not in rest:
            return msg
        field, why = rest.split(": ", 1)
        if field == "baseUrl":
            flag, value = ("--base-url", self.args.base_url) if self.args.base_url else ("--hostname", self.args.hostname)
        elif field == "clientId":
            flag, value = "--client-id", self.client_id
        elif field == "clientType":
            flag, value = "--client-type", self.client_type
        elif field == "scopes":
            flag, value = "--scopes", self.args.scopes
        elif field == "issuer":
            flag, value = "--issuer", self.args.issuer
        elif field == "deviceEndpoint":
            flag, value = "--device-endpoint", self.args.device_endpoint
        elif field == "tokenEndpoint":
            flag, value = "--token-endpoint", self.args.token_endpoint
        else:
            return msg
        return f"bad {flag} {go_quote(str(value))}: {why}"

    def validate(self) -> None:
        """Raises UsageError for a command line that cannot run, before anything is opened or sent.

        The rules for base URLs are the plugin's: it is asked (``info``)
        before the store is opened.
        """
        if not self.client_id.strip():
            raise UsageError("--client-id is required (or set DEVICEFLOW_CLIENT_ID): the client id of your OAuth App or GitHub App")
        if self.client_type not in CLIENT_TYPES and not (self.server and self.client_type == ""):
            raise UsageError(f"--client-type must be oauth-app or github-app, not {go_quote(self.client_type)}")
        if self.store_kind not in STORES:
            raise UsageError(f"unknown store {go_quote(self.args.store)}: --store must be one of {', '.join(STORES)}")
        # The plugin judges the rest (client id, base URL, scopes) in its
        # own words, as every export would: no rules of the command's own.
        probe: Dict[str, Any] = {"clientId": self.client_id, "clientType": self.client_type, "scopes": self.args.scopes, "baseUrl": self.base()}
        if self.server:
            probe.update(self.server, baseUrl=self.args.base_url, clientSecret=self.client_secret)
            probe = {k: v for k, v in probe.items() if v != "" or k == "clientId"}
        answer = _runtime.info(probe)
        for key in ("inputError", "endpointsError"):
            refusal = answer.get(key)
            if isinstance(refusal, dict) and isinstance(refusal.get("message"), str):
                raise UsageError(self.usage_text(refusal["message"]))

    def open_store(self) -> Store:
        """Opens the store the flags name; never falls back to another one."""
        path = self.args.store_path or None
        kind = self.store_kind
        if kind == "keyring":
            from .stores.keyring_store import KeyringStore

            ks = KeyringStore(path or "deviceflow")
            self.store, self.store_desc = ks, f"keyring (service {ks.service})"
        elif kind in ("file", "encrypted"):
            if kind == "file":
                from .stores.file import FileStore

                fs = FileStore(path)
                where = os.path.abspath(fs.path)
                self.store_desc = f"file {where}"
            else:
                from .stores.encrypted import EncryptedFileStore

                # The Go command's default, so both commands share one store.
                fs = EncryptedFileStore(path or config_dir() / "tokens.enc.json")
                where = os.path.abspath(fs.path)
                source = getattr(fs, "_source", "")
                self.store_desc = f"encrypted file {where}" + (f" (key from {source})" if source else "")
            self.store, self.store_path = fs, where
        else:
            from .stores.memory import MemoryStore

            self.store, self.store_desc = MemoryStore(), "memory (this process only)"
        return self.store

    def flow(
        self,
        on_verification: Optional[Callable[[Verification], None]] = None,
        progress: Optional[_ui.Progress] = None,
    ) -> DeviceFlow:
        if self.server:
            return DeviceFlow(
                self.client_id,
                client_type=self.client_type or "oauth-app",
                scopes=self.args.scopes,
                issuer=self.server.get("issuer"),
                device_endpoint=self.server.get("deviceEndpoint"),
                token_endpoint=self.server.get("tokenEndpoint"),
                client_secret=self.client_secret or None,
                store=self.open_store(),
                on_verification=on_verification,
                on_event=progress,
            )
        return DeviceFlow(
            self.client_id,
            client_type=self.client_type,
            scopes=self.args.scopes,
            base_url=self.base(),
            store=self.open_store(),
            on_verification=on_verification,
            on_event=progress,
        )

    def summary(self, auth: Optional[Authentication]) -> Dict[str, Any]:
        """What login --json and status --json print (never a token), in the Go command's order."""
        s: Dict[str, Any] = {
            "host": self.host(),
            "baseUrl": self.display_base(),
            "clientId": self.client_id,
            "clientType": self.client_type,
            "loggedIn": auth is not None,
            "scopes": None,
        }
        if not self.client_type:
            del s["clientType"]
        if auth is not None:
            s["scopes"] = _clean_all(auth.scopes)
            if _iso(auth.expires_at):
                s["expiresAt"] = _iso(auth.expires_at)
            if _iso(auth.refresh_token_expires_at):
                s["refreshTokenExpiresAt"] = _iso(auth.refresh_token_expires_at)
        s["store"] = self.store_kind
        if self.store_path:
            s["storeLocation"] = self.store_path
        return s


def _clean_all(items: Optional[Tuple[str, ...]]) -> Optional[List[str]]:
    return None if items is None else [clean(s) for s in items]


def _iso(value: Optional[str]) -> str:
    """A time as octokit renders it (toISOString), "" when absent."""
    if not value:
        return ""
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return clean(value)
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    t = t.astimezone(timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _ordered(summary: Dict[str, Any], **extra: Any) -> Dict[str, Any]:
    """The summary with valid and login in the Go command's places."""
    out: Dict[str, Any] = {}
    for k, v in summary.items():
        if k == "scopes":
            for ek in ("valid", "login"):
                if ek in extra:
                    out[ek] = extra[ek]
        out[k] = v
    return out


def _print_json(out: IO[str], value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, separators=(",", ":")), file=out, flush=True)


def _mask(token: str) -> str:
    if not token:
        return ""
    i = token.find("_")
    return (token[: i + 1] if 0 < i <= 4 else "") + "********"


def _say(err: IO[str], message: str) -> None:
    """Prints one message with a single "deviceflow: " prefix, cleaned."""
    text = clean(message).strip()
    while text.startswith(_PREFIX):
        text = text[len(_PREFIX):].lstrip()
    print(_PREFIX + text, file=err, flush=True)


def _message(e: DeviceFlowError) -> str:
    text = clean(e.message).strip()
    while text.startswith(_PREFIX):
        text = text[len(_PREFIX):].lstrip()
    return text


def _fail(c: Command, out: IO[str], err: IO[str], e: DeviceFlowError, after: str = "") -> int:
    """Reports a failed call as the Go command does, and returns the exit code."""
    code = EXIT_FAILURE
    msg = _message(e)
    if isinstance(e, InvalidInput):
        code, msg = EXIT_USAGE, c.usage_text(msg)
    elif isinstance(e, StoreError) and c.store_desc and c.store_desc not in msg and not (c.store_path and c.store_path in msg):
        msg += f" (store: {c.store_desc})"
    _say(err, msg)
    from .stores.keyring_store import KeyringUnavailable

    if isinstance(e, KeyringUnavailable):
        _say(err, "choose another store: --store encrypted (with DEVICEFLOW_ENCRYPTION_KEY) or --store file")
    if after:
        print(after, file=err, flush=True)
    if c.json:
        _print_json(out, {"error": {"code": e.code, "message": msg}})
    return code


def _sign_in(c: Command, out: IO[str], err: IO[str], flow: DeviceFlow, progress: _ui.Progress, refresh: bool) -> Authentication:
    """Checks the store can keep a token, then asks for one (a new flow with ``refresh``)."""
    try:
        check_writable(flow.store)
    except StoreError as e:
        raise _Failure(_fail(c, out, err, StoreError(f"the store cannot keep a token, so no code was asked for (store: {c.store_desc}): {_message(e)}"))) from None
    try:
        return flow.token(refresh=refresh)
    except DeviceFlowError as e:
        raise _Failure(_fail(c, out, err, e, "Nothing was stored.")) from None
    finally:
        progress.done()


def _login(c: Command, out: IO[str], err: IO[str]) -> int:
    progress = _ui.Progress(err)

    def show(v: Verification) -> None:
        _ui.print_verification(v, err)
        if c.args.open:
            _ui.open_browser(v, err)

    flow = c.flow(show, progress)
    # Always a new device flow, as `gh auth login` does (--force is kept as a no-op).
    auth = _sign_in(c, out, err, flow, progress, refresh=True)
    login = ""
    try:
        result = flow.check()
        if result.valid and result.login:
            login = clean(result.login)
    except DeviceFlowError:
        pass
    if c.json:
        _print_json(out, _ordered(c.summary(auth), **({"login": login} if login else {})))
        return EXIT_OK
    print(f"✓ Logged in to {c.host()}{' as ' + login if login else ''}", file=err)
    print(f"✓ Token stored in: {c.store_desc}", file=err, flush=True)
    return EXIT_OK


def _not_signed_in(c: Command, out: IO[str], err: IO[str], e: DeviceFlowError) -> int:
    if isinstance(e, (NotFound, BadRefreshToken)):
        wrapped = type(e)(f"not logged in to {c.host()} with client {c.client_id}: {_message(e)}")
        return _fail(c, out, err, wrapped, f"Run: {_NAME} login{c.login_hint()}")
    return _fail(c, out, err, e)


def _token(c: Command, out: IO[str], err: IO[str]) -> int:
    # Without --login the plugin answers the stored token (refreshed when
    # needed, waiting for another process that is refreshing it) or
    # not_found: it never starts a device flow.
    if c.args.login:
        progress = _ui.Progress(err)
        flow = c.flow(lambda v: _ui.print_verification(v, err), progress)
        auth = _sign_in(c, out, err, flow, progress, refresh=False)
    else:
        flow = c.flow()
        try:
            auth = flow.token(interactive=False)
        except DeviceFlowError as e:
            return _not_signed_in(c, out, err, e)
    if has_control(auth.token) or any(ch.isspace() for ch in auth.token):
        return _fail(c, out, err, InvalidResponse("the token holds control characters or white space: it was not printed"))
    if c.json:
        # The refresh token stays in the store: it is single use, and a
        # script spending it would break the stored sign-in.
        shown: Dict[str, Any] = {
            "clientId": auth.client_id,
            "clientType": auth.client_type,
            "expiresAt": _iso(auth.expires_at) or None,
            "scopes": _clean_all(auth.scopes),
            "token": auth.token,
            "tokenType": auth.token_type,
            "type": auth.type,
        }
        if not auth.client_type:
            # A generic server's neutral shape: no GitHub client type.
            del shown["clientType"]
        _print_json(out, shown)
        return EXIT_OK
    # The one place the token is printed: on stdout, for a script to read.
    print(auth.token, file=out)
    return EXIT_OK


def _status(c: Command, out: IO[str], err: IO[str]) -> int:
    flow = c.flow()
    try:
        auth = flow.token(interactive=False)
    except (NotFound, BadRefreshToken):
        if c.json:
            _print_json(out, c.summary(None))
        else:
            print(f"{c.host()}\n  ✗ Not logged in (client {c.client_id}, store: {c.store_desc}).\n  Run: {_NAME} login{c.login_hint()}", file=err)
        return EXIT_FAILURE
    except DeviceFlowError as e:
        return _fail(c, out, err, e)
    try:
        result = flow.check()
    except DeviceFlowError as e:
        return _fail(c, out, err, e)
    s = c.summary(auth)
    if result.scopes or auth.client_type == "oauth-app":
        s["scopes"] = _clean_all(result.scopes) or []
    login = clean(result.login) if result.login else ""
    s = _ordered(s, valid=result.valid, **({"login": login} if login else {}))
    if c.json:
        _print_json(out, s)
    else:
        lines = [c.host()]
        if result.valid:
            lines.append(f"  ✓ Logged in as {login}")
        else:
            refused = "GitHub" if auth.client_type else "the server"
            lines.append(f"  ✗ The stored token no longer works: {refused} refused it. Run: {_NAME} login")
        lines.append(f"  Client: {c.client_id} ({auth.client_type})" if auth.client_type else f"  Client: {c.client_id}")
        if auth.client_type in ("oauth-app", None):
            lines.append(f"  Scopes: {', '.join(s['scopes']) if s['scopes'] else 'none'}")
        exp = f"expires {s['expiresAt']}" if s.get("expiresAt") else "never expires"
        lines.append(f"  Token: {clean(_mask(auth.token))} ({exp})")
        if s.get("refreshTokenExpiresAt"):
            lines.append(f"  Refresh token expires {s['refreshTokenExpiresAt']}")
        lines.append(f"  Store: {c.store_desc}")
        print("\n".join(lines), file=out, flush=True)
    return EXIT_OK if result.valid else EXIT_FAILURE


def _logout(c: Command, out: IO[str], err: IO[str]) -> int:
    flow = c.flow()
    try:
        removed = flow.logout()
    except DeviceFlowError as e:
        return _fail(c, out, err, e)
    if c.json:
        _print_json(out, {"host": c.host(), "removed": removed})
    elif removed:
        print(f"✓ Logged out of {c.host()}: the token was removed from: {c.store_desc}", file=err)
    else:
        print(f"Not logged in to {c.host()} (client {c.client_id}, store: {c.store_desc}): nothing to remove", file=err)
    return EXIT_OK


COMMANDS: Dict[str, Callable[[Command, IO[str], IO[str]], int]] = {
    "login": _login,
    "token": _token,
    "status": _status,
    "logout": _logout,
}


def main(argv: Optional[List[str]] = None, out: Optional[IO[str]] = None, err: Optional[IO[str]] = None) -> int:
    """Runs the command line; returns the exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    json_out: List[bool] = []
    try:
        return _main(argv, out, err, json_out)
    except KeyboardInterrupt:
        # As the Go command says it: "cancelled", and with --json the error.
        print(file=err)
        _say(err, "cancelled")
        if json_out:
            _print_json(out, {"error": {"code": "cancelled", "message": "cancelled"}})
        return EXIT_INTERRUPTED


def _main(argv: Optional[List[str]], out: IO[str], err: IO[str], json_out: List[bool]) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse has printed why
        return EXIT_OK if e.code == 0 else EXIT_USAGE
    if args.command is None:
        parser.print_help(err)
        return EXIT_USAGE
    c = Command(args)
    if c.json:
        json_out.append(True)
    try:
        c.validate()
        return COMMANDS[args.command](c, out, err)
    except UsageError as e:
        _say(err, str(e))
        return EXIT_USAGE
    except _Failure as f:
        return f.code
    except DeviceFlowError as e:
        return _fail(c, out, err, e)


def run() -> None:
    """The console entry point. SIGTERM is Ctrl-C's twin, as in the Go command: exit 130, nothing written."""
    import signal

    def _terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, _terminate)
    sys.exit(main())
