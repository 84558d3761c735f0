"""The HTTP server ``outreach serve`` runs: Werkzeug's threaded server, bounded.

Werkzeug starts a thread per connection and, left alone, a connection that sends nothing holds its
thread forever (800 idle connections held 800 threads). Here:

* each connection gets :data:`IDLE_TIMEOUT_S` per read: one that sends no byte for that long (no
  request line, headers stopped half way, an idle keep-alive) is closed and its thread ends;
* at most :data:`MAX_THREADS` connections are served at once; more wait in the listen queue;
* with TLS the handshake happens in the connection's own thread, under the same timeout (Python's
  default does it in the accept loop, where one silent client would stop the whole server).
"""

from __future__ import annotations

import signal
import socket
import ssl
import threading
from pathlib import Path

from flask import Flask
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from ..errors import UserError

IDLE_TIMEOUT_S = 30.0
MAX_THREADS = 32


class BoundedHandler(WSGIRequestHandler):
    timeout = IDLE_TIMEOUT_S  # socketserver sets it on the connection before the first read

    def handle(self) -> None:
        if isinstance(self.connection, ssl.SSLSocket):
            try:
                self.connection.do_handshake()
            except (OSError, ValueError):  # a timeout, a plain-HTTP client, a dropped line
                return
        super().handle()


class BoundedServer(ThreadedWSGIServer):
    def __init__(self, host: str, port: int, app: Flask, context: ssl.SSLContext | None = None, *,
                 max_threads: int = MAX_THREADS, idle_timeout_s: float = IDLE_TIMEOUT_S) -> None:
        handler = type("Handler", (BoundedHandler,), {"timeout": idle_timeout_s})
        super().__init__(host, port, app, handler)
        self._slots = threading.BoundedSemaphore(max_threads)
        if context is not None:
            self.socket = context.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)
            self.ssl_context = context  # Werkzeug reads it: https URLs, TLS errors logged as such

    def process_request(self, request: socket.socket, client_address) -> None:
        self._slots.acquire()  # blocks accepting while every slot serves a connection
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: socket.socket, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


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
    try:
        server = BoundedServer(host, port, app, context)
    except OSError as error:
        raise UserError(f"Không mở được cổng {port} trên {host} ({error.strerror or error}). "
                        "Cách sửa: chọn cổng khác bằng --port, ví dụ --port 8080.") from None
    shown = f"[{host}]" if ":" in host else host
    scheme = "https" if context is not None else "http"
    print(f"Trang web outreach đang chạy tại {scheme}://{shown}:{server.port}/ "
          f"(thư mục làm việc {app.config['OUTREACH_ROOT']}). Nhấn Ctrl-C để dừng.", flush=True)
    if app.config["OUTREACH_ACCOUNTS_REQUIRED"]:
        print("Mỗi cán bộ đăng nhập bằng tài khoản của mình (xem 'outreach user list').", flush=True)
    signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("Đã dừng trang web.")
    finally:
        server.server_close()
