"""Progress on long work (tqdm on stderr): Dijkstra batches, network reading, solves, sweep points
and batch cases. Quiet when stderr is not a terminal (CI, pipes, log files), when
``COUNTY_SITING_PROGRESS=0``, and inside worker processes (their parent shows the progress).

* :func:`bar` wraps an iterable (or counts ``total`` steps) with a bar.
* :class:`Heartbeat` is a bar without a length for work of unknown duration (a MILP solve, reading
  a network): it shows the elapsed time every second and, for a solve, what the solver's callback
  last reported (incumbent, bound, gap).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

__all__ = ["Heartbeat", "bar", "enabled"]

T = TypeVar("T")


def enabled() -> bool:
    """Bars are drawn only for a person watching a terminal, from the main process."""
    if os.environ.get("COUNTY_SITING_PROGRESS", "").strip() in ("0", "false", "no"):
        return False
    if multiprocessing.parent_process() is not None:
        return False
    stream = sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())


def bar(
    items: Iterable[T], *, desc: str, total: int | None = None, unit: str = "it"
) -> Iterator[T]:
    """``items`` with a progress bar on stderr (the items alone when bars are off)."""
    if not enabled():
        yield from items
        return
    from tqdm import tqdm

    with tqdm(items, desc=desc, total=total, unit=unit, leave=False, file=sys.stderr) as it:
        yield from it


class Heartbeat:
    """A bar of elapsed time for one piece of work, refreshed every second by a daemon thread.

    ``update(incumbent, bound, gap)`` (from a solver callback, any thread) shows the latest
    figures; nothing is drawn when bars are off."""

    def __init__(self, desc: str) -> None:
        self.desc = desc
        self._bar: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._text = ""
        self._lock = threading.Lock()

    def __enter__(self) -> Heartbeat:
        if enabled():
            from tqdm import tqdm

            self._bar = tqdm(
                total=None,
                desc=self.desc,
                leave=False,
                file=sys.stderr,
                bar_format="{desc}: {elapsed}{postfix}",
            )
            self._thread = threading.Thread(target=self._beat, daemon=True)
            self._thread.start()
        return self

    @property
    def active(self) -> bool:
        return self._bar is not None

    def _beat(self) -> None:
        while not self._stop.wait(1.0):
            with self._lock:
                if self._bar is not None:
                    self._bar.set_postfix_str(self._text, refresh=False)
                    self._bar.refresh()

    def update(self, incumbent: float | None, bound: float | None, gap: float | None) -> None:
        """The solver's latest incumbent, best bound and relative gap (None: not known yet)."""
        parts = []
        if incumbent is not None and abs(incumbent) < 1e300:
            parts.append(f"incumbent {incumbent:,.6g}")
        if bound is not None and abs(bound) < 1e300:
            parts.append(f"bound {bound:,.6g}")
        if gap is not None and gap < 1e300:
            parts.append(f"gap {100 * gap:.2f}%")
        self._text = ", ".join(parts)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        with self._lock:
            if self._bar is not None:
                self._bar.close()
                self._bar = None
