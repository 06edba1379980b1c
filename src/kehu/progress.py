"""How long-running use cases tell their caller about progress, without knowing about terminals."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

Advance = Callable[[int], None]


class ProgressReporter(Protocol):
    """``with reporter.step("Fitting", total=None) as advance: ... advance(n)``."""

    def step(
        self, description: str, total: int | None = None
    ) -> AbstractContextManager[Advance]: ...


class SilentProgress:
    """The default reporter: says nothing."""

    @contextmanager
    def step(self, description: str, total: int | None = None) -> Iterator[Advance]:
        yield lambda _n: None
