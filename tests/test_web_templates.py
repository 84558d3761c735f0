"""The templates page: the leadership's Word letter uploaded, what was recognised and the proposed
template shown with its check, downloaded or saved into templates/ after confirmation (never over a
file); the field picker with the list's own columns; the check of a template already there."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import docx
import pytest
from openpyxl import load_workbook

from outreach.config import load_config
from outreach.web import create_app
from test_web import Staff, flashes, make_workspace
from word_letter import word_letter


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return make_workspace(tmp_path / "ws")


@pytest.fixture
def staff(root: Path) -> Staff:
    return Staff(create_app(root, testing=True))


def upload(staff: Staff, data: bytes, name: str = "cong-van-lanh-dao.docx", campaign: str = "vssid-2022"):
    return staff.post("/templates/upload", {"letter": (io.BytesIO(data), name), "campaign": campaign},
                      content_type="multipart/form-data")


def text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_a_word_letter_becomes_a_template_saved_after_confirmation(staff: Staff, root: Path, tmp_path: Path) -> None:
    response = upload(staff, word_letter(tmp_path / "thu.docx").read_bytes(), "Công văn VssID 2023.docx")
    assert response.status_code == 200
    page = text(response)
    proposal = response.request.path
    assert re.fullmatch(r"/templates/proposals/[0-9a-f]{64}", proposal)
    assert "Mẫu dùng được" in page and "Không tìm thấy" not in page and "thư sẽ ghi" not in page
    assert "Số: 1234/BHXH-QLT" in page and "Số: {{ so_ky_hieu }}" in page
    assert "KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC / Lê Hùng Chính" in page
    assert "Nơi nhận của thư gốc: UBND tỉnh (để báo cáo); Sở Y tế; Báo Khánh Hòa." in page
    assert 'data-copy="{{ recipient.salutation }}"' in page and 'value="cong-van-vssid-2023"' in page

    downloaded = staff.get(f"{proposal}/mau.docx")
    assert downloaded.status_code == 200 and downloaded.headers["Content-Disposition"].endswith("mau-cong-van-vssid-2023.docx")
    paragraphs = [p.text for p in docx.Document(io.BytesIO(downloaded.data)).paragraphs]
    assert "Kính gửi: {{ recipient.salutation }}" in paragraphs

    refused = staff.post(f"{proposal}/save", {"name": "cong-van-vssid-2023"})
    assert "Chưa lưu" in flashes(refused.get_data(as_text=True))[0]
    assert not (root / "templates" / "cong-van-vssid-2023.docx").exists()

    saved = staff.post(f"{proposal}/save", {"name": "Công văn VssID 2023", "confirm": "1", "campaign": "vssid-2022"})
    target = root / "templates" / "cong-van-vssid-2023.docx"
    assert target.read_bytes() == downloaded.data
    assert "Đã lưu mẫu templates/cong-van-vssid-2023.docx" in flashes(saved.get_data(as_text=True))[0]
    assert saved.request.path == "/templates/files/cong-van-vssid-2023.docx" and "Mẫu dùng được" in text(saved)

    shipped = root / "templates" / "cong-van-vssid.docx"
    before = shipped.read_bytes()
    again = staff.post(f"{proposal}/save", {"name": "cong-van-vssid", "confirm": "1"})
    assert "đã có" in flashes(again.get_data(as_text=True))[0] and shipped.read_bytes() == before


def test_a_letter_naming_no_recipient_in_a_substituted_font_fails_the_check_in_the_page(staff: Staff,
                                                                                     tmp_path: Path) -> None:
    document = docx.Document()  # python-docx's theme font: Cambria, which no letter can be made with
    document.add_paragraph("Bảo hiểm xã hội tỉnh Khánh Hòa đề nghị các đơn vị nộp đủ tiền BHXH.")
    buffer = io.BytesIO()
    document.save(buffer)
    page = text(upload(staff, buffer.getvalue()))
    assert "vấn đề cần sửa trước khi tạo thư" in page and "Mẫu dùng được" not in page
    assert "«Cambria»" in page and "Không tìm thấy dòng «Kính gửi:»" in page


def test_what_is_not_a_word_file_is_refused_in_vietnamese(staff: Staff, root: Path) -> None:
    assert "không phải văn bản Word .docx" in flashes(upload(staff, b"a,b\n", "danh-sach.csv").get_data(as_text=True))[0]
    broken = flashes(upload(staff, b"not a zip", "thu.docx").get_data(as_text=True))[0]
    assert "Không đọc được tệp «thu.docx» như văn bản Word" in broken
    renamed = (root / "recipients" / "employers.xlsx").read_bytes()  # an Excel file saved as .docx
    assert "như văn bản Word" in flashes(upload(staff, renamed, "danh-sach.docx").get_data(as_text=True))[0]
    assert staff.get("/templates/proposals/" + "0" * 64).status_code == 404
    assert staff.get("/templates/proposals/..%2F..%2Fconfig.toml").status_code == 404


def with_column(root: Path, column: str) -> None:
    """The employers list with one more column of its own, as the office adds them."""
    book = load_workbook(root / "recipients" / "employers.xlsx")
    sheet = book.active
    header = next(row for row in sheet.iter_rows(max_row=10) if any(c.value == "Mã đơn vị" for c in row))
    at = sheet.max_column + 1
    sheet.cell(header[0].row, at, column)
    for row in range(header[0].row + 1, sheet.max_row + 1):
        sheet.cell(row, at, 12)
    book.save(root / "recipients" / "employers.xlsx")


def test_the_field_picker_lists_every_field_and_the_lists_own_columns(staff: Staff, root: Path) -> None:
    with_column(root, "Số lao động")
    page = text(staff.get("/templates?campaign=vssid-2022"))
    tags = {html.unescape(tag) for tag in re.findall(r'data-copy="([^"]+)"', page)}
    assert {"{{ recipient.salutation }}", "{{ so_ky_hieu }}", "{{ signer.name }}", "{{ noi_nhan }}"} <= tags
    assert not any("payment." in tag for tag in tags)  # this campaign writes to no participant
    renewal = text(staff.get("/templates?campaign=nhac-dao-han"))
    assert "{{ payment.amount }}" in renewal
    assert "{{ recipient.extra['Số lao động'] }}" in tags
    assert "Cột «Số lao động» của danh sách" in html.unescape(page) and "Dòng sau «Kính gửi:»" in html.unescape(page)


def test_a_shipped_template_and_an_appendix_are_checked_in_the_page(staff: Staff) -> None:
    page = text(staff.get("/templates"))
    assert "cong-van-vssid.docx" in page
    assert "Mẫu dùng được" in text(staff.get("/templates/files/cong-van-vssid.docx"))
    appendix = text(staff.get("/templates/files/phu-luc-1-vssid.docx"))
    assert "phụ lục hướng dẫn" in appendix and "Mẫu dùng được" in appendix
    assert staff.get("/templates/files/config.toml").status_code == 404


def test_a_campaigns_email_is_edited_as_its_own_and_no_other_changes(staff: Staff, root: Path) -> None:
    shared = (root / "templates" / "email.txt.j2").read_text(encoding="utf-8")
    other = load_config(root).campaigns["nhac-dao-han"]
    before = (other.email_subject, other.email_text, other.email_html)
    page = text(staff.get("/templates/email/vssid-2022"))
    assert "đang dùng mẫu templates/email.txt.j2" in page and "Phụ lục 1: HƯỚNG DẪN" in html.unescape(page)

    edited = shared.replace("Trân trọng cảm ơn./.", "Xin cảm ơn Quý đơn vị đã phối hợp./.")
    saved = staff.post("/templates/email/vssid-2022", {"subject": "Công văn {{ so_ky_hieu }} về VssID", "text": edited})
    assert "Đã lưu thư điện tử riêng của chiến dịch vssid-2022" in flashes(saved.get_data(as_text=True))[0]
    campaign = load_config(root).campaigns["vssid-2022"]
    assert campaign.email_text == root / "templates" / "vssid-2022" / "email.txt.j2"
    assert campaign.email_subject == "Công văn {{ so_ky_hieu }} về VssID"
    assert "Xin cảm ơn Quý đơn vị đã phối hợp./." in campaign.email_html.read_text(encoding="utf-8")
    assert (root / "templates" / "email.txt.j2").read_text(encoding="utf-8") == shared
    other = load_config(root).campaigns["nhac-dao-han"]
    assert (other.email_subject, other.email_text, other.email_html) == before
    assert "Xin cảm ơn Quý đơn vị đã phối hợp" in html.unescape(text(saved))  # the preview

    broken = staff.post("/templates/email/vssid-2022", {"subject": "Công văn", "text": "Kính gửi {{ recipient.ten }}\n"})
    assert broken.status_code == 422
    message = html.unescape(text(broken))
    assert "Chưa lưu" in message and "recipient.ten" in message and "nội dung thư" in message
    assert "Xin cảm ơn" in campaign.email_text.read_text(encoding="utf-8")  # the saved one stays
    assert staff.get("/templates/email/khong-co").status_code == 404


def test_only_a_drafter_uses_the_templates_pages(root: Path, tmp_path: Path) -> None:
    from test_web_accounts import add_staff, signed_in

    add_staff(root)
    app = create_app(root, testing=True)
    approver, drafter = signed_in(app, "duyet"), signed_in(app, "soan")
    assert approver.client.get("/templates").status_code == 403
    assert "Mẫu công văn" not in approver.client.get("/campaigns/vssid-2022").get_data(as_text=True)
    assert approver.post("/templates/email/vssid-2022", {"subject": "x", "text": "y"}).status_code == 403
    assert not (root / "templates" / "vssid-2022").exists()
    assert drafter.client.get("/templates").status_code == 200
    assert "Mẫu công văn" in drafter.client.get("/campaigns/vssid-2022").get_data(as_text=True)
