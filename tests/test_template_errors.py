"""A template that fails while it fills in a letter, through `outreach build` on a copy of the sample folder.

What staff care about: no traceback, a Vietnamese message naming the template, the place in it
and the fix; a failure in one recipient's letter or e-mail is that draft's problem, and the
other drafts are still built.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import docx
import pytest

from outreach.cli import main
from outreach.letters.skeleton import write_skeleton
from factories import REPO, copy_sample_office

TEMPLATE = "templates/cong-van-vssid.docx"
EMAIL = "templates/email.txt.j2"

# (kind, what the template says, what the message must say); each fails only when rendered.
RUNTIME_ERRORS = [
    ("undefined_attribute", "{{ recipient.ten_sai }}", "«recipient.ten_sai»"),
    ("call_of_undefined", "{{ ham_khong_co(recipient.name) }}", "«ham_khong_co»"),
    ("unsafe_attribute", "{{ recipient.__class__.__name__ }}", "không được phép"),
    ("division_by_zero", "{{ 100 / 0 }}", "chia cho 0"),
    ("type_error", "{{ 'Số lao động: ' + 1 }}", "sai kiểu"),
    ("filter_argument", "{{ recipient.extra|dictsort(by='cot') }}", "tham số không hợp lệ"),
    ("recursion", "{% macro lap(n) %}{{ lap(n + 1) }}{% endmacro %}{{ lap(1) }}", "gọi chính nó"),
    ("security", "{{ campaign.template.read_text() }}", "không được phép"),
    ("unicode", "{{ recipient.name.encode('ascii') }}", "chuyển mã"),
    ("value_error", "{{ '{0} {1}'.format(recipient.name) }}", "không hợp lệ"),
]
# Runaway templates: each stops within the letter's limits instead of holding the build.
LIMIT_ERRORS = [
    ("nested_loops", "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
     "quá 1.000.000 bước"),
    ("endless_text", "{% for a in range(100000) %}{% for b in range(100000) %}Một đoạn lặp lại. {% endfor %}"
     "{% endfor %}", "dài quá"),
]
# Refused when the template is read, before any letter: the whole build stops with one message.
STATIC_ERRORS = [
    ("include", "{% include 'dau-trang.docx' %}", "include"),
    ("import", "{% import 'macro.j2' as m %}", "import"),
    ("extends", "{% extends 'mau-goc.docx' %}", "extends"),
]


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    return copy_sample_office(tmp_path_factory.mktemp("office"))


@pytest.fixture
def restore(office):
    """Each test changes the campaign's templates; the next one starts from the shipped ones."""
    yield office
    for item in (TEMPLATE, EMAIL):
        shutil.copy(REPO / item, office / item)


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def build(restore, capsys):
    """`outreach build` as the command line runs it; anything but a UserError would escape as a traceback."""
    def run(*codes: str) -> Result:
        capsys.readouterr()
        code = main(["--root", str(restore), "build", "vssid-2022", "--only", *codes])
        return Result(code, *capsys.readouterr())
    return run


def letter_template(path: Path, text: str) -> None:
    """The sample letter's layout with one paragraph holding ``text`` as typed in Word."""
    write_skeleton(path, ["Kính gửi {{ recipient.name }}."])
    document = docx.Document(path)
    document.add_paragraph(text)
    document.save(path)


def assert_explained(result: Result, expected: str, template: str, place: str) -> str:
    output = result.stdout + result.stderr
    assert "Traceback" not in output, result.stderr
    assert expected in output and template in output and place in output and "Cách sửa" in output, output
    return output


@pytest.mark.parametrize("kind, text, expected", RUNTIME_ERRORS + LIMIT_ERRORS,
                         ids=[case[0] for case in RUNTIME_ERRORS + LIMIT_ERRORS])
def test_a_letter_template_error_is_the_drafts_problem(restore, build, kind, text, expected):
    letter_template(restore / TEMPLATE, text)
    result = build("YK34396")
    assert result.returncode == 1, result.stderr
    output = assert_explained(result, expected, "cong-van-vssid.docx, đoạn ", text[:40])
    assert "LỖI employers/YK34396" in output


@pytest.mark.parametrize("kind, text, expected", STATIC_ERRORS, ids=[case[0] for case in STATIC_ERRORS])
def test_a_tag_reading_another_template_is_refused_before_building(restore, build, kind, text, expected):
    letter_template(restore / TEMPLATE, text)
    result = build("YK34396")
    assert result.returncode == 2, result.stderr
    assert_explained(result, expected, "cong-van-vssid.docx có lỗi: đoạn ", text[:40])


def test_each_email_template_error_is_its_drafts_problem_and_the_others_are_built(restore, build):
    cases = RUNTIME_ERRORS + LIMIT_ERRORS
    codes = [f"DL{56001 + index}" for index in range(len(cases))]
    branches = "".join(f"{{% {'if' if index == 0 else 'elif'} recipient.code == '{code}' %}}{text}"
                       for index, (code, (_, text, _)) in enumerate(zip(codes, cases)))
    email = restore / EMAIL
    email.write_text(f"Kính gửi: {{{{ recipient.salutation }}}}\n\n{branches}{{% endif %}}\n"
                     + email.read_text(encoding="utf-8"), encoding="utf-8")
    result = build(*codes, "DL56015")
    assert result.returncode == 1, result.stderr
    lines = (result.stdout + result.stderr).splitlines()
    assert "Traceback" not in result.stderr, result.stderr
    for code, (kind, _, expected) in zip(codes, cases):
        [line] = [line for line in lines if f"LỖI collection_agents/{code} " in line]
        assert expected in line and "email.txt.j2, dòng 3:" in line and "Cách sửa" in line, (kind, line)
    assert "1 tạo mới" in result.stdout and "LỖI collection_agents/DL56015" not in result.stdout


@pytest.mark.parametrize("kind, text, expected", [RUNTIME_ERRORS[3], RUNTIME_ERRORS[6], *LIMIT_ERRORS, STATIC_ERRORS[0]],
                         ids=["division_by_zero", "recursion", "nested_loops", "endless_text", "include"])
def test_template_check_reports_what_build_would_meet(office, capsys, kind, text, expected):
    path = office / "templates" / f"thu-{kind}.docx"
    letter_template(path, text)
    capsys.readouterr()
    assert main(["--root", str(office), "template", "check", str(path), "--campaign", "vssid-2022"]) == 1
    out = capsys.readouterr().out
    assert expected in out and "- đoạn " in out and "Cách sửa" in out and "Mẫu dùng được" not in out, out
