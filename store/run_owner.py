"""Who runs a sync: the host and process id recorded on its run-history row.

A run row stays `running` when its process is killed outright (SIGKILL, a crash, a power cut).
On the same host, a row whose process is gone is known to be dead; elsewhere, only its age
tells (see store.analysis.STALE_RUN).
"""

from __future__ import annotations

import os
import socket


def current_owner() -> str:
    """This process, as a run row records it: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def is_dead(owner: str | None) -> bool:
    """True only when ``owner`` names a process of this host that no longer exists."""
    host, _, pid = (owner or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, as another user
        return False
    return False
