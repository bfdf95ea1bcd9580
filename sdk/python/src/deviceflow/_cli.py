"""``python -m deviceflow``: login, token, status and logout from a terminal.

Messages go to stderr; stdout carries only what a script consumes (the token
of ``token``). Nothing a server sends is printed raw: control characters and
escape sequences are removed, host names are shown in ASCII form. Exit
codes: 0 success, 1 runtime failure, 2 usage error (an unknown flag, a bad
``--base-url``, an unknown ``--store`` or ``--client-type``, a bad client
id, any input the plugin refuses), 130 Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import IO, Callable, Dict, List, Optional
from urllib.parse import urlsplit

from . import _ui
from ._sandbox import DEFAULT_BASE_URL, is_loopback
from ._text import clean, display_url, has_control
from .client import DeviceFlow
from .errors import DeviceFlowError, InvalidInput, InvalidResponse, NotFound
from .models import Verification
from .stores import EncryptedFileStore, FileStore, KeyringStore, KeyringUnavailable, MemoryStore, Store
from .stores._capabilities import check_writable

STORES = ("keyring", "encrypted-file", "file", "memory")
CLIENT_TYPES = ("oauth-app", "github-app")

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

_PREFIX = "deviceflow: "


class UsageError(Exception):
    """A command line that cannot run: exit 2 with this message."""


def _parser() -> argparse.ArgumentParser:
    env = os.environ.get
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--client-id", default=env("DEVICEFLOW_CLIENT_ID"), help="the app's client id (env DEVICEFLOW_CLIENT_ID)")
    common.add_argument(
        "--client-type",
        default=env("DEVICEFLOW_CLIENT_TYPE", "oauth-app"),
        choices=CLIENT_TYPES,
        help="oauth-app (default) or github-app (env DEVICEFLOW_CLIENT_TYPE)",
    )
    common.add_argument("--scopes", default=env("DEVICEFLOW_SCOPES", ""), help="OAuth App scopes, comma or space separated (env DEVICEFLOW_SCOPES)")
    common.add_argument(
        "--base-url",
        default=env("DEVICEFLOW_BASE_URL", DEFAULT_BASE_URL),
        help="https://github.com, a GitHub Enterprise Server URL, or a local emulator on loopback http (env DEVICEFLOW_BASE_URL)",
    )
    common.add_argument(
        "--store",
        default=env("DEVICEFLOW_STORE", "keyring"),
        choices=STORES,
        help="where tokens are kept: keyring (default), encrypted-file (key in DEVICEFLOW_ENCRYPTION_KEY), file, memory (env DEVICEFLOW_STORE)",
    )
    common.add_argument("--store-path", default=env("DEVICEFLOW_STORE_PATH"), help="the directory of the file stores (env DEVICEFLOW_STORE_PATH)")

    p = argparse.ArgumentParser(
        prog="python -m deviceflow",
        description="Sign in to GitHub with the OAuth device flow and keep the token safe.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    login = sub.add_parser("login", parents=[common], help="sign in: show a code to enter on GitHub, wait for approval")
    login.add_argument("--force", action="store_true", help="sign in again even when a token is cached")
    browser = login.add_mutually_exclusive_group()
    browser.add_argument("--open", action="store_true", help="open the page in a browser (https, or http on loopback, only)")
    browser.add_argument("--no-browser", action="store_true", help="do not open a browser (the default; as the Go command takes it)")
    token = sub.add_parser("token", parents=[common], help="print the cached token (refreshed when needed) on stdout")
    token.add_argument("--login", action="store_true", help="sign in first when no token is cached")
    sub.add_parser("status", parents=[common], help="say whether the cached token works, for whom, with which scopes")
    sub.add_parser("logout", parents=[common], help="forget the cached token")
    return p


def check_base_url(url: str) -> Optional[str]:
    """Returns why ``url`` is not a base URL the command accepts, or None when it is.

    https with a host, or http on a loopback host; no user name or
    password, a port from 1 to 65535, no query or fragment, nothing hidden
    (control characters, white space, backslashes).
    """
    if has_control(url) or any(ch.isspace() for ch in url) or "\\" in url:
        return "it holds control characters, white space or a backslash"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return "its port is not a number from 1 to 65535"
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not url.lower().startswith(scheme + "://"):
        return "use https://HOST (or http:// on a loopback address for a local server)"
    if not host:
        return "it names no host"
    if "@" in parts.netloc:
        return "it holds a user name or password"
    if port == 0:
        return "its port is not a number from 1 to 65535"
    if scheme == "http" and not is_loopback(host):
        return "plain http is allowed only on a loopback address (127.0.0.1, ::1, localhost): use https"
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        return "it holds a query or a fragment"
    return None


def _validate(args: argparse.Namespace) -> None:
    """Raises UsageError for what argparse does not check (values from the environment)."""
    if not args.client_id:
        raise UsageError("--client-id (or DEVICEFLOW_CLIENT_ID) is required")
    if has_control(args.client_id):
        raise UsageError("invalid input: --client-id holds a control character")
    if args.client_type not in CLIENT_TYPES:
        raise UsageError(f"--client-type must be one of {', '.join(CLIENT_TYPES)} (from DEVICEFLOW_CLIENT_TYPE?)")
    if args.store not in STORES:
        raise UsageError(f"--store must be one of {', '.join(STORES)} (from DEVICEFLOW_STORE?)")
    why = check_base_url(args.base_url)
    if why is not None:
        raise UsageError(f"invalid --base-url {display_url(args.base_url)}: {why}")


def open_store(kind: str, path: Optional[str]) -> Store:
    """Opens the store a command line names; never falls back to another one."""
    if kind == "keyring":
        return KeyringStore()
    if kind == "encrypted-file":
        return EncryptedFileStore(path)
    if kind == "file":
        return FileStore(path)
    if kind == "memory":
        return MemoryStore()
    raise UsageError(f"unknown store {kind}")


def _flow(
    args: argparse.Namespace,
    on_verification: Optional[Callable[[Verification], None]] = None,
    progress: Optional[_ui.Progress] = None,
) -> DeviceFlow:
    return DeviceFlow(
        args.client_id,
        client_type=args.client_type,
        scopes=args.scopes,
        base_url=args.base_url,
        store=open_store(args.store, args.store_path),
        on_verification=on_verification,
        on_event=progress,
    )


def _login(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    progress = _ui.Progress(err)

    def show(v: Verification) -> None:
        _ui.print_verification(v, err)
        if args.open:
            _ui.open_browser(v, err)

    flow = _flow(args, show, progress)
    # A person must never approve a code whose token then cannot be kept.
    check_writable(flow.store)
    try:
        flow.token(refresh=args.force)
    finally:
        progress.done()
    who = ""
    try:
        result = flow.check()
        if result.valid and result.login:
            who = f" as {clean(result.login)}"
    except DeviceFlowError:
        pass
    print(f"Signed in to {display_url(args.base_url)}{who}. The token is kept in the {args.store} store.", file=err)
    return EXIT_OK


def _token(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    # Without --login the plugin answers the cached token (refreshed when
    # needed, waiting for another process that is refreshing it) or
    # not_found: it never starts a device flow.
    progress = _ui.Progress(err) if args.login else None
    flow = _flow(args, lambda v: _ui.print_verification(v, err), progress)
    if args.login:
        check_writable(flow.store)
    try:
        auth = flow.token(interactive=args.login)
    finally:
        if progress:
            progress.done()
    if has_control(auth.token) or any(ch.isspace() for ch in auth.token):
        raise InvalidResponse("the token holds control characters or white space: it was not printed")
    # The one place the token is printed: on stdout, for a script to read.
    print(auth.token, file=out)
    return EXIT_OK


def _status(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    flow = _flow(args)
    auth = flow.token(interactive=False)
    result = flow.check()
    where = display_url(args.base_url)
    if not result.valid:
        print(f"The token cached for {where} no longer works: run login again.", file=err)
        return EXIT_FAILURE
    lines: List[str] = [f"Signed in to {where} as {clean(result.login)}."]
    if result.scopes is not None:
        lines.append(f"Scopes: {clean(', '.join(result.scopes)) if result.scopes else '(none)'}")
    left = auth.expires_in()
    if left is not None:
        lines.append(
            f"The token expires in {_ui.format_duration(left)} ({clean(auth.expires_at)}); it is refreshed automatically."
        )
    else:
        lines.append("The token does not expire.")
    for line in lines:
        print(line, file=err)
    return EXIT_OK


def _logout(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    removed = _flow(args).logout()
    print("Signed out: the cached token is gone." if removed else "Not signed in: nothing to forget.", file=err)
    return EXIT_OK


COMMANDS: Dict[str, Callable[[argparse.Namespace, IO[str], IO[str]], int]] = {
    "login": _login,
    "token": _token,
    "status": _status,
    "logout": _logout,
}


def _say(err: IO[str], message: str) -> None:
    """Prints one message with a single "deviceflow: " prefix, cleaned."""
    text = clean(message).strip()
    while text.startswith(_PREFIX):
        text = text[len(_PREFIX):].lstrip()
    print(_PREFIX + text, file=err, flush=True)


def main(argv: Optional[List[str]] = None, out: Optional[IO[str]] = None, err: Optional[IO[str]] = None) -> int:
    """Runs the command line; returns the exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        return _main(argv, out, err)
    except KeyboardInterrupt:
        print(file=err)
        _say(err, "interrupted")
        return EXIT_INTERRUPTED


def _main(argv: Optional[List[str]], out: IO[str], err: IO[str]) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse has printed why
        return EXIT_OK if e.code == 0 else EXIT_USAGE
    if args.command is None:
        parser.print_help(err)
        return EXIT_USAGE
    try:
        _validate(args)
        return COMMANDS[args.command](args, out, err)
    except UsageError as e:
        _say(err, str(e))
        return EXIT_USAGE
    except NotFound:
        print(f"Not signed in to {display_url(args.base_url)}: run `python -m deviceflow login` first.", file=err)
        return EXIT_FAILURE
    except KeyringUnavailable as e:
        _say(err, e.message)
        _say(err, "choose another store: --store encrypted-file (with DEVICEFLOW_ENCRYPTION_KEY) or --store file")
        return EXIT_FAILURE
    except InvalidInput as e:
        _say(err, e.message)
        return EXIT_USAGE
    except DeviceFlowError as e:
        _say(err, e.message)
        return EXIT_FAILURE


def run() -> None:
    """The console entry point."""
    sys.exit(main())
