"""Progress bars for long syncs (rich), drawn on stderr so stdout stays machine-readable."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


class BarProgress:
    """One bar per task (a project, a board, the census), sized when the total is known."""

    def __init__(self, source: str, console: Console | None = None) -> None:
        self._source = source
        self._bars = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console or Console(stderr=True),
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> BarProgress:
        self._bars.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._bars.stop()

    def begin(self, task: str, total: int | None) -> None:
        if task in self._tasks:
            self._bars.update(self._tasks[task], total=total)
            return
        self._tasks[task] = self._bars.add_task(f"{self._source} {task}", total=total)

    def advance(self, task: str, amount: int) -> None:
        self._bars.advance(self._tasks[task], amount)

    def end(self, task: str) -> None:
        bar = self._tasks[task]
        done = self._bars.tasks[self._tasks[task]].completed
        self._bars.update(bar, total=done, completed=done)
