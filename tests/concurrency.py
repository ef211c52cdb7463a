"""Run the same call in several threads released at the same instant (races on purpose)."""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def run_at_once(fn: Callable[[], T], n: int = 2,
                timeout: float = 60) -> tuple[list[T], list[BaseException]]:
    """Call ``fn`` in ``n`` threads that start together; return (results, errors raised)."""
    barrier = threading.Barrier(n)
    results: list[T] = []
    errors: list[BaseException] = []

    def go() -> None:
        try:
            barrier.wait()
            results.append(fn())
        except BaseException as exc:  # noqa: BLE001 - returned to the test to assert on
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    return results, errors
