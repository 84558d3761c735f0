"""`build` under interruption and alongside a running `send`, through the real pipeline (LibreOffice
included) on a copy of the sample folder.

What a department relies on: whatever stopped a build, the manifest never names bytes the disk does
not hold, and running `build` again repairs everything; a draft sent (or being sent) is never
rewritten; one bad row costs only its own draft.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest

import outreach.outbox.build as build_module
from outreach.accounts import Actor
from outreach.cli import main
from outreach.config import load_config
from outreach.convert import pdf_page_texts
from outreach.delivery import Attempt, Ledger, Outcome, campaign_status, send_campaign
from outreach.outbox import BUILD_PHASE, BUNDLE_PHASE, Step
from outreach.outbox.build import issue_document_number
from outreach.outbox.manifest import Manifest, read_manifest, sha256_file
from outreach.workspace import init_workspace

from factories import build

REPO = Path(__file__).resolve().parent.parent
CAMPAIGN = "vssid-2022"
CODES = ["UHR562T", "VT00652", "WH41263", "DL56001", "DL56002", "22327", "22330", "22333"]


@pytest.fixture
def office(tmp_path: Path) -> Path:
    init_workspace(tmp_path / "office")
    return tmp_path / "office"


def outreach(root: Path, *args: str) -> int:
    return main(["--root", str(root), *args])


def numbered(root: Path) -> None:
    issue_document_number(load_config(root), CAMPAIGN, dt.date(2023, 1, 5), Actor("Lê Văn Thư"))


def touch_email_text(root: Path, line: str) -> None:
    """A change that reaches every message, so every unsent draft is rebuilt."""
    path = root / "templates/email.txt.j2"
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")


def disagreements(root: Path, manifest: Manifest) -> list[str]:
    """Every way the manifest and the files on disk differ (empty: they agree)."""
    found = []
    for draft in manifest.drafts:
        for file in draft.files:
            path = draft.path(root, file.name)
            if not path.is_file() or sha256_file(path) != file.sha256:
                found.append(f"{draft.key}/{file.name}")
        if draft.message_sha256:
            if not draft.eml_path(root).is_file() or sha256_file(draft.eml_path(root)) != draft.message_sha256:
                found.append(f"{draft.key}/message.eml")
        elif draft.eml_path(root).exists():
            found.append(f"{draft.key}/message.eml (not in the manifest)")
    return found


def test_a_build_stopped_half_way_is_repaired_by_the_next_build(office, monkeypatch):
    assert outreach(office, "build", CAMPAIGN, "--only", *CODES) == 0
    numbered(office)  # every letter now changes: it gets the number
    written = []
    real = build_module.build_message

    def stopped_at_the_third_message(**fields):
        written.append(fields["to"])
        if len(written) == 3:
            raise KeyboardInterrupt  # Ctrl-C, or any error, while the drafts are being replaced
        return real(**fields)

    monkeypatch.setattr(build_module, "build_message", stopped_at_the_third_message)
    assert outreach(office, "build", CAMPAIGN, "--only", *CODES) == 130
    monkeypatch.undo()
    assert disagreements(office, read_manifest(office, CAMPAIGN)) == []

    assert outreach(office, "build", CAMPAIGN, "--only", *CODES) == 0
    manifest = read_manifest(office, CAMPAIGN)
    assert disagreements(office, manifest) == [] and len(manifest.drafts) == len(CODES)
    assert outreach(office, "approve", CAMPAIGN, "--by", "Trần Văn Duyệt", "--all") == 0
    with Ledger.open(office) as ledger:
        approved = ledger.deliveries(CAMPAIGN)
    assert {key: d.message_sha256 for key, d in approved.items()} == {d.key: d.message_sha256 for d in manifest.drafts}


def office_processes(marker: Path) -> list[str]:
    """LibreOffice and bridge processes whose command line names ``marker`` (their temp folder)."""
    found = subprocess.run(["pgrep", "-af", str(marker)], capture_output=True, text=True).stdout
    return [line for line in found.splitlines() if "pgrep" not in line]


def add_employer(root: Path, code: str, email: str, above: int | None = None) -> None:
    """One more row in the sample's employers list (at the end, or above row ``above``), a copy of
    its first with another code and e-mail."""
    path = root / "recipients/employers.xlsx"
    book = openpyxl.load_workbook(path)
    sheet = book.active
    row = [cell.value for cell in sheet[5]]
    row[1], row[2], row[6] = code, f"Công ty TNHH Thử nghiệm {code}", email
    if above is None:
        sheet.append(row)
    else:
        sheet.insert_rows(above)
        for column, value in enumerate(row, start=1):
            sheet.cell(above, column, value)
    book.save(path)


def test_validate_refuses_the_address_build_cannot_send_and_build_makes_the_rest(office, capsys):
    add_employer(office, "ZZ00001", "nguyễn@bücher.example")
    assert outreach(office, "validate", "--kind", "employers") == 1
    said = " ".join(capsys.readouterr().out.split())
    assert "dòng 71, cột «Email» giá trị «nguyễn@bücher.example» — Lỗi (loại dòng): 'nguyễn@bücher.example' có chữ " \
           "có dấu hoặc ký tự ngoài bảng chữ ASCII ở phần trước «@»" in said
    assert outreach(office, "build", CAMPAIGN, "--only", "UHR562T", "ZZ00001") == 0
    manifest = read_manifest(office, CAMPAIGN)
    assert [d.code for d in manifest.drafts] == ["UHR562T"]
    (rejected,) = manifest.rejected
    assert rejected["row"] == "71" and "nguyễn@bücher.example" in rejected["reason"]


def test_a_message_that_cannot_be_made_costs_only_its_own_draft(office, capsys):
    path = office / "templates/email.txt.j2"
    path.write_text(path.read_text(encoding="utf-8") + '{% if recipient.kind == "communes" %}'
                    '{{ recipient.extra["Số lao động"] }}{% endif %}\n', encoding="utf-8")
    assert outreach(office, "build", CAMPAIGN, "--only", *CODES) == 1
    manifest = read_manifest(office, CAMPAIGN)
    communes = [code for code in CODES if code.isdigit()]
    assert sorted(d.code for d in manifest.drafts) == sorted(set(CODES) - set(communes))
    assert disagreements(office, manifest) == []
    said = capsys.readouterr().out
    for code in communes:
        assert f"LỖI communes/{code}" in said
    assert "communes.xlsx dòng" in said and "recipient.extra" in said


def mark_sent(root: Path, key: str) -> None:
    """What a `send` running alongside records for one approved draft."""
    now = dt.datetime.now(dt.timezone.utc)
    with Ledger.open(root) as ledger:
        ledger.claim(CAMPAIGN, key, Attempt("email", f"<{key}@test>", (), (), {}), now)
        ledger.finish(CAMPAIGN, key, Outcome("sent", 250, "2.0.0 Ok"), now)


def test_a_sent_letter_stays_in_view_when_its_row_leaves_the_list(office, tmp_path):
    numbered(office)
    add_employer(office, "ZZ00001", "ketoan@zz.example.vn")
    assert outreach(office, "build", CAMPAIGN, "--only", "ZZ00001", "UHR562T") == 0
    assert outreach(office, "approve", CAMPAIGN, "--by", "Nguyễn Thị Duyệt", "--only", "ZZ00001") == 0
    mark_sent(office, "employers/ZZ00001")
    path = office / "recipients/employers.xlsx"
    book = openpyxl.load_workbook(path)
    sheet = book.active
    sheet.delete_rows(sheet.max_row)  # the unit is taken off the list after its letter went out
    book.save(path)

    assert outreach(office, "build", CAMPAIGN, "--only", "UHR562T") == 0
    assert outreach(office, "build", CAMPAIGN, "--only", "VT00652") == 0  # a build of someone else entirely

    kept = read_manifest(office, CAMPAIGN).draft("employers/ZZ00001")
    assert kept.name == "Công ty TNHH Thử nghiệm ZZ00001" and disagreements(office, read_manifest(office, CAMPAIGN)) == []
    with Ledger.open(office) as ledger:
        assert campaign_status(ledger, read_manifest(office, CAMPAIGN)).total.get("sent") == 1
    assert outreach(office, "report", CAMPAIGN, "--xlsx", str(tmp_path / "r.xlsx")) == 0
    rows = {row[0]: row for row in openpyxl.load_workbook(tmp_path / "r.xlsx").active.iter_rows(values_only=True)}
    assert rows["ZZ00001"][1] == "Công ty TNHH Thử nghiệm ZZ00001" and "VT00652" in rows


def test_a_build_replaces_its_print_preview_and_keeps_collect_s_supplementary_bundle(office):
    from outreach.workspace import Workspace

    workspace = Workspace(office)
    bundle, labels = workspace.supplementary_files(CAMPAIGN)
    bundle.parent.mkdir(parents=True)
    bundle.write_bytes(b"%PDF-1.7 bounced letters")
    labels.write_bytes(b"%PDF-1.7 their labels")
    stale = bundle.parent / "ban-in-cu.pdf"
    stale.write_bytes(b"%PDF-1.7 an earlier preview")

    assert outreach(office, "build", CAMPAIGN, "--only", "GH71459") == 0  # an employer without e-mail: on paper

    assert bundle.read_bytes() == b"%PDF-1.7 bounced letters" and labels.read_bytes() == b"%PDF-1.7 their labels"
    assert not stale.exists()
    previews = sorted(p.name for p in bundle.parent.glob("ban-in-*.pdf"))
    assert previews == sorted([bundle.name, f"ban-in-{CAMPAIGN}.pdf"])


def test_drafts_sent_while_a_build_runs_keep_their_files(office, monkeypatch):
    numbered(office)
    assert outreach(office, "build", CAMPAIGN, "--only", *CODES) == 0
    assert outreach(office, "approve", CAMPAIGN, "--by", "Trần Văn Duyệt", "--all") == 0
    before = read_manifest(office, CAMPAIGN)
    files = {d.key: {f.name: d.path(office, f.name).read_bytes() for f in d.files} for d in before.drafts}
    sent = sorted(files)[::2]
    touch_email_text(office, "Thêm một dòng.")  # every draft is to be rebuilt
    written = []
    real = build_module.build_message

    def send_runs_meanwhile(**fields):
        written.append(fields["to"])
        if len(written) == 1:  # the letters are converted, no draft replaced yet: a send goes on
            for key in sent:
                mark_sent(office, key)
        return real(**fields)

    monkeypatch.setattr(build_module, "build_message", send_runs_meanwhile)
    assert outreach(office, "build", CAMPAIGN, "--only", *CODES) == 0
    after = read_manifest(office, CAMPAIGN)
    for draft in before.drafts:
        now = {f.name: draft.path(office, f.name).read_bytes() for f in draft.files}
        if draft.key in sent:
            assert now == files[draft.key] and after.draft(draft.code) == draft, draft.key
        else:
            assert now["message.eml"] != files[draft.key]["message.eml"], draft.key
    assert disagreements(office, after) == []


def first_message_replaced(root: Path, since_ns: int, deadline: float) -> None:
    """Wait until a draft's message.eml is newer than ``since_ns``: the build is replacing drafts."""
    messages = list((root / "outbox" / CAMPAIGN).glob("*/*/message.eml"))
    while time.monotonic() < deadline:
        if any(m.exists() and m.stat().st_mtime_ns > since_ns for m in messages):
            return
        time.sleep(0.01)


def test_killed_builds_leave_a_manifest_that_matches_the_disk_and_no_office_running(office, tmp_path):
    temp = tmp_path / "tmp"
    temp.mkdir()
    environment = {**os.environ, "TMPDIR": str(temp), "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "outreach.cli", "--root", str(office), "build", CAMPAIGN, "--only", *CODES]
    run = dict(env=environment, cwd=REPO)
    numbered(office)
    subprocess.run(command, check=True, capture_output=True, **run)
    touch_email_text(office, "Lần sửa đầu.")
    started = time.monotonic()
    subprocess.run(command, check=True, capture_output=True, **run)
    full = time.monotonic() - started  # how long a rebuild of every draft takes here
    kills = random.Random(20)
    # Once while LibreOffice converts, twice just after the first draft's files were replaced.
    for round_number, while_replacing in enumerate((False, True, True)):
        touch_email_text(office, f"Lần sửa {round_number}.")
        since = time.time_ns()
        build = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, **run)
        if while_replacing:
            first_message_replaced(office, since, time.monotonic() + 2 * full)
            time.sleep(kills.uniform(0, 0.02))
        else:
            time.sleep(kills.uniform(0.2, 0.7) * full)
        os.killpg(build.pid, signal.SIGKILL)
        assert build.wait() == -signal.SIGKILL  # killed while it ran, not after it finished
        deadline = time.monotonic() + 10
        while office_processes(temp) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert office_processes(temp) == [], f"kill {round_number + 1}"
        assert disagreements(office, read_manifest(office, CAMPAIGN)) == [], f"kill {round_number + 1}"
    subprocess.run(command, check=True, capture_output=True, **run)
    manifest = read_manifest(office, CAMPAIGN)
    assert disagreements(office, manifest) == [] and len(manifest.drafts) == len(CODES)
    assert outreach(office, "approve", CAMPAIGN, "--by", "Trần Văn Duyệt", "--all") == 0


def status_and_send(root: Path) -> tuple[int, int]:
    """How many drafts `status` calls approved, and how many `send --dry-run` would send."""
    config, manifest = load_config(root), read_manifest(root, CAMPAIGN)
    with Ledger.open(root) as ledger:
        approved = campaign_status(ledger, manifest).total.get("approved", 0)
        would_send = send_campaign(config, manifest, ledger, dry_run=True).would_send
    return approved, len(would_send)


def test_the_sending_pace_and_the_rows_place_change_no_letter(office, tmp_path):
    numbered(office)
    assert outreach(office, "build", CAMPAIGN, "--only", *CODES) == 0
    assert outreach(office, "approve", CAMPAIGN, "--by", "Trần Văn Duyệt", "--all") == 0
    before = read_manifest(office, CAMPAIGN)
    config = office / "config.toml"
    text = config.read_text(encoding="utf-8")
    assert text.count("messages_per_minute = 30") == 2 and text.count("daily_quota = ") == 2
    config.write_text(text.replace("messages_per_minute = 30", "messages_per_minute = 12")
                      .replace("daily_quota = ", "daily_quota = 1"), encoding="utf-8")
    add_employer(office, "ZZ00001", "ketoan@zz.example.vn", above=5)  # a new unit, first in the list
    moved = tmp_path / "moved"
    office.rename(moved)  # and the working folder moved

    report = build(load_config(moved), CAMPAIGN, only=CODES)

    assert report.built == [] and len(report.unchanged) == len(CODES)
    after = read_manifest(moved, CAMPAIGN)
    assert [d.message_sha256 for d in after.drafts] == [d.message_sha256 for d in before.drafts]
    assert {d.source_row for d in after.drafts if d.audience == "employers"} == {6, 7, 8}
    assert status_and_send(moved) == (len(CODES), len(CODES))


def test_status_does_not_call_a_rebuilt_draft_approved(office):
    numbered(office)
    assert outreach(office, "build", CAMPAIGN, "--only", *CODES) == 0
    assert outreach(office, "approve", CAMPAIGN, "--by", "Trần Văn Duyệt", "--all") == 0
    assert status_and_send(office) == (len(CODES), len(CODES))
    touch_email_text(office, "Thêm một dòng.")
    assert outreach(office, "build", CAMPAIGN, "--only", *CODES) == 0
    assert status_and_send(office) == (0, 0)


def test_a_build_tells_its_observer_each_letter_done_of_those_to_do(office):
    """What the web page's «Đang tạo bản thảo: 3/8 thư» is made of: counts that only grow, up to the
    letters this build had to make, and a rebuild that changes nothing has none to do."""
    numbered(office)
    steps: list[Step] = []

    report = build(load_config(office), CAMPAIGN, only=CODES, on_step=steps.append)

    drafting = [step for step in steps if step.phase == BUILD_PHASE]
    assert [step.done for step in drafting] == list(range(len(CODES) + 1))
    assert {step.total for step in drafting} == {len(CODES)} == {len(report.built) + len(report.failed)}
    assert steps[:len(drafting)] == drafting  # the drafts first, then the paper bundle (if any)
    paper = [step for step in steps if step.phase == BUNDLE_PHASE]
    assert [(step.done, step.total) for step in paper] == ([(0, report.print_count), (report.print_count,) * 2]
                                                           if report.print_count else [])

    again: list[Step] = []
    build(load_config(office), CAMPAIGN, only=CODES, on_step=again.append)
    assert [(step.done, step.total) for step in again if step.phase == BUILD_PHASE] == [(0, 0)]


def test_a_build_starts_libreoffice_once_per_worker_and_a_kept_converter_rebuilds_page_one(office, monkeypatch):
    """A build converts three times (appendices, letters, the paper letters' address labels) on the
    same LibreOffice processes; a converter kept between builds (the web server's) converts only
    page 1 of the letters again once the number is issued, on the stand-ins of the build before."""
    from outreach.convert import PdfConverter, chunk, pool

    starts: list[str] = []
    opened = pool.open_office
    monkeypatch.setattr(pool, "open_office", lambda *args: starts.append("office") or opened(*args))
    whole: list[str] = []  # the letters converted whole: as a stand-in, or merged with others whole
    make_stand_in, merged = chunk.ChunkRun._make_stand_in, chunk.ChunkRun._merged
    monkeypatch.setattr(chunk.ChunkRun, "_make_stand_in",
                        lambda run, letter: whole.append(letter.job.key) or make_stand_in(run, letter))
    monkeypatch.setattr(chunk.ChunkRun, "_merged",
                        lambda run, letters: whole.extend(letter.job.key for letter in letters) or merged(run, letters))
    # Employers and collection organisations (communes' letters name the commune on page 4 too, so
    # each is its own; they are converted whole), and an employer without e-mail: a letter on paper.
    codes = [*CODES[:5], "GH71459"]

    report = build(load_config(office), CAMPAIGN, only=codes)
    assert report.print_count == 1 and not report.failed
    out = office / "outbox" / CAMPAIGN
    assert (out / "print" / "nhan-dia-chi.pdf").is_file() and (out / "attachments" / "phu-luc-1-vssid.pdf").is_file()
    assert 1 <= len(starts) <= os.cpu_count()

    starts.clear()
    with PdfConverter() as converter:
        touch_email_text(office, "Trân trọng.")  # every letter built again, on this converter
        build(load_config(office), CAMPAIGN, only=codes, converter=converter)
        numbered(office)
        whole.clear()
        again = build(load_config(office), CAMPAIGN, only=codes, converter=converter)
    assert sorted(again.built) == sorted(report.built) and not again.failed
    # At most one is converted whole: the paper letter, whose longer page 1 (its address) breaks a
    # line earlier once numbered than any letter of the build before did, becomes a stand-in.
    assert len([key for key in whole if key.split("/")[0] in ("employers", "collection_agents")]) <= 1
    assert 1 <= len(starts) <= os.cpu_count()
    manifest = read_manifest(office, CAMPAIGN)
    assert manifest.document_number.startswith("01/") and not disagreements(office, manifest)
    assert all("01/BHXH" in pdf_page_texts(office / d.folder / "letter.pdf")[0].replace(" ", "")
               for d in manifest.drafts)
