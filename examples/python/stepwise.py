"""stepwise: the device flow one step at a time, inside an asyncio program.

``begin`` starts a flow and answers at once; ``poll`` makes one poll when it
is due and never sleeps. The waiting happens in your event loop, so one
process can run many sign-ins at once (a bot, a web back end, a TV app). The
plugin still decides everything: when the next poll is due, slow_down, the
deadline.

    python stepwise.py --client-id Ov23li...                  # github.com
    python stepwise.py --client-id x --base-url http://127.0.0.1:PORT
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from typing import List, Optional, Union

from deviceflow import Authentication, DeviceFlow, DeviceFlowError, MemoryStore, Pending


async def sign_in(flow: DeviceFlow) -> Authentication:
    """Runs one flow without blocking the event loop."""
    # The plugin's calls block on HTTP: run them in a worker thread.
    step: Union[Pending, Authentication] = await asyncio.to_thread(flow.begin)
    if isinstance(step, Pending) and step.verification is not None:
        v = step.verification
        print(f"Open {v.verification_uri} and enter the code {v.user_code}", file=sys.stderr, flush=True)
    while isinstance(step, Pending):
        due_in = ((step.next_poll_at or 0) - time.time() * 1000) / 1000
        await asyncio.sleep(max(due_in, 0))
        step = await asyncio.to_thread(flow.poll, step)
    return step


async def main_async(args: argparse.Namespace) -> int:
    flow = DeviceFlow(args.client_id, scopes=args.scopes, base_url=args.base_url, store=MemoryStore())
    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    beat = asyncio.create_task(heartbeat())
    try:
        auth = await sign_in(flow)
    except DeviceFlowError as e:
        print(f"stepwise: {e.message}", file=sys.stderr)
        return 1
    finally:
        beat.cancel()
    who = await asyncio.to_thread(flow.check)
    print(f"Signed in as {who.login}; the event loop stayed free ({ticks} heartbeats while waiting).")
    print(f"Token type: {auth.token_type}, scopes: {', '.join(auth.scopes or ()) or '(none)'}")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--client-id", default=os.environ.get("DEVICEFLOW_CLIENT_ID"), required="DEVICEFLOW_CLIENT_ID" not in os.environ)
    p.add_argument("--base-url", default="https://github.com")
    p.add_argument("--scopes", default="read:user")
    return asyncio.run(main_async(p.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
