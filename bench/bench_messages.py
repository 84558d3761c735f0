"""CPU cost of one campaign message: build_message + message_bytes, as the outbox build calls them.

    .venv/bin/python bench/bench_messages.py           # 500 messages
    .venv/bin/python bench/bench_messages.py 2000

Each message is the realistic one of a campaign: Vietnamese subject and sender name, one To and one
Cc, a text and an HTML body of about 1.5 KB, a ~64 KB letter PDF (new bytes for every message, as
read from its file) and two ~80 KB appendix PDFs shared by every message of the build (random bytes
of PDF size: only their size matters here). Prints CPU ms per message for each of the two steps.

Measured on the 2-core dev VM, 1000 messages of 308 KB: before the fast path (header registry,
set_content, Python's generator for every message) build 2.8 + bytes 7.4 = 10.2 ms/message;
after it build 0.7 + bytes 0.05 = 0.75 ms/message.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from outreach.outbox import Attachment, build_message, message_bytes  # noqa: E402

SENDER_NAME = "BHXH tỉnh Khánh Hòa - Phòng Quản lý thu"
SENDER = "phongqlt@bhxh-khanhhoa.example.vn"
SUBJECT = ("Công văn số 05/BHXH-QLT V/v đôn đốc tham gia BHXH tự nguyện, BHYT hộ gia đình; mở tài khoản cá nhân "
           "để giao dịch điện tử về BHXH, BHTN, BHYT; sử dụng Ứng dụng VssID - BHXH số")
TEXT = ("Kính gửi: Ủy ban nhân dân Phường {n}\n\n"
        + "Bảo hiểm xã hội tỉnh Khánh Hòa trân trọng gửi Quý cơ quan công văn đôn đốc tham gia BHXH tự nguyện. " * 12
        + "\n\nTrân trọng.\n")
HTML = "<p>Kính gửi: <b>Ủy ban nhân dân Phường {n}</b></p>\n<p>" + TEXT[40:] + "</p>\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", nargs="?", type=int, default=500)
    args = parser.parse_args()
    appendices = [Attachment("Phụ lục 1 - Hướng dẫn đăng ký giao dịch điện tử.pdf", os.urandom(80_000)),
                  Attachment("Phụ lục 2 - Hướng dẫn cài đặt VssID.pdf", os.urandom(80_000))]

    def build(n: int, letter: bytes):
        return build_message(
            sender_name=SENDER_NAME, sender=SENDER, reply_to=SENDER, to=[f"ubnd.phuong{n}@nhatrang.example.vn"],
            cc=["nhatrang@bhxh-khanhhoa.example.vn"], subject=SUBJECT, text=TEXT.format(n=n), html=HTML.format(n=n),
            attachments=[Attachment(f"Công văn số 05 - Ủy ban nhân dân Phường {n}.pdf", letter), *appendices],
        )

    message_bytes(build(0, os.urandom(64_000)))  # warm up imports and caches
    build_s = bytes_s = 0.0
    size = 0
    for n in range(args.count):
        letter = os.urandom(64_000)  # a new letter every message, outside the timing
        started = time.process_time()
        message = build(n, letter)
        built = time.process_time()
        size += len(message_bytes(message))
        build_s, bytes_s = build_s + built - started, bytes_s + time.process_time() - built

    per = 1000 / args.count
    print(f"{args.count} messages of {size / args.count / 1024:.0f} KB, CPU ms/message:")
    print(f"  build_message  {build_s * per:6.2f}")
    print(f"  message_bytes  {bytes_s * per:6.2f}")
    print(f"  total          {(build_s + bytes_s) * per:6.2f}")


if __name__ == "__main__":
    main()
