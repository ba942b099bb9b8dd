"""Jira sync benchmark: a full sync of a large site against a bare download of the same pages.

Run with `python -m benchmarks.jira_sync_bench [--issues 50000]`. The emulator runs in its own
process. In the same run we measure:

- baseline: a bare `requests` client downloading exactly the pages a full sync needs (search pages
  with changelogs at the page cap, plus the changelog pages of truncated histories);
- the full sync (`pulse sync` in a child process, so its peak RSS is its own);
- requests the sync made ÷ pages the baseline needed;
- an incremental sync after 100 changes.

Figures are printed as ratios against the baseline; this is not a timed test.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from pulse.connectors.jira.sync import BASE_FIELDS

ROOT = Path(__file__).resolve().parents[1]
PAGE = 100


def start_emulator(issues: int, seed: int) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pulse.emulators.jira",
            "--port",
            "0",
            "--seed",
            str(seed),
            "--flavour",
            "cloud",
            "--issues",
            str(issues),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    info = json.loads(proc.stdout.readline())
    return proc, info


def bare_download(
    info: dict[str, Any], projects: list[str], custom: list[str]
) -> tuple[float, int, int]:
    """Download every page a full sync needs with a plain client, completing truncated
    histories one issue at a time; return seconds, pages, and how many were changelog pages."""
    session = requests.Session()
    session.auth = (info["user"], info["token"])
    url = info["url"].rstrip("/")
    pages = changelog_pages = 0
    started = time.perf_counter()
    for key in projects:
        token = None
        while True:
            body: dict[str, Any] = {
                "jql": f'project = "{key}" ORDER BY created ASC, key ASC',
                "fields": BASE_FIELDS + custom,
                "expand": "changelog",
                "maxResults": PAGE,
            }
            if token:
                body["nextPageToken"] = token
            answer = session.post(f"{url}/rest/api/3/search/jql", json=body, timeout=60).json()
            pages += 1
            for issue in answer["issues"]:
                log = issue.get("changelog") or {}
                if log.get("total", 0) > len(log.get("histories") or []):
                    start = 0
                    while True:
                        part = session.get(
                            f"{url}/rest/api/3/issue/{issue['id']}/changelog",
                            params={"startAt": start, "maxResults": 100},
                            timeout=60,
                        ).json()
                        pages += 1
                        changelog_pages += 1
                        start += len(part["values"])
                        if part.get("isLast", True) or not part["values"]:
                            break
            token = answer.get("nextPageToken")
            if not token or answer.get("isLast"):
                break
    return time.perf_counter() - started, pages, changelog_pages


def write_config(folder: Path, info: dict[str, Any], projects: list[str]) -> Path:
    config = folder / "pulse.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{folder / "pulse.db"}"\n\n[[sources]]\nname = "bench"\n'
        f'kind = "jira"\nurl = "{info["url"]}"\nuser = "{info["user"]}"\n'
        f'token = "${{BENCH_TOKEN}}"\nprojects = {json.dumps(projects)}\ncensus_every = "1w"\n',
        encoding="utf-8",
    )
    return config


def pulse_sync(config: Path, token: str) -> tuple[float, str]:
    env = {**os.environ, "BENCH_TOKEN": token}
    started = time.perf_counter()
    done = subprocess.run(
        [
            *(sys.executable, "-m", "pulse.cli", "sync", "--config", str(config)),
            *("--no-progress", "--no-analysis"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    )
    return time.perf_counter() - started, (done.stdout + done.stderr).strip()


def requests_made(info: dict[str, Any]) -> int:
    return int(requests.get(f"{info['url']}/_emulator/requests", timeout=10).json()["total"])


def requests_by_path(info: dict[str, Any]) -> dict[str, int]:
    answer = requests.get(f"{info['url']}/_emulator/requests", timeout=10).json()
    return {str(k): int(v) for k, v in answer["by_path"].items()}


def reset_requests(info: dict[str, Any]) -> None:
    requests.delete(f"{info['url']}/_emulator/requests", timeout=10)


def mutate(info: dict[str, Any], count: int) -> None:
    """Change `count` issues through the real edit API."""
    session = requests.Session()
    session.auth = (info["user"], info["token"])
    url = info["url"].rstrip("/")
    found = session.post(
        f"{url}/rest/api/3/search/jql",
        json={
            "jql": "project is not EMPTY ORDER BY created DESC",
            "fields": ["summary"],
            "maxResults": count,
        },
        timeout=60,
    ).json()["issues"]
    for issue in found:
        session.put(
            f"{url}/rest/api/3/issue/{issue['id']}",
            json={"fields": {"summary": issue["fields"]["summary"] + " (edited)"}},
            timeout=60,
        ).raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    proc, info = start_emulator(args.issues, args.seed)
    try:
        projects = list(info["projects"])
        custom = list(info.get("custom_fields") or [])
        base_seconds, pages, changelog_pages = bare_download(info, projects, custom)
        with tempfile.TemporaryDirectory() as folder:
            config = write_config(Path(folder), info, projects)
            reset_requests(info)
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            sync_seconds, summary = pulse_sync(config, info["token"])
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            sync_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
            peak_mb = after.ru_maxrss / 1024
            made = requests_made(info)
            bulk = requests_by_path(info).get("/rest/api/3/changelog/bulkfetch", 0)
            mutate(info, 100)
            reset_requests(info)
            incr_seconds, incr_summary = pulse_sync(config, info["token"])
            incr_requests = requests_made(info)
        print(f"issues                 {args.issues}")
        print(f"bare download          {base_seconds:8.1f} s  ({pages} pages)")
        print(f"full sync              {sync_seconds:8.1f} s  ({summary.splitlines()[-1]})")
        print(f"sync ÷ download        {sync_seconds / base_seconds:8.2f}   (target ≤ 1.25)")
        print(
            f"CPU of the sync        {sync_cpu:8.1f} s  (the sync process's own work, whatever "
            f"else loads the machine; load average {os.getloadavg()[0]:.1f})"
        )
        print(
            f"requests ÷ min pages   {made / pages:8.3f}   "
            f"({made} requests, {pages} pages; target 1.0 + constant)"
        )
        print(
            f"heavy histories        {changelog_pages} changelog requests one issue at a time, "
            f"{bulk} with changelog/bulkfetch"
        )
        print(f"peak RSS of sync       {peak_mb:8.0f} MB (target ≤ 400)")
        print(
            f"incremental, 100 edits {incr_seconds:8.2f} s  "
            f"(whole command, {incr_requests} requests; target ≤ 2 s)"
        )
        print(f"                       {incr_summary.splitlines()[-1]}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
