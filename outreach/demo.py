"""`outreach demo`: the whole job on the sample working folder, delivered to an embedded SMTP server.

validate → issue a number → build → sign (leader, then agency, with a throw-away PKI and SoftHSM2
token marked "chỉ dùng thử") → approve (as a named demo approver) → send → delivery report.
Nothing leaves the machine unless ``smtp_url`` says so.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Iterator

from .accounts import Actor
from .config import SMTP_URL_ENV, Config, load_config
from .delivery import Ledger, SmtpSink, approve, approved_states, campaign_status, count_line, send_campaign, write_delivery_report
from .errors import redact
from .localtime import office_today
from .outbox import read_manifest
from .outbox import build_campaign, issue_document_number
from .recipients import campaign_list_files, load_list
from .recipients import check_coverage
from .config import ROLE_LABELS, ROLES
from .sign import MARK, demo_signing, sign_campaign
from .workspace import Workspace

DEMO_APPROVER = "Nguyễn Thị Demo (duyệt thử)"
DEMO_CAMPAIGN = "vssid-2022"
DEMO_PKI = "ky-so-chi-dung-thu"  # under outbox/: the throw-away PKI and token


@contextlib.contextmanager
def _destination(root: Path, smtp_url: str | None) -> Iterator[tuple[str, Path | None]]:
    """The SMTP URL to send to: the given one, or an embedded sink writing a Maildir in outbox/."""
    if smtp_url:
        yield smtp_url, None
        return
    maildir = Workspace(root).smtp_sink
    with SmtpSink(maildir, port=0) as sink:
        yield f"smtp://127.0.0.1:{sink.port}", maildir


def _unthrottled(config: Config) -> Config:
    """The embedded sink is ours: no need to pace messages as a real provider requires."""
    def fast(sender):
        return replace(sender, schedule=replace(sender.schedule, messages_per_minute=60_000, daily_quota=1_000_000))
    return replace(config,
                   departments={k: fast(v) for k, v in config.departments.items()},
                   district_offices={k: fast(v) for k, v in config.district_offices.items()})


def run_demo(root: Path, smtp_url: str | None = None, campaign: str = DEMO_CAMPAIGN) -> int:
    config = load_config(root)
    print("1. Kiểm tra danh sách người nhận")
    for audience in config.campaign(campaign).audiences:
        for path in campaign_list_files(config, config.campaign(campaign), audience):
            result = check_coverage(config, load_list(path, audience))
            print(f"   {path.relative_to(root)}: {result.rows} dòng, {len(result.recipients)} hợp lệ, "
                  f"{len(result.rejected_rows)} bị loại, {len(result.converted)} ô đã chuyển đổi")

    print("2. Cấp số công văn (sổ văn bản đi)")
    entry = issue_document_number(config, campaign, office_today(), Actor(DEMO_APPROVER, source="demo"))
    print(f"   Số {entry.number:02d}/{entry.ky_hieu} ngày {entry.issued_on:%d/%m/%Y}")

    signing = demo_signing(Workspace(root).outbox / DEMO_PKI, config.signer.name, config.agency.issuing_body)
    config = replace(config, signing=signing)
    print("3. Tạo công văn DOCX/PDF và thư e-mail (outbox/)")
    with Ledger.open(root) as ledger:
        report = build_campaign(config, campaign, ledger)
    print(f"   {report.drafts} bản thảo ({len(report.built)} mới, {len(report.unchanged)} không đổi), "
          f"{len(report.failed)} lỗi; {report.print_count} thư gửi bản giấy (bản xem trước: {report.print_bundle or '-'})")
    for failed in report.failed:
        print(f"   LỖI {failed.key}: {failed.message}")

    print(f"4. Ký số bằng chứng thư thử nghiệm ({MARK}, trong {Workspace(root).relative(signing.trust_roots[0].parent)}/)")
    for role in ROLES:
        with Ledger.open(root) as ledger:
            signed = sign_campaign(config, campaign, role, approved=approved_states(ledger, campaign))
        print(f"   {ROLE_LABELS[role]}: {len(signed.signed)} thư mới ký, {len(signed.already)} thư đã ký trước đó"
              + (f", {len(signed.appendices)} phụ lục" if signed.appendices else ""))

    manifest = read_manifest(root, campaign)
    ledger = Ledger.open(root)
    print(f"5. Duyệt mọi thư (e-mail và bản giấy) — người duyệt: {DEMO_APPROVER}")
    approved = approve(root, ledger, manifest, DEMO_APPROVER, None)
    print(f"   {len(approved)} thư được duyệt lần này (thư đã duyệt hoặc đã gửi trước đó giữ nguyên).")

    with _destination(root, smtp_url) as (url, maildir):
        os.environ[SMTP_URL_ENV] = url
        send_config = _unthrottled(load_config(root)) if maildir else load_config(root)
        print(f"6. Gửi qua {redact(url)}")
        sent = send_campaign(send_config, manifest, ledger)
        print(f"   Đã gửi {len(sent.sent)} thư; thất bại {len(sent.failed)}; chưa chắc chắn {len(sent.uncertain)}; "
              f"{len(sent.printed)} thư giấy được xếp vào bản in.")

    report_path = Workspace(root).delivery_report(campaign)
    write_delivery_report(ledger, manifest, report_path, senders=config.sender_names())
    status = campaign_status(ledger, manifest)
    print("7. Kết quả: " + count_line(status.total))
    print("Xem:")
    print(f"   - công văn và thư: {root / 'outbox' / campaign}/<nhóm>/<mã>/letter.pdf, message.eml")
    print(f"   - kiểm tra chữ ký số: {Path(sys.argv[0]).resolve()} --root {root} verify <tệp.pdf> "
          f"--trust {signing.trust_roots[0]}")
    if maildir:
        print(f"   - thư máy chủ thử nghiệm đã nhận (Maildir): {maildir}/new/")
    print(f"   - bản in thư giấy đã duyệt (in ra, gửi bưu điện, rồi 'outreach posted'): "
          f"{Workspace(root).paper_bundles(campaign)}/")
    print(f"   - hồ sơ gửi thư: {report_path}")
    print(f"   - giao diện web: {Path(sys.argv[0]).resolve()} --root {root} serve  (rồi mở http://127.0.0.1:8000)")
    print("Chạy lại lệnh này sẽ không gửi trùng: mỗi người nhận chỉ nhận một lần.")
    return 0 if not sent.failed and not report.failed else 1
