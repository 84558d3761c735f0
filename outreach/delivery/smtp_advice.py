"""What an SMTP failure means for the office, in Vietnamese: what happened and what to do.

The server's own words are kept beside this as evidence (``Result.reply``); this is for the person
reading a page or a report, who should not have to know ``ConnectionRefusedError`` or ``5.1.1``.
Pure: an exception or a reply code in, a sentence out. Enhanced status codes (RFC 3463) say more
than the three-digit code, so they are read first.
"""

from __future__ import annotations

import errno
import re
import smtplib
import socket
import ssl

from ..config import SmtpProfile

_FIX_ADDRESS = "Cách xử lý: sửa địa chỉ e-mail trong danh sách người nhận, tạo lại bản thảo rồi duyệt lại."

# RFC 3463 enhanced status codes (class.subject.detail) -> what it means; the class (4 or 5) is added.
_ENHANCED: dict[str, str] = {
    "1.1": "Địa chỉ người nhận không tồn tại ở máy chủ thư của họ.",
    "1.2": "Tên miền của địa chỉ người nhận không tồn tại hoặc không nhận thư.",
    "1.3": "Địa chỉ người nhận viết sai cú pháp.",
    "1.6": "Hộp thư của người nhận đã chuyển đi nơi khác.",
    "2.1": "Hộp thư của người nhận đang bị khóa, không nhận thư.",
    "2.2": "Hộp thư của người nhận đã đầy.",
    "2.3": "Thư lớn hơn mức hộp thư của người nhận cho phép.",
    "3.4": "Thư lớn hơn mức máy chủ thư cho phép.",
    "4.4": "Không tìm được đường chuyển thư tới tên miền của người nhận.",
    "4.7": "Quá thời gian chuyển thư.",
    "7.1": "Máy chủ thư từ chối theo chính sách (bị coi là thư rác, hoặc không được phép chuyển tiếp thư).",
    "7.8": "Máy chủ thư từ chối tên đăng nhập hoặc mật khẩu.",
    "7.0": "Máy chủ thư yêu cầu đăng nhập hoặc mã hóa trước khi nhận thư.",
    "7.26": "Máy chủ người nhận không tin địa chỉ gửi (kiểm tra SPF/DKIM/DMARC của tên miền cơ quan).",
}
_ENHANCED_CODE = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")


def reply_advice(code: int | None, reply: str) -> str:
    """The meaning of a server's refusal (``code`` and the text after it)."""
    if code is None:
        return ""
    enhanced = _ENHANCED_CODE.search(reply)
    meaning = ""
    if enhanced:
        meaning = _ENHANCED.get(f"{enhanced[2]}.{enhanced[3]}", "")
    if not meaning:
        meaning = {
            421: "Máy chủ thư đang bận hoặc tạm ngừng phục vụ.",
            450: "Hộp thư của người nhận tạm thời không nhận thư.",
            451: "Máy chủ thư gặp lỗi tạm thời khi xử lý thư.",
            452: "Máy chủ thư tạm thời hết chỗ chứa.",
            530: "Máy chủ thư yêu cầu đăng nhập trước khi nhận thư.",
            535: "Máy chủ thư từ chối tên đăng nhập hoặc mật khẩu.",
            550: "Máy chủ thư không nhận thư cho địa chỉ này.",
            552: "Thư lớn hơn mức máy chủ thư cho phép.",
            553: "Địa chỉ người nhận hoặc người gửi không được máy chủ chấp nhận.",
            554: "Máy chủ thư từ chối thư.",
        }.get(code, "")
    if 400 <= code < 500:
        return meaning or "Máy chủ thư tạm thời chưa nhận thư."
    if code in (530, 535) or (enhanced and enhanced[2] == "7" and enhanced[3] in ("0", "8")):
        return (f"{meaning} Cách xử lý: kiểm tra tên đăng nhập, mật khẩu và chế độ mã hóa của hồ sơ [smtp] trong "
                "config.toml, rồi gửi lại.")
    if enhanced and enhanced[2] in ("1", "2") or code in (550, 553):
        return f"{meaning or 'Máy chủ thư không nhận thư cho người nhận này.'} {_FIX_ADDRESS}"
    if enhanced and enhanced[2] == "3" or code == 552:
        return (f"{meaning} Cách xử lý: giảm dung lượng thư (các phụ lục đính kèm), tạo lại bản thảo rồi duyệt lại; "
                "hoặc gửi bản giấy.")
    return (f"{meaning or 'Máy chủ thư từ chối thư.'} Cách xử lý: đọc lời máy chủ trả lời bên cạnh; nếu chưa rõ, "
            "liên hệ quản trị máy chủ thư của cơ quan.")


def error_advice(error: BaseException, profile: SmtpProfile) -> str:
    """The meaning of a failure of the connection itself (nothing the server said)."""
    where = f"{profile.host}:{profile.port}"
    config = f"config.toml [smtp.{profile.name}]"
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return (f"Máy chủ thư {where} từ chối tên đăng nhập hoặc mật khẩu. Cách xử lý: kiểm tra username và mật khẩu "
                f"của {config} (biến môi trường mật khẩu), rồi gửi lại.")
    if isinstance(error, ssl.SSLCertVerificationError):
        return (f"Chứng chỉ bảo mật (TLS) của máy chủ thư {where} không hợp lệ hoặc không đáng tin, nên thư không được "
                f"gửi qua đó. Cách xử lý: báo quản trị máy chủ thư; kiểm tra tên máy chủ (host) trong {config} đúng với "
                "tên trên chứng chỉ.")
    if isinstance(error, ssl.SSLError) or isinstance(error, smtplib.SMTPNotSupportedError):
        return (f"Không thiết lập được kết nối mã hóa với máy chủ thư {where}. Cách xử lý: kiểm tra security "
                f"(\"ssl\" thường ở cổng 465, \"starttls\" ở cổng 587) và port trong {config}.")
    if isinstance(error, ConnectionRefusedError):
        return (f"Máy chủ thư {where} từ chối kết nối: không có dịch vụ thư nào đang chạy ở địa chỉ và cổng này. "
                f"Cách xử lý: kiểm tra máy chủ thư đang chạy, và host, port trong {config}.")
    if isinstance(error, socket.gaierror):
        return (f"Không tìm thấy máy chủ thư '{profile.host}': tên máy viết sai, hoặc máy này mất mạng hay không tra "
                f"được tên miền (DNS). Cách xử lý: kiểm tra kết nối mạng và host trong {config}.")
    if isinstance(error, TimeoutError):
        return (f"Máy chủ thư {where} không trả lời trong {profile.timeout_s:g} giây (mạng chậm, tường lửa chặn, hoặc "
                "máy chủ quá tải). Cách xử lý: kiểm tra mạng và tường lửa.")
    if isinstance(error, OSError) and error.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return f"Máy này không có đường mạng tới máy chủ thư {where}. Cách xử lý: kiểm tra kết nối mạng của máy."
    if isinstance(error, (smtplib.SMTPServerDisconnected, ConnectionResetError, BrokenPipeError)):
        return f"Máy chủ thư {where} ngắt kết nối giữa chừng."
    return f"Lỗi kết nối với máy chủ thư {where}."
