"""How far a long piece of work has got, told to whoever started it: the terminal's bar, the web page.

A build (and approval, in ``delivery``) calls an :data:`OnStep` with a :class:`Step` each time a letter
is done, and once when a phase begins (``done`` 0). The callback runs on the worker's thread, so it
must be quick: it keeps the latest step, it does not render anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# The build's phases, in the words the page shows ("Đang tạo bản thảo: 120/2.156 thư").
BUILD_PHASE = "Đang tạo bản thảo"
BUNDLE_PHASE = "Đang ghép bản in thư giấy"


@dataclass(frozen=True)
class Step:
    """``done`` of ``total`` letters in ``phase`` (Vietnamese, what the work is doing now)."""

    phase: str
    done: int
    total: int


OnStep = Callable[[Step], None]


def no_steps(step: Step) -> None:
    """The observer of work nobody watches."""
