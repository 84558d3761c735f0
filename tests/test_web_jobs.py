"""A build and an approval of many letters, run from the page in the background: the count of letters
done of those to do and the time left, as the page and its JSON show them while the work runs, and
neither starting while the other runs on the same campaign."""

from __future__ import annotations

import datetime as dt
import threading

from outreach.outbox import BUILD_PHASE, BuildReport, Step, read_manifest
from outreach.web.jobs import BUILD, Job, default_approve
from outreach.workspace import Workspace

from test_web import CAMPAIGN, ONLY, Staff, flashes, ledger_state, root, built, staff  # noqa: F401 (fixtures)

WAIT_S = 10


def test_time_left_is_told_from_the_rate_so_far() -> None:
    job = Job(CAMPAIGN, dt.datetime.now(dt.timezone.utc), BUILD.title)
    job.told(Step(BUILD_PHASE, 0, 2156), now=1000.0)  # the phase began at 1000 s (monotonic)
    job.told(Step(BUILD_PHASE, 120, 2156), now=1010.0)

    assert job.progress(now=1010.6).text == "Đang tạo bản thảo: 120/2.156 thư, còn khoảng 3 phút"
    assert job.progress(now=1000.5).text == "Đang tạo bản thảo: 120/2.156 thư, còn khoảng 10 giây"
    assert job.progress(now=1240.0).text == "Đang tạo bản thảo: 120/2.156 thư, còn khoảng 1 giờ 8 phút"
    job.told(Step("Đang ghép bản in thư giấy", 0, 40))  # a new phase: its own rate, unknown until one is done
    assert job.progress().text == "Đang ghép bản in thư giấy: 0/40 thư, đang ước tính thời gian còn lại"


class SlowBuild:
    """A build that tells the steps it is given, one each time the test lets it go on."""

    def __init__(self, steps: list[Step]) -> None:
        self.steps = steps
        self.go_on = threading.Semaphore(0)
        self.told = threading.Semaphore(0)

    def __call__(self, config, name: str, by, on_step) -> BuildReport:
        for step in self.steps:
            assert self.go_on.acquire(timeout=WAIT_S)
            on_step(step)
            self.told.release()
        assert self.go_on.acquire(timeout=WAIT_S)
        return BuildReport(campaign=name, document_number="", built=[f"employers/{code}" for code in ONLY[:2]])

    def next(self) -> None:
        self.go_on.release()
        assert self.told.acquire(timeout=WAIT_S)


def test_the_build_s_count_while_it_runs(staff: Staff) -> None:
    slow = SlowBuild([Step(BUILD_PHASE, 0, 2156), Step(BUILD_PHASE, 120, 2156)])
    staff.app.config["OUTREACH_BUILD"] = slow
    url = f"/campaigns/{CAMPAIGN}/build-progress.json"
    assert staff.get(url).get_json() == {"running": False, "phase": "", "done": 0, "total": 0, "seconds_left": None,
                                         "text": "", "error": ""}

    page = staff.post(f"/campaigns/{CAMPAIGN}/build").get_data(as_text=True)
    assert "Đang tạo bản thảo: đang chuẩn bị" in page and f'data-job-url="{url}"' in page
    assert 'id="build" disabled' in page and 'id="approve-selected" disabled' in page
    assert staff.get(url).get_json()["text"].startswith("Đang tạo bản thảo: đang chuẩn bị (đã chạy ")
    slow.next()
    assert staff.get(url).get_json()["text"] == "Đang tạo bản thảo: 0/2.156 thư, đang ước tính thời gian còn lại"
    slow.next()
    state = staff.get(url).get_json()
    assert state["running"] and (state["phase"], state["done"], state["total"]) == (BUILD_PHASE, 120, 2156)
    assert state["seconds_left"] is not None and state["text"].startswith("Đang tạo bản thảo: 120/2.156 thư, còn ")
    assert "120/2.156 thư" in staff.page(f"/campaigns/{CAMPAIGN}")  # the page as loaded, for a browser without JS

    slow.go_on.release()
    assert staff.app.extensions["outreach_jobs"].get(CAMPAIGN).wait(WAIT_S)
    assert not staff.get(url).get_json()["running"]
    assert "Đã tạo bản thảo xong" in staff.page(f"/campaigns/{CAMPAIGN}")


def test_approving_many_letters_runs_in_the_background_and_blocks_a_build(staff: Staff, root) -> None:
    staff.app.config["OUTREACH_APPROVE_IN_BACKGROUND"] = 2
    halfway, go_on, counts = threading.Event(), threading.Event(), []

    def slow_approve(config, name: str, *, on_step, **options):
        def step(step: Step) -> None:
            on_step(step)
            counts.append((step.phase, step.done, step.total))
            if step.done == 3 and not halfway.is_set():
                halfway.set()
                assert go_on.wait(WAIT_S)

        return default_approve(config, name, on_step=step, **options)

    staff.app.config["OUTREACH_APPROVE"] = slow_approve
    builds: list[str] = []
    staff.app.config["OUTREACH_BUILD"] = lambda config, name, by, on_step: builds.append(name) or BuildReport(name, "")
    everything = {"scope": "filtered", "expected": str(len(ONLY)), "by": "Nguyễn Thị Duyệt"}

    page = staff.post(f"/campaigns/{CAMPAIGN}/approve", everything).get_data(as_text=True)
    assert any(f"Đang duyệt {len(ONLY)} thư (người duyệt: Nguyễn Thị Duyệt)" in m for m in flashes(page))
    assert halfway.wait(WAIT_S)
    state = staff.get(f"/campaigns/{CAMPAIGN}/approve-progress.json").get_json()
    assert state["running"] and state["text"].startswith(f"Đang duyệt thư: 3/{len(ONLY)} thư, còn ")
    page = staff.page(f"/campaigns/{CAMPAIGN}")
    assert 'id="build" disabled' in page and 'id="approve-filtered"' in page and "3/7 thư" in page
    assert "Đang duyệt</span>" in staff.page("/")  # the list of campaigns says so too
    refused = staff.post(f"/campaigns/{CAMPAIGN}/build").get_data(as_text=True)
    assert any(f"Chiến dịch {CAMPAIGN} đang được duyệt" in m for m in flashes(refused)) and builds == []
    again = staff.post(f"/campaigns/{CAMPAIGN}/approve", {"scope": "selected", "key": "employers/UHR562T",
                                                          "by": "Nguyễn Thị Duyệt"}).get_data(as_text=True)
    assert any("đang được duyệt" in m for m in flashes(again))
    assert ledger_state(root, "employers/UHR562T") is None  # all or nothing: nothing recorded half-way

    go_on.set()
    assert staff.app.extensions["outreach_approve_jobs"].get(CAMPAIGN).wait(WAIT_S)
    assert all(ledger_state(root, key) == "approved" for key in (f"employers/{ONLY[0]}", f"communes/{ONLY[-1]}"))
    assert [done for phase, done, _ in counts if phase == "Đang duyệt thư"] == list(range(len(ONLY) + 1))
    assert counts[-1] == ("Đang ghi nhận việc duyệt", len(ONLY), len(ONLY))
    assert f"Đã duyệt xong {len(ONLY)} thư" in staff.page(f"/campaigns/{CAMPAIGN}")
    staff.post(f"/campaigns/{CAMPAIGN}/build")
    assert staff.app.extensions["outreach_jobs"].get(CAMPAIGN).wait(WAIT_S) and builds == [CAMPAIGN]


def test_a_background_approval_refused_approves_nothing_and_says_why(staff: Staff, root) -> None:
    staff.app.config["OUTREACH_APPROVE_IN_BACKGROUND"] = 2
    changed = next(d for d in read_manifest(root, CAMPAIGN).drafts if d.code == "VT00652")
    with changed.eml_path(root).open("ab") as message:
        message.write(b"\r\n")  # a byte added after the build: the manifest's sha256 no longer holds

    staff.post(f"/campaigns/{CAMPAIGN}/approve", {"scope": "filtered", "expected": str(len(ONLY)), "by": "Nguyễn Thị Duyệt"})
    assert staff.app.extensions["outreach_approve_jobs"].get(CAMPAIGN).wait(WAIT_S)

    page = staff.page(f"/campaigns/{CAMPAIGN}")
    assert "Duyệt không thành công: Không duyệt thư nào vì:" in page and "employers/VT00652" in page
    assert all(ledger_state(root, draft.key) is None for draft in read_manifest(root, CAMPAIGN).drafts)
    assert not list((Workspace(root).campaign(CAMPAIGN) / "approved").rglob("*.eml"))  # no copy of bytes kept
    assert not staff.get(f"/campaigns/{CAMPAIGN}/approve-progress.json").get_json()["running"]


def test_the_rebuild_after_the_number_is_counted_as_any_build(staff: Staff) -> None:
    slow = SlowBuild([Step(BUILD_PHASE, 7, 2156)])
    staff.app.config["OUTREACH_BUILD"] = slow
    page = staff.post(f"/campaigns/{CAMPAIGN}/issue", {"date": "2023-01-05", "by": "Lê Văn Thư"}).get_data(as_text=True)
    assert any("Đang tạo lại bản thảo với số này" in m for m in flashes(page))
    slow.next()
    assert staff.get(f"/campaigns/{CAMPAIGN}/build-progress.json").get_json()["text"].startswith(
        "Đang tạo bản thảo: 7/2.156 thư, ")
    slow.go_on.release()
    assert staff.app.extensions["outreach_jobs"].get(CAMPAIGN).wait(WAIT_S)
