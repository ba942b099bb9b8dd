"""The service's parts: one-service-per-store locks, run history, report delivery.

`scheduler.py` at the top level puts them together into `pulse serve`.
"""
