"""A campaign owns its lists: ``recipients/<campaign>/<audience>.xlsx`` is read by that campaign's
build only; the others keep ``[audiences.X] files``. Accepted uploads are numbered versions with who
and when; a pending upload changes nothing."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from factories import copy_sample_office
from openpyxl import Workbook

from outreach.accounts import Actor
from outreach.cli import main
from outreach.config import load_config
from outreach.delivery import Ledger
from outreach.errors import UserError
from outreach.outbox import load_campaign_recipients
from outreach.recipients import CampaignLists, own_list

HEADER = ["STT", "Mã đơn vị", "Tên đơn vị", "Mã số thuế", "Địa chỉ", "Huyện/Thị xã/Thành phố", "Email",
          "Số điện thoại", "Cơ quan quản lý"]
SECOND = "vssid-2023"


def employers_xlsx(path: Path, rows: list[list[object]]) -> Path:
    """A real Excel list, as staff save it: a title, a blank line, the header, the rows."""
    book = Workbook()
    sheet = book.active
    sheet.append(["DANH SÁCH ĐƠN VỊ SỬ DỤNG LAO ĐỘNG"])
    sheet.append([])
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


GOOD = [[1, "AB12345", "Công ty TNHH Biển Xanh", "", "12 Trần Phú, Nha Trang", "Thành phố Nha Trang",
         "ketoan@bienxanh.example.vn", "", "BHXH tỉnh"],
        [2, "CD67890", "Công ty Cổ phần Núi Cao", "", "3 Lê Lợi, Cam Ranh", "Thành phố Cam Ranh",
         "nhansu@nuicao.example.vn", "", "BHXH tỉnh"]]
BAD = [3, "EF11111", "Công ty Sai Thư", "", "5 Hùng Vương, Nha Trang", "Thành phố Nha Trang",
       "ketoan@@saithu.example.vn", "", "BHXH tỉnh"]


def campaign_table(name: str, title: str, subject: str) -> str:
    """A campaign to the employers only, as config.toml (or a campaign file) writes it."""
    return f'''[campaigns.{name}]
title = "{title}"
subject = "{subject}"
drafting_unit = "QLT"
template = "templates/cong-van-vssid.docx"
audiences = ["employers"]
guidance = []
'''


def second_campaign(root: Path) -> None:
    """A second campaign beside the sample's, in config.toml."""
    with open(root / "config.toml", "a", encoding="utf-8") as config:
        config.write("\n" + campaign_table(SECOND, "Công văn năm 2023", "đôn đốc đóng BHXH năm 2023"))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    second_campaign(copy_sample_office(tmp_path))
    return tmp_path


def codes(root: Path, campaign: str) -> set[str]:
    config = load_config(root)
    return {r.code for lst in load_campaign_recipients(config, config.campaign(campaign)) for r in lst.recipients}


def test_a_campaign_s_own_list_is_read_by_that_campaign_only(root: Path):
    shared = codes(root, "vssid-2022")
    before = codes(root, SECOND)
    assert "UHR562T" in before and before < shared  # without its own list: the shared employers
    employers_xlsx(root / "recipients" / SECOND / "employers.xlsx", GOOD)
    assert codes(root, SECOND) == {"AB12345", "CD67890"}
    assert codes(root, "vssid-2022") == shared  # the earlier campaign still reads the shared lists


def test_validate_checks_every_campaign_s_own_list_too(root: Path, capsys):
    employers_xlsx(root / "recipients" / SECOND / "employers.xlsx", [*GOOD, BAD])
    assert main(["--root", str(root), "validate", "--json"]) == 1
    out = capsys.readouterr().out
    report = json.loads(out)
    files = json.dumps(report, ensure_ascii=False)
    assert f"recipients/{SECOND}/employers.xlsx" in files and "ketoan@@saithu.example.vn" in files


def test_two_own_files_for_one_audience_are_refused_by_name(root: Path):
    employers_xlsx(root / "recipients" / SECOND / "employers.xlsx", GOOD)
    (root / "recipients" / SECOND / "employers.csv").write_text("Mã đơn vị,Tên đơn vị\n", encoding="utf-8")
    with pytest.raises(UserError, match=rf"recipients/{SECOND}/employers.xlsx và recipients/{SECOND}/employers.csv"):
        own_list(load_config(root).workspace, SECOND, "employers")


def test_accepted_uploads_are_numbered_versions_with_who_and_when(root: Path):
    lists = CampaignLists(load_config(root).workspace, SECOND)
    first = employers_xlsx(root / "upload" / "Danh sách ĐV.xlsx", GOOD).read_bytes()
    pending = lists.stage("employers", "C:\\Users\\nva\\..\\Danh sách ĐV.xlsx", first)
    assert pending.path.parent.parent == root / "recipients" / SECOND / ".pending"
    assert pending.path.name == "danh-sach-dv.xlsx"  # the computer's folders and diacritics dropped
    assert own_list(lists.workspace, SECOND, "employers") is None  # staged, not taken in
    one = lists.accept(pending.token, Actor("Nguyễn Văn An", "nva", "web 127.0.0.1"), (2, 2, 0))
    second = employers_xlsx(root / "upload" / "moi.xlsx", [*GOOD, BAD]).read_bytes()
    two = lists.accept(lists.stage("employers", "moi.xlsx", second).token, Actor("Trần Thị Bình", "ttb"), (3, 2, 1))
    assert (one.number, two.number) == (1, 2)
    assert (root / one.file).read_bytes() == first and (root / two.file).read_bytes() == second
    assert (root / "recipients" / SECOND / "employers.xlsx").read_bytes() == second
    assert [(v.number, v.by, v.login, v.rejected) for v in lists.versions()] == [
        (2, "Trần Thị Bình", "ttb", 1), (1, "Nguyễn Văn An", "nva", 0)]
    with pytest.raises(UserError, match="không còn"):
        lists.accept(pending.token, Actor("x"), (0, 0, 0))  # accepted once
    with pytest.raises(UserError, match="không còn"):
        lists.pending("../../config")


def test_only_xlsx_and_csv_are_taken(root: Path):
    lists = CampaignLists(load_config(root).workspace, SECOND)
    with pytest.raises(UserError, match=r"\.xlsx.*\.csv"):
        lists.stage("employers", "danh-sach.xls", b"x")
    assert not (root / "recipients" / SECOND).exists()


# ---------------------------------------------------------------------------- in the browser (Flask's test client)


@pytest.fixture
def staff(root: Path):
    from test_web import Staff

    from outreach.web import create_app

    return Staff(create_app(root, testing=True))


def upload(staff, data: bytes, name: str = "Danh sách mới.xlsx", audience: str = "employers"):
    return staff.post(f"/campaigns/{SECOND}/lists/upload",
                      {"audience": audience, "file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_an_upload_shows_its_report_before_anything_changes_then_accepted_is_the_campaign_s(root: Path, staff,
                                                                                            tmp_path: Path):
    shared = codes(root, "vssid-2022")
    data = employers_xlsx(tmp_path / "moi.xlsx", [*GOOD, BAD]).read_bytes()
    page = upload(staff, data)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'data-rows="3" data-valid="2" data-rejected="1"' in text
    assert "Kết quả kiểm tra tệp Danh sách mới.xlsx" in text  # its own name, shown only
    assert "ketoan@@saithu.example.vn" in text and "Cách sửa" in text  # the row's problem: value, what, fix
    assert '<td class="num">6</td>' in text  # its row as Excel numbers it (title, blank, header, 3 rows)
    assert not (root / "recipients" / SECOND / "employers.xlsx").exists()  # nothing taken in yet
    assert codes(root, SECOND) < shared
    accept = re.search(r'action="([^"]+/accept)"', text).group(1)
    done = staff.post(accept, {"by": "Nguyễn Văn An"}).get_data(as_text=True)
    assert "Đã nhận danh sách làm bản 1" in done and 'data-version="1"' in done and "Nguyễn Văn An" in done
    assert codes(root, SECOND) == {"AB12345", "CD67890"}
    assert codes(root, "vssid-2022") == shared  # the other campaign is untouched
    assert (root / "recipients" / SECOND / "versions" / "1-employers.xlsx").read_bytes() == data
    assert "tải lên từ tệp Danh sách mới.xlsx" in done
    assert f'href="/campaigns/{SECOND}/lists"' in staff.page("/lists")  # reached from the shared lists' page too


def test_a_discarded_or_refused_upload_changes_nothing(root: Path, staff, tmp_path: Path):
    data = employers_xlsx(tmp_path / "moi.xlsx", GOOD).read_bytes()
    text = upload(staff, data).get_data(as_text=True)
    discard = re.search(r'action="([^"]+/discard)"', text).group(1)
    assert "danh sách của chiến dịch không thay đổi" in staff.post(discard).get_data(as_text=True)
    assert not (root / "recipients" / SECOND / "employers.xlsx").exists()
    assert not list((root / "recipients" / SECOND / ".pending").iterdir())
    refused = upload(staff, b"MZ\x90\x00", name="../../config.toml").get_data(as_text=True)
    assert "không phải danh sách Excel (.xlsx) hay CSV (.csv)" in refused
    unreadable = upload(staff, b"not a workbook", name="hong.xlsx").get_data(as_text=True)
    assert 'id="unreadable"' in unreadable and 'id="accept"' not in unreadable
    wrong_audience = upload(staff, data, audience="communes").get_data(as_text=True)
    assert "Chọn nhóm nhận" in wrong_audience
    too_big = upload(staff, b"x" * (3 * 1024 * 1024), name="lon.xlsx")
    assert too_big.status_code == 413 and "tối đa 2 MB" in too_big.get_data(as_text=True)
    assert (root / "config.toml").read_text(encoding="utf-8").count(f"[campaigns.{SECOND}]") == 1
    assert not (root / "recipients" / SECOND / "employers.xlsx").exists()
    assert not (root / "recipients" / SECOND / "versions").exists()


def test_only_drafters_upload_and_accept(root: Path, tmp_path: Path):
    from test_web_accounts import add_staff, signed_in

    from outreach.web import create_app

    add_staff(root)
    app = create_app(root, testing=True)
    data = employers_xlsx(tmp_path / "moi.xlsx", GOOD).read_bytes()
    form = lambda: {"audience": "employers", "file": (io.BytesIO(data), "moi.xlsx")}
    approver = signed_in(app, "duyet")
    assert 'id="upload-form"' not in approver.client.get(f"/campaigns/{SECOND}/lists").get_data(as_text=True)
    assert approver.post(f"/campaigns/{SECOND}/lists/upload", form(), content_type="multipart/form-data"
                         ).status_code == 403
    drafter = signed_in(app, "soan", "192.0.2.11")
    staged = drafter.post(f"/campaigns/{SECOND}/lists/upload", form(), content_type="multipart/form-data")
    token = staged.headers["Location"].rsplit("/", 1)[1]
    assert approver.post(f"/campaigns/{SECOND}/lists/pending/{token}/accept").status_code == 403
    assert not (root / "recipients" / SECOND / "employers.xlsx").exists()
    assert drafter.post(f"/campaigns/{SECOND}/lists/pending/{token}/accept").status_code == 302
    version = CampaignLists(load_config(root).workspace, SECOND).versions()[0]
    assert (version.number, version.by, version.login) == (1, "Phạm Văn Soạn", "soan")
    assert version.source == "web 192.0.2.11"
    with Ledger.open(root) as ledger:  # four-eyes: who brought the list in approves none of its letters
        assert ledger.builders(SECOND) == {"soan"} and ledger.builders("vssid-2022") == set()
    audit = approver.client.get(f"/campaigns/{SECOND}/audit").get_data(as_text=True)
    assert "Nhận danh sách" in audit and f"bản 1: recipients/{SECOND}/versions/1-employers.xlsx" in audit
