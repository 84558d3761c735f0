"""«Duyệt tất cả» (approve all) of N drafts, from the web page and from the function it calls.

    .venv/bin/python bench/bench_approve.py 2000

Copies the sample working folder, writes a built campaign of N employers whose message.eml carry a
~100 KB letter and the two ~80 KB appendices (the size of the real ones), then, each on a fresh
ledger: (1) the baseline, reading and hashing every message.eml, the least any approval must do;
(2) `approve()` of all drafts; (3) the web page's POST approving the whole filtered list, through
Flask's test client (the page's own checks, the ledger, the approved copies), until the background
job it starts for that many letters has ended. Prints wall and CPU
seconds of each and the ratio to the baseline, since the machine's speed varies from hour to hour.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_delivery import pdf  # noqa: E402
from outreach.config import load_config  # noqa: E402
from outreach.delivery import Ledger, approve  # noqa: E402
from outreach.outbox import Attachment, Draft, DraftFile, Manifest, build_message, message_bytes  # noqa: E402
from outreach.outbox import sha256_file, write_manifest  # noqa: E402
from outreach.web import create_app  # noqa: E402
from outreach.workspace import Workspace, init_workspace  # noqa: E402

CAMPAIGN = "vssid-2022"
SENDER = "phongqlt@bhxh-khanhhoa.example.vn"


def write_campaign(root: Path, count: int) -> None:
    appendices = [Attachment(f"Phụ lục {i}.pdf", pdf(i, 80_000)) for i in (1, 2)]
    drafts = []
    for index in range(count):
        code = f"TA{index:05d}"
        name = f"Công ty TNHH Thủy sản Hải Vương số {index}"
        folder = Workspace(root).draft_folder(CAMPAIGN, "employers", code)
        folder.mkdir(parents=True)
        letter = pdf(10 + index, 100_000)
        (folder / "letter.pdf").write_bytes(letter)
        message = build_message(sender_name="BHXH tỉnh Khánh Hòa - Phòng Quản lý thu", sender=SENDER, reply_to=SENDER,
                                to=[f"dv{index}@example.vn"], cc=[], subject="Công văn số 05/BHXH-QLT",
                                text=f"Kính gửi: {name}\n", html=f"<p>Kính gửi: {name}</p>",
                                attachments=[Attachment(f"Công văn số 05 – {name}.pdf", letter), *appendices])
        (folder / "message.eml").write_bytes(message_bytes(message))
        eml = sha256_file(folder / "message.eml")
        drafts.append(Draft(CAMPAIGN, "employers", code, name, (f"dv{index}@example.vn",), (), "QLT",
                            "Thành phố Nha Trang", Workspace(root).relative(folder),
                            (DraftFile("letter.pdf", sha256_file(folder / "letter.pdf"), 1), DraftFile("message.eml", eml)),
                            eml))
    write_manifest(root, Manifest(CAMPAIGN, "05/BHXH-QLT", "2023-01-05T08:00:00+07:00", tuple(drafts)))


def fresh_ledger(root: Path) -> None:
    workspace = Workspace(root)
    for path in workspace.outbox.glob(f"{workspace.ledger.name}*"):
        path.unlink()
    shutil.rmtree(workspace.campaign(CAMPAIGN) / "approved", ignore_errors=True)
    os.sync()


def timed(work) -> tuple[float, float]:
    started, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", nargs="?", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-approve-") as folder:
        root = Path(folder) / "office"
        init_workspace(root)
        write_campaign(root, args.count)
        config = load_config(root)
        from outreach.outbox import read_manifest

        manifest = read_manifest(root, CAMPAIGN)
        size = sum(d.path(root, "message.eml").stat().st_size for d in manifest.drafts) / 1e6

        def baseline() -> None:
            for draft in manifest.drafts:
                hashlib.sha256(draft.path(root, "message.eml").read_bytes()).hexdigest()

        def function() -> None:
            with Ledger.open(root) as ledger:
                assert len(approve(root, ledger, manifest, "Nguyễn Thị Duyệt")) == args.count

        app = create_app(root, testing=True)
        client = app.test_client()
        token = re.search(r'name="csrf_token" value="([^"]+)"',
                          client.get(f"/campaigns/{CAMPAIGN}").get_data(as_text=True))[1]

        def page() -> None:  # the button's POST, once the page it is on has been shown
            response = client.post(f"/campaigns/{CAMPAIGN}/approve", data={
                "csrf_token": token, "scope": "filtered", "expected": str(args.count), "by": "Nguyễn Thị Duyệt"})
            assert response.status_code == 302, response.get_data(as_text=True)[:500]
            job = app.extensions["outreach_approve_jobs"].get(CAMPAIGN)
            assert job is not None and job.wait() and not job.error, job and job.error

        fresh_ledger(root)
        base = timed(baseline)
        results = {"đọc và băm mọi message.eml (baseline)": base}
        for label, work in (("approve() của mọi thư", function), ("trang web: duyệt cả danh sách", page)):
            fresh_ledger(root)
            results[label] = timed(work)
        with Ledger.open(root) as ledger:
            assert len(ledger.deliveries(CAMPAIGN)) == args.count
        print(f"{args.count} drafts, {size:.0f} MB of message.eml ({config.campaign(CAMPAIGN).title})")
        for label, (wall, cpu) in results.items():
            print(f"  {label:42s} {wall:6.2f} s wall, {cpu:6.2f} s CPU ({cpu / args.count * 1000:.2f} ms/thư), "
                  f"{wall / base[0]:.1f}x the baseline's wall")


if __name__ == "__main__":
    main()
