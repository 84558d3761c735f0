"""This process's C heap (glibc's malloc), tuned where a stage has measured that it matters.

glibc keeps what is freed for later use, and gives each thread that allocates an arena of its own.
For a process that reads a large list once and then converts for minutes, both kept memory nobody
used again.  Other C libraries have neither call; there these do nothing.
"""

from __future__ import annotations

import ctypes
import functools
import os

_M_ARENA_MAX = -8  # glibc's malloc.h


@functools.cache
def keep_one_arena() -> None:
    """One malloc arena for every thread from now on (as LibreOffice has, ``convert.office``), unless
    MALLOC_ARENA_MAX says otherwise; call it before the threads start."""
    if "MALLOC_ARENA_MAX" not in os.environ and (libc := _glibc()) is not None:
        libc.mallopt(_M_ARENA_MAX, 1)


def give_back_freed() -> None:
    """Return to the system what the heap holds freed."""
    if (libc := _glibc()) is not None:
        libc.malloc_trim(0)


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    libc = ctypes.CDLL(None)
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
