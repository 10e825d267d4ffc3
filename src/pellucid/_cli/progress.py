"""Rich progress on stderr for long runs (only on a terminal and without --quiet)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pellucid.audit import Progress

T = TypeVar("T")


def with_progress(run: Callable[[Progress], T]) -> T:
    """Call ``run`` with a progress callback that drives a transient bar on stderr."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    console = Console(stderr=True)
    with Bar(
        TextColumn("[bold]scanning"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("", total=None)

        def progress(path: str, index: int, total: int) -> None:
            shown = path if len(path) <= 60 else "…" + path[-59:]
            bar.update(task, completed=index, total=total, description=shown)

        return run(progress)
