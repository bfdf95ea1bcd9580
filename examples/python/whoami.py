"""whoami: sign in to GitHub with the device flow, call the API, greet the user.

The docs recipe (a requests loop polling the token endpoint, a token file)
done properly on the deviceflow package: the plugin polls, obeys slow_down
and the deadline, and caches the token in a store that keeps it safe.

    python whoami.py --client-id Ov23li...                       # github.com
    python whoami.py --client-id x --base-url http://127.0.0.1:PORT \\
        --store memory                                            # an emulator

The API's root comes from the plugin (api.github.com, HOST/api/v3 for GitHub
Enterprise Server); --api-url overrides it.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional

import requests

from deviceflow import (
    DeviceFlow,
    DeviceFlowError,
    EncryptedFileStore,
    FileStore,
    KeyringStore,
    MemoryStore,
    Store,
    Verification,
)


def open_store(kind: str, path: Optional[str]) -> Store:
    """The store to keep the token in; no silent fallback from one to another."""
    if kind == "keyring":
        return KeyringStore()
    if kind in ("encrypted", "encrypted-file"):
        return EncryptedFileStore(path)  # key from DEVICEFLOW_ENCRYPTION_KEY
    if kind == "file":
        return FileStore(path)
    return MemoryStore()


def show(v: Verification) -> None:
    """Shows the code the way you like: this is the whole UI."""
    print(f"Open {v.verification_uri} and enter the code {v.user_code}", file=sys.stderr, flush=True)


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--client-id", default=os.environ.get("DEVICEFLOW_CLIENT_ID"), required="DEVICEFLOW_CLIENT_ID" not in os.environ)
    p.add_argument("--base-url", default="https://github.com", help="GitHub Enterprise Server or emulator URL")
    p.add_argument("--api-url", default=None, help="the REST API's root; derived from --base-url when absent")
    p.add_argument("--scopes", default="read:user", help="scopes to ask for, comma separated")
    p.add_argument("--store", default="keyring", choices=("keyring", "file", "encrypted", "encrypted-file", "memory"),
                   help="keyring, file, encrypted (encrypted-file: the same) or memory: the deviceflow command's names")
    p.add_argument("--store-path", default=None)
    args = p.parse_args(argv)

    try:
        flow = DeviceFlow(
            args.client_id,
            scopes=args.scopes,
            base_url=args.base_url,
            store=open_store(args.store, args.store_path),
            on_verification=show,
        )
        # Every request of this session carries the token; the first one
        # signs in (or takes the cached token, refreshed when needed).
        session = requests.Session()
        session.auth = flow.requests_auth()
        api = (args.api_url or flow.api_url).rstrip("/")
        r = session.get(api + "/user", timeout=30)
    except DeviceFlowError as e:
        print(f"whoami: {e.message}", file=sys.stderr)
        return 1
    if r.status_code != 200:
        print(f"whoami: GET /user answered {r.status_code}", file=sys.stderr)
        return 1
    scopes = r.headers.get("x-oauth-scopes", "")
    print(f"Hello, {r.json()['login']}! Your token has the scopes {scopes!r}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
