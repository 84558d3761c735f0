"""The ``outreach`` command: a thin front over the pipeline stages.

Each sub-command parses its arguments, calls one stage and prints what staff need to read. A
user mistake (:class:`UserError`) prints one Vietnamese message and exits non-zero; ``--debug``
shows the traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path
from typing import Callable

from . import __version__
from .errors import UserError, redact
from .workspace import Workspace

# argparse's own words (usage, errors) in Vietnamese too: staff read them.
_ARGPARSE_VI = {
    "usage: ": "Cách dùng: ",
    "positional arguments": "tham số",
    "options": "tùy chọn",
    "show this help message and exit": "hiện hướng dẫn này rồi thoát",
    "show program's version number and exit": "hiện phiên bản rồi thoát",
    "%(prog)s: error: %(message)s\n": "%(prog)s: lỗi: %(message)s\n",
    "the following arguments are required: %s": "thiếu tham số bắt buộc: %s",
    "invalid choice: %(value)r (choose from %(choices)s)": "lựa chọn %(value)r không hợp lệ (chọn một trong %(choices)s)",
    "unrecognized arguments: %s": "không hiểu tham số: %s",
    "expected one argument": "cần một giá trị",
    "expected at least one argument": "cần ít nhất một giá trị",
    "argument %(argument_name)s: %(message)s": "tham số %(argument_name)s: %(message)s",
    "invalid %(type)s value: %(value)r": "giá trị %(value)r không hợp lệ",
    "ambiguous option: %(option)s could match %(matches)s": "tùy chọn %(option)s không rõ, có thể là %(matches)s",
}
argparse._ = lambda text: _ARGPARSE_VI.get(text, text)  # type: ignore[attr-defined]

Handler = Callable[[argparse.Namespace], int]
COMMANDS: dict[str, Handler] = {}


def command(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        COMMANDS[name] = handler
        return handler
    return register


def _root(args: argparse.Namespace) -> Path:
    from .workspace import find_root

    return find_root(args.root)


def _config(args: argparse.Namespace):
    from .config import load_config

    return load_config(_root(args))


def _print_json(data: object) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def _os_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        import os

        return str(os.getuid())


def _actor(args: argparse.Namespace, role: str, *, required: bool = True):
    """Who a command records. Once staff accounts exist, ``--by`` is an account's login, checked
    against the account store (enabled, with the role); before that, the name written. The command
    runs on the server itself, so the operating-system user is recorded beside it (the event's
    source, ``cli nva``). Where ``--by`` is optional (build, sign) and not given, the operating-system
    user is the actor."""
    from .accounts import Accounts, Actor, Role

    source = f"cli {_os_user()}"
    if not required and not args.by:
        return Actor(_os_user(), "", source)
    accounts = Accounts(Workspace(_root(args)).accounts)
    if accounts.exist():
        if not args.by:
            raise UserError(f"Cần --by TÊN_ĐĂNG_NHẬP: tài khoản (vai trò {role}) của người thực hiện, "
                            "được ghi vào hồ sơ. Xem các tài khoản bằng 'outreach user list'.")
        return accounts.acting(args.by, Role(role), source)
    return Actor(args.by or "", "", source)


# --- working folder -----------------------------------------------------------------------

@command("init")
def _init(args: argparse.Namespace) -> int:
    from .workspace import init_workspace

    created = init_workspace(Path(args.dir))
    print(f"Đã tạo thư mục làm việc {Path(args.dir).resolve()}:")
    for path in created:
        print(f"  {path}")
    print("Bước tiếp theo: sửa config.toml, thay danh sách trong recipients/, rồi chạy 'outreach validate'.")
    return 0


# --- recipients ---------------------------------------------------------------------------

@command("validate")
def _validate(args: argparse.Namespace) -> int:
    from .recipients import guess_kind, load_list
    from .recipients import ValidationSummary, format_terminal, write_xlsx

    from .recipients import check_coverage

    targets: list[tuple[Path, str]]
    if args.files:
        if not args.kind:
            targets = [(Path(f), guess_kind(Path(f))) for f in args.files]
        else:
            targets = [(Path(f), args.kind) for f in args.files]
        # A participant's income and dates are checked against the law in force, which config.toml holds.
        config = _config(args) if any(kind == "participants" for _, kind in targets) else None
        summary = ValidationSummary(tuple(check_coverage(config, load_list(path, kind)) if kind == "participants"
                                          else load_list(path, kind) for path, kind in targets))
    else:
        from .recipients import check_coverage

        config = _config(args)
        kinds = [args.kind] if args.kind else list(config.audiences)
        if any(kind not in config.audiences for kind in kinds):
            raise UserError(f"config.toml không có nhóm nhận '{args.kind}'. Cách sửa: thêm [audiences.{args.kind}] "
                            "với files = [\"recipients/….xlsx\"], hoặc ghi tên tệp cần kiểm tra.")
        from .recipients import own_list

        # The shared lists, then every campaign's own (recipients/<campaign>/<audience>.xlsx).
        paths = [(path, kind) for kind in kinds for path in config.audiences[kind].files]
        paths += [(path, kind) for name, campaign in config.campaigns.items() if campaign.reminder is None
                  for kind in kinds if kind in campaign.audiences
                  for path in [own_list(config.workspace, name, kind)] if path is not None]
        summary = ValidationSummary(tuple(check_coverage(config, load_list(path, kind)) for path, kind in paths))
    if args.report:
        write_xlsx(summary, Path(args.report))
    if args.json:
        _print_json(summary.as_json())
    else:
        print(format_terminal(summary))
        if args.report:
            print(f"Báo cáo Excel: {Path(args.report).resolve()}")
    return 1 if summary.rejected else 0


# --- letters -------------------------------------------------------------------------------

def _provided_variables(lists) -> list[str]:
    """Names a template may use: the context, plus every extra column of the campaign's lists."""
    from .letters import list_columns, provided_variables

    return provided_variables(list_columns(r for lst in lists for r in lst.recipients))


def _template_samples(config, campaign, path: Path, lists) -> list:
    from .letters import template_samples

    return template_samples(config, campaign, [r for lst in lists for r in lst.recipients],
                            appendix=_is_appendix(campaign, path))


def _is_appendix(campaign, path: Path) -> bool:
    """A guidance file of the campaign: attached to the letter, addressed to no one."""
    return campaign is not None and path.resolve() in {guidance.resolve() for guidance in campaign.guidance}


def _campaign_of_template(config, name: str | None, path: Path):
    """The campaign named, else the one that uses this template, else the first one (or None)."""
    if name:
        return config.campaign(name)
    users = [c for c in config.campaigns.values() if path.resolve() in {p.resolve() for p in (c.template, *c.guidance)}]
    return next(iter(users or config.campaigns.values()), None)


@command("template")
def _template(args: argparse.Namespace) -> int:
    from .letters import check_empty_values, check_template, write_skeleton
    from .outbox import load_campaign_recipients

    path = Path(args.path)
    if args.action == "new":
        if path.exists():
            raise UserError(f"{path} đã có; không ghi đè. Cách sửa: chọn tên tệp khác.")
        write_skeleton(path)
        print(f"Đã tạo mẫu công văn {path}. Mở bằng Word để soạn nội dung; giữ nguyên các thẻ {{{{ … }}}}.")
        return 0
    if not path.is_file():
        raise UserError(f"Không tìm thấy mẫu {path}. Cách sửa: kiểm tra đường dẫn.")
    config = _config(args)
    campaign = _campaign_of_template(config, args.campaign, path)
    lists = load_campaign_recipients(config, campaign) if args.campaign else []
    samples = _template_samples(config, campaign, path, lists)
    issues = check_template(path, _provided_variables(lists), samples, letter=not _is_appendix(campaign, path))
    if lists:
        issues += check_empty_values(path, [r for lst in lists for r in lst.recipients])
    problems = [issue for issue in issues if issue.blocking]
    for issue in issues:
        print(f"- {'' if issue.blocking else 'Lưu ý: '}{issue.location}: {issue.message}")
    if samples:
        print(f"Đã thử điền {len(samples)} thư (chiến dịch {campaign.name}: người nhận mẫu"
              f"{', các dòng đầu danh sách' if lists else ''}; bản nháp và bản đã cấp số).")
    print("Mẫu dùng được." if not problems else f"{len(problems)} vấn đề cần sửa trước khi tạo thư.")
    return 1 if problems else 0


def _print_build(report) -> None:
    from .delivery import LABELS, Unsent

    print(f"Chiến dịch {report.campaign} — công văn số {report.document_number.strip() or '(chưa cấp số)'}")
    counted = [f"{len(report.built)} tạo mới", f"{len(report.unchanged)} không đổi"]
    if report.rejected_rows:  # a row with no letter is counted, never hidden behind "0 thư lỗi"
        counted.append(f"{len(report.rejected_rows)} dòng {LABELS[Unsent.REJECTED].long} (không có thư)")
    if report.failed:
        counted.append(f"{len(report.failed)} thư lỗi")
    print(f"  {report.drafts} bản thảo: {', '.join(counted)}.")
    if report.print_count:
        print(f"  {report.print_count} người nhận không có e-mail → bản xem trước để in: {report.print_bundle} "
              "(chưa dùng để gửi: thư giấy đã duyệt được xếp vào bản in chính thức khi chạy 'outreach send')")
    for row in report.rejected_rows:
        print(f"  Không tạo (dòng bị loại): {row['file']} dòng {row['row']}: {row['reason']}")
    for failed in report.failed:
        print(f"  LỖI {failed.key} ({failed.name}): {failed.message}")
    for warning in report.warnings:
        print(f"  Lưu ý: {warning}")


@command("build")
def _build(args: argparse.Namespace) -> int:
    from .delivery import Ledger
    from .outbox import build_campaign

    config = _config(args)
    with Ledger.open(config.root) as ledger:
        report = build_campaign(config, args.campaign, ledger, only=args.only or (), limit=args.limit,
                                by=_actor(args, "drafter", required=False))
    if args.json:
        _print_json(report.as_json())
    else:
        _print_build(report)
    return 1 if report.failed else 0


@command("remind")
def _remind(args: argparse.Namespace) -> int:
    from .localtime import aware
    from .schedule import build_reminders

    reports = build_reminders(_config(args), args.campaign, now=aware(args.at) if args.at else None)
    if args.json:
        _print_json([r.as_json() for r in reports])
        return 1 if any(r.failed for r in reports) else 0
    for r in reports:
        print(f"Thư nhắc {r.campaign} (sau {r.after_working_days} ngày làm việc): tạo mới {len(r.built)}, "
              f"giữ nguyên {len(r.unchanged)}, đã xác nhận nên không nhắc {len(r.answered)}, "
              f"chưa đến hạn nhắc {len(r.not_due)}.")
        if r.expired:
            print(f"  Chiến dịch {args.campaign} đã hết hạn: không tạo thư nhắc mới.")
        for problem in r.failed:
            print(f"  LỖI {problem.key} ({problem.name}): {problem.message}")
        if r.built:
            print(f"  Bước tiếp theo: xem trước ('outreach preview {r.campaign}') rồi duyệt "
                  f"('outreach approve {r.campaign} --by NGƯỜI_DUYỆT --all'); thư được gửi trong giờ gửi của phòng.")
    return 1 if any(r.failed for r in reports) else 0


@command("register")
def _register(args: argparse.Namespace) -> int:
    from .letters import Register

    entries = Register(Workspace(_root(args)).register).entries(args.year)
    if not entries:
        print("Sổ văn bản đi chưa có số nào.")
    for e in entries:
        state = f" (đã hủy: {e.cancel_reason})" if e.cancelled else ""
        by = f"\tcấp bởi {e.issued_by}" + (f" ({e.issued_login})" if e.issued_login else "") if e.issued_by else ""
        print(f"{e.number:02d}/{e.ky_hieu}\t{e.issued_on:%d/%m/%Y}\t{e.campaign}\tV/v {e.subject}{state}{by}")
    return 0


@command("issue")
def _issue(args: argparse.Namespace) -> int:
    from .delivery import Ledger
    from .localtime import office_today
    from .outbox import build_campaign, issue_document_number

    config = _config(args)
    by = _actor(args, "sender")
    entry = issue_document_number(config, args.campaign, args.date or office_today(), by)
    print(f"Công văn của chiến dịch {args.campaign}: số {entry.number:02d}/{entry.ky_hieu}, ngày {entry.issued_on:%d/%m/%Y}.")
    print("Tạo lại bản thảo với số này…")
    with Ledger.open(config.root) as ledger:
        report = build_campaign(config, args.campaign, ledger, by=by)
    _print_build(report)
    print(f"Bước tiếp theo: xem trước ('outreach preview {args.campaign}') rồi duyệt ('outreach approve {args.campaign} --by NGƯỜI_DUYỆT --all').")
    return 1 if report.failed else 0


# --- digital signatures --------------------------------------------------------------------

@command("sign")
def _sign(args: argparse.Namespace) -> int:
    from .config import ROLE_LABELS
    from .delivery import CampaignEvent, Ledger, approved_states, utc_now
    from .sign import sign_campaign

    config = _config(args)
    # The leader signs what they approve of; the agency's seal is the văn thư's (sender's) job.
    by = _actor(args, "approver" if args.role == "leader" else "sender", required=False)
    with Ledger.open(config.root) as ledger:
        approved = approved_states(ledger, args.campaign)
    report = sign_campaign(config, args.campaign, args.role, args.only or (), approved=approved, workers=args.workers)
    if report.signed or report.appendices:
        with Ledger.open(config.root) as ledger:
            ledger.record(args.campaign, CampaignEvent.SIGNED, by,
                          f"{ROLE_LABELS[report.role]}: {len(report.signed)} thư, {len(report.appendices)} phụ lục",
                          utc_now())
    print(f"Chiến dịch {report.campaign} — ký số của {ROLE_LABELS[report.role]}: {len(report.signed)} thư đã ký, "
          f"{len(report.already)} thư đã có chữ ký này từ trước.")
    for path in report.appendices:
        print(f"  Đã ký phụ lục: {path}")
    if report.completed:
        print(f"  Đã hoàn tất {len(report.completed)} thư mà lần ký trước bị dừng giữa chừng (thư điện tử và "
              "sổ bản thảo được cập nhật theo công văn đã ký; không ký lại).")
    by_reason: dict[str, list] = {}
    for problem in report.skipped:
        by_reason.setdefault(problem.message, []).append(problem)
    for reason, problems in by_reason.items():  # one line per reason: 10,000 letters may share one
        shown = ", ".join(p.key for p in problems[:10]) + (f" và {len(problems) - 10} thư khác" if len(problems) > 10 else "")
        print(f"  Chưa ký {len(problems)} thư ({shown}): {reason}")
    if report.signatures:
        print(f"  {report.signatures} chữ ký trong {report.seconds:.1f} giây "
              f"({report.signatures / report.seconds:.1f} chữ ký/giây; thiết bị ký chiếm {report.device_seconds:.1f} giây).")
    return 1 if report.skipped else 0


@command("verify")
def _verify(args: argparse.Namespace) -> int:
    from .sign import verifier_for

    trust = tuple(Path(p) for p in args.trust) if args.trust else _config(args).signing.trust_roots
    verifier = verifier_for(trust)
    all_ok = True
    for name in args.pdfs:
        try:
            data = Path(name).read_bytes()
        except OSError:
            raise UserError(f"Không đọc được tệp {name}. Cách sửa: kiểm tra đường dẫn.") from None
        check = verifier.check(data, name)
        all_ok &= check.ok
        print(f"{name}: {'HỢP LỆ' if check.ok else 'KHÔNG HỢP LỆ'}")
        if check.problem:
            print(f"  - {check.problem}")
        for signature in check.signatures:
            print(f"  - {signature.describe()}")
    return 0 if all_ok else 1


# --- review and approval -------------------------------------------------------------------

def _manifest_and_ledger(args: argparse.Namespace):
    from .delivery import Ledger
    from .outbox import read_manifest

    root = _root(args)
    return root, read_manifest(root, args.campaign), Ledger.open(root)


@command("preview")
def _preview(args: argparse.Namespace) -> int:
    from .delivery import send_test_copy
    from .outbox import decoded_header, parse_message

    root, manifest, _ = _manifest_and_ledger(args)
    draft = manifest.draft(args.recipient) if args.recipient else next((d for d in manifest.drafts if d.to), None)
    if draft is None:
        raise UserError("Chiến dịch chưa có bản thảo nào gửi e-mail.")
    print(f"Người nhận: {draft.name} ({draft.key}) — {draft.source_file} dòng {draft.source_row}")
    if any(f.name == "letter.pdf" for f in draft.files):  # a reminder carries the letter inside its message only
        print(f"Công văn PDF: {draft.path(root, 'letter.pdf')}")
    if not draft.to:
        print(f"Không có e-mail: thư này gửi bản giấy. Sau khi duyệt, 'outreach send {manifest.campaign}' xếp thư vào "
              f"bản in (outbox/{manifest.campaign}/paper/); in, gửi bưu điện rồi ghi nhận bằng 'outreach posted'.")
        return 0
    message = parse_message(draft.eml_path(root).read_bytes())
    for header in ("From", "Reply-To", "To", "Cc", "Subject", "Message-ID"):
        value = decoded_header(message, header)
        if value:
            print(f"{header}: {value}")
    print()
    print(message.get_body(("plain",)).get_content())
    print("Tệp đính kèm:")
    for part in message.iter_attachments():
        print(f"  - {part.get_filename()} ({len(part.get_content()) // 1024} KB)")
    if args.test_to:
        trial = send_test_copy(_config(args), draft, args.test_to)
        print(f"Đã gửi bản thử tới {trial.to}: {trial.code} {trial.reply}")
    return 0


def _keys(args: argparse.Namespace):
    if args.all and args.only:
        raise UserError("Chọn --all hoặc --only, không dùng cả hai.")
    if not args.all and not args.only:
        raise UserError("Cần chỉ rõ thư nào: --only MÃ [MÃ …] hoặc --all (mọi thư).")
    return None if args.all else args.only


@command("approve")
def _approve(args: argparse.Namespace) -> int:
    from .delivery import approve

    root, manifest, ledger = _manifest_and_ledger(args)
    by = _actor(args, "approver")
    approved = approve(root, ledger, manifest, by, _keys(args), four_eyes=_config(args).web.four_eyes)
    print(f"{by.name} đã duyệt {len(approved)} thư của chiến dịch {args.campaign} (công văn số {manifest.document_number}).")
    return 0


@command("revoke")
def _revoke(args: argparse.Namespace) -> int:
    from .delivery import revoke

    _, manifest, ledger = _manifest_and_ledger(args)
    by = _actor(args, "approver")
    revoked = revoke(ledger, manifest, by, _keys(args), args.note or "")
    print(f"{by.name} đã hủy duyệt {len(revoked)} thư.")
    return 0


@command("posted")
def _posted(args: argparse.Namespace) -> int:
    from .delivery import post
    from .localtime import day_of

    _, manifest, ledger = _manifest_and_ledger(args)
    posted = post(ledger, manifest, _actor(args, "sender"), _keys(args), args.date)
    print(f"Đã ghi nhận {posted[0].posted_by} gửi bưu điện {len(posted)} thư của chiến dịch {args.campaign} "
          f"ngày {day_of(posted[0].posted_on)}.")
    return 0


def print_send_report(report, bundles=()) -> None:
    verb = "Sẽ gửi" if report.dry_run else "Đã gửi"
    print(f"{verb} {len(report.would_send if report.dry_run else report.sent)} thư.")
    if report.printed:
        print(f"Đã xếp {len(report.printed)} thư giấy vào bản in: {', '.join(bundles)}. In ra, gửi bưu điện, rồi "
              f"ghi nhận: outreach posted {report.campaign} --by \"Họ tên\" --all [--date NGÀY].")
    for label, items in (("Chờ gửi lại", report.retrying), ("Thất bại", report.failed),
                         ("Chưa chắc chắn (cần người quyết định)", report.uncertain), ("Bỏ qua", report.skipped)):
        for item in items:
            print(f"  {label}: {item.key} ({item.name}): {item.message}")
    for key in report.interrupted:
        print(f"  Chưa chắc chắn (lần gửi trước bị ngắt): {key} — dùng 'outreach resolve'.")
    if report.paused:
        print(f"TẠM DỪNG: {report.paused}")


NEEDS_A_PERSON = 3  # `send`: a message may or may not have arrived; only a person can say (`resolve`)


def print_uncertain(ledger, campaign: str) -> int:
    """The campaign's uncertain messages, whichever run left them, and how a person settles them."""
    from .delivery import State

    keys = [key for key, d in ledger.deliveries(campaign).items() if d.state == State.UNCERTAIN]
    if keys:
        shown = ", ".join(keys[:10]) + (f" và {len(keys) - 10} thư khác" if len(keys) > 10 else "")
        print(f"CẦN NGƯỜI QUYẾT ĐỊNH: {len(keys)} thư chưa chắc chắn đã đến nơi ({shown}); chúng không được gửi "
              "lại tự động. Kiểm tra hộp thư người nhận hoặc nhật ký máy chủ thư, rồi với từng thư chạy "
              f"'outreach resolve {campaign} MÃ sent --by \"Họ tên\" --note \"căn cứ\"' nếu thư đã đến nơi, "
              "hoặc 'resend' thay cho 'sent' để gửi lại.")
    return len(keys)


@command("send")
def _send(args: argparse.Namespace) -> int:
    from .delivery import send_campaign, sending_process

    config = _config(args)
    root, manifest, ledger = _manifest_and_ledger(args)
    report = send_campaign(config, manifest, ledger, dry_run=args.dry_run, limit=args.limit,
                           department=args.department, by=sending_process(f"cli {_os_user()}"))
    print_send_report(report, printed_bundles(ledger, report))
    if print_uncertain(ledger, args.campaign):
        return NEEDS_A_PERSON
    return 1 if report.failed or report.paused else 0


def printed_bundles(ledger, report) -> list[str]:
    """The bundles a send run printed into, as staff find them (``paper/lo-in-01-QLT.pdf``)."""
    from .delivery import bundle_of

    return sorted({bundle_of(ledger.delivery(report.campaign, key).where) for key in report.printed} - {""})


@command("resolve")
def _resolve(args: argparse.Namespace) -> int:
    from .delivery import LABELS, resolve

    _, manifest, ledger = _manifest_and_ledger(args)
    draft = manifest.draft(args.recipient)
    by = _actor(args, "sender")
    delivery = resolve(ledger, args.campaign, draft.key, args.decision, by, args.note)
    print(f"{draft.key}: {LABELS[delivery.state].long} (quyết định của {by.name}: {args.note}).")
    return 0


@command("resume")
def _resume(args: argparse.Namespace) -> int:
    from .delivery import resume

    _, _, ledger = _manifest_and_ledger(args)
    resume(ledger, args.campaign, _actor(args, "sender"))
    print(f"Chiến dịch {args.campaign} được gửi tiếp.")
    return 0


@command("status")
def _status(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from .delivery import LABELS, PHASE_LABELS, Answer, Unsent, campaign_phase, campaign_status, count_line, utc_now
    from .localtime import day_of

    _, manifest, ledger = _manifest_and_ledger(args)
    status = campaign_status(ledger, manifest)
    phase = campaign_phase(manifest, ledger.state_counts(args.campaign), _config(args).campaigns.get(args.campaign),
                           utc_now())
    if args.json:
        _print_json({**asdict(status), "phase": phase})
        return 0
    print(f"Chiến dịch {args.campaign} — công văn số {manifest.document_number} — {PHASE_LABELS[phase]}")
    if status.pause.paused:
        print(f"TẠM DỪNG: {status.pause.reason}")
    print("  " + count_line(status.total, ": "))
    if status.rejected:
        print(f"  {LABELS[Unsent.REJECTED].long}: {len(status.rejected)} dòng (không có thư)")
        for row in status.rejected:
            print(f"    {Path(row.file).name} dòng {row.row}: {row.reason}")
    senders = _config(args).senders()
    by_sender = {f"{senders[code].name} ({code})" if code in senders else code: counts
                 for code, counts in status.by_sender.items()}
    for title, groups in (("Theo cơ quan gửi", by_sender), ("Theo nhóm", status.by_audience),
                          ("Theo huyện", status.by_district)):
        print(title + ":")
        for name, counts in sorted(groups.items()):
            print(f"  {name}: " + count_line(counts))
    if status.paper:
        print(f"Thư giấy ({len(status.paper)}):")
        for letter in status.paper:
            parts = [f"  {letter.key} ({letter.name}): {LABELS[letter.state].long}", letter.where]
            if letter.posted_on:
                parts.append(f"{letter.posted_by}, ngày {day_of(letter.posted_on)}")
            print(" — ".join(part for part in parts if part))
    if status.answers:
        print("Người nhận thư đã gửi: " + ", ".join(f"{LABELS[answer].long} {status.answers[answer]}"
                                                  for answer in Answer if status.answers.get(answer)))
    print_uncertain(ledger, args.campaign)
    return 0


@command("report")
def _report(args: argparse.Namespace) -> int:
    from .delivery import write_delivery_report

    _, manifest, ledger = _manifest_and_ledger(args)
    path = write_delivery_report(ledger, manifest, Path(args.xlsx), only_not_received=args.not_received,
                                 senders=_config(args).sender_names())
    what = "danh sách người nhận chưa nhận được thư" if args.not_received else "báo cáo gửi thư"
    print(f"Đã ghi {what}: {path.resolve()}")
    return 0


@command("collect")
def _collect(args: argparse.Namespace) -> int:
    from .delivery import Ledger, collect

    config = _config(args)
    with Ledger.open(config.root) as ledger:
        report = collect(config, ledger, args.campaign)
    if args.json:
        _print_json(report.as_json())
        return 1 if report.errors else 0
    print_collect_report(report)
    return 1 if report.errors else 0


def print_collect_report(report) -> None:
    if not report.mailboxes:
        print("Chưa có hộp thư nào để đọc: thêm [departments.MÃ.mailbox] (host, port, security, username, "
              "password_env, folder) vào config.toml.")
    else:
        print(f"Đã đọc {len(report.mailboxes)} hộp thư: {', '.join(report.mailboxes)}.")
    sections = (
        ("Bị trả lại", report.bounced), ("Chậm chuyển (máy chủ còn thử tiếp)", report.delayed),
        ("Người nhận trả lời", report.replied), ("Trả lời tự động (không phải thư trả lại)", report.auto_replies),
        ("Thư chưa chắc chắn, nay xác nhận đã gửi (có bản lưu)", report.confirmed_sent),
        ("Không khớp thư nào, để nguyên trong hộp thư", report.unmatched),
        ("Thuộc chiến dịch khác, để nguyên trong hộp thư", report.other_campaign),
    )
    for heading, items in sections:
        if not items:
            continue
        print(f"{heading}: {len(items)}")
        for found in items:
            who = f"{found.campaign} {found.key}" if found.key else f"{found.from_address} «{found.subject}»"
            said = " ".join(part for part in (found.status, found.text.splitlines()[0] if found.text else "") if part)
            clues = f" [khớp theo: {found.clues}]" if found.clues else ""
            print(f"  {who}: {said}{clues}".rstrip())
    for added in (s for s in report.supplements if s.bundle):
        print(f"Bản in bổ sung {added.campaign}: {added.bundle} ({len(added.letters)} thư), nhãn địa chỉ "
              f"{added.labels}. In ra, gửi bưu điện, rồi ghi nhận: outreach posted {added.campaign} --by \"Họ tên\" "
              "--all [--date NGÀY].")
        for correction in added.corrections:
            print(f"  Cần sửa danh sách: {correction.line}")
    for error in report.errors:
        print(f"LỖI: {error}")
    if not any(items for _, items in sections) and not report.errors and not report.supplements:
        print("Không có thư mới.")


@command("smtp-sink")
def _smtp_sink(args: argparse.Namespace) -> int:
    from .delivery import run_sink

    maildir = Workspace(_root(args)).smtp_sink
    print(f"Máy chủ thư thử nghiệm: 127.0.0.1:{args.port}, lưu thư vào {maildir} (Ctrl-C để dừng).")
    run_sink(maildir, args.port)
    return 0


@command("run")
def _run(args: argparse.Namespace) -> int:
    from .delivery import sending_process
    from .schedule import run_scheduler

    return run_scheduler(_config(args), once=args.once, at=args.at, interval_s=args.interval,
                         log=lambda line: print(redact(line), flush=True),  # the service journal
                         by=sending_process(f"cli {_os_user()}"))


@command("schedule")
def _schedule(args: argparse.Namespace) -> int:
    import datetime as dt

    from .localtime import OFFICE_TZ
    from .schedule import schedule_plan, show_schedule

    config = _config(args)
    now = dt.datetime.now(OFFICE_TZ)
    if args.json:
        _print_json(schedule_plan(config, now.date(), args.days, now=now).as_json())
    else:
        print(show_schedule(config, now.date(), args.days, now=now))
    return 0


# --- staff accounts ------------------------------------------------------------------------

def _new_password() -> str:
    """From OUTREACH_USER_PASSWORD when set (scripts, tests), else typed twice without echo."""
    import getpass
    import os
    import warnings

    from .accounts import PASSWORD_ENV

    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    try:
        with warnings.catch_warnings():  # no terminal (a pipe): getpass says so itself, in one line
            warnings.simplefilter("ignore", getpass.GetPassWarning)
            first = getpass.getpass("Mật khẩu mới: ")
            second = getpass.getpass("Nhập lại mật khẩu: ")
    except EOFError:
        raise UserError(f"Không đọc được mật khẩu. Cách sửa: chạy lệnh trong cửa sổ dòng lệnh để nhập, hoặc đặt "
                        f"mật khẩu vào biến môi trường {PASSWORD_ENV}.") from None
    if first != second:
        raise UserError("Hai lần nhập mật khẩu không khớp. Cách sửa: chạy lại lệnh và nhập cẩn thận.")
    return first


@command("user")
def _user(args: argparse.Namespace) -> int:
    from .accounts import Accounts, Actor

    accounts = Accounts(Workspace(_root(args)).accounts)
    me = Actor(_os_user(), "", f"cli {_os_user()}")
    if args.action == "list":
        listed = accounts.all()
        if not listed:
            print("Chưa có tài khoản nào: trang web không cần đăng nhập và chỉ mở trên máy này. "
                  "Tạo tài khoản quản trị: outreach user add TÊN --name \"Họ và tên\" --role admin")
        for account in listed:
            state = "đã khóa" if account.disabled else "đang hoạt động"
            print(f"{account.login}\t{account.name}\t{' '.join(sorted(account.roles))}\t{state}")
        return 0
    if args.action == "add":
        account = accounts.add(args.login, args.name, args.role, _new_password(), me)
        print(f"Đã tạo tài khoản {account.login} ({account.name}), vai trò: {account.role_labels}.")
    elif args.action == "passwd":
        accounts.set_password(args.login, _new_password(), me)
        print(f"Đã đổi mật khẩu của {args.login}; các phiên đăng nhập đang mở của tài khoản này đã kết thúc.")
    elif args.action == "roles":
        accounts.set_roles(args.login, args.role, me)
        print(f"Vai trò của {args.login} bây giờ là: {accounts.get(args.login).role_labels}.")
    elif args.action == "disable":
        accounts.disable(args.login, me)
        print(f"Đã khóa tài khoản {args.login}; các phiên đăng nhập của tài khoản này đã kết thúc.")
    else:
        accounts.enable(args.login, me)
        print(f"Đã mở khóa tài khoản {args.login}.")
    return 0


@command("serve")
def _serve(args: argparse.Namespace) -> int:
    from .web import serve

    serve(_root(args), host=args.host, port=args.port, cert=args.cert, key=args.key)
    return 0


@command("demo")
def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(_root(args), smtp_url=args.smtp_url)


BY_HELP = "khi đã có tài khoản cán bộ: tên đăng nhập của người đó, nếu chưa: họ tên"


def build_parser() -> argparse.ArgumentParser:
    from .accounts import Role

    parser = argparse.ArgumentParser(
        prog="outreach",
        description="Gửi công văn: danh sách người nhận → công văn DOCX/PDF → duyệt → gửi e-mail, có sổ theo dõi.",
        epilog="Xem 'outreach LỆNH --help' để biết chi tiết từng lệnh.",
    )
    parser.add_argument("--version", action="version", version=f"outreach {__version__}")
    parser.add_argument("--root", type=Path, help="thư mục làm việc (mặc định: thư mục hiện tại hoặc thư mục cha có config.toml)")
    parser.add_argument("--debug", action="store_true", help="hiện chi tiết lỗi kỹ thuật (traceback)")
    sub = parser.add_subparsers(dest="command", metavar="LỆNH", required=True)

    p = sub.add_parser("init", help="tạo thư mục làm việc mới với cấu hình, mẫu công văn và danh sách mẫu",
                       description="Tạo thư mục làm việc mới: config.toml có chú thích, templates/, recipients/, outbox/.")
    p.add_argument("dir", metavar="THƯ_MỤC", help="thư mục cần tạo")

    p = sub.add_parser("validate", help="kiểm tra danh sách người nhận và báo lỗi từng dòng",
                       description="Đọc, chuẩn hóa và kiểm tra danh sách (.xlsx, .csv). Mã thoát: 0 tất cả hợp lệ; "
                                   "1 có dòng bị loại; 2 có tệp không dùng được.")
    p.add_argument("files", nargs="*", metavar="TỆP", help="tệp cần kiểm tra (mặc định: mọi danh sách trong config.toml)")
    p.add_argument("--kind", choices=["employers", "collection_agents", "communes", "participants"],
                   help="loại danh sách: employers (đơn vị SDLĐ), collection_agents (tổ chức DV thu), communes (UBND xã), "
                        "participants (người tham gia BHXH tự nguyện)")
    p.add_argument("--json", action="store_true", help="in kết quả dạng JSON")
    p.add_argument("--report", metavar="TỆP.xlsx", help="ghi báo cáo Excel bằng tiếng Việt")
    p = sub.add_parser("template", help="tạo mẫu công văn mới hoặc kiểm tra một mẫu",
                       description="'template new TỆP' tạo khung công văn theo Nghị định 30 để soạn trong Word; "
                                   "'template check TỆP' báo lỗi cú pháp, biến không có dữ liệu, thẻ bị Word tách, "
                                   "rồi thử điền mẫu cho người nhận mẫu và báo lỗi khi chạy, thư quá dài hoặc quá lâu.")
    p.add_argument("action", choices=["new", "check"], help="new: tạo mẫu; check: kiểm tra mẫu")
    p.add_argument("path", metavar="TỆP.docx")
    p.add_argument("--campaign", help="kiểm tra theo danh sách người nhận của chiến dịch này")

    p = sub.add_parser("build", help="tạo công văn (DOCX, PDF) và thư e-mail cho từng người nhận vào outbox/",
                       description="Tạo bản thảo cho mọi người nhận hợp lệ; chỉ tạo lại phần đã thay đổi.")
    p.add_argument("campaign", metavar="CHIẾN_DỊCH")
    p.add_argument("--only", nargs="+", metavar="MÃ", help="chỉ tạo cho các mã này")
    p.add_argument("--limit", type=int, metavar="N", help="chỉ tạo N thư đầu")
    p.add_argument("--json", action="store_true", help="in kết quả dạng JSON")
    p.add_argument("--by", metavar="NGƯỜI", help=f"người tạo bản thảo; {BY_HELP} (vai trò drafter); mặc định: "
                                                "người dùng hệ điều hành")

    p = sub.add_parser("remind", help="tạo thư nhắc cho người nhận chưa xác nhận đã nhận công văn",
                       description="Với mỗi thư nhắc của chiến dịch (reminders trong config.toml): tạo bản thảo thư nhắc "
                                   "cho người đã được gửi e-mail mà chưa xác nhận, khi đã qua đủ số ngày làm việc. Thư nhắc "
                                   "là chiến dịch riêng (CHIẾN_DỊCH~nhac-1): xem trước, duyệt và gửi như công văn.")
    p.add_argument("campaign", metavar="CHIẾN_DỊCH")
    p.add_argument("--at", type=_moment, metavar="YYYY-MM-DDTHH:MM", help="coi như đồng hồ đang chỉ thời điểm này")
    p.add_argument("--json", action="store_true", help="in kết quả dạng JSON")

    p = sub.add_parser("register", help="xem sổ văn bản đi (số công văn đã cấp)")
    p.add_argument("--year", type=int, help="chỉ năm này")

    p = sub.add_parser("issue", help="cấp số công văn từ sổ văn bản đi và tạo lại bản thảo với số đó")
    p.add_argument("campaign", metavar="CHIẾN_DỊCH")
    p.add_argument("--date", type=_date, metavar="YYYY-MM-DD", help="ngày ban hành (mặc định: hôm nay)")
    p.add_argument("--by", metavar="NGƯỜI", help=f"người cấp số; {BY_HELP} (vai trò sender)")

    p = sub.add_parser("sign", help="ký số công văn (lãnh đạo, rồi văn thư ký số của cơ quan)",
                       description="Ký số mọi bản thảo đã cấp số chưa có chữ ký của vai này: letter.pdf và PDF trong "
                                   "message.eml. Đăng nhập token một lần; PIN sai, khóa không khớp chứng thư, chứng thư "
                                   "hết hạn hoặc không tin cậy thì dừng trước khi sửa tệp nào. Văn thư (--as agency) ký "
                                   "cả các phụ lục. Mã thoát 0 khi mọi thư đã ký.")
    p.add_argument("campaign", metavar="CHIẾN_DỊCH")
    p.add_argument("--as", dest="role", required=True, choices=["leader", "agency"],
                   help="leader: người có thẩm quyền ký; agency: văn thư ký số của cơ quan")
    p.add_argument("--only", nargs="+", metavar="MÃ", help="chỉ các mã này")
    p.add_argument("--by", metavar="NGƯỜI", help=f"người ký; {BY_HELP} (vai trò approver cho leader, sender cho "
                                                "agency); mặc định: người dùng hệ điều hành")
    p.add_argument("--workers", type=int, metavar="N",
                   help="số tiến trình ký song song (mặc định: một mỗi lõi CPU khi có đủ thư; 1: chỉ tiến trình này)")

    p = sub.add_parser("verify", help="kiểm tra chữ ký số của tệp PDF",
                       description="Với từng chữ ký: vai, người ký (theo chứng thư), thời gian ký (giờ Việt Nam), nguyên "
                                   "vẹn hay không, tin cậy hay không (theo [signing] trust_roots), phủ toàn bộ tệp hay "
                                   "không. Mã thoát 0 chỉ khi mọi tệp có chữ ký nguyên vẹn, tin cậy, phủ toàn bộ tệp.")
    p.add_argument("pdfs", nargs="+", metavar="TỆP.pdf")
    p.add_argument("--trust", nargs="+", metavar="GỐC.pem", help="tin cậy các chứng thư gốc này thay cho [signing] trust_roots")

    p = sub.add_parser("preview", help="xem trước thư của một người nhận; gửi bản thử",
                       description="In tiêu đề, nội dung, tệp đính kèm và đường dẫn PDF của một bản thảo. "
                                   "--test-to gửi bản thử, không ảnh hưởng trạng thái của người nhận.")
    p.add_argument("campaign", metavar="CHIẾN_DỊCH")
    p.add_argument("--recipient", metavar="MÃ", help="mã người nhận (mặc định: người đầu tiên có e-mail)")
    p.add_argument("--test-to", metavar="ĐỊA_CHỈ", help="gửi bản thử tới địa chỉ này")

    for name, help_text, every in (
            ("approve", "duyệt thư để được gửi (gắn với đúng nội dung đã xem), e-mail và bản giấy", "mọi thư"),
            ("revoke", "hủy duyệt thư chưa gửi", "mọi thư đang được duyệt, chưa gửi"),
            ("posted", "ghi nhận thư giấy đã in được mang gửi bưu điện (ai gửi, ngày nào)",
             "mọi thư giấy đã in, chưa ghi nhận gửi bưu điện")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("campaign", metavar="CHIẾN_DỊCH")
        p.add_argument("--by", required=True, metavar="NGƯỜI",
                       help=(f"người gửi bưu điện; {BY_HELP} (vai trò sender)" if name == "posted"
                             else f"người duyệt / hủy duyệt; {BY_HELP} (vai trò approver)"))
        p.add_argument("--only", nargs="+", metavar="MÃ", help="chỉ các mã này")
        p.add_argument("--all", action="store_true", help=every)
        if name == "revoke":
            p.add_argument("--note", help="lý do")
        if name == "posted":
            p.add_argument("--date", type=_date, metavar="YYYY-MM-DD",
                           help="ngày mang thư ra bưu điện (mặc định: hôm nay)")

    p = sub.add_parser("send", help="gửi các thư đã duyệt (mỗi người nhận đúng một lần)",
                       description="Gửi thư đã duyệt qua SMTP, ghi sổ theo dõi; thư bị sửa sau khi duyệt sẽ không gửi. "
                                   "Mã thoát: 0 xong; 1 có thư thất bại hoặc chiến dịch tạm dừng; 2 lỗi cần sửa "
                                   f"(cấu hình, mật khẩu…); {NEEDS_A_PERSON} có thư chưa chắc chắn, cần người quyết "
                                   "định bằng 'outreach resolve'.")
    p.add_argument("campaign", metavar="CHIẾN_DỊCH")
    p.add_argument("--dry-run", action="store_true", help="chỉ cho biết sẽ gửi gì, không gửi")
    p.add_argument("--limit", type=int, metavar="N", help="gửi tối đa N thư lần này")
    p.add_argument("--department", metavar="MÃ_PHÒNG", help="chỉ thư của phòng / BHXH huyện này")

    p = sub.add_parser("resolve", help="quyết định cho thư 'chưa chắc chắn' (đã đến nơi hay gửi lại)")
    p.add_argument("campaign", metavar="CHIẾN_DỊCH")
    p.add_argument("recipient", metavar="MÃ")
    p.add_argument("decision", choices=["sent", "resend"], help="sent: đã đến nơi; resend: gửi lại")
    p.add_argument("--by", required=True, metavar="NGƯỜI", help=f"người quyết định; {BY_HELP} (vai trò sender)")
    p.add_argument("--note", required=True, help="căn cứ quyết định, ví dụ 'đơn vị xác nhận qua điện thoại'")

    p = sub.add_parser("resume", help="cho chiến dịch đang tạm dừng gửi tiếp")
    p.add_argument("campaign", metavar="CHIẾN_DỊCH")
    p.add_argument("--by", required=True, metavar="NGƯỜI", help=f"người cho gửi tiếp; {BY_HELP} (vai trò sender)")

    p = sub.add_parser("status", help="số thư theo trạng thái, theo nhóm và theo huyện")
    p.add_argument("campaign", metavar="CHIẾN_DỊCH")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("report", help="báo cáo Excel: hồ sơ gửi thư của từng người nhận")
    p.add_argument("campaign", metavar="CHIẾN_DỊCH")
    p.add_argument("--xlsx", required=True, metavar="TỆP.xlsx")
    p.add_argument("--not-received", action="store_true",
                   help="chỉ những người nhận chưa nhận được thư (chưa gửi e-mail hoặc chưa gửi bưu điện), mọi lý do")

    p = sub.add_parser("collect", help="đọc hộp thư của các phòng: thư bị trả lại, thư trả lời, bản lưu thư đã gửi",
                       description="Đọc hộp thư (IMAP) của từng phòng / BHXH huyện có [*.mailbox] trong config.toml: "
                                   "thư báo trả lại làm thư chuyển sang 'bị trả lại' (lưu bản gốc làm bằng chứng), thư "
                                   "trả lời được ghi lại, thư đã xử lý được chuyển sang thư mục riêng, không xóa thư "
                                   "nào. Mã thoát: 0 xong; 1 có hộp thư không đọc được.")
    p.add_argument("campaign", nargs="?", metavar="CHIẾN_DỊCH", help="chỉ xử lý thư của chiến dịch này")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("smtp-sink", help="chạy máy chủ thư thử nghiệm trên 127.0.0.1, lưu thư vào outbox/smtp-sink")
    p.add_argument("--port", type=int, default=8025)

    p = sub.add_parser("run", help="gửi theo lịch: mỗi phòng trong giờ làm việc của mình (chạy liên tục)",
                       description="Mỗi lượt (mặc định 60 giây) gửi lô thư đã duyệt tiếp theo của từng phòng, trong khung "
                                   "giờ gửi, bỏ qua cuối tuần, ngày lễ, ngày nghỉ; không bao giờ gửi sau hạn chiến dịch. "
                                   "Ctrl-C hoặc SIGTERM: gửi xong thư đang gửi rồi dừng.")
    p.add_argument("--once", action="store_true", help="chạy một lượt rồi thoát (cho cron hoặc kiểm thử)")
    p.add_argument("--at", type=_moment, metavar="YYYY-MM-DDTHH:MM", help="coi như đồng hồ đang chỉ thời điểm này")
    p.add_argument("--interval", type=int, default=60, metavar="GIÂY", help="khoảng cách giữa hai lượt")

    p = sub.add_parser("schedule", help="lịch gửi sắp tới của từng phòng và chiến dịch",
                       description="'schedule show': khung giờ, ngày nghỉ bỏ qua, số thư dự kiến mỗi ngày, ngày xong "
                                   "của từng chiến dịch và những chiến dịch không kịp trước hạn.")
    p.add_argument("action", choices=["show"])
    p.add_argument("--days", type=int, default=14, help="số ngày (mặc định 14)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("user", help="tài khoản cán bộ: thêm, xem, khóa, mở khóa, đổi mật khẩu, đổi vai trò",
                       description="Khi đã có tài khoản, trang web cần đăng nhập và mỗi thao tác được ghi dưới tên "
                                   "tài khoản. Vai trò: drafter (soạn thảo), approver (duyệt), sender (gửi / văn thư), "
                                   "admin (quản trị tài khoản). Mật khẩu lấy từ biến OUTREACH_USER_PASSWORD nếu có, "
                                   "nếu không thì hỏi hai lần.")
    actions = p.add_subparsers(dest="action", metavar="VIỆC", required=True)
    roles = [role.value for role in Role]
    a = actions.add_parser("add", help="tạo tài khoản")
    a.add_argument("login", metavar="TÊN_ĐĂNG_NHẬP")
    a.add_argument("--name", required=True, metavar="HỌ_TÊN", help="họ và tên đầy đủ (ghi vào hồ sơ)")
    a.add_argument("--role", action="append", required=True, choices=roles, help="vai trò (lặp lại để cấp nhiều)")
    actions.add_parser("list", help="xem các tài khoản")
    for action, text in (("disable", "khóa tài khoản (kết thúc mọi phiên đăng nhập)"), ("enable", "mở khóa tài khoản"),
                         ("passwd", "đặt mật khẩu mới (kết thúc mọi phiên đăng nhập)")):
        actions.add_parser(action, help=text).add_argument("login", metavar="TÊN_ĐĂNG_NHẬP")
    a = actions.add_parser("roles", help="đặt lại vai trò của tài khoản")
    a.add_argument("login", metavar="TÊN_ĐĂNG_NHẬP")
    a.add_argument("--role", action="append", required=True, choices=roles, help="vai trò (lặp lại để cấp nhiều)")

    p = sub.add_parser("serve", help="mở trang web để xem trước, duyệt và theo dõi việc gửi",
                       description="Trang web cho cán bộ: xem từng công văn và thư như người nhận sẽ nhận, duyệt, "
                                   "gửi bản thử, theo dõi việc gửi. Mặc định chỉ mở trên máy này (127.0.0.1).")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--host", default="127.0.0.1",
                   help="địa chỉ lắng nghe; khác 127.0.0.1 thì phải có tài khoản quản trị ('outreach user add … --role admin')")
    p.add_argument("--cert", type=Path, metavar="TỆP.pem", help="chứng chỉ TLS: phục vụ bằng https, cookie chỉ gửi qua https")
    p.add_argument("--key", type=Path, metavar="TỆP.pem", help="khóa riêng của chứng chỉ (nếu không nằm trong --cert)")

    p = sub.add_parser("demo", help="chạy thử toàn bộ quy trình trên dữ liệu mẫu, gửi vào máy chủ thư cục bộ")
    p.add_argument("--smtp-url", help="gửi tới máy chủ này thay vì máy chủ thử nghiệm cục bộ (vd. smtp://host:25)")
    return parser


def _date(text: str):
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"ngày '{text}' không hợp lệ, viết dạng 2023-01-05") from None


def _moment(text: str):
    import datetime as dt

    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"thời điểm '{text}' không hợp lệ, viết dạng 2023-01-09T09:00") from None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except UserError as error:
        if args.debug:
            print(redact(traceback.format_exc()), file=sys.stderr, end="")
        print(f"Lỗi: {redact(error.message)}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("Đã dừng theo yêu cầu.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into a pager or head that closed early
        return 0


if __name__ == "__main__":
    sys.exit(main())
