"""The HTTP servers ``outreach serve`` runs.

Plain HTTP (the usual case: on the office network, or behind a reverse proxy) is served by
**waitress**, a production WSGI server: one thread reads and writes every connection (asyncore), so
an idle or trickling client costs a file descriptor, never a worker; a request reaches one of
:data:`MAX_THREADS` workers only once it has fully arrived; connections idle for
:data:`IDLE_TIMEOUT_S` are closed and at most :data:`MAX_CONNECTIONS` are open at once.

HTTPS (``--cert``) is served by :class:`BoundedServer`, since waitress speaks no TLS: Werkzeug's
request handling with the same bounds built in.

* an accepted connection waits in a *waiting room* (one thread, a selector) until its first bytes
  arrive; only then does one of at most :data:`MAX_THREADS` workers serve it. Idle connections
  cost a file descriptor, not a thread, and are closed after :data:`IDLE_TIMEOUT_S`; past
  :data:`MAX_WAITING` of them the longest waiting is closed, so a new visitor always gets in;
* a worker gets :data:`HEADER_TIMEOUT_S` for the request line and headers (a client trickling a
  byte at a time is cut off) and :data:`READ_TIMEOUT_S` per read after that;
* one request per connection (HTTP/1.0): a browser's idle keep-alive never holds a worker;
* with TLS the handshake happens in the worker, under the same limits, never in the accept loop.

Both stop cleanly on SIGTERM (systemd's stop) as on Ctrl-C: the listening socket is closed and the
process exits 0.
"""

from __future__ import annotations

import selectors
import signal
import socket
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler

from ..errors import UserError

IDLE_TIMEOUT_S = 30.0
HEADER_TIMEOUT_S = 20.0
READ_TIMEOUT_S = 30.0
MAX_THREADS = 16
MAX_WAITING = 512
MAX_CONNECTIONS = 512  # waitress: open connections at once (idle ones included)
MAX_BODY = 4 * 1024 * 1024  # waitress refuses a larger request body before the app sees it (Flask's limit: 2 MB)


class BoundedHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection (Werkzeug would answer HTTP/1.1 keep-alive)
    timeout = READ_TIMEOUT_S  # socketserver sets it on the connection before the first read
    header_timeout = HEADER_TIMEOUT_S

    def handle(self) -> None:
        deadline = threading.Timer(self.header_timeout, self._cut_off)
        self._deadline = deadline
        deadline.start()
        try:
            if isinstance(self.connection, ssl.SSLSocket):
                try:
                    self.connection.do_handshake()
                except (OSError, ValueError):  # a timeout, a plain-HTTP client, a dropped line
                    return
            super().handle()
        finally:
            deadline.cancel()

    def parse_request(self) -> bool:
        parsed = super().parse_request()
        self._deadline.cancel()  # the request line and headers are in
        return parsed

    def _cut_off(self) -> None:
        try:
            self.connection.shutdown(socket.SHUT_RDWR)  # the blocked read returns: the worker is free
        except OSError:
            pass


class BoundedServer(BaseWSGIServer):
    multithread = True  # for WSGI's environ: requests are served by several threads

    def __init__(self, host: str, port: int, app: Flask, context: ssl.SSLContext | None = None, *,
                 max_threads: int = MAX_THREADS, idle_timeout_s: float = IDLE_TIMEOUT_S,
                 header_timeout_s: float = HEADER_TIMEOUT_S, max_waiting: int = MAX_WAITING) -> None:
        handler = type("Handler", (BoundedHandler,), {"header_timeout": header_timeout_s})
        super().__init__(host, port, app, handler)
        if context is not None:
            self.socket = context.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)
            self.ssl_context = context  # Werkzeug reads it: https URLs, TLS errors logged as such
        self._workers = ThreadPoolExecutor(max_threads, thread_name_prefix="outreach-web")
        self._room = _WaitingRoom(self, idle_timeout_s, max_waiting)

    def process_request(self, request: socket.socket, client_address) -> None:
        self._room.enter(request, client_address)

    def serve(self, request: socket.socket, client_address) -> None:
        """In a worker: the connection has sent its first bytes."""
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def dispatch(self, request: socket.socket, client_address) -> None:
        self._workers.submit(self.serve, request, client_address)

    def server_close(self) -> None:
        self._room.close()
        self._workers.shutdown(wait=False, cancel_futures=True)
        super().server_close()


class _WaitingRoom:
    """Accepted connections that have not sent a byte yet, watched by one thread."""

    def __init__(self, server: BoundedServer, idle_timeout_s: float, max_waiting: int) -> None:
        self._server = server
        self._idle = idle_timeout_s
        self._max = max_waiting
        self._selector = selectors.DefaultSelector()
        self._lock = threading.Lock()
        self._arrived: list[tuple[socket.socket, object]] = []
        self._waiting: dict[socket.socket, tuple[object, float]] = {}  # insertion order = arrival order
        self._wake_read, self._wake_write = socket.socketpair()
        self._selector.register(self._wake_read, selectors.EVENT_READ)
        self._closed = False
        self._thread = threading.Thread(target=self._watch, name="outreach-web-waiting", daemon=True)
        self._thread.start()

    def enter(self, connection: socket.socket, address) -> None:
        with self._lock:
            self._arrived.append((connection, address))
        self._wake_write.send(b"\0")

    def close(self) -> None:
        if not self._closed:  # Werkzeug's serve_forever closes the server, and so does run()
            self._closed = True
            self._wake_write.send(b"\0")
            self._thread.join(5)

    def _watch(self) -> None:
        while not self._closed:
            with self._lock:
                arrived, self._arrived = self._arrived, []
            now = time.monotonic()
            for connection, address in arrived:
                self._waiting[connection] = (address, now + self._idle)
                self._selector.register(connection, selectors.EVENT_READ)
            while len(self._waiting) > self._max:
                self._drop(next(iter(self._waiting)))
            for key, _ in self._selector.select(timeout=min(1.0, self._idle)):
                if key.fileobj is self._wake_read:
                    self._wake_read.recv(4096)
                elif key.fileobj in self._waiting:
                    connection = key.fileobj
                    address, _ = self._waiting.pop(connection)
                    self._selector.unregister(connection)
                    self._server.dispatch(connection, address)
            now = time.monotonic()
            for connection in [c for c, (_, deadline) in self._waiting.items() if deadline <= now]:
                self._drop(connection)
        for connection in list(self._waiting):
            self._drop(connection)
        self._selector.close()
        self._wake_read.close()
        self._wake_write.close()

    def _drop(self, connection: socket.socket) -> None:
        self._waiting.pop(connection, None)
        self._selector.unregister(connection)
        self._server.shutdown_request(connection)


def tls_context(cert: Path, key: Path | None) -> ssl.SSLContext:
    for path in (cert, key):
        if path is not None and not path.is_file():
            raise UserError(f"Không tìm thấy tệp {path}. Cách sửa: kiểm tra đường dẫn --cert / --key.")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as error:
        raise UserError(f"Không đọc được chứng chỉ TLS {cert}" + (f" hoặc khóa {key}" if key else "") +
                        f" ({error}). Cách sửa: dùng tệp PEM: --cert chứng chỉ (kèm chuỗi trung gian), "
                        "--key khóa riêng không đặt mật khẩu.") from None
    return context


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM (systemd stop) ends serve_forever like Ctrl-C


def run(app: Flask, host: str, port: int, context: ssl.SSLContext | None) -> None:
    """Serve until Ctrl-C or SIGTERM: waitress over plain HTTP, the bounded server over TLS."""
    server = _waitress(app, host, port) if context is None else _bounded(app, host, port, context)
    shown = f"[{host}]" if ":" in host else host
    scheme = "https" if context is not None else "http"
    print(f"Trang web outreach đang chạy tại {scheme}://{shown}:{server.port}/ "
          f"(thư mục làm việc {app.config['OUTREACH_ROOT']}). Nhấn Ctrl-C để dừng.", flush=True)
    if app.config["OUTREACH_ACCOUNTS_REQUIRED"]:
        print("Mỗi cán bộ đăng nhập bằng tài khoản của mình (xem 'outreach user list').", flush=True)
    signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve()
    except KeyboardInterrupt:  # waitress ends its loop itself; the bounded server's returns
        pass
    finally:
        server.close()
    print("Đã dừng trang web.")


@dataclass(frozen=True)
class _Running:
    """A server ready to serve: its port, its loop, and how to close it."""

    port: int
    serve: Callable[[], None]
    close: Callable[[], None]


def _unavailable(host: str, port: int, error: OSError) -> UserError:
    return UserError(f"Không mở được cổng {port} trên {host} ({error.strerror or error}). "
                     "Cách sửa: chọn cổng khác bằng --port, ví dụ --port 8080.")


def _waitress(app: Flask, host: str, port: int) -> _Running:
    from waitress.server import create_server

    try:
        server = create_server(app, host=host, port=port, threads=MAX_THREADS, connection_limit=MAX_CONNECTIONS,
                               channel_timeout=int(IDLE_TIMEOUT_S), max_request_body_size=MAX_BODY,
                               clear_untrusted_proxy_headers=True)
    except OSError as error:
        raise _unavailable(host, port, error) from None
    # A name with several addresses (localhost: ::1 and 127.0.0.1) gives one socket each, one port.
    listening = getattr(server, "effective_listen", None) or [(host, server.effective_port)]
    return _Running(int(listening[0][1]), server.run, server.close)


def _bounded(app: Flask, host: str, port: int, context: ssl.SSLContext) -> _Running:
    try:
        server = BoundedServer(host, port, app, context)
    except OSError as error:
        raise _unavailable(host, port, error) from None
    return _Running(server.port, server.serve_forever, server.server_close)
