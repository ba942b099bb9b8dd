"""The service, one job per module: `service` (the scheduler and its jobs), `weekly` (when the
report runs, catch-up), `delivery` (copy and e-mail), `logline` (the line each run logs) and
`status` (what `pulse status` shows).

`scheduler.py` at the top level is the entry point that runs it; the store keeps the run
history (`store/runs.py`) and the service's lock (`store/lock.py`).
"""
