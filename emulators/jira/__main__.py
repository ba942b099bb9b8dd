"""Run a Jira emulator standalone: `python -m pulse.emulators.jira --port 8080 --seed 7`.

Prints one JSON line once it is listening — url, flavour, credentials (Cloud [email, API token];
DC the PAT), user + token (the same, flattened), basic_auth, user_timezone, projects,
custom_fields — then serves until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from datetime import datetime

from pulse.emulators.jira.emulator import JiraEmulator
from pulse.emulators.jira.org import RISKS, OrgSpec


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; defaults match OrgSpec's."""
    d = OrgSpec()
    p = argparse.ArgumentParser(prog="python -m pulse.emulators.jira", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--flavour", choices=("cloud", "datacenter"), default="cloud")
    p.add_argument("--issues", type=int, default=d.issues)
    p.add_argument("--projects", type=int, default=d.projects)
    p.add_argument(
        "--now",
        type=datetime.fromisoformat,
        default=d.now,
        help="ISO date-time the organisation's history ends at",
    )
    p.add_argument("--plant", default="", help=f"comma list of risks: {','.join(RISKS)}")
    p.add_argument("--dc-max-results", type=int, default=d.dc_max_results)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Generate, serve, print the connection details, wait for a signal."""
    args = parse_args(argv)
    spec = OrgSpec(
        seed=args.seed,
        issues=args.issues,
        projects=args.projects,
        now=args.now,
        plant=tuple(p for p in args.plant.split(",") if p),
        dc_max_results=args.dc_max_results,
    )
    emu = JiraEmulator(spec, args.flavour)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    with emu.serve(args.host, args.port) as server:
        creds = emu.credentials
        f = emu.world.fields
        info = {
            "url": server.url if args.host == "127.0.0.1" else f"http://{args.host}:{server.port}",
            "flavour": args.flavour,
            "credentials": creds if isinstance(creds, str) else list(creds),
            "user": emu.basic_auth[0],
            "token": creds if isinstance(creds, str) else creds[1],
            "basic_auth": list(emu.basic_auth),
            "user_timezone": emu.user_timezone,
            "projects": [p.key for p in emu.world.projects.values()],
            "custom_fields": [
                c.id
                for c in (
                    f.estimate,
                    f.sprint,
                    f.flagged,
                    f.target_start,
                    f.target_end,
                    f.epic_link,
                )
                if c is not None
            ],
            "issues": len(emu.world.issues),
            "seed": args.seed,
        }
        print(json.dumps(info), flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
