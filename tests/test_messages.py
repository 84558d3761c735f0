"""MIME messages: Vietnamese headers and file names survive a real SMTP hop; no header injection."""

from __future__ import annotations

import base64
import datetime as dt
import email.header
import email.policy
import email.utils
import random
import re
import smtplib
import unicodedata
from email.message import EmailMessage, MIMEPart
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from factories import tiny_pdf

from outreach.outbox import messages
from outreach.errors import UserError
from outreach.outbox.messages import (
    SMTP_POLICY,
    AddressError,
    Attachment,
    HeaderInjectionError,
    ascii_filename,
    attachment_filename,
    build_message,
    check_address,
    decoded_header,
    header_text,
    message_bytes,
    envelope_of,
    Envelope,
    parse_message,
    set_text_header,
)
from outreach.delivery import SmtpSink
from outreach.recipients.validate import email_address
from outreach.text.mailaddress import InvalidAddress

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


def _validate_accepts(text: str) -> str | None:
    try:
        return email_address(text)
    except InvalidAddress:
        return None


def _build_accepts(text: str) -> bool:
    try:
        check_address("to", text)
    except AddressError:
        return False
    return True


# No white space: validate splits a cell on it before checking each address.
_LOCAL_CHARS = st.sampled_from(list("abcXYZ09.-_+'!~\"@") + ["ễ", "ü", "đ"])
_DOMAINS = st.sampled_from(["congty.vn", "bücher.example", "khánhhòa.vn", "localhost", "x", "a..b.vn", "-a.vn",
                            "[127.0.0.1]", "d" * 63 + ".vn", ".".join(["d" * 60] * 4) + ".vn", "mail.example.com"])


@settings(max_examples=400, deadline=None)
@given(local=st.text(_LOCAL_CHARS, min_size=0, max_size=70), domain=_DOMAINS)
def test_validate_accepts_exactly_the_addresses_build_can_send(local: str, domain: str) -> None:
    text = f"{local}@{domain}"
    normalised = _validate_accepts(text)
    assert (normalised is not None) == _build_accepts(text), text
    if normalised is not None:
        assert _build_accepts(normalised)  # what the list keeps is what the message carries


def test_a_non_ascii_local_part_is_refused_in_vietnamese() -> None:
    with pytest.raises(InvalidAddress, match=r"phần trước «@» \(«nguyễn»\)") as caught:
        email_address("nguyễn@bücher.example")
    assert caught.value.detail == ""
    assert email_address("Nguyen@Bücher.example") == "nguyen@bücher.example"
    assert check_address("to", "nguyen@bücher.example") == "nguyen@xn--bcher-kva.example"


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


# ---------------------------------------------------------------- fast path == plain email package
# build_message writes headers with set_raw and message_bytes writes an unchanged built message from
# pieces it serialised itself (outreach.outbox.messages._wire). These tests build the same message the plain
# way (header registry, set_content, base64.encodebytes, Python's generator) and demand equal bytes.

DATE = dt.datetime(2026, 3, 5, 8, 30, 15, tzinfo=dt.timezone.utc)


def _plain_message(*, message_id: str, boundaries: tuple[str, str], date: dt.datetime = DATE, **changes) -> bytes:
    """The message as the code before the fast path built and serialised it."""
    fields = dict(
        sender_name=SENDER_NAME, sender=SENDER, reply_to=SENDER, to=["ubnd.vinhhoa@nhatrang.example.vn"],
        cc=["nhatrang@bhxh-khanhhoa.example.vn"], subject=SUBJECT, text=TEXT, html=HTML,
        attachments=[Attachment(FILENAME, tiny_pdf("Vĩnh Hòa"))],
    )
    fields.update(changes)
    msg = EmailMessage(policy=messages._BUILD_POLICY)
    msg["Date"] = email.utils.format_datetime(date)
    msg.set_raw("From", messages._address_field(
        "From", header_text("sender_name", fields["sender_name"]), check_address("sender", fields["sender"])))
    if fields["reply_to"]:
        msg["Reply-To"] = check_address("reply_to", fields["reply_to"])
    msg["To"] = ", ".join(check_address("to", a) for a in fields["to"])
    if fields["cc"]:
        msg["Cc"] = ", ".join(check_address("cc", a) for a in fields["cc"])
    set_text_header(msg, "Subject", header_text("subject", fields["subject"]))
    msg["Message-ID"] = message_id
    msg["MIME-Version"] = "1.0"
    msg["Content-Language"] = "vi"
    msg["Content-Type"] = "multipart/mixed"
    alternative = MIMEPart(policy=messages._BUILD_POLICY)
    alternative["Content-Type"] = "multipart/alternative"
    for body, subtype in ((fields["text"], "plain"), (fields["html"], "html")):
        part = MIMEPart(policy=messages._BUILD_POLICY)
        part.set_content(unicodedata.normalize("NFC", body), subtype=subtype, cte="quoted-printable")
        alternative.attach(part)
    msg.attach(alternative)
    for attachment in fields["attachments"]:
        part = MIMEPart(policy=messages._BUILD_POLICY)
        content_type, disposition = messages._attachment_headers(attachment.filename, attachment.content_type)
        part.set_raw("Content-Type", content_type)
        part.set_raw("Content-Disposition", disposition)
        part.set_raw("Content-Transfer-Encoding", "base64")
        part.set_payload(base64.encodebytes(attachment.data).decode("ascii"))
        msg.attach(part)
    msg.set_boundary(boundaries[0])  # what the generator does on first serialisation, with its random draw
    alternative.set_boundary(boundaries[1])
    data = msg.as_bytes(policy=SMTP_POLICY)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


def _fast_and_plain(monkeypatch, date: dt.datetime = DATE, message_id_domain: str | None = None, **changes):
    """(message_bytes of build_message, the plain bytes of the same message, the built message)."""
    domain = message_id_domain or SENDER.rpartition("@")[2]
    message_id = messages.new_message_id(domain)
    monkeypatch.setattr(messages, "new_message_id", lambda d: message_id if d == domain else pytest.fail(d))
    built = _message(date=date, message_id_domain=message_id_domain, **changes)
    boundaries = (built.get_boundary(), built.get_payload()[0].get_boundary())
    plain = _plain_message(message_id=message_id, boundaries=boundaries, date=date, **changes)
    return message_bytes(built), plain, built


MANY = [f"phong.{n}.ubnd-phuong-vinh-hoa@nhatrang-khanhhoa.example.vn" for n in range(5)]
VARIANTS = {
    "usual": {},
    "many To and Cc (folded by the registry)": dict(to=MANY, cc=MANY[:3]),
    "two short To": dict(to=["a@b.vn", "c@d.vn"]),
    "To alone on a continuation line": dict(to=["x" * 64 + "@ab.example.vn"]),
    "To just fitting": dict(to=["x" * 60 + "@a.example.vn"]),
    "no Reply-To, no Cc": dict(reply_to="", cc=[]),
    "ASCII subject and sender": dict(subject="Cong van so 05 " * 8, sender_name="BHXH, Khanh Hoa"),
    "short Message-ID": dict(message_id_domain="a.vn"),
    "Message-ID on a continuation line": dict(message_id_domain="mail.example.vn"),
    "long Message-ID": dict(message_id_domain="m" * 120 + ".example.vn"),
    "naive date": dict(date=dt.datetime(2026, 1, 2, 3, 4, 5)),
    "date +07:00": dict(date=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=7)))),
    "awkward bodies": dict(
        text="a\r\nb\rc\n\nFrom here\n.\nline with trailing space \n" + "x" * 200 + "\n=3D = end\t", html=""),
    "NFD text": dict(text=unicodedata.normalize("NFD", TEXT), subject=unicodedata.normalize("NFD", SUBJECT)),
    "no attachments": dict(attachments=[]),
    "several attachments": dict(attachments=[
        Attachment(FILENAME, random.Random(1).randbytes(100_000)), Attachment("phu-luc.pdf", b""),
        Attachment("Phụ lục 2.pdf", b"x"), Attachment("notes.txt", b"a\nb", "text/plain")]),
    "message/rfc822 attachment (generator path)": dict(
        attachments=[Attachment("forward.eml", b"Subject: x\r\n\r\nhi\r\n", "message/rfc822")]),
}


@pytest.mark.parametrize("changes", VARIANTS.values(), ids=VARIANTS.keys())
def test_fast_bytes_equal_plain_email_package(monkeypatch, changes: dict) -> None:
    fast, plain, built = _fast_and_plain(monkeypatch, **changes)
    assert fast == plain
    assert fast == built.as_bytes(policy=SMTP_POLICY)  # Python's generator on the very same message


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=VIETNAMESE + " ;:,.-–/()\"'", min_size=1, max_size=160),
       st.text(alphabet=VIETNAMESE + "abc \n\r\t=.", max_size=300))
def test_fast_bytes_equal_plain_for_any_subject_name_and_text(subject: str, text: str) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, plain, _ = _fast_and_plain(monkeypatch, subject=subject, sender_name=subject, text=text, html=text,
                                         attachments=[Attachment(f"{subject}.pdf", b"%PDF")])
    assert fast == plain


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="abcxyz019.!#$%&'*+/=?^_`{|}~-", min_size=1, max_size=90).filter(
           lambda s: not s.startswith(".") and not s.endswith(".") and ".." not in s),
       st.integers(min_value=1, max_value=130), st.integers(min_value=1, max_value=4))
def test_raw_address_and_message_id_headers_fold_as_the_registry_does(local: str, domain_length: int,
                                                                       count: int) -> None:
    domain = ("d" * domain_length)[:60] + ".example.vn"
    cases = [("To", [f"{local}@{domain}"] * count), ("Reply-To", [f"{local}@{domain}"]),
             ("Message-ID", [f"<{local}@{domain}>"])]
    for name, values in cases:
        raw, registry = EmailMessage(policy=messages._BUILD_POLICY), EmailMessage(policy=messages._BUILD_POLICY)
        messages._set_structured(raw, name, values)
        registry[name] = ", ".join(values)
        assert raw.as_bytes(policy=SMTP_POLICY) == registry.as_bytes(policy=SMTP_POLICY)


def _old_encoded_words(text: str, first_room: int = 75) -> list[str]:
    """The encoded-word splitter before it counted bytes as it goes."""
    words, current, room = [], "", min(first_room, 75)
    for char in text:
        if current and 12 + 4 * -(-len((current + char).encode()) // 3) > room:
            words.append(messages._encoded_word(current))
            current, room = "", 75
        current += char
    words.append(messages._encoded_word(current))
    return words


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=VIETNAMESE + " abc😀", max_size=200), st.integers(min_value=1, max_value=75))
def test_encoded_words_unchanged(text: str, room: int) -> None:
    assert messages._encoded_words(text, room) == _old_encoded_words(text, room)


def test_changed_message_is_serialised_by_the_generator(monkeypatch) -> None:
    """The built message changed afterwards (as a test copy does): message_bytes must show the change,
    exactly as Python's generator writes it, never the bytes serialised at build time."""
    def changes():
        yield lambda m: set_text_header(m, "Subject", "[BẢN THỬ] " + str(m["Subject"]))
        yield lambda m: m.replace_header("Message-ID", messages.new_message_id("test.example.vn"))
        yield lambda m: m.replace_header("To", "thu@example.vn")
        yield lambda m: m.__delitem__("Cc")
        yield lambda m: m.add_header("X-Outreach-Test", "1")
        yield lambda m: m.set_param("charset", "utf-8")
        yield lambda m: setattr(m, "preamble", "This is a MIME message.")
        yield lambda m: setattr(m, "epilogue", "end")
        yield lambda m: m.set_boundary("another-boundary")
        yield lambda m: m.attach(MIMEPart())
        yield lambda m: m.get_payload()[1].set_payload(base64.encodebytes(b"other data").decode())
        yield lambda m: m.get_payload()[1].replace_header("Content-Disposition", 'attachment; filename="x.pdf"')
        yield lambda m: m.get_payload()[0].get_payload()[0].set_content("Nội dung khác")
        yield lambda m: m.get_payload()[0].get_payload().reverse()
        yield lambda m: m.get_payload()[0].attach(MIMEPart())
        yield lambda m: m.get_payload().__setitem__(1, MIMEPart())

    for change in changes():
        built = _message(attachments=[Attachment(FILENAME, b"%PDF-1.4 data"), Attachment("b.pdf", b"%PDF b")])
        before = message_bytes(built)
        change(built)
        after = message_bytes(built)
        assert after != before
        expected = built.as_bytes(policy=SMTP_POLICY)
        assert after == (expected if expected.endswith(b"\r\n") else expected + b"\r\n")


@pytest.mark.parametrize("size", [0, 1, 2, 3, 57, 58, 76 * 3, 100_003])
def test_attachment_round_trips_byte_exact(size: int) -> None:
    data = random.Random(size).randbytes(size)
    sent = message_bytes(_message(attachments=[Attachment("a.pdf", data), Attachment(FILENAME, data[::-1])]))
    first, second = email.message_from_bytes(sent, policy=email.policy.default).iter_attachments()
    assert first.get_content() == data and second.get_content() == data[::-1]
    body = sent.split(b'filename="a.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n')[1].split(b"\r\n--=")[0]
    assert body == base64.encodebytes(data).replace(b"\n", b"\r\n")  # 76-character lines, each ending CRLF


def test_boundary_text_in_bodies_and_attachments_cannot_break_the_structure(monkeypatch) -> None:
    draws = iter([42, 42, 43])  # the alternative part draws 42, the mixed one 42 again (taken), then 43
    monkeypatch.setattr(messages.random, "randrange", lambda n: next(draws))
    evil = "".join(f"--===============00000000000000000{n}==\r\nContent-Type: text/plain\r\n\r\nforged\r\n"
                   f"--===============00000000000000000{n}==--\r\n" for n in (42, 43))
    data = evil.encode() * 3
    built = _message(text=evil, html=evil, attachments=[Attachment("a.pdf", data), Attachment("b.pdf", data + b"x")])
    sent = message_bytes(built)
    assert sent == built.as_bytes(policy=SMTP_POLICY)
    received = email.message_from_bytes(sent, policy=email.policy.default)
    assert [p.get_content_type() for p in received.walk()] == [
        "multipart/mixed", "multipart/alternative", "text/plain", "text/html", "application/pdf", "application/pdf"]
    assert received.get_body(("plain",)).get_content().replace("\r\n", "\n") == evil.replace("\r\n", "\n")
    assert [a.get_content() for a in received.iter_attachments()] == [data, data + b"x"]
    assert (received.get_boundary(), received.get_payload()[0].get_boundary()) == (
        "===============0000000000000000043==", "===============0000000000000000042==")


def test_attachment_cache_keys_on_content_not_name_or_length() -> None:
    one, two = b"%PDF-1.4 " + b"A" * 500, b"%PDF-1.4 " + b"B" * 500
    for attachments in ([Attachment("phu-luc.pdf", one), Attachment("phu-luc.pdf", two)],
                        [Attachment("phu-luc.pdf", two), Attachment("phu-luc.pdf", one)]):
        sent = message_bytes(_message(attachments=attachments))
        received = [a.get_content() for a in parse_message(sent).iter_attachments()]
        assert received == [a.data for a in attachments]
    shared = random.Random(7).randbytes(80_000)
    messages._base64_cached.cache_clear()
    for n in range(3):  # a new letter each time, the appendix read again into a new bytes object
        letter = random.Random(n).randbytes(64_000)
        appendix = bytes(bytearray(shared))
        sent = message_bytes(_message(attachments=[Attachment("thu.pdf", letter), Attachment("pl.pdf", appendix)]))
        assert [a.get_content() for a in parse_message(sent).iter_attachments()] == [letter, shared]
    assert messages._base64_cached.cache_info().hits == 2  # the appendix was encoded once


# --- upgrade_attachments: a signed revision swapped into the message in place ---------------------

def _encoded(content: bytes) -> bytes:
    """A base64 body as the generator writes it, by another route than the module's."""
    return base64.encodebytes(content).replace(b"\n", b"\r\n")


def _around_bodies(data: bytes, contents: list[bytes]) -> list[bytes]:
    """The message cut around the bodies of ``contents`` (in this order, each right after its headers)."""
    pieces, position = [], 0
    for content in contents:
        body = b"\r\n\r\n" + _encoded(content) + b"\r\n--"
        found = data.index(body, position)
        pieces.append(data[position:found])
        position = found + len(body)
    return [*pieces, data[position:]]


def _attachments_message(contents: list[bytes]) -> bytes:
    return message_bytes(_message(attachments=[Attachment(f"tep-{i}.pdf", c) for i, c in enumerate(contents)]))


def _check_upgrade(data: bytes, before: list[bytes], revisions: list[bytes], after: list[bytes], parsed) -> bytes:
    upgraded = messages.upgrade_attachments(data, revisions)
    assert [part.get_content() for part in parse_message(upgraded).iter_attachments()] == after
    assert _around_bodies(upgraded, after) == _around_bodies(data, before)  # every other byte as it was
    assert upgraded == parsed(data, revisions)
    return upgraded


def _sizes() -> list[int]:
    """Every size to 300 bytes, then sizes around multiples of a line's 57 bytes to a few KB."""
    around_lines = [57 * k + d for k in range(6, 64) for d in range(-3, 4)]
    return [*range(1, 301), *around_lines]


def _decoys(content: bytes, extra: bytes) -> list[bytes]:
    """Revisions that extend something close to ``content``, not it: the first byte or the last changed."""
    first, last = bytes([content[0] ^ 1]) + content[1:], content[:-1] + bytes([content[-1] ^ 1])
    return [first + extra, last + extra]


def test_signed_revisions_of_every_size_replace_their_attachments_twice(monkeypatch) -> None:
    """Leader then agency, for letters and appendices of many sizes (every way a last line can end),
    extended by 1..200 bytes: each attachment holds the newest revision, every other byte as it was,
    the same bytes as parsing and writing the message again, without falling back to it."""
    parsed = messages._upgrade_parsed
    monkeypatch.setattr(messages, "_upgrade_parsed", lambda *_: pytest.fail("fell back to parsing"))
    rng = random.Random(57)
    sizes = _sizes()
    leaflet = rng.randbytes(120)  # never signed
    for first in range(0, len(sizes), 6):  # six attachments a message: letters and appendices in turn
        contents = [rng.randbytes(size) for size in sizes[first:first + 6]]
        grow = [1 + (len(c) * 37 + first) % 200 for c in contents]
        leader = [c + rng.randbytes(n) if i % 2 == 0 else c for i, (c, n) in enumerate(zip(contents, grow))]
        agency = [c + rng.randbytes(1 + (n * 53) % 200) for c, n in zip(leader, grow)]
        original = _attachments_message([*contents, leaflet])
        after_leader = _check_upgrade(original, [*contents, leaflet], leader, [*leader, leaflet], parsed)
        decoys = [decoy for content in leader for decoy in _decoys(content, b"x")]
        _check_upgrade(after_leader, [*leader, leaflet], [*decoys, *agency], [*agency, leaflet], parsed)


def test_each_extension_of_short_letters_replaces_them(monkeypatch) -> None:
    """Letters whose last line is short, full, or full with padding, each extended by 1..200 bytes."""
    parsed = messages._upgrade_parsed
    monkeypatch.setattr(messages, "_upgrade_parsed", lambda *_: pytest.fail("fell back to parsing"))
    rng = random.Random(58)
    letters = [rng.randbytes(size) for size in (1, 2, 3, 55, 56, 57, 58, 113, 114, 170, 171)]
    original = _attachments_message(letters)
    for extra in range(1, 201):
        signed = [letter + rng.randbytes(extra) for letter in letters]
        _check_upgrade(original, letters, signed, signed, parsed)
    assert messages.upgrade_attachments(original, [rng.randbytes(500)]) == original  # nothing extended


def _rewrap(data: bytes, content: bytes, body: bytes) -> bytes:
    old = b"\r\n\r\n" + _encoded(content) + b"\r\n--"
    assert data.count(old) == 1
    return data.replace(old, b"\r\n\r\n" + body + b"\r\n--")


def test_a_part_not_written_as_this_module_writes_it_is_parsed_and_written_again(monkeypatch) -> None:
    """Another writer's line length, no line end after the last line, non-zero padding bits, the
    part extended or not, an epilogue: the message goes the parsed way, each attachment still gets
    its revision."""
    parsed, calls = messages._upgrade_parsed, []
    monkeypatch.setattr(messages, "_upgrade_parsed", lambda *args: calls.append(1) or parsed(*args))
    rng = random.Random(59)
    letter, leaflet = rng.randbytes(4000), rng.randbytes(301)  # 301 bytes: the last group has padding
    signed = letter + rng.randbytes(99)
    original = _attachments_message([letter, leaflet])
    sixty_four = [base64.b64encode(c) for c in (letter, leaflet)]
    sixty_four = [b"".join(e[i:i + 64] + b"\r\n" for i in range(0, len(e), 64)) for e in sixty_four]
    canonical = _encoded(leaflet)  # ends "Yw==": Y's last 4 bits are zero
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    bits = canonical[:-5] + bytes([alphabet[alphabet.index(canonical[-5]) | 1]]) + b"==\r\n"
    assert canonical.endswith(b"==\r\n") and bits != canonical and base64.b64decode(bits) == leaflet
    for foreign in (_rewrap(original, letter, sixty_four[0]),
                    _rewrap(original, letter, _encoded(letter)[:-2]),
                    _rewrap(original, leaflet, sixty_four[1]),
                    _rewrap(original, leaflet, bits),
                    original + b"An epilogue.\r\n"):
        calls.clear()
        upgraded = messages.upgrade_attachments(foreign, [signed])
        assert calls and upgraded == parsed(foreign, [signed])
        assert [part.get_content() for part in parse_message(upgraded).iter_attachments()] == [signed, leaflet]
