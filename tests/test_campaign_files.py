"""Campaigns made in the browser («Chiến dịch mới»): ``campaigns/<name>.toml``, one table as
config.toml writes it, read by the CLI and the scheduler exactly like config.toml's campaigns; the
strict key check names the file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from factories import Recipient, copy_sample_office, write_drafts
from test_campaign_lists import campaign_table

from outreach.cli import main
from outreach.config import load_config
from outreach.errors import ConfigError

NAME = "don-doc-2023"
TABLE = campaign_table(NAME, "Đôn đốc đóng BHXH năm 2023", "đôn đốc đóng BHXH, BHYT năm 2023")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return copy_sample_office(tmp_path)


def campaign_file(root: Path, text: str, name: str = NAME) -> Path:
    path = root / "campaigns" / f"{name}.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_campaign_file_is_read_like_config_toml_s_campaigns(root: Path):
    campaign_file(root, TABLE)
    config = load_config(root)
    assert list(config.campaigns) == ["vssid-2022", "nhac-dao-han", NAME]
    campaign = config.campaign(NAME)
    assert campaign.subject == "đôn đốc đóng BHXH, BHYT năm 2023" and campaign.audiences == ("employers",)
    assert campaign.template == root.resolve() / "templates" / "cong-van-vssid.docx"


@pytest.mark.parametrize("text, fragment", [
    (TABLE + 'files = ["recipients/moi.xlsx"]\n',
     f"campaigns/{NAME}.toml: campaigns.{NAME}.files: mục 'files' không có trong bảng [campaigns.{NAME}]"),
    (TABLE.replace('subject =', 'subjct ='), f"campaigns/{NAME}.toml: campaigns.{NAME}.subject: thiếu giá trị"),
    (TABLE + '[agency]\nplace = "Nha Trang"\n', "chỉ chứa đúng một bảng [campaigns.don-doc-2023]"),
    (TABLE.replace(f"[campaigns.{NAME}]", "[campaigns.ten-khac]"), "đang có: [campaigns.ten-khac]"),
    (TABLE.replace('subject = "đôn', 'subject = "đôn\n'), "lỗi cú pháp ở dòng 3"),
])
def test_a_wrong_campaign_file_is_refused_naming_the_file(root: Path, text: str, fragment: str, capsys):
    campaign_file(root, text)
    with pytest.raises(ConfigError) as caught:
        load_config(root)
    assert fragment in caught.value.message and "Cách sửa" in caught.value.message
    assert f"{NAME}.toml" in caught.value.message
    assert main(["--root", str(root), "schedule", "show"]) == 2  # the CLI and the scheduler refuse it
    assert fragment in capsys.readouterr().err
    lenient = load_config(root, lenient_campaigns=True)  # the web: only that campaign is left out
    assert "vssid-2022" in lenient.campaigns and NAME not in lenient.campaigns
    assert fragment in lenient.broken_campaigns[NAME]


def test_a_name_in_config_toml_and_in_a_file_is_an_error_naming_both(root: Path):
    campaign_file(root, TABLE.replace(NAME, "vssid-2022"), "vssid-2022")
    with pytest.raises(ConfigError, match=r"campaigns/vssid-2022.toml: chiến dịch 'vssid-2022' đã có trong "
                                          r"config.toml \(\[campaigns.vssid-2022\]\)"):
        load_config(root)


# ---------------------------------------------------------------------------- «Chiến dịch mới» in the browser


@pytest.fixture
def staff(root: Path):
    from test_web import Staff

    from outreach.web import create_app

    return Staff(create_app(root, testing=True))


FORM = {"name": NAME, "title": "Đôn đốc đóng BHXH năm 2023", "subject": "đôn đốc đóng BHXH, BHYT năm 2023",
        "drafting_unit": "QLT", "template": "templates/cong-van-vssid.docx", "audiences": ["employers"],
        "guidance": ["templates/phu-luc-1-vssid.docx"], "email_subject": "", "email_text": "templates/email.txt.j2",
        "email_html": "templates/email.html.j2", "not_before": "2023-01-05T08:00", "expires": "2023-02-28T17:00",
        "by": "Phạm Văn Soạn"}


def test_a_campaign_made_in_the_browser_is_a_readable_file_the_cli_and_the_scheduler_read(root: Path, staff,
                                                                                        capsys):
    form = staff.page("/new-campaign")
    assert "templates/cong-van-vssid.docx" in form and 'value="employers"' in form and "templates/email.txt.j2" in form
    done = staff.post("/new-campaign", FORM)
    assert done.status_code == 200, done.get_data(as_text=True)[:3000]
    assert f"Đã tạo chiến dịch {NAME} (tệp campaigns/{NAME}.toml)" in done.get_data(as_text=True)
    text = (root / "campaigns" / f"{NAME}.toml").read_text(encoding="utf-8")
    assert text.startswith("# Chiến dịch tạo trên trang web bởi Phạm Văn Soạn lúc ")
    assert f'[campaigns.{NAME}]\ntitle = "Đôn đốc đóng BHXH năm 2023"\n' in text
    assert 'guidance = ["templates/phu-luc-1-vssid.docx"]' in text and "expires = 2023-02-28T17:00:00" in text
    assert "Công văn số {{ so_ky_hieu }} V/v {{ campaign.subject }}" in text  # the default e-mail subject
    assert NAME in staff.page("/")

    write_drafts(root, NAME, [Recipient("employers", "AB12345", "Công ty TNHH Biển Xanh", ("kt@bx.example.vn",))])
    assert main(["--root", str(root), "status", NAME]) == 0
    assert f"Chiến dịch {NAME} — công văn số 05/BHXH-QLT — Đã hết hạn" in capsys.readouterr().out  # its expiry, read
    assert main(["--root", str(root), "schedule", "show", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["phases"][NAME] == "expired"


def test_a_wrong_new_campaign_is_refused_with_its_form_kept_and_nothing_written(root: Path, staff):
    for change, fragment in (({"name": "Đôn Đốc"}, "Mã chiến dịch &#39;Đôn Đốc&#39; không dùng được"),
                             ({"name": "vssid-2022"}, "Đã có chiến dịch &#39;vssid-2022&#39; (config.toml)"),
                             ({"name": "mau"}, "trùng tên thư mục recipients/mau"),
                             ({"template": "../config.toml"}, "«Mẫu công văn»: chọn một mục"),
                             ({"audiences": []}, "Chọn ít nhất một nhóm nhận"),
                             ({"not_before": "mai"}, "«Không gửi trước» &#39;mai&#39; không phải ngày giờ"),
                             ({"audiences": ["participants"], "expires": ""},
                              f"campaigns/{NAME}.toml: campaigns.{NAME}.expires: chiến dịch gửi người tham gia")):
        response = staff.post("/new-campaign", {**FORM, **change})
        text = response.get_data(as_text=True)
        assert response.status_code == 400 and fragment in text, (change, re.findall(r'flash-error[^>]*>([^<]*)', text))
        assert 'value="Đôn đốc đóng BHXH năm 2023"' in text  # what was typed is still there
    assert not (root / "campaigns").exists() or not list((root / "campaigns").iterdir())
    assert staff.post("/new-campaign", FORM).status_code == 200
    again = staff.post("/new-campaign", FORM)
    assert again.status_code == 400 and f"Đã có chiến dịch &#39;{NAME}&#39; (campaigns/{NAME}.toml)" in \
        again.get_data(as_text=True)


def test_only_drafters_make_campaigns(root: Path):
    from test_web_accounts import add_staff, signed_in

    from outreach.web import create_app

    add_staff(root)
    app = create_app(root, testing=True)
    approver = signed_in(app, "duyet")
    assert 'id="new-campaign-link"' not in approver.client.get("/").get_data(as_text=True)
    assert approver.post("/new-campaign", FORM).status_code == 403
    drafter = signed_in(app, "soan", "192.0.2.11")
    assert 'id="new-campaign-link"' in drafter.client.get("/").get_data(as_text=True)
    assert drafter.post("/new-campaign", FORM).status_code == 302
    assert "bởi Phạm Văn Soạn (soan)" in (root / "campaigns" / f"{NAME}.toml").read_text(encoding="utf-8")
