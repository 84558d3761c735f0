"""What a template can say about one letter: :func:`build_context` turns config + campaign +
recipient + document number into a :class:`LetterContext` (Decree 30: number with a leading zero,
ký hiệu, date wording), and :data:`TEMPLATE_VARIABLES` says in Vietnamese what each name holds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, fields
from typing import Any, Iterable, Iterator, Mapping

from ..config import COPIES, Agency, Campaign, Config, Department, Signer
from ..localtime import office_today
from ..recipients import Recipient, payment_account
from .notice import PaymentNotice, payment_notice
from .sandbox import (
    hidden_from_templates,
)

BLANK = " " * 6  # where the number and the date are written by hand on an unsigned draft

TEMPLATE_VARIABLES: Mapping[str, str] = {
    "recipient.salutation": "Dòng sau «Kính gửi:» — đơn vị: «Tên (mã đơn vị …)»; xã: «Ủy ban nhân dân …»",
    "recipient.name": "Tên đơn vị, tổ chức hoặc xã/phường/thị trấn nhận thư",
    "recipient.code": "Mã đơn vị (mã xã với UBND xã)",
    "recipient.kind": "Nhóm nhận: employers (đơn vị SDLĐ), collection_agents (tổ chức dịch vụ thu), communes (UBND xã)",
    "recipient.address": "Địa chỉ (xuống dòng trong ô Excel được giữ nguyên)",
    "recipient.district": "Huyện/thị xã/thành phố",
    "recipient.emails": "Danh sách địa chỉ thư điện tử",
    "recipient.tax_code": "Mã số thuế",
    "recipient.phone": "Số điện thoại",
    "recipient.contact": "Người liên hệ",
    "recipient.extra": "Các cột khác của danh sách, theo tên cột, vd. {{ recipient.extra['Số lao động'] }}",
    "agency.parent_body": "Cơ quan chủ quản (chữ in hoa), vd. BẢO HIỂM XÃ HỘI VIỆT NAM",
    "agency.issuing_body": "Cơ quan ban hành (chữ in hoa), vd. BẢO HIỂM XÃ HỘI TỈNH KHÁNH HÒA",
    "agency.abbreviation": "Chữ viết tắt tên cơ quan trong ký hiệu, vd. BHXH",
    "agency.place": "Địa danh ghi trước ngày tháng, vd. Khánh Hòa",
    "ten_co_quan": "Tên cơ quan ban hành viết thường để dùng trong câu, vd. Bảo hiểm xã hội tỉnh Khánh Hòa",
    "signer.authority": "Quyền hạn ký, vd. KT. GIÁM ĐỐC",
    "signer.title": "Chức vụ người ký, vd. PHÓ GIÁM ĐỐC",
    "signer.name": "Họ tên người ký",
    "department.code": "Mã phòng gửi thư cho nhóm nhận này, vd. QLT",
    "department.name": "Tên phòng gửi thư, vd. Phòng Quản lý thu",
    "department.reply_to": "Địa chỉ thư điện tử nhận trả lời",
    "campaign.name": "Mã chiến dịch trong config.toml",
    "campaign.title": "Tên chiến dịch",
    "campaign.subject": "Trích yếu nội dung (phần sau «V/v»)",
    "so": "Số văn bản, vd. 05 (để trống khi chưa cấp số)",
    "ky_hieu": "Ký hiệu văn bản, vd. BHXH-QLT",
    "so_ky_hieu": "Số và ký hiệu, vd. 05/BHXH-QLT (bản nháp: «      /BHXH-QLT»)",
    "ky_hieu_phong": "Chữ viết tắt đơn vị soạn thảo (dòng «Lưu: VT, QLT.»)",
    "ngay_thang": "Ngày ban hành, vd. ngày 05 tháng 01 năm 2023 (bản nháp: để trống ngày, tháng)",
    "dia_danh_ngay": "Địa danh và ngày, vd. Khánh Hòa, ngày 05 tháng 01 năm 2023",
    "noi_nhan": "Tên các nơi nhận của chiến dịch (config.toml [[campaigns.X.noi_nhan]]), để in mục «Nơi nhận:», vd. "
                "{%p for nhan in noi_nhan %} / - {{ nhan }}; / {%p endfor %}",
    "recipient.masked_code": "Mã đã che, để dùng ngoài thư (e-mail): người tham gia chỉ hiện 4 số cuối, vd. ********6789",
    "payment.paid_until": "Tháng cuối cùng đã đóng (người tham gia BHXH tự nguyện), vd. 12/2026",
    "payment.period_start": "Tháng đầu của kỳ đóng tới, vd. 01/2027",
    "payment.period_end": "Tháng cuối của kỳ đóng tới, vd. 12/2027",
    "payment.mode": "Phương thức đóng, vd. 12 tháng một lần",
    "payment.income": "Mức thu nhập làm căn cứ đóng (đồng/tháng), vd. 1.500.000",
    "payment.gross": "Số tiền của kỳ trước khi trừ Nhà nước hỗ trợ",
    "payment.support": "Số tiền Nhà nước hỗ trợ trong kỳ (trống khi không có; không bao giờ ghi lý do)",
    "payment.amount": "Số tiền phải nộp cho kỳ, vd. 3.168.000",
    "payment.deadline": "Hạn nộp tiền của kỳ, vd. 31/07/2027",
    "payment.memo": "Nội dung chuyển khoản đầy đủ: «Đóng BHXH tự nguyện của <họ tên>, <mã số BHXH>, <số điện thoại>»",
    "payment.qr_memo": "Nội dung ngắn trong mã VietQR, vd. BHXHTN 5601234567",
    "payment.qr": "Hình mã VietQR (đặt thẻ một mình trong một đoạn)",
    "payment.account.holder": "Tên tài khoản nhận tiền",
    "payment.account.number": "Số tài khoản nhận tiền",
    "payment.account.bank": "Ngân hàng, chi nhánh của tài khoản",
}



# --- Decree-30 wording ----------------------------------------------------------------------

def vn_date(day: dt.date) -> str:
    """``ngày 05 tháng 01 năm 2023``: days below 10 and months 1–2 take a leading zero, months 3–12 not."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def blank_date(year: int) -> str:
    """The date line of an unsigned draft, filled in by hand when the letter is signed."""
    return f"ngày{BLANK}tháng{BLANK}năm {year}"


_ROMAN_NUMERAL = re.compile(r"[IVXLCDM]+")


def _sentence_case(caps: str, *proper_names: str) -> str:
    """``BẢO HIỂM XÃ HỘI TỈNH KHÁNH HÒA`` → ``Bảo hiểm xã hội tỉnh Khánh Hòa`` for use inside a sentence."""
    text = " ".join(word if _ROMAN_NUMERAL.fullmatch(word) else word.lower() for word in caps.split())
    for name in (*proper_names, "Việt Nam"):
        text = re.sub(re.escape(name.lower()), name, text)
    return text[:1].upper() + text[1:]


# --- context --------------------------------------------------------------------------------

@dataclass(frozen=True)
class LetterContext:
    """Everything a template can use; the field names are the template variable names."""

    recipient: Recipient | None
    agency: Agency
    ten_co_quan: str
    signer: Signer
    department: Department
    campaign: Campaign
    so: str
    ky_hieu: str
    so_ky_hieu: str
    ky_hieu_phong: str
    ngay_thang: str
    dia_danh_ngay: str
    payment: PaymentNotice | None = None  # voluntary-insurance participants only

    @property
    def noi_nhan(self) -> tuple[str, ...]:
        """The names of the campaign's copy recipients, for the letter's "Nơi nhận:" block."""
        return tuple(copy.name for copy in self.campaign.noi_nhan)

    def as_template_vars(self) -> dict[str, Any]:
        return {**{field.name: getattr(self, field.name) for field in fields(self)}, "noi_nhan": self.noi_nhan}

    def fingerprint(self) -> str:
        """Everything a template can read of this letter, as text: the same text, the same letter.
        What is hidden from templates (sandbox.NOT_IN_LETTERS) is left out, so changing it rebuilds nothing.
        The Nơi nhận names count only when there are some: letters of a campaign without them keep
        the fingerprint they had before campaigns could list them, and so their approvals."""
        names = self.noi_nhan
        return fingerprint(self) + (f" noi_nhan={names!r}" if names else "")




def fingerprint(value: Any) -> str:
    """``repr`` of a value without what templates cannot read (frozen dataclasses have a complete,
    deterministic repr): the part of it that can reach a letter or a message."""
    if not dataclasses.is_dataclass(value) or isinstance(value, type):
        return repr(value)
    hidden = hidden_from_templates(type(value))
    shown = ", ".join(f"{f.name}={fingerprint(getattr(value, f.name))}" for f in fields(value) if f.name not in hidden)
    return f"{type(value).__name__}({shown})"


def build_context(config: Config, campaign: Campaign, recipient: Recipient | None, number: int | None,
                  issued_on: dt.date | None) -> LetterContext:
    """The context of one letter; ``number``/``issued_on`` None make an unsigned draft (blank number, date)."""
    if number is not None and number < 1:
        raise ValueError(f"document numbers start at 1, got {number}")
    ky_hieu = f"{config.agency.abbreviation}-{campaign.drafting_unit}"
    so = BLANK if number is None else f"{number:02d}"
    ngay_thang = blank_date(office_today().year) if issued_on is None else vn_date(issued_on)
    # The original letter (no recipient, or the Nơi nhận bodies') is the drafting department's.
    department = (config.department_for(recipient.kind) if recipient is not None and recipient.kind != COPIES
                  else config.departments[campaign.drafting_unit])
    payment = None
    if recipient is not None and recipient.participation is not None and config.voluntary is not None:
        payment = payment_notice(config.voluntary, recipient, payment_account(config, recipient), campaign.expires)
    return LetterContext(
        recipient=recipient,
        agency=config.agency,
        ten_co_quan=_sentence_case(config.agency.issuing_body, config.agency.place),
        signer=config.signer,
        department=department,
        campaign=campaign,
        so=so,
        ky_hieu=ky_hieu,
        so_ky_hieu=f"{so}/{ky_hieu}",
        ky_hieu_phong=campaign.drafting_unit,
        ngay_thang=ngay_thang,
        dia_danh_ngay=f"{config.agency.place}, {ngay_thang}",
        payment=payment,
    )


def original_recipient(config: Config, campaign: Campaign) -> Recipient:
    """Whom the one original letter, the one the Nơi nhận bodies get, is addressed to: the campaign's
    audiences, as the original's Kính gửi lists them (their labels), personalised for none of them."""
    return Recipient(kind=COPIES, code="", name="; ".join(config.audiences[a].label for a in campaign.audiences))


def sample_contexts(config: Config, campaign: Campaign, recipients: Iterable[Recipient | None]) -> Iterator[LetterContext]:
    """Each recipient's letter as a draft and as issued (number 01, today): templates may differ between them."""
    for recipient in recipients:
        for number, issued_on in ((None, None), (1, office_today())):
            yield build_context(config, campaign, recipient, number, issued_on)


