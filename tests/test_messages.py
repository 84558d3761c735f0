"""MIME messages: Vietnamese headers and file names survive a real SMTP hop; no header injection."""

from __future__ import annotations

import email.header
import email.utils
import re
import smtplib
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from factories import tiny_pdf

from outreach.errors import UserError
from outreach.messages import (
    AddressError,
    Attachment,
    HeaderInjectionError,
    ascii_filename,
    attachment_filename,
    build_message,
    decoded_header,
    message_bytes,
    envelope_of,
    Envelope,
    parse_message,
)
from outreach.smtpsink import SmtpSink

SENDER_NAME = "BHXH tỉnh Khánh Hòa - Phòng Quản lý thu"
SENDER = "phongqlt@bhxh-khanhhoa.example.vn"
SUBJECT = ("Công văn số 05/BHXH-QLT V/v đôn đốc tham gia BHXH tự nguyện, BHYT hộ gia đình; mở tài khoản cá nhân "
           "để giao dịch điện tử về BHXH, BHTN, BHYT; sử dụng Ứng dụng VssID - BHXH số")
FILENAME = "Công văn số 05 – Ủy ban nhân dân Phường Vĩnh Hòa.pdf"
TEXT = "Kính gửi: Ủy ban nhân dân Phường Vĩnh Hòa\n\n.Dòng bắt đầu bằng dấu chấm.\nTrân trọng.\n"
HTML = "<p>Kính gửi: <b>Ủy ban nhân dân Phường Vĩnh Hòa</b></p>"
VIETNAMESE = "aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵĐƯƠ"


def _message(**changes):
    fields = dict(
        sender_name=SENDER_NAME, sender=SENDER, reply_to=SENDER, to=["ubnd.vinhhoa@nhatrang.example.vn"],
        cc=["nhatrang@bhxh-khanhhoa.example.vn"], subject=SUBJECT, text=TEXT, html=HTML,
        attachments=[Attachment(FILENAME, tiny_pdf("Vĩnh Hòa"))],
    )
    fields.update(changes)
    return build_message(**fields)


def test_vietnamese_message_arrives_intact_through_smtp(tmp_path: Path) -> None:
    pdf = tiny_pdf("Vĩnh Hòa")
    sent = message_bytes(_message(attachments=[Attachment(FILENAME, pdf), Attachment("phu-luc.pdf", b"%PDF-1.4 x")]))
    with SmtpSink(tmp_path / "mail", port=0) as sink, smtplib.SMTP(sink.host, sink.port, timeout=5) as client:
        client.sendmail(SENDER, ["ubnd.vinhhoa@nhatrang.example.vn"], sent)
    (stored,) = [p.read_bytes() for p in (tmp_path / "mail" / "new").iterdir()]
    assert stored.endswith(sent)
    received = parse_message(stored)

    assert received["Subject"] == SUBJECT
    assert decoded_header(received, "From") == f"{SENDER_NAME} <{SENDER}>"
    assert received["From"].addresses[0].addr_spec == SENDER
    assert envelope_of(stored) == Envelope(str(received["Message-ID"]), (
        "ubnd.vinhhoa@nhatrang.example.vn", "nhatrang@bhxh-khanhhoa.example.vn"))
    assert received.get_body(("plain",)).get_content().replace("\r\n", "\n") == TEXT
    assert received.get_body(("html",)).get_content().strip() == HTML
    attachments = list(received.iter_attachments())
    assert [a.get_filename() for a in attachments] == [FILENAME, "phu-luc.pdf"]
    assert attachments[0].get_content() == pdf
    assert attachments[0].get_content_type() == "application/pdf"
    assert attachments[0]["Content-Type"].params["name"] == FILENAME
    disposition = dict(attachments[0].raw_items())["Content-Disposition"]
    assert "filename*=utf-8''C%C3%B4ng%20v%C4%83n" in disposition
    assert 'filename="cong-van-so-05-uy-ban-nhan-dan-phuong-vinh-hoa.pdf"' in disposition
    assert "filename*0" not in disposition  # no RFC 2231 continuations


def test_wire_format_is_7bit_crlf_short_lines_and_stable() -> None:
    message = _message()
    data = message_bytes(message)
    assert data.isascii()
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert data.endswith(b"\r\n")
    assert max(len(line) for line in data.split(b"\r\n")) <= 998
    for part in parse_message(data).walk():  # base64 and quoted-printable line limits (RFC 2045)
        if not part.is_multipart():
            assert max(len(line) for line in part.get_payload().splitlines()) <= 76
    assert message_bytes(message) == data
    assert message_bytes(parse_message(data)) == data  # a parsed copy serialises to the same bytes
    for word in re.findall(rb"=\?utf-8\?[bq]\?[^?]*\?=", data):  # every encoded-word decodes on its own
        assert len(word) <= 75
        for text, charset in email.header.decode_header(word.decode()):
            text.decode(charset)
    assert b"MIME-Version: 1.0" in data and data.count(b"MIME-Version") == 1
    structure = [part.get_content_type() for part in parse_message(data).walk()]
    assert structure == ["multipart/mixed", "multipart/alternative", "text/plain", "text/html", "application/pdf"]


def test_message_ids_unique_for_same_address_and_subject() -> None:
    first, second = _message(), _message()
    assert first["Message-ID"] != second["Message-ID"]
    assert str(first["Message-ID"]).endswith("@bhxh-khanhhoa.example.vn>")
    assert str(_message(message_id_domain="mail.example.vn")["Message-ID"]).endswith("@mail.example.vn>")


@pytest.mark.parametrize("field", ["subject", "sender_name", "sender", "reply_to", "to", "cc", "attachment"])
@pytest.mark.parametrize("evil", ["\r\nBcc: x@y.vn", "\nBcc: x@y.vn", "\rBcc: x@y.vn", "a\x00b", "a\u2028b", "a\tb"])
def test_header_injection_refused(field: str, evil: str) -> None:
    value = {"subject": SUBJECT, "sender_name": SENDER_NAME, "sender": SENDER, "reply_to": SENDER,
             "to": "a@example.vn", "cc": "b@example.vn", "attachment": FILENAME}[field] + evil
    changes = {
        "to": {"to": [value]},
        "cc": {"cc": [value]},
        "attachment": {"attachments": [Attachment(value, b"%PDF")]},
    }.get(field, {field: value})
    with pytest.raises(HeaderInjectionError) as caught:
        _message(**changes)
    assert isinstance(caught.value, UserError)
    assert "ký tự xuống dòng hoặc ký tự điều khiển" in caught.value.message
    assert caught.value.message.startswith(("Tiêu đề", "Tên", "Địa chỉ"))


def test_invalid_addresses_refused() -> None:
    with pytest.raises(AddressError, match="không phải địa chỉ e-mail hợp lệ"):
        _message(to=["khong-phai-dia-chi"])
    with pytest.raises(AddressError, match="ít nhất một người nhận"):
        _message(to=[])


def test_ascii_fallback_names() -> None:
    assert ascii_filename(FILENAME) == "cong-van-so-05-uy-ban-nhan-dan-phuong-vinh-hoa.pdf"
    assert ascii_filename("Đơn vị Đồng Nai.PDF") == "don-vi-dong-nai.pdf"
    assert ascii_filename("...") == "tep-dinh-kem"


def test_long_name_cut_to_255_bytes_keeping_extension() -> None:
    name = "Công văn " + "Ủy ban nhân dân Phường Vĩnh Hòa " * 10 + ".pdf"
    cut = attachment_filename(name)
    assert len(cut.encode()) <= 255 and cut.endswith(".pdf") and cut.startswith("Công văn Ủy ban")
    data = message_bytes(_message(attachments=[Attachment(name, b"%PDF")]))
    assert max(len(line) for line in data.split(b"\r\n")) <= 998
    (attachment,) = parse_message(data).iter_attachments()
    assert attachment.get_filename() == cut


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=VIETNAMESE + " ;:,.-–/()\"'", min_size=1, max_size=200))
def test_any_vietnamese_subject_and_sender_name_round_trip(text: str) -> None:
    expected = unicodedata.normalize("NFC", text).strip()
    received = parse_message(message_bytes(_message(subject=text, sender_name=text)))
    assert received["Subject"] == expected  # Python's unstructured decoder
    assert str(email.header.make_header(email.header.decode_header(received.get("Subject")))) == expected
    assert decoded_header(received, "Subject") == expected
    if expected:
        assert decoded_header(received, "From") == f"{email.utils.formataddr((expected, SENDER)) if expected.isascii() else expected + ' <' + SENDER + '>'}"


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=VIETNAMESE + " -–_.,()'\"%*", min_size=1, max_size=120))
def test_any_vietnamese_name_round_trips(stem: str) -> None:
    name = f"{stem}.pdf"
    (attachment,) = parse_message(message_bytes(_message(attachments=[Attachment(name, b"%PDF")]))).iter_attachments()
    assert attachment.get_filename() == attachment_filename(name)
    assert attachment.get_content() == b"%PDF"


def test_subject_and_names_are_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", SUBJECT)
    message = _message(subject=decomposed)
    assert parse_message(message_bytes(message))["Subject"] == SUBJECT
    (attachment,) = parse_message(message_bytes(_message(
        attachments=[Attachment(unicodedata.normalize("NFD", FILENAME), b"%PDF")]))).iter_attachments()
    assert attachment.get_filename() == FILENAME
