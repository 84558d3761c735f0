"""The server `outreach serve` runs, over real sockets on 127.0.0.1: idle connections neither hold
threads forever nor stop others from being served; TLS with Secure cookies; a clean stop on SIGTERM."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from outreach.accounts import Accounts, Actor
from outreach.web import create_app
from outreach.web.server import BoundedServer, tls_context
from outreach.workspace import Workspace

REPO = Path(__file__).resolve().parent.parent
IDLE = 24  # idle connections opened at once (the attack pass held 800 threads with 800)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("serve")
    shutil.copy(REPO / "config.toml", root / "config.toml")
    return root


@contextmanager
def serving(server: BoundedServer) -> Iterator[int]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def workers() -> int:
    return sum(thread.name.startswith("outreach-web_") for thread in threading.enumerate())


def idle_sockets(port: int, count: int) -> list[socket.socket]:
    """Connections that send nothing at all, as a slow or hostile client would leave them."""
    return [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]


def closed_by_server(connection: socket.socket, within_s: float) -> bool:
    connection.settimeout(within_s)
    try:
        return connection.recv(1) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def get(port: int, path: str = "/static/style.css") -> int:
    page = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        page.request("GET", path)
        return page.getresponse().status
    finally:
        page.close()


def test_idle_connections_hold_no_thread_and_are_closed(root: Path) -> None:
    before = threading.active_count()
    server = BoundedServer("127.0.0.1", 0, create_app(root), max_threads=4, idle_timeout_s=1.5, max_waiting=IDLE - 4)
    with serving(server) as port:
        idle = idle_sockets(port, IDLE)
        time.sleep(0.3)
        assert workers() == 0 and threading.active_count() <= before + 3  # serve_forever, the waiting room
        assert all(closed_by_server(c, 0.2) for c in idle[:4])  # past max_waiting: the longest waiting go
        assert not any(closed_by_server(c, 0.05) for c in idle[4:8])
        started = time.monotonic()
        assert get(port) == 200  # served at once, beside the idle ones (which makes room: one more goes)
        assert time.monotonic() - started < 1
        assert workers() <= 4
        assert all(closed_by_server(c, 5) for c in idle[4:])  # the others after the idle timeout
        for connection in idle:
            connection.close()


def test_a_client_trickling_its_headers_is_cut_off(root: Path) -> None:
    server = BoundedServer("127.0.0.1", 0, create_app(root), max_threads=1, header_timeout_s=1)
    with serving(server) as port:
        slow = socket.create_connection(("127.0.0.1", port))
        slow.sendall(b"GET / HTTP/1.1\r\n")
        started = time.monotonic()
        with pytest.raises((BrokenPipeError, ConnectionResetError)):
            while time.monotonic() - started < 10:
                slow.sendall(b"X-Slow: 1\r\n")
                time.sleep(0.2)
        assert time.monotonic() - started < 3
        assert get(port) == 200  # the only worker is free again
        slow.close()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def test_https_with_secure_cookies_and_a_silent_client_stops_nobody(root: Path, certificate) -> None:
    cert, key = certificate
    server = BoundedServer("127.0.0.1", 0, create_app(root, secure=True), tls_context(cert, key), idle_timeout_s=2)
    with serving(server) as port:
        silent = idle_sockets(port, 3)  # no TLS handshake ever: must not hold the accept loop
        client = ssl.create_default_context(cafile=str(cert))
        page = http.client.HTTPSConnection("127.0.0.1", port, context=client, timeout=10)
        page.request("GET", "/", headers={"Host": f"127.0.0.1:{port}"})
        response = page.getresponse()
        assert response.status == 200
        cookie = response.getheader("Set-Cookie")
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        page.close()
        for connection in silent:
            connection.close()


def test_serve_refuses_a_missing_certificate_and_stops_cleanly_on_sigterm(root: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("OUTREACH_WEB_PASSWORD", None)
    command = [sys.executable, "-m", "outreach.cli", "--root", str(root), "serve", "--port", "0"]
    missing = subprocess.run([*command, "--cert", str(tmp_path / "khong-co.pem")], capture_output=True, text=True,
                             env=env, timeout=60)
    assert missing.returncode == 2 and "Không tìm thấy tệp" in missing.stderr and "Traceback" not in missing.stderr
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = process.stdout.readline()
        assert line.startswith("Trang web outreach đang chạy tại http://127.0.0.1:"), line
        port = int(line.split("127.0.0.1:")[1].split("/")[0])
        page = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        page.request("GET", "/")
        response = page.getresponse()
        assert response.status == 200 and "Chiến dịch" in response.read().decode()
        assert response.getheader("Server") == "waitress"  # a production WSGI server, not Werkzeug's
        page.close()
        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        out, err = process.communicate(timeout=30)
        stopped_in = time.monotonic() - started
    finally:
        process.kill()
    assert process.returncode == 0 and stopped_in < 5, (stopped_in, err)
    assert "Đã dừng trang web." in out and "Traceback" not in err
    with socket.socket() as again:  # the port is released
        again.bind(("127.0.0.1", port))


def test_serve_beyond_loopback_needs_an_administrator_account(root: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("OUTREACH_WEB_PASSWORD", None)
    office = tmp_path / "office"
    office.mkdir()
    shutil.copy(REPO / "config.toml", office / "config.toml")
    command = [sys.executable, "-m", "outreach.cli", "--root", str(office), "serve", "--host", "0.0.0.0", "--port", "0"]
    refused = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert refused.returncode == 2 and "khi đã có tài khoản quản trị" in refused.stderr
    assert "Traceback" not in refused.stderr and refused.stdout == ""
    Accounts(Workspace(office).accounts).add("quantri", "Trần Quản Trị", ["admin"], "mật-khẩu-đủ-dài",
                                             Actor("người cài đặt", "", "cli root"))
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = process.stdout.readline()
        assert line.startswith("Trang web outreach đang chạy tại http://0.0.0.0:"), line
        assert process.stdout.readline().startswith("Mỗi cán bộ đăng nhập bằng tài khoản của mình")
        port = int(line.split("0.0.0.0:")[1].split("/")[0])
        page = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        page.request("GET", "/")
        response = page.getresponse()
        assert response.status == 302 and response.getheader("Location").startswith("/login")  # no page without one
        page.close()
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0 and "Traceback" not in err
    shared = subprocess.run([sys.executable, "-m", "outreach.cli", "--root", str(root), "serve", "--port", "0"],
                            capture_output=True, text=True, env={**env, "OUTREACH_WEB_PASSWORD": "chung"}, timeout=60)
    assert shared.returncode == 2 and "không còn được dùng" in shared.stderr and "outreach user add" in shared.stderr
