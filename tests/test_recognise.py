"""The leadership's plain Word letter becomes a template: its Decree-30 parts found and replaced by the
fields, its formatting kept, and the template makes each recipient's letter and passes `template check`."""

from __future__ import annotations

import io

import docx
import pytest
from docx.shared import Pt
from factories import REPO
from word_letter import COPIES, SUBJECT, word_letter

from outreach.config import load_config
from outreach.letters import (
    TEMPLATE_VARIABLES,
    LetterTemplate,
    build_context,
    check_template,
    propose_template,
    recognise_letter,
    sample_contexts,
    sample_recipient,
)


@pytest.fixture(scope="module")
def config():
    return load_config(REPO)


def _cells(document) -> dict[str, object]:
    """Every paragraph of the document's tables and body, by its text."""
    found = {p.text: p for p in document.paragraphs}
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                found.update((p.text, p) for p in cell.paragraphs)
    return found


def test_the_reference_letter_becomes_the_template_with_its_formatting(tmp_path, config):
    data, recognition = propose_template(word_letter(tmp_path / "thu.docx").read_bytes())

    assert recognition.complete, recognition.lines()
    assert recognition.subject == SUBJECT
    assert recognition.copies == COPIES
    assert len(recognition.addressees) == 3
    report = "\n".join(recognition.lines())
    assert "«Số: 1234/BHXH-QLT» → «Số: {{ so_ky_hieu }}»" in report
    assert "«Khánh Hòa, ngày 05 tháng 12 năm 2022» → «{{ dia_danh_ngay }}»" in report
    assert "«KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC / Lê Hùng Chính»" in report
    assert "Không tìm thấy" not in report
    template = docx.Document(io.BytesIO(data))
    lines = _cells(template)
    for text in ("Số: {{ so_ky_hieu }}", "V/v {{ campaign.subject }}", "{{ dia_danh_ngay }}",
                 "Kính gửi: {{ recipient.salutation }}", "{{ agency.issuing_body }}", "{{ signer.name }}",
                 "{%p for nhan in noi_nhan %}", "- {{ nhan }};", "- Lưu: VT, {{ ky_hieu_phong }}.", "- Như trên;"):
        assert text in lines, text
    assert not any("mở tài khoản" in text or "Sở Y tế" in text or "Tổ chức dịch vụ thu" in text for text in lines)
    date = lines["{{ dia_danh_ngay }}"].runs[0]
    assert date.font.italic and date.font.size == Pt(14) and date.font.name == "Times New Roman"
    assert lines["{{ signer.name }}"].runs[0].font.bold
    assert lines["Số: {{ so_ky_hieu }}"].runs[0].font.size == Pt(13)
    assert len(template.paragraphs) < len(docx.Document(tmp_path / "thu.docx").paragraphs)  # the list lines went


def test_the_proposed_template_passes_the_check_and_names_each_recipient(tmp_path, config):
    data, _ = propose_template(word_letter(tmp_path / "thu.docx").read_bytes())
    path = tmp_path / "mau.docx"
    path.write_bytes(data)
    campaign = config.campaigns["vssid-2022"]
    samples = list(sample_contexts(config, campaign, [sample_recipient(kind) for kind in campaign.audiences]))

    assert check_template(path, TEMPLATE_VARIABLES, samples) == []
    employer = sample_recipient("employers")
    letter = docx.Document(io.BytesIO(LetterTemplate(path).render(build_context(config, campaign, employer, 5, None))))
    text = "\n".join(_cells(letter))
    assert "Kính gửi: Công ty TNHH Thương mại Ví Dụ (mã đơn vị BW03196)" in text
    assert "Số: 05/BHXH-QLT" in text and f"V/v {campaign.subject}" in text
    assert config.signer.name in text and "Lưu: VT, QLT." in text
    assert "Nhằm thực hiện cải cách hành chính" in text  # the body is the leadership's


def test_what_is_not_found_is_said_and_the_letter_kept(tmp_path):
    document = docx.Document()
    document.add_paragraph("Kính gửi: Công ty Cổ phần Yến Sào")
    document.add_paragraph("Đề nghị Quý đơn vị nộp đủ tiền BHXH tháng 12.")
    document.add_paragraph("GIÁM ĐỐC")
    document.add_paragraph("Nguyễn Văn An")

    recognition = recognise_letter(document)

    texts = [p.text for p in document.paragraphs]
    assert texts == ["Kính gửi: {{ recipient.salutation }}", "Đề nghị Quý đơn vị nộp đủ tiền BHXH tháng 12.",
                     "{{ signer.authority }}", "{{ signer.title }}", "{{ signer.name }}"]
    assert recognition.addressees == ("Công ty Cổ phần Yến Sào",)
    missing = "\n".join(recognition.lines())
    assert "Không tìm thấy dòng «Số:» (số và ký hiệu). Thêm dòng «Số: {{ so_ky_hieu }}»" in missing
    assert "Không tìm thấy mục «Nơi nhận:»" in missing and "Không tìm thấy dòng «V/v»" in missing
    assert not recognition.complete


def test_a_draft_with_a_blank_number_and_date(tmp_path):
    path = word_letter(tmp_path / "thu.docx", number="Số:      /BHXH-QLT", date="Khánh Hòa, ngày     tháng     năm 2022",
                       addressees=("Các đơn vị sử dụng lao động do BHXH tỉnh quản lý.",))
    recognition = recognise_letter(docx.Document(path))
    assert {part.part for part in recognition.parts} >= {"so_ky_hieu", "dia_danh_ngay", "kinh_gui"}
    assert [p.becomes for p in recognition.parts if p.part == "so_ky_hieu"] == ["Số: {{ so_ky_hieu }}"]


def test_what_the_letters_will_print_differently_is_said(tmp_path, config):
    path = word_letter(tmp_path / "thu.docx", number="Số: 12/BHXH-TST", date="Nha Trang, ngày 05 tháng 12 năm 2022")
    recognition = recognise_letter(docx.Document(path))
    signer = (config.signer.authority, config.signer.title, config.signer.name)
    assert (recognition.place, recognition.ky_hieu, recognition.signer) == ("Nha Trang", "BHXH-TST", signer)
    notes = recognition.differences(config.agency.place, "BHXH-QLT", signer)
    assert notes == ["Địa danh của thư gốc là «Nha Trang», thư sẽ ghi «Khánh Hòa» (config.toml, [agency] place).",
                     "Ký hiệu của thư gốc là «BHXH-TST», thư sẽ ghi «BHXH-QLT» (chữ viết tắt cơ quan và đơn vị soạn "
                     "thảo của chiến dịch)."]
    assert recognition.differences(config.agency.place, "BHXH-QLT", ("GIÁM ĐỐC", "", "Trần Văn B"))[-1] == \
        "Thư gốc do «Lê Hùng Chính» ký, thư sẽ ghi «Trần Văn B» (config.toml, [signer])."


def test_a_noi_nhan_typed_with_line_breaks_is_said_and_the_signature_still_found(tmp_path):
    path = word_letter(tmp_path / "thu.docx", noi_nhan_in_one_paragraph=True)
    recognition = recognise_letter(document := docx.Document(path))
    assert "nguoi_ky" in {part.part for part in recognition.parts}
    assert [label for label, _ in recognition.missing] == ["mục «Nơi nhận:»"]
    lines = _cells(document)
    assert "{{ signer.name }}" in lines and any(text.startswith("Nơi nhận:\n- Như trên;") for text in lines)


def test_a_short_noi_nhan_keeps_its_archive_line_and_gets_the_copies_loop():
    document = docx.Document()
    for text in ("Kính gửi Công ty X", "Nội dung.", "Nơi nhận:", "- Như trên;", "- Lưu: VT.", "GIÁM ĐỐC", "Nguyễn Văn A"):
        document.add_paragraph(text)
    recognise_letter(document)
    assert [p.text for p in document.paragraphs] == [
        "Kính gửi: {{ recipient.salutation }}", "Nội dung.", "Nơi nhận:", "- Như trên;", "{%p for nhan in noi_nhan %}",
        "- {{ nhan }};", "{%p endfor %}", "- Lưu: VT.", "{{ signer.authority }}", "{{ signer.title }}",
        "{{ signer.name }}"]
