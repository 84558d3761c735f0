"""Letters: Decree-30 layout of the shipped template, context wording, safe rendering, template check, PDF."""

from __future__ import annotations

import datetime as dt
import functools
import re
import subprocess
import time
import unicodedata
import uuid
from pathlib import Path
from types import MappingProxyType

import docx
import pytest
from docx.oxml.ns import qn
from docx.shared import Cm

from outreach.config import load_config
from outreach.letters import (TEMPLATE_VARIABLES, LetterContext, LetterError, LetterTemplate, blank_date,
                              build_context, check_empty_values, check_template, render_text_template,
                              sample_contexts, sample_recipient, vn_date, write_skeleton)
from outreach.letters.sandbox import LETTER_LIMITS, MESSAGE_LIMITS
from outreach.recipients import Recipient

REPO = Path(__file__).resolve().parent.parent
TNR = "Times New Roman"
EMPLOYER_NAME = "Công ty TNHH A & B <Chi nhánh Nha Trang>"
EMPLOYER_SENTENCE = "Đề nghị Quý đơn vị phổ biến Công văn này"
COMMUNE_SENTENCE = "chỉ đạo tuyên truyền nội dung Công văn này đến người dân"


@pytest.fixture(scope="module")
def config():
    return load_config(REPO)


@pytest.fixture(scope="module")
def campaign(config):
    return config.campaign("vssid-2022")


@pytest.fixture(scope="module")
def template(campaign):
    return LetterTemplate(campaign.template)


def employer(**changes) -> Recipient:
    values = dict(kind="employers", code="TA1234X", name=EMPLOYER_NAME, address="12 Trần Phú\nNha Trang",
                  source_file="employers.xlsx", source_row=7)
    return Recipient(**{**values, **changes})


def commune(name: str = "Phường Vĩnh Hòa") -> Recipient:
    return Recipient(kind="communes", code="22333", name=name)


@pytest.fixture(scope="module")
def letters(tmp_path_factory, config, campaign, template):
    """The shipped template rendered for an employer and for a commune given in NFD (NFC-normalised)."""
    folder = tmp_path_factory.mktemp("letters")
    nfd_name = unicodedata.normalize("NFD", "Xã Ninh Hưng")
    assert nfd_name != "Xã Ninh Hưng"
    recipients = {
        "employer": (employer(), 5, dt.date(2023, 1, 5)),
        "commune": (commune(unicodedata.normalize("NFC", nfd_name)), 123, dt.date(2023, 6, 29)),
    }
    paths = {}
    for key, (recipient, number, issued_on) in recipients.items():
        paths[key] = folder / f"{key}.docx"
        template.render_to(build_context(config, campaign, recipient, number, issued_on), paths[key])
    return paths


@pytest.fixture(scope="module")
def pdfs(letters, tmp_path_factory):
    """All PDFs in one soffice call with a private profile."""
    folder = tmp_path_factory.mktemp("pdf")
    profile = tmp_path_factory.mktemp("profile") / uuid.uuid4().hex
    subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(folder), *map(str, letters.values())],
                   check=True, capture_output=True, timeout=180)
    return {key: folder / f"{path.stem}.pdf" for key, path in letters.items()}


def pdf_text(path: Path, first: int | None = None, last: int | None = None) -> str:
    pages = [*(["-f", str(first)] if first else []), *(["-l", str(last)] if last else [])]
    return subprocess.run(["pdftotext", *pages, str(path), "-"], check=True, capture_output=True, text=True).stdout


def flat(text: str) -> str:
    return " ".join(text.split())


def runs(paragraph) -> list:
    return [run for run in paragraph.runs if run.text.strip()]


def single(values: set):
    assert len(values) == 1, values
    return values.pop()


def size(paragraph) -> float:
    return single({run.font.size.pt for run in runs(paragraph)})


def is_bold(paragraph) -> bool:
    return single({bool(run.font.bold) for run in runs(paragraph)})


def is_italic(paragraph) -> bool:
    return single({bool(run.font.italic) for run in runs(paragraph)})


def texts(cell) -> list[str]:
    return [p.text for p in cell.paragraphs]


# --- Decree-30 wording ---------------------------------------------------------------------

@pytest.mark.parametrize("day, expected", [
    (dt.date(2023, 1, 5), "ngày 05 tháng 01 năm 2023"),
    (dt.date(2023, 6, 29), "ngày 29 tháng 6 năm 2023"),
    (dt.date(2023, 2, 28), "ngày 28 tháng 02 năm 2023"),
    (dt.date(2023, 3, 1), "ngày 01 tháng 3 năm 2023"),
    (dt.date(2022, 12, 10), "ngày 10 tháng 12 năm 2022"),
])
def test_vn_date_follows_decree_30(day, expected):
    assert vn_date(day) == expected


def test_blank_date_leaves_day_and_month_to_fill_by_hand():
    assert blank_date(2023) == "ngày      tháng      năm 2023"


def test_context_number_ky_hieu_and_date(config, campaign):
    context = build_context(config, campaign, employer(), 5, dt.date(2023, 1, 5))
    assert (context.so, context.ky_hieu, context.so_ky_hieu) == ("05", "BHXH-QLT", "05/BHXH-QLT")
    assert context.dia_danh_ngay == "Khánh Hòa, ngày 05 tháng 01 năm 2023"
    assert context.ky_hieu_phong == "QLT"
    assert context.ten_co_quan == "Bảo hiểm xã hội tỉnh Khánh Hòa"
    assert context.department.code == "QLT"
    assert build_context(config, campaign, commune(), 123, dt.date(2023, 6, 29)).so_ky_hieu == "123/BHXH-QLT"
    assert build_context(config, campaign, commune(), 10, None).department.code == "TTPT"


def test_draft_context_has_blank_number_and_date(config, campaign):
    draft = build_context(config, campaign, None, None, None)
    assert draft.so_ky_hieu == "      /BHXH-QLT"
    assert draft.ngay_thang == blank_date(dt.date.today().year)
    assert draft.department.code == campaign.drafting_unit


def test_documented_variables_are_exactly_the_context(config, campaign):
    documented = {name.split(".", 1)[0] for name in TEMPLATE_VARIABLES}
    assert documented == set(build_context(config, campaign, None, None, None).as_template_vars())
    assert set(LetterContext.__dataclass_fields__) <= documented
    assert all(description.strip() for description in TEMPLATE_VARIABLES.values())


# --- the shipped letter, read back with python-docx ------------------------------------------

def test_page_is_a4_portrait_with_decree_margins(letters):
    section = docx.Document(letters["employer"]).sections[0]
    assert round(section.page_width.mm) == 210 and round(section.page_height.mm) == 297
    margins = (section.top_margin.mm, section.bottom_margin.mm, section.left_margin.mm, section.right_margin.mm)
    assert [round(m) for m in margins] == [20, 20, 30, 15]


def test_times_new_roman_everywhere(letters):
    document = docx.Document(letters["employer"])
    defaults = document.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    elements = [defaults.find(qn("w:rFonts")), *document.element.body.iter(qn("w:rFonts"))]
    assert len(elements) > 100
    for fonts in elements:
        assert {fonts.get(qn(f"w:{slot}")) for slot in ("ascii", "hAnsi", "eastAsia", "cs")} == {TNR}
        assert not any("theme" in name.lower() for name in fonts.attrib), fonts.attrib


def test_header_texts_sizes_and_rules(letters):
    header = docx.Document(letters["employer"]).tables[0]
    left, right = header.cell(0, 0).paragraphs, header.cell(0, 1).paragraphs
    assert left[0].text == "BẢO HIỂM XÃ HỘI VIỆT NAM" and not is_bold(left[0]) and 12 <= size(left[0]) <= 13
    assert left[1].text == "BẢO HIỂM XÃ HỘI TỈNH KHÁNH HÒA" and is_bold(left[1]) and 12 <= size(left[1]) <= 13
    assert right[0].text == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" and is_bold(right[0]) and 12 <= size(right[0]) <= 13
    assert right[1].text == "Độc lập - Tự do - Hạnh phúc" and is_bold(right[1]) and 13 <= size(right[1]) <= 14
    for rule in (left[2], right[2]):  # a solid line under the issuer and under the motto
        assert rule.text == "" and rule._p.find(f"{qn('w:pPr')}/{qn('w:pBdr')}/{qn('w:bottom')}") is not None
    issuer_rule, motto_rule = left[2].paragraph_format, right[2].paragraph_format
    assert issuer_rule.left_indent > motto_rule.left_indent  # the issuer's rule is the shorter one
    number, subject = header.cell(1, 0).paragraphs
    assert number.text == "Số: 05/BHXH-QLT" and size(number) == 13 and not is_bold(number)
    assert subject.text.startswith("V/v đôn đốc tham gia BHXH tự nguyện") and 12 <= size(subject) <= 13
    assert not is_bold(subject)
    date = header.cell(1, 1).paragraphs[0]
    assert date.text == "Khánh Hòa, ngày 05 tháng 01 năm 2023" and is_italic(date) and 13 <= size(date) <= 14
    borders = header._tbl.tblPr.find(qn("w:tblBorders"))
    assert {b.get(qn("w:val")) for b in borders} == {"nil"}


def test_commune_letter_number_and_date_without_leading_zero_in_june(letters):
    header = docx.Document(letters["commune"]).tables[0]
    assert header.cell(1, 0).paragraphs[0].text == "Số: 123/BHXH-QLT"
    assert header.cell(1, 1).paragraphs[0].text == "Khánh Hòa, ngày 29 tháng 6 năm 2023"


def test_recipient_line_and_audience_sentences(letters):
    employer_doc, commune_doc = (docx.Document(letters[key]) for key in ("employer", "commune"))
    line = next(p for p in employer_doc.paragraphs if p.text.startswith("Kính gửi:"))
    assert line.text == f"Kính gửi: {EMPLOYER_NAME} (mã đơn vị TA1234X)"
    assert line.alignment == docx.enum.text.WD_ALIGN_PARAGRAPH.CENTER and size(line) == 14
    commune_line = next(p.text for p in commune_doc.paragraphs if p.text.startswith("Kính gửi:"))
    assert commune_line == "Kính gửi: Ủy ban nhân dân Xã Ninh Hưng"
    employer_text = "\n".join(p.text for p in employer_doc.paragraphs)
    commune_text = "\n".join(p.text for p in commune_doc.paragraphs)
    assert EMPLOYER_SENTENCE in employer_text and COMMUNE_SENTENCE not in employer_text
    assert COMMUNE_SENTENCE in commune_text and EMPLOYER_SENTENCE not in commune_text
    assert "Ủy ban nhân dân Xã Ninh Hưng chỉ đạo" in commune_text
    assert "{%" not in employer_text + commune_text and "{{" not in employer_text + commune_text


def test_body_reproduces_reference_letter_with_typos_fixed(letters):
    document = docx.Document(letters["employer"])
    body = [p for p in document.paragraphs if p.style.name == "Body Text"]
    text = "\n".join(p.text for p in body)
    starts = ["1. Căn cứ pháp lý", "2.1. ", "2.4. ", "3.1. ", "3.2. ", "4. ", "5. ", "6. ", "7. ", "8. ",
              "8.1. ", "8.2. ", "9. Đối với cơ quan BHXH:"]
    for start in starts:
        assert any(p.text.startswith(start) for p in body), start
    assert sum(p.text.startswith("- Quyết định số") for p in body) == 6
    assert "https://dichvucong.baohiemxahoi.gov.vn/" in text
    assert "cho con, người dưới 18 tuổi trên ứng dụng VssID tại Phụ lục 2, theo" in text
    assert "Phụ lục 1, theo" in text
    for typo in ("đơn đốc", "Phụ lục,", "con ,", "VssID- "):
        assert typo not in text
    assert body[-1].text.endswith("skype./.")
    style = document.styles["Body Text"]
    assert style.font.size.pt == 14
    assert style.paragraph_format.alignment == docx.enum.text.WD_ALIGN_PARAGRAPH.JUSTIFY
    assert abs(style.paragraph_format.first_line_indent - Cm(1.27)) < Cm(0.01)
    assert style.paragraph_format.space_after.pt == 6
    assert 1.0 <= style.paragraph_format.line_spacing <= 1.5  # Decree 30: single to 1.5 lines


def test_footer_noi_nhan_and_signer(letters):
    footer = docx.Document(letters["employer"]).tables[1]
    left, right = footer.cell(0, 0).paragraphs, footer.cell(0, 1).paragraphs
    assert left[0].text == "Nơi nhận:" and is_bold(left[0]) and is_italic(left[0]) and size(left[0]) == 12
    entries = left[1:]
    assert entries[0].text == "- Như trên;" and entries[-1].text == "- Lưu: VT, QLT."
    assert len(entries) == 14 and all(size(p) == 11 for p in entries)
    assert all(p.text.startswith("- ") and p.text.endswith(";") for p in entries[:-1])
    authority, title, name = (p for p in right if p.text)
    assert (authority.text, title.text, name.text) == ("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Lê Hùng Chính")
    assert all(is_bold(p) and size(p) == 14 for p in (authority, title, name))
    assert name.paragraph_format.space_before.pt >= 48  # room for the signature and the seal


def test_page_number_header_skips_page_one(letters):
    section = docx.Document(letters["employer"]).sections[0]
    assert section.different_first_page_header_footer
    assert all(not p.text.strip() for p in section.first_page_header.paragraphs)
    first_xml = section.first_page_header._element.xml
    assert "PAGE" not in first_xml
    instructions = [node.text for node in section.header._element.iter(qn("w:instrText"))]
    assert [i.strip() for i in instructions] == ["PAGE"]
    paragraph = section.header.paragraphs[0]
    assert paragraph.alignment == docx.enum.text.WD_ALIGN_PARAGRAPH.CENTER and size(paragraph) == 13


def test_appendix_names_the_letter(config, campaign, tmp_path):
    context = build_context(config, campaign, None, 5, dt.date(2023, 1, 5))
    for number, source in enumerate(campaign.guidance, start=1):
        target = tmp_path / source.name
        LetterTemplate(source).render_to(context, target)
        paragraphs = [p.text for p in docx.Document(target).paragraphs]
        assert paragraphs[0] == f"Phụ lục {number}"
        assert ("(Kèm theo Công văn số 05/BHXH-QLT ngày 05 tháng 01 năm 2023 của Bảo hiểm xã hội tỉnh Khánh Hòa)"
                in paragraphs)
        assert any(p.startswith("Bước 6.") for p in paragraphs)


def test_templates_define_the_styles_they_use_and_no_others(campaign):
    # python-docx's blank document brings 164 style definitions (350 KB) every letter would carry.
    for path in (campaign.template, *campaign.guidance):
        document = docx.Document(path)
        defined = {style.style_id for style in document.styles}
        used = set()
        for part in document.part.package.iter_parts():
            if hasattr(part, "element") and part.element is not document.styles.element:
                used |= set(part.element.xpath("//w:pStyle/@w:val | //w:rStyle/@w:val | //w:tblStyle/@w:val"))
        assert used and used <= defined, path
        assert "BodyText" in used and "Heading1" not in defined, path
        assert len(defined) < 20, path


def test_shipped_templates_pass_the_check(config, campaign):
    letters = sample_contexts(config, campaign, [sample_recipient(kind) for kind in campaign.audiences])
    assert check_template(campaign.template, TEMPLATE_VARIABLES, letters) == []
    for path in campaign.guidance:
        assert check_template(path, TEMPLATE_VARIABLES, sample_contexts(config, campaign, [None]), letter=False) == []


# --- PDF -------------------------------------------------------------------------------------

def test_pdf_has_exact_names_no_tags_and_page_numbers_from_page_two(pdfs):
    employer_text = pdf_text(pdfs["employer"])
    assert f"Kính gửi: {EMPLOYER_NAME} (mã đơn vị TA1234X)" in flat(employer_text)
    commune_text = pdf_text(pdfs["commune"])
    assert "Kính gửi: Ủy ban nhân dân Xã Ninh Hưng" in flat(unicodedata.normalize("NFC", commune_text))
    for text in (employer_text, commune_text):
        assert "{{" not in text and "{%" not in text and "}}" not in text
    first_page = pdf_text(pdfs["employer"], 1, 1).split()
    assert first_page[0] != "1" and first_page[:3] == ["BẢO", "HIỂM", "XÃ"]
    assert pdf_text(pdfs["employer"], 2, 2).split()[0] == "2"
    assert pdf_text(pdfs["employer"], 3, 3).split()[0] == "3"


# --- rendering: escaping, line breaks, missing values, sandbox ------------------------------

def skeleton(tmp_path: Path, *body: str) -> Path:
    path = tmp_path / f"mau-{uuid.uuid4().hex[:8]}.docx"
    write_skeleton(path, list(body))
    return path


def body_texts(data: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "out.docx"
    path.write_bytes(data)
    return [p.text for p in docx.Document(path).paragraphs]


def test_values_are_escaped_and_newlines_become_line_breaks(config, campaign, tmp_path):
    path = skeleton(tmp_path, "Tên: {{ recipient.name }}", "Địa chỉ: {{ recipient.address }}")
    data = LetterTemplate(path).render(build_context(config, campaign, employer(), 5, dt.date(2023, 1, 5)))
    target = tmp_path / "out.docx"
    target.write_bytes(data)
    paragraphs = docx.Document(target).paragraphs
    assert any(p.text == f"Tên: {EMPLOYER_NAME}" for p in paragraphs)
    address = next(p for p in paragraphs if p.text.startswith("Địa chỉ:"))
    assert address.text == "Địa chỉ: 12 Trần Phú\nNha Trang"  # python-docx reads <w:br/> as \n
    assert address._p.find(f".//{qn('w:br')}") is not None


def test_render_is_deterministic_and_fast(template, config, campaign):
    context = build_context(config, campaign, employer(), 5, dt.date(2023, 1, 5))
    assert template.render(context) == template.render(context.as_template_vars())
    started = time.perf_counter()
    for _ in range(40):
        template.render(context)
    assert 40 / (time.perf_counter() - started) >= 25  # measured ~190/s; a generous floor for slow machines


def test_missing_variable_is_named_with_the_recipient(config, campaign, tmp_path):
    path = skeleton(tmp_path, "Kính gửi {{ recipient.ten_sai }} tại {{ dia_chi_la }}.")
    issues = check_template(path, TEMPLATE_VARIABLES)
    assert {issue.kind for issue in issues} == {"undefined"}
    messages = {re.search(r"«([^»]+)»", issue.message).group(1) for issue in issues}
    assert messages == {"recipient.ten_sai", "dia_chi_la"}
    assert all("Cách sửa" in issue.message and "Kính gửi {{ recipient.ten_sai }}" in issue.location
               for issue in issues)
    with pytest.raises(LetterError) as caught:
        LetterTemplate(path).render(build_context(config, campaign, employer(), 5, dt.date(2023, 1, 5)))
    message = caught.value.message
    assert "«recipient.ten_sai»" in message and EMPLOYER_NAME in message and "employers/TA1234X" in message
    assert "employers.xlsx dòng 7" in message


def test_extra_columns_are_checked_against_the_provided_names(config, campaign, tmp_path):
    path = skeleton(tmp_path, "Số lao động: {{ recipient.extra['Số lao động'] }}")
    assert check_template(path, [*TEMPLATE_VARIABLES, "recipient.extra.Số lao động"]) == []
    [issue] = check_template(path, TEMPLATE_VARIABLES)
    assert issue.kind == "undefined" and "Số lao động" in issue.message
    recipient = employer(extra=MappingProxyType({"Số lao động": "120"}))
    data = LetterTemplate(path).render(build_context(config, campaign, recipient, 5, dt.date(2023, 1, 5)))
    assert "Số lao động: 120" in body_texts(data, tmp_path)
    with pytest.raises(LetterError, match=r"recipient\.extra\.Số lao động"):
        LetterTemplate(path).render(build_context(config, campaign, employer(), 5, dt.date(2023, 1, 5)))


@pytest.mark.parametrize("expression", ["department.schedule.messages_per_minute", "campaign.expires",
                                        "recipient.source_row"])
def test_what_changes_no_letter_is_out_of_the_templates_reach(config, campaign, tmp_path, expression):
    """The letter's digest leaves these out, so a template must not be able to print them."""
    path = skeleton(tmp_path, f"Giá trị: {{{{ {expression} }}}}")
    [issue] = check_template(path, TEMPLATE_VARIABLES)
    assert issue.kind == "undefined" and "không có thuộc tính" in issue.message
    with pytest.raises(LetterError):
        LetterTemplate(path).render(build_context(config, campaign, employer(), 5, dt.date(2023, 1, 5)))


def test_syntax_error_is_located_in_the_document(tmp_path):
    path = skeleton(tmp_path, "Đoạn đầu.", "Đơn vị: {{ recipient.name | }}", "Đoạn cuối.")
    [issue] = check_template(path, TEMPLATE_VARIABLES)
    assert issue.kind == "syntax" and issue.message.startswith("Lỗi cú pháp")
    paragraphs = list(docx.Document(path).element.body.iter(qn("w:p")))
    number = next(i for i, p in enumerate(paragraphs, 1) if "recipient.name |" in "".join(p.itertext()))
    assert issue.location == f"đoạn {number}: «Đơn vị: {{{{ recipient.name | }}}}»"
    with pytest.raises(LetterError, match=f"đoạn {number}"):
        LetterTemplate(path)


def test_unclosed_block_says_which_closing_tag_is_missing(tmp_path):
    path = skeleton(tmp_path, "{%p if recipient.kind == 'employers' %}", "Chỉ cho đơn vị.")
    [issue] = check_template(path, TEMPLATE_VARIABLES)
    assert issue.kind == "syntax" and "thiếu thẻ đóng" in issue.message and "{%p endif %}" in issue.message


def test_quotes_docxtpl_cannot_straighten_get_a_clear_message(tmp_path):
    path = skeleton(tmp_path, "{% if recipient.kind == «employers» %}Đơn vị{% endif %}")
    [issue] = check_template(path, TEMPLATE_VARIABLES)
    assert issue.kind == "syntax" and "dấu ««»" in issue.message and "nháy thẳng" in issue.message


def test_curly_quotes_and_runs_split_by_word_are_repaired(config, campaign, tmp_path):
    path = skeleton(tmp_path, "{% if recipient.kind == “employers” %}Đơn vị{% endif %}")
    document = docx.Document(path)
    paragraph = document.add_paragraph()
    paragraph.add_run("Tên: {{ recipient.")
    paragraph.add_run("name }}").bold = True
    document.save(path)
    assert check_template(path, TEMPLATE_VARIABLES) == []
    data = LetterTemplate(path).render(build_context(config, campaign, employer(), 5, dt.date(2023, 1, 5)))
    paragraphs = body_texts(data, tmp_path)
    assert "Đơn vị" in paragraphs and f"Tên: {EMPLOYER_NAME}" in paragraphs


@pytest.mark.parametrize("text, expected", [
    ("Tên: { { recipient.name }}", "dấu cách"),
    ("Tên: {{ recipient.name", "mở nhưng không đóng"),
    ("Tên: {% if recipient.name %}x{% endif % }", "dấu cách"),
])
def test_badly_split_tags(tmp_path, text, expected):
    path = skeleton(tmp_path, "Đoạn đầu.", text)
    issues = [issue for issue in check_template(path, TEMPLATE_VARIABLES) if issue.kind == "split_tag"]
    assert issues and expected in issues[0].message
    assert issues[0].location.startswith("đoạn ") and "Tên:" in issues[0].location
    with pytest.raises(LetterError, match="Tên:"):
        LetterTemplate(path)


def test_split_tag_in_a_table_cell_names_the_cell(tmp_path):
    path = skeleton(tmp_path, "Nội dung.")
    document = docx.Document(path)
    document.tables[1].cell(0, 1).paragraphs[-1].add_run(" {{ signer.name")
    document.save(path)
    [issue] = check_template(path, TEMPLATE_VARIABLES)
    assert issue.kind == "split_tag" and issue.location.startswith("bảng 2, ô 2: ")


@pytest.mark.parametrize("expression", ["recipient.__class__.__mro__", "campaign.template.read_text()"])
def test_templates_run_in_a_sandbox(config, campaign, tmp_path, expression):
    path = skeleton(tmp_path, f"{{{{ {expression} }}}}")
    with pytest.raises(LetterError):
        LetterTemplate(path).render(build_context(config, campaign, employer(), 5, dt.date(2023, 1, 5)))


def test_not_a_docx_is_a_user_error(tmp_path):
    path = tmp_path / "mau.docx"
    path.write_text("không phải docx")
    with pytest.raises(LetterError, match="không phải tệp Word"):
        LetterTemplate(path)


# --- e-mail templates ----------------------------------------------------------------------

def test_email_templates(config, campaign):
    context = build_context(config, campaign, employer(), 5, dt.date(2023, 1, 5))
    subject = render_text_template(campaign.email_subject, context)
    assert subject == f"Công văn số 05/BHXH-QLT V/v {campaign.subject}"
    variables = {**context.as_template_vars(), "tep_dinh_kem": ("Công văn số 05/BHXH-QLT", "Phụ lục 1: Hướng dẫn")}
    text = render_text_template(campaign.email_text, variables)
    assert text.startswith(f"Kính gửi: {EMPLOYER_NAME} (mã đơn vị TA1234X)\n")
    assert "phongqlt@bhxh-khanhhoa.example.vn" in text and "Phòng Quản lý thu" in text
    assert "PDF:\n- Công văn số 05/BHXH-QLT;\n- Phụ lục 1: Hướng dẫn.\n\n" in text
    html = render_text_template(campaign.email_html, variables)
    assert "Công ty TNHH A &amp; B &lt;Chi nhánh Nha Trang&gt;" in html and EMPLOYER_NAME not in html
    assert "http" not in html and "<img" not in html  # no external resources


def test_email_missing_variable_is_a_letter_error(config, campaign):
    context = build_context(config, campaign, commune(), 5, dt.date(2023, 1, 5))
    with pytest.raises(LetterError, match="«department.phone»"):
        render_text_template("Gọi {{ department.phone }}", context)
    with pytest.raises(LetterError, match="lỗi cú pháp"):
        render_text_template("{{ so_ky_hieu ", context)


@pytest.mark.parametrize("expression, named", [
    ("''.ten_sai", "''.ten_sai"),  # '' is the same object as every empty field of the recipient
    ("recipient.phone.ten_sai", "recipient.phone.ten_sai"),
    ("recipient.extra['Số lao động']", "recipient.extra.Số lao động"),
])
def test_a_missing_value_is_named_as_the_template_writes_it(config, campaign, tmp_path, expression, named):
    recipient = employer(district="Thành phố Nha Trang", commune_code="", phone="")
    context = build_context(config, campaign, recipient, 5, dt.date(2023, 1, 5))
    path = skeleton(tmp_path, "Đoạn đầu.", f"Giá trị: {{{{ {expression} }}}}")
    with pytest.raises(LetterError) as caught:
        LetterTemplate(path).render(context)
    assert f"«{named}»" in caught.value.message and "commune_code" not in caught.value.message
    with pytest.raises(LetterError) as caught:
        render_text_template(f"Dòng 1\n{{{{ {expression} }}}}", context)
    assert f"«{named}»" in caught.value.message and "commune_code" not in caught.value.message


@pytest.mark.parametrize("tag", ["{% include 'chan-trang.j2' %}", "{% from 'macro.j2' import ky_ten %}"])
def test_an_email_template_cannot_read_another_template(config, campaign, tag):
    context = build_context(config, campaign, commune(), 5, dt.date(2023, 1, 5))
    with pytest.raises(LetterError, match=r"dòng 2: .*không được chèn hay kế thừa mẫu khác.*Cách sửa"):
        render_text_template(f"Kính gửi\n{tag}\n", context)


# (kind, template text, what the message says): each stops within the limits, in seconds.
RUNAWAY_TEMPLATES = [
    # Whichever limit comes first, steps or (on a slow moment of the machine) time: both stop it in words.
    ("nested_loops", "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}", "mẫu "),
    ("endless_text", "{% for a in range(100000) %}{% for b in range(100000) %}Một đoạn lặp lại. {% endfor %}"
     "{% endfor %}", "dài quá"),
    ("loops_in_a_macro", "{% macro m() %}{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}"
     "{% endfor %}{% endmacro %}{{ m() }}", "quá"),
    ("exponential_macro", "{% macro m(n) %}{% if n %}{{ m(n - 1) }}{{ m(n - 1) }}{% endif %}{% endmacro %}"
     "{{ m(60) }}", "quá"),
    ("doubling", "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"
     "{{ ns.s|length }}", "dài quá"),
    ("string_repeat", "{{ 'x' * 20000000 }}", "dài quá"),
    ("huge_number", "{{ 10 ** 100000 }}", "số quá lớn"),
    ("center", "{{ recipient.name.center(20000000) }}", "dài quá"),
    ("join", "{{ range(100000)|join('x' * 1000) }}", "dài quá"),
    ("format_width", "{{ '%20000000d' % 1 }}", "dài quá"),
]


def raw_paragraph(tmp_path: Path, text: str) -> Path:
    """A template with ``text`` as typed in Word (the skeleton's markup would read ``*`` as italics)."""
    path = skeleton(tmp_path, "Đoạn đầu.")
    document = docx.Document(path)
    document.add_paragraph(text)
    document.save(path)
    return path


@pytest.mark.parametrize("kind, text, expected", RUNAWAY_TEMPLATES, ids=[case[0] for case in RUNAWAY_TEMPLATES])
def test_a_runaway_template_stops_within_the_limits(config, campaign, tmp_path, kind, text, expected):
    context = build_context(config, campaign, employer(), 5, dt.date(2023, 1, 5))
    template = LetterTemplate(raw_paragraph(tmp_path, text))
    for render, limits, place in ((template.render, LETTER_LIMITS, ", đoạn "),
                                  (functools.partial(render_text_template, text), MESSAGE_LIMITS, ", dòng 1: ")):
        started = time.perf_counter()
        with pytest.raises(LetterError) as caught:
            render(context)
        assert time.perf_counter() - started < limits.seconds + 1.5, kind
        message = caught.value.message
        assert expected in message and place in message and "Cách sửa" in message, message
        assert kind != "nested_loops" or re.search(r"quá [\d.]+ (bước|giây)", message), message


def test_a_template_that_fails_for_every_letter_stops_trying_after_a_few(config, campaign, tmp_path):
    template = LetterTemplate(raw_paragraph(tmp_path, RUNAWAY_TEMPLATES[0][1]))
    contexts = list(sample_contexts(config, campaign, [employer(code=f"TA{n:05d}") for n in range(5)]))
    durations = []
    for context in contexts:
        started = time.perf_counter()
        with pytest.raises(LetterError) as caught:
            template.render(context)
        durations.append(time.perf_counter() - started)
    assert "thư đầu tiên, nên thư này không được thử" in caught.value.message and "TA00004" in caught.value.message
    assert max(durations[LetterTemplate.RUNAWAY_LETTERS:]) < 0.05 < min(durations[:LetterTemplate.RUNAWAY_LETTERS])


# --- template check: the template filled in for sample recipients ---------------------------

@pytest.mark.parametrize("text, kind, expected", [
    ("Tỷ lệ: {{ 100 / 0 }}", "runtime", "phép chia cho 0"),
    ("{% if recipient.kind == 'communes' %}{{ 'Xã ' + recipient.code|int }}{% endif %}", "runtime", "sai kiểu"),
    (RUNAWAY_TEMPLATES[0][1], "limit", "quá 1.000.000 bước"),
    (RUNAWAY_TEMPLATES[1][1], "limit", "dài quá 10.000.000 ký tự"),
])
def test_check_fills_the_template_in_and_reports_what_building_would_meet(config, campaign, tmp_path,
                                                                           text, kind, expected):
    path = raw_paragraph(tmp_path, text)
    assert check_template(path, TEMPLATE_VARIABLES) == []  # nothing wrong that reading alone can see
    samples = list(sample_contexts(config, campaign, [sample_recipient(k) for k in campaign.audiences]))
    [issue] = check_template(path, TEMPLATE_VARIABLES, samples)
    assert issue.kind == kind and issue.blocking and expected in issue.message and "Cách sửa" in issue.message
    assert issue.location.startswith("đoạn ") and text[:20] in issue.location
    assert re.search(r"gặp ở \d+/6 thư thử, vd\. thư cho «", issue.message)


def test_check_names_a_column_some_recipients_lack(config, campaign, tmp_path):
    path = raw_paragraph(tmp_path, "Số lao động: {{ recipient.extra['Số lao động'] }}")
    with_column = employer(extra=MappingProxyType({"Số lao động": "120"}))
    without = employer(code="TA99999", source_row=9)
    issues = check_template(path, [*TEMPLATE_VARIABLES, "recipient.extra.Số lao động"],
                            sample_contexts(config, campaign, [with_column, without]))
    [issue] = issues
    assert issue.kind == "undefined" and "«recipient.extra.Số lao động»" in issue.message
    assert "gặp ở 2/4 thư thử" in issue.message and "employers/TA99999, employers.xlsx dòng 9" in issue.message


def test_check_notes_values_some_recipients_leave_empty(tmp_path):
    recipients = [employer(tax_code="4201234566"), employer(code="TA00002", source_row=8)]
    printed = raw_paragraph(tmp_path, "Mã số thuế: {{ recipient.tax_code }}")
    [note] = check_empty_values(printed, recipients)
    assert note.kind == "empty" and not note.blocking and "«recipient.tax_code» trống ở 1/2 người nhận" in note.message
    assert "employers.xlsx dòng 8" in note.message and note.location.startswith("đoạn ")
    guarded = raw_paragraph(tmp_path, "{% if recipient.tax_code %}Mã số thuế: {{ recipient.tax_code }}{% endif %}")
    assert check_empty_values(guarded, recipients) == []


def test_jinja_loop_helpers_are_allowed(config, campaign):
    context = build_context(config, campaign, employer(), 5, dt.date(2023, 1, 5))
    text = ("{% set rows = cycler('lẻ', 'chẵn') %}{% for i in range(4) %}{{ loop.cycle('a', 'b') }}"
            "{{ rows.next() }}{% if loop.changed(i // 2) %}|{% endif %}{% endfor %}")
    assert render_text_template(text, context) == "alẻ|bchẵnalẻ|bchẵn"
