"""`python -m pulse.emulators.jira` runs standalone; tests can change its world over HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]


def test_standalone_server_prints_credentials_and_serves_until_sigterm() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pulse.emulators.jira",
            "--port",
            "0",
            "--seed",
            "8",
            "--issues",
            "150",
            "--projects",
            "2",
            "--flavour",
            "datacenter",
            "--plant",
            "overdue_epic",
            "--now",  # pinned: the clock is moved to the next day below
            "2026-11-20T12:00:00+00:00",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        assert info["flavour"] == "datacenter" and info["url"].startswith("http://127.0.0.1:")
        url, token = info["url"], info["credentials"]
        auth = {"Authorization": f"Bearer {token}"}
        server = requests.get(f"{url}/rest/api/2/serverInfo", headers=auth, timeout=5).json()
        assert server["deploymentType"] == "Server"
        assert (
            requests.get(
                f"{url}/rest/api/2/myself", auth=tuple(info["basic_auth"]), timeout=5
            ).status_code
            == 200
        )
        # change the subprocess's world over HTTP, then read the truth back
        requests.post(
            f"{url}/_emulator/clock", json={"now": "2026-11-21T10:00:00+00:00"}, timeout=5
        )
        r = requests.post(
            f"{url}/rest/api/2/issue/WEB-2/transitions",
            headers=auth,
            json={"transition": {"id": "41"}},
            timeout=5,
        )
        assert r.status_code == 204
        moved = requests.post(
            f"{url}/_emulator/move", json={"issue": "WEB-3", "project": "MOB"}, timeout=5
        )
        issue = requests.get(f"{url}/_emulator/truth/issue/WEB-2", timeout=5).json()
        assert issue["status"] == "Done"
        assert issue["updated"].startswith("2026-11-21T10:00:00")
        truth = requests.get(f"{url}/_emulator/truth", timeout=5).json()
        assert truth["moved"] == {"WEB-3": moved.json()["key"]}
        assert truth["planted"]["overdue_epic"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
