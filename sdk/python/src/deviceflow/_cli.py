"""``python -m deviceflow``: login, token, status and logout from a terminal.

Messages go to stderr; stdout carries only what a script consumes (the token
of ``token``). Exit codes: 0 success, 1 failure, 2 usage error, 130 Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import IO, Callable, Dict, List, Optional

from . import _ui
from ._sandbox import DEFAULT_BASE_URL
from .client import DeviceFlow
from .errors import DeviceFlowError, NotFound
from .models import Verification
from .stores import EncryptedFileStore, FileStore, KeyringStore, KeyringUnavailable, MemoryStore, Store

STORES = ("keyring", "encrypted-file", "file", "memory")

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _parser() -> argparse.ArgumentParser:
    env = os.environ.get
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--client-id", default=env("DEVICEFLOW_CLIENT_ID"), help="the app's client id (env DEVICEFLOW_CLIENT_ID)")
    common.add_argument(
        "--client-type",
        default=env("DEVICEFLOW_CLIENT_TYPE", "oauth-app"),
        choices=("oauth-app", "github-app"),
        help="oauth-app (default) or github-app (env DEVICEFLOW_CLIENT_TYPE)",
    )
    common.add_argument("--scopes", default=env("DEVICEFLOW_SCOPES", ""), help="OAuth App scopes, comma or space separated (env DEVICEFLOW_SCOPES)")
    common.add_argument(
        "--base-url",
        default=env("DEVICEFLOW_BASE_URL", DEFAULT_BASE_URL),
        help="https://github.com, a GitHub Enterprise Server URL, or a local emulator (env DEVICEFLOW_BASE_URL)",
    )
    common.add_argument(
        "--store",
        default=env("DEVICEFLOW_STORE", "keyring"),
        choices=STORES,
        help="where tokens are kept: keyring (default), encrypted-file (key in DEVICEFLOW_ENCRYPTION_KEY), file, memory (env DEVICEFLOW_STORE)",
    )
    common.add_argument("--store-path", default=env("DEVICEFLOW_STORE_PATH"), help="the file of the file stores (env DEVICEFLOW_STORE_PATH)")

    p = argparse.ArgumentParser(
        prog="python -m deviceflow",
        description="Sign in to GitHub with the OAuth device flow and keep the token safe.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    login = sub.add_parser("login", parents=[common], help="sign in: show a code to enter on GitHub, wait for approval")
    login.add_argument("--force", action="store_true", help="sign in again even when a token is cached")
    token = sub.add_parser("token", parents=[common], help="print the cached token (refreshed when needed) on stdout")
    token.add_argument("--login", action="store_true", help="sign in first when no token is cached")
    sub.add_parser("status", parents=[common], help="say whether the cached token works, for whom, with which scopes")
    sub.add_parser("logout", parents=[common], help="forget the cached token")
    return p


def open_store(kind: str, path: Optional[str]) -> Store:
    """Opens the store a command line names; never falls back to another one."""
    if kind == "keyring":
        return KeyringStore()
    if kind == "encrypted-file":
        return EncryptedFileStore(path)
    if kind == "file":
        return FileStore(path)
    return MemoryStore()


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
    flow = _flow(args, lambda v: _ui.print_verification(v, err), progress)
    try:
        flow.token(refresh=args.force)
    finally:
        progress.done()
    who = ""
    try:
        result = flow.check()
        if result.valid and result.login:
            who = f" as {result.login}"
    except DeviceFlowError:
        pass
    print(f"Signed in to {args.base_url}{who}. The token is kept in the {args.store} store.", file=err)
    return EXIT_OK


def _token(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    # Without --login the plugin answers the cached token (refreshed when
    # needed) or not_found: it never starts a device flow.
    progress = _ui.Progress(err) if args.login else None
    flow = _flow(args, lambda v: _ui.print_verification(v, err), progress)
    try:
        auth = flow.token(interactive=args.login)
    finally:
        if progress:
            progress.done()
    # The one place the token is printed: on stdout, for a script to read.
    print(auth.token, file=out)
    return EXIT_OK


def _status(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    flow = _flow(args)
    auth = flow.token(interactive=False)
    result = flow.check()
    if not result.valid:
        print(f"The token cached for {args.base_url} no longer works: run login again.", file=err)
        return EXIT_FAILURE
    lines: List[str] = [f"Signed in to {args.base_url} as {result.login}."]
    if result.scopes is not None:
        lines.append(f"Scopes: {', '.join(result.scopes) if result.scopes else '(none)'}")
    left = auth.expires_in()
    if left is not None:
        lines.append(f"The token expires in {_ui.format_duration(left)} ({auth.expires_at}); it is refreshed automatically.")
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


def main(argv: Optional[List[str]] = None, out: Optional[IO[str]] = None, err: Optional[IO[str]] = None) -> int:
    """Runs the command line; returns the exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(err)
        return EXIT_USAGE
    if not args.client_id:
        print("deviceflow: --client-id (or DEVICEFLOW_CLIENT_ID) is required", file=err)
        return EXIT_USAGE
    try:
        return COMMANDS[args.command](args, out, err)
    except NotFound:
        print(f"Not signed in to {args.base_url}: run `python -m deviceflow login` first.", file=err)
        return EXIT_FAILURE
    except KeyringUnavailable as e:
        print(f"deviceflow: {e.message}", file=err)
        print("deviceflow: choose another store: --store encrypted-file (with DEVICEFLOW_ENCRYPTION_KEY) or --store file", file=err)
        return EXIT_FAILURE
    except DeviceFlowError as e:
        print(f"deviceflow: {e.message}", file=err)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("\ndeviceflow: interrupted", file=err)
        return EXIT_INTERRUPTED


def run() -> None:
    """The console entry point."""
    sys.exit(main())

