"""Whether the mail servers answer, for the pages' banner: a TCP connection to each SMTP profile a
campaign's letters go through, remembered for a short while, so that a page stays quick when a
server is down and staff learn of it before they press «Gửi ngay», not from the failures after."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..config import SmtpProfile
from ..delivery import error_advice

PROBE_TIMEOUT_S = 1.0
REMEMBER_S = 30.0


@dataclass(frozen=True)
class Unreachable:
    profile: str
    where: str  # host:port
    advice: str  # Vietnamese: what happened, what the office can do


class ServerProbe:
    def __init__(self, connect: Callable[..., socket.socket] = socket.create_connection,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._connect, self._clock = connect, clock
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, int], tuple[float, Unreachable | None]] = {}

    def unreachable(self, profiles: Iterable[SmtpProfile]) -> list[Unreachable]:
        return [found for found in (self._probe(p) for p in profiles) if found is not None]

    def _probe(self, profile: SmtpProfile) -> Unreachable | None:
        key = (profile.host, profile.port)
        with self._lock:
            seen = self._seen.get(key)
        if seen is not None and self._clock() - seen[0] < REMEMBER_S:
            return seen[1]
        try:
            self._connect(key, timeout=PROBE_TIMEOUT_S).close()
            found = None
        except OSError as error:
            found = Unreachable(profile.name, f"{profile.host}:{profile.port}", error_advice(error, profile))
        with self._lock:
            self._seen[key] = (self._clock(), found)
        return found
