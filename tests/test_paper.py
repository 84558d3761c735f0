"""The paper channel: approved letters into print bundles whose page ranges stay true, then posted
once, by a named person, on a day that can be true. Real PaperMessenger, real PDFs (pikepdf); the
engine drives it as it drives e-mail (whose wire is faked here: tests/test_engine.py)."""

from __future__ import annotations

import datetime as dt
import io
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pytest

from factories import CAMPAIGN, START, Clock, FakeMessenger, Recipient, accepted, config_data, make_outbox, tiny_pdf
from outreach.config import Config, parse_config
from outreach.delivery import (
    Handover,
    Ledger,
    PaperMessenger,
    SendReport,
    approve,
    approved_copy_path,
    bundle_of,
    bundles,
    post,
    revoke,
    send_campaign,
)
from outreach.errors import UserError
from outreach.outbox import write_bundle
from outreach.outbox.manifest import Manifest
from outreach.workspace import Workspace

APPROVER, POSTER = "Nguyễn Thị Duyệt", "Lê Văn Bưu"


@dataclass
class Office:
    root: Path
    config: Config
    manifest: Manifest
    ledger: Ledger
    clock: Clock
    mail: FakeMessenger

    @property
    def folder(self) -> Path:
        return Workspace(self.root).paper_bundles(CAMPAIGN)

    def approve(self, keys=None):
        return approve(self.root, self.ledger, self.manifest, APPROVER, keys, clock=self.clock)

    def send(self, **options) -> SendReport:
        messengers = {"email": self.mail, "paper": PaperMessenger(self.folder)}
        return send_campaign(self.config, self.manifest, self.ledger, messengers=messengers, clock=self.clock,
                             sleep=self.clock.sleep, **options)

    def post(self, keys=None, on=None, by=POSTER):
        return post(self.ledger, self.manifest, by, keys, on, clock=self.clock)

    def delivery(self, code: str):
        return self.ledger.delivery(CAMPAIGN, self.manifest.draft(code).key)


@pytest.fixture
def office_factory(tmp_path: Path) -> Iterator[Callable[..., Office]]:
    ledgers: list[Ledger] = []

    def factory(recipients: list[Recipient], **schedule: int) -> Office:
        root = tmp_path / "work"
        data = config_data(1, **schedule)  # an SMTP profile nobody connects to: e-mail goes to a fake
        manifest, _ = make_outbox(root, recipients, data)
        ledger = Ledger.open(root)
        ledgers.append(ledger)
        return Office(root, parse_config(data, root), manifest, ledger, Clock(), FakeMessenger(accepted))

    yield factory
    for ledger in ledgers:
        ledger.close()


def on_paper(code: str, pages: int, width: int, sender: str = "QLT") -> Recipient:
    audience = "employers" if sender == "QLT" else "collection_agents"
    return Recipient(audience, code, f"Hộ kinh doanh {code}", (), sender=sender, pages=pages, width=width)


def widths(bundle: Path) -> list[int]:
    with pikepdf.open(bundle) as pdf:
        return [int(page.mediabox[2]) for page in pdf.pages]


MAILED = Recipient("employers", "TA00001", "Công ty TNHH Hải Sản Số 1", ("dv1@example.vn",))


def test_approved_letters_go_into_one_bundle_per_sender_each_on_fresh_sheets(office_factory) -> None:
    office = office_factory([MAILED, on_paper("PG00001", 1, 501), on_paper("PG00002", 3, 502),
                             on_paper("PG00003", 2, 503, sender="TTPT"), on_paper("PG00004", 1, 504)])
    office.approve(["TA00001", "PG00001", "PG00002", "PG00003"])  # PG00004 never approved

    report = office.send()

    assert report.printed == ["employers/PG00001", "employers/PG00002", "collection_agents/PG00003"]
    assert report.sent == ["employers/TA00001"] and office.mail.handed_keys() == ["employers/TA00001"]
    assert [path.name for path in bundles(office.folder)] == ["lo-in-01-QLT.pdf", "lo-in-02-TTPT.pdf"]
    assert widths(office.folder / "lo-in-01-QLT.pdf") == [501, 501, 502, 502, 502, 502]  # blank backs
    assert widths(office.folder / "lo-in-02-TTPT.pdf") == [503, 503]
    wheres = {code: office.delivery(code).where for code in ("PG00001", "PG00002", "PG00003")}
    assert wheres == {"PG00001": "paper/lo-in-01-QLT.pdf, trang 1", "PG00002": "paper/lo-in-01-QLT.pdf, trang 3–5",
                      "PG00003": "paper/lo-in-02-TTPT.pdf, trang 1–2"}
    assert bundle_of(wheres["PG00002"]) == "paper/lo-in-01-QLT.pdf" and bundle_of("DATA") == ""
    printed = office.delivery("PG00002")
    assert (printed.state, printed.channel, printed.attempts, printed.sent_at) == ("printed", "paper", 1,
                                                                                 START.isoformat(timespec="milliseconds"))
    assert "letter.pdf" in printed.file_hashes and "message.eml" not in printed.file_hashes
    draft = office.manifest.draft("PG00002")
    kept = approved_copy_path(office.root, draft, printed.message_sha256)
    assert kept.suffix == ".pdf" and kept.read_bytes() == draft.path(office.root, "letter.pdf").read_bytes()
    assert office.delivery("PG00004") is None
    assert not any(path.name.startswith(".") for path in office.folder.iterdir())  # no staging left

    again = office.send()
    assert again.printed == [] and again.sent == [] and len(bundles(office.folder)) == 2  # nothing printed twice


def test_a_later_run_prints_into_the_next_bundle_and_keeps_the_first(office_factory) -> None:
    office = office_factory([on_paper("PG00001", 1, 501), on_paper("PG00002", 1, 502)])
    office.approve(["PG00001"])
    office.send()
    first = (office.folder / "lo-in-01-QLT.pdf").read_bytes()

    office.approve(["PG00002"])
    assert office.send().printed == ["employers/PG00002"]

    assert (office.folder / "lo-in-01-QLT.pdf").read_bytes() == first
    assert office.delivery("PG00002").where == "paper/lo-in-02-QLT.pdf, trang 1"
    assert widths(office.folder / "lo-in-02-QLT.pdf") == [502, 502]


def test_paper_is_held_by_no_mail_quota_rate_or_limit(office_factory) -> None:
    office = office_factory([MAILED, Recipient("employers", "TA00002", "Công ty B", ("dv2@example.vn",)),
                             on_paper("PG00001", 1, 501), on_paper("PG00002", 1, 502)],
                            daily_quota=1, messages_per_minute=1)
    office.approve(["TA00001"])
    assert office.send().sent == ["employers/TA00001"]  # the day's quota is used up, the next mail a minute off
    office.approve()

    report = office.send(limit=1)

    assert report.printed == ["employers/PG00001", "employers/PG00002"]
    assert report.sent == [] and [p.reason for p in report.skipped] == ["quota"]
    assert office.clock.slept == []  # the printing waited for no mail server
    assert office.ledger.sent_today(office.config.senders()["QLT"], office.clock()) == 1  # paper is not mail


def test_a_session_that_dies_before_closing_leaves_its_bundle_to_the_next(office_factory) -> None:
    office = office_factory([on_paper("PG00001", 2, 501)])
    sender = office.config.senders()["QLT"]
    letters = [office.manifest.drafts[0].path(office.root, "letter.pdf").read_bytes(), tiny_pdf("thư 2", 3, 502)]
    session = PaperMessenger(office.folder).open(sender)
    answers = [session.deliver(Handover(f"employers/X{i}", "", ("X",), data)) for i, data in enumerate(letters)]
    assert [a.where for a in answers] == ["paper/lo-in-01-QLT.pdf, trang 1–2", "paper/lo-in-01-QLT.pdf, trang 3–5"]
    assert not (office.folder / "lo-in-01-QLT.pdf").exists()  # the process dies here: no close()

    following = PaperMessenger(office.folder).open(sender)

    assert widths(office.folder / "lo-in-01-QLT.pdf") == [501, 501, 502, 502, 502, 502]  # as recorded
    assert following.bundle == "paper/lo-in-02-QLT.pdf"
    assert [path.name for path in office.folder.iterdir()] == ["lo-in-01-QLT.pdf"]


def test_what_is_not_a_readable_letter_is_never_printed(office_factory) -> None:
    office = office_factory([on_paper("PG00001", 1, 501)])
    messenger = PaperMessenger(office.folder)
    draft = office.manifest.drafts[0]
    assert "không phải tệp PDF" in messenger.envelope(draft, b"From: x\r\n")
    session = messenger.open(office.config.senders()["QLT"])

    broken = session.deliver(Handover(draft.key, "", (draft.name,), b"%PDF-1.7\nnot really"))
    session.close()

    assert broken.kind == "permanent" and "letter.pdf không đọc được" in broken.reply
    assert bundles(office.folder) == []


def test_a_letter_changed_after_approval_is_not_printed(office_factory) -> None:
    office = office_factory([on_paper("PG00001", 1, 501)])
    office.approve()
    letter = office.manifest.drafts[0].path(office.root, "letter.pdf")
    letter.write_bytes(letter.read_bytes() + b"\n")

    report = office.send()

    assert report.printed == [] and "letter.pdf đã thay đổi sau khi được duyệt" in report.skipped[0].message
    assert office.delivery("PG00001").state == "approved" and bundles(office.folder) == []


# ---------------------------------------------------------------------------- posting


def test_printed_letters_are_posted_once_by_a_named_person(office_factory) -> None:
    office = office_factory([on_paper("PG00001", 1, 501), on_paper("PG00002", 1, 502)])
    office.approve()
    office.send()
    office.clock.advance(days=1)

    posted = office.post(on=dt.date(2023, 1, 10))

    assert [(d.key, d.state, d.posted_by, d.posted_on) for d in posted] == [
        ("employers/PG00001", "posted", POSTER, "2023-01-10"), ("employers/PG00002", "posted", POSTER, "2023-01-10")]
    (event,) = [e for e in office.ledger.events(CAMPAIGN, "employers/PG00001") if e.to_state == "posted"]
    assert (event.from_state, event.actor, event.detail) == ("printed", POSTER, "gửi bưu điện ngày 10/01/2023")
    with pytest.raises(UserError, match="đã được Lê Văn Bưu gửi bưu điện ngày 10/01/2023, không ghi nhận lần nữa"):
        office.post(["PG00001"])
    with pytest.raises(UserError, match="không có thư giấy nào đã in đang chờ gửi bưu điện"):
        office.post()
    assert office.ledger.delivery(CAMPAIGN, "employers/PG00001").posted_on == "2023-01-10"


def test_only_approved_printed_letters_can_be_posted_and_all_or_none(office_factory) -> None:
    office = office_factory([MAILED, on_paper("PG00001", 1, 501), on_paper("PG00002", 1, 502),
                             on_paper("PG00003", 1, 503), on_paper("PG00004", 1, 504)])
    office.approve(["TA00001", "PG00001", "PG00002"])
    office.send()
    office.approve(["PG00003"])  # approved after the run: not in a bundle yet
    office.approve(["PG00004"])
    revoke(office.ledger, office.manifest, "Trưởng phòng", ["PG00004"], "sai địa chỉ", clock=office.clock)

    for code, reason in (("TA00001", "gửi bằng e-mail"), ("PG00003", "chưa được xếp vào bản in"),
                         ("PG00004", "chưa được duyệt")):
        with pytest.raises(UserError, match=reason):
            office.post([code])
    with pytest.raises(UserError, match="PG00003.*chưa được xếp vào bản in"):
        office.post(["PG00001", "PG00003"])
    assert office.delivery("PG00001").state == "printed"  # all or none: the printed one is not posted either
    with pytest.raises(UserError, match="Cần ghi tên người gửi bưu điện"):
        office.post(by=" ")

    assert [d.key for d in office.post()] == ["employers/PG00001", "employers/PG00002"]  # every printed one
    assert office.delivery("PG00003").state == "approved" and office.delivery("PG00004").state == "revoked"


def test_a_posting_day_must_be_possible(office_factory) -> None:
    office = office_factory([on_paper("PG00001", 1, 501)])
    office.approve()
    office.send()  # printed on 09/01/2023, 09:00 office time

    with pytest.raises(UserError, match="Ngày gửi bưu điện 10/01/2023 chưa tới"):
        office.post(on=dt.date(2023, 1, 10))
    with pytest.raises(UserError, match="được in ngày 09/01/2023, không thể đã gửi bưu điện ngày 08/01/2023"):
        office.post(on=dt.date(2023, 1, 8))
    (posted,) = office.post()  # today, office time
    assert posted.posted_on == "2023-01-09"


def test_a_printed_letter_cannot_be_revoked_or_approved_again(office_factory) -> None:
    office = office_factory([on_paper("PG00001", 1, 501)])
    office.approve()
    office.send()

    with pytest.raises(UserError, match="không hủy duyệt được"):
        revoke(office.ledger, office.manifest, "Trưởng phòng", ["PG00001"], clock=office.clock)
    with pytest.raises(UserError, match="đã in, chờ gửi bưu điện"):
        office.approve(["PG00001"])


def letter_with_field(pages: int, width: int) -> bytes:
    """A letter of ``pages`` pages ``width`` wide, with a signature-like widget on its last page whose
    appearance (deflated, as a signature image is) names the letter: every letter's field has the
    same name, as every signed letter's has."""
    buffer = io.BytesIO()
    with pikepdf.new() as document:
        for _ in range(pages):
            document.add_blank_page(page_size=(width, 842))
        appearance = pikepdf.Stream(document, zlib.compress(f"% chữ ký {width}".encode()), Filter=pikepdf.Name.FlateDecode,
                                    Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Form, BBox=[0, 0, 100, 50])
        widget = document.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Widget, FT=pikepdf.Name.Sig, T=pikepdf.String("ChuKyLanhDao"),
            Rect=[100, 100, 200, 150], P=document.pages[-1].obj, AP=pikepdf.Dictionary(N=appearance)))
        document.pages[-1].obj.Annots = pikepdf.Array([widget])
        document.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array([widget]), SigFlags=3)
        document.save(buffer)
    return buffer.getvalue()


def test_a_bundle_keeps_every_page_in_order_and_every_letters_signature_widget(tmp_path: Path) -> None:
    sizes = [(1 + n % 3, 300 + n) for n in range(7)]

    ranges = write_bundle((letter_with_field(pages, width) for pages, width in sizes), tmp_path / "bundle.pdf")

    expected, first = [], 1
    for pages, width in sizes:
        expected += [width] * (pages + pages % 2)
    assert widths(tmp_path / "bundle.pdf") == expected
    for (pages, width), (start, end) in zip(sizes, ranges, strict=True):
        assert (start, end) == (first, first + pages - 1)
        first += pages + pages % 2
    with pikepdf.open(tmp_path / "bundle.pdf") as bundle:
        fields = list(bundle.Root.AcroForm.Fields)
        assert len(fields) == len(sizes) and len({str(f.T) for f in fields}) == len(sizes)  # renamed, none lost
        assert [bundle.pages.index(pikepdf.Page(f.P)) + 1 for f in fields] == [end for _, end in ranges]
        assert [f.AP.N.read_bytes().decode() for f in fields] == [f"% chữ ký {width}" for _, width in sizes]
    assert [p.name for p in tmp_path.iterdir()] == ["bundle.pdf"]
