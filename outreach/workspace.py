"""The working folder: one office's config.toml, templates/, recipients/ and outbox/."""

from __future__ import annotations

import shutil
from pathlib import Path

from .errors import UserError

CONFIG_NAME = "config.toml"
# The repository root is itself the sample working folder that `outreach init` copies.
SAMPLE_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_ITEMS = ("config.toml", "templates", "recipients")


def find_root(explicit: Path | None, start: Path | None = None) -> Path:
    """``--root DIR`` if given, else the nearest folder upwards from ``start`` holding config.toml."""
    if explicit is not None:
        root = explicit.expanduser().resolve()
        if not (root / CONFIG_NAME).is_file():
            raise UserError(
                f"Thư mục {root} không có {CONFIG_NAME}. "
                f"Cách sửa: kiểm tra lại --root, hoặc tạo thư mục làm việc bằng 'outreach init {root}'."
            )
        return root
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise UserError(
        f"Không tìm thấy {CONFIG_NAME} ở {here} hay các thư mục cha. "
        "Cách sửa: chuyển vào thư mục làm việc, dùng --root THƯ_MỤC, hoặc tạo mới bằng 'outreach init THƯ_MỤC'."
    )


def init_workspace(target: Path) -> list[Path]:
    """Create a new working folder with the sample config, templates and lists; refuses to overwrite."""
    target = target.expanduser().resolve()
    if (target / CONFIG_NAME).exists():
        raise UserError(f"{target} đã là thư mục làm việc (có {CONFIG_NAME}); không ghi đè. Cách sửa: chọn thư mục khác.")
    missing = [item for item in SAMPLE_ITEMS if not (SAMPLE_ROOT / item).exists()]
    if missing:
        raise UserError(
            "Không tìm thấy mẫu để tạo thư mục làm việc (" + ", ".join(missing) + "). "
            "Cách sửa: cài outreach từ mã nguồn bằng 'pip install -e .'."
        )
    target.mkdir(parents=True, exist_ok=True)
    created = []
    for item in SAMPLE_ITEMS:
        source, destination = SAMPLE_ROOT / item, target / item
        if source.is_dir():
            shutil.copytree(source, destination, dirs_exist_ok=True)
        else:
            shutil.copy2(source, destination)
        created.append(destination)
    (target / "outbox").mkdir(exist_ok=True)
    created.append(target / "outbox")
    return created
