"""The pages' probe of the mail servers: a server that does not answer is said with what to do; the
answer is remembered for a short while so that a down server does not slow every page."""

from __future__ import annotations

import socket
from pathlib import Path

from outreach.config import parse_config
from outreach.web.reachability import REMEMBER_S, ServerProbe

from factories import config_data


def test_a_down_server_is_said_once_per_while_and_an_answering_one_not_at_all() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listening:
        up = parse_config(config_data(listening.getsockname()[1]), Path(".")).smtp["sink"]
        down = parse_config(config_data(1), Path(".")).smtp["sink"]
        now = [100.0]
        calls: list[tuple[str, int]] = []

        def connect(address, timeout):
            calls.append(address)
            return socket.create_connection(address, timeout=timeout)

        probe = ServerProbe(connect=connect, clock=lambda: now[0])
        assert probe.unreachable([up]) == []
        (found,) = probe.unreachable([up, down])
        assert found.where == "127.0.0.1:1" and "từ chối kết nối" in found.advice
        assert probe.unreachable([down]) == [found] and calls.count(("127.0.0.1", 1)) == 1  # remembered
        now[0] += REMEMBER_S + 1
        assert probe.unreachable([down]) == [found] and calls.count(("127.0.0.1", 1)) == 2  # asked again
