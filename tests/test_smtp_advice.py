"""What staff read about an SMTP failure: Vietnamese, what happened and what to do, never only
Python's or the server's English."""

from __future__ import annotations

import smtplib
import socket
import ssl
from pathlib import Path

import pytest

from outreach.config import parse_config
from outreach.delivery.smtp_advice import error_advice, reply_advice

from factories import config_data

PROFILE = parse_config(config_data(2525), Path(".")).smtp["sink"]


@pytest.mark.parametrize(("code", "reply", "meaning", "todo"), [
    (550, "5.1.1 <ke@toan.vn>: Recipient address rejected: User unknown", "không tồn tại", "sửa địa chỉ e-mail"),
    (550, "Requested action not taken: mailbox unavailable", "không nhận thư cho địa chỉ này", "sửa địa chỉ e-mail"),
    (552, "5.2.2 Mailbox full", "đã đầy", "sửa địa chỉ e-mail"),
    (552, "5.3.4 Message size exceeds fixed limit", "lớn hơn mức máy chủ", "giảm dung lượng"),
    (554, "5.7.1 Message rejected as spam", "chính sách", "liên hệ quản trị"),
    (535, "5.7.8 Authentication credentials invalid", "mật khẩu", "kiểm tra tên đăng nhập"),
    (451, "4.7.1 Greylisted, try again later", "chính sách", ""),
    (421, "Service not available, closing channel", "bận", ""),
    (450, "mailbox busy", "tạm thời", ""),
])
def test_a_refusal_is_explained(code: int, reply: str, meaning: str, todo: str) -> None:
    advice = reply_advice(code, reply)
    assert meaning in advice and todo in advice
    assert ("Cách xử lý" in advice) == (code >= 500)  # a temporary one is retried: nothing to do yet


@pytest.mark.parametrize(("error", "words"), [
    (ConnectionRefusedError(111, "Connection refused"), "từ chối kết nối"),
    (socket.gaierror(-2, "Name or service not known"), "Không tìm thấy máy chủ thư"),
    (TimeoutError("timed out"), "không trả lời trong 5 giây"),
    (OSError(101, "Network is unreachable"), "không có đường mạng"),
    (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), "ngắt kết nối giữa chừng"),
    (smtplib.SMTPAuthenticationError(535, b"bad"), "tên đăng nhập hoặc mật khẩu"),
    (ssl.SSLCertVerificationError("certificate verify failed"), "Chứng chỉ bảo mật"),
    (ssl.SSLError("wrong version number"), "kết nối mã hóa"),
])
def test_a_connection_failure_is_explained(error: BaseException, words: str) -> None:
    advice = error_advice(error, PROFILE)
    assert words in advice and "127.0.0.1" in advice
    assert "Error" not in advice and "Errno" not in advice
