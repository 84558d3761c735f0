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
from .errors import UserError

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
    from .recipients.report import ValidationSummary, format_terminal, write_xlsx

    targets: list[tuple[Path, str]]
    if args.files:
        if not args.kind:
            targets = [(Path(f), guess_kind(Path(f))) for f in args.files]
        else:
            targets = [(Path(f), args.kind) for f in args.files]
        summary = ValidationSummary(tuple(load_list(path, kind) for path, kind in targets))
    else:
        from .routing import check_coverage

        config = _config(args)
        kinds = [args.kind] if args.kind else list(config.audiences)
        summary = ValidationSummary(tuple(check_coverage(config, load_list(path, kind))
                                          for kind in kinds for path in config.audiences[kind].files))
    if args.report:
        write_xlsx(summary, Path(args.report))
    if args.json:
        _print_json(summary.as_json())
    else:
        print(format_terminal(summary))
        if args.report:
            print(f"Báo cáo Excel: {Path(args.report).resolve()}")
    return 1 if summary.rejected else 0


def build_parser() -> argparse.ArgumentParser:
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
    p.add_argument("--kind", choices=["employers", "collection_agents", "communes"],
                   help="loại danh sách: employers (đơn vị SDLĐ), collection_agents (tổ chức DV thu), communes (UBND xã)")
    p.add_argument("--json", action="store_true", help="in kết quả dạng JSON")
    p.add_argument("--report", metavar="TỆP.xlsx", help="ghi báo cáo Excel bằng tiếng Việt")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except UserError as error:
        if args.debug:
            traceback.print_exc()
        print(f"Lỗi: {error.message}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("Đã dừng theo yêu cầu.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into a pager or head that closed early
        return 0


if __name__ == "__main__":
    sys.exit(main())
