"""workspace: one source for every path under the working folder, shared by the stages that meet there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from outreach.config import load_config
from outreach.delivery.ledger import Ledger
from outreach.web.progress import send_running
from outreach.workspace import Workspace, init_workspace


def test_a_new_working_folder_has_the_layout_the_workspace_names(tmp_path: Path) -> None:
    init_workspace(tmp_path / "office")
    workspace = load_config(tmp_path / "office").workspace
    assert workspace == Workspace(tmp_path / "office")
    assert workspace.outbox.is_dir() and workspace.config_file.is_file()
    assert workspace.ledger.parent == workspace.register.parent == workspace.outbox
    assert workspace.manifest("c").parent == workspace.campaign("c") == workspace.outbox / "c"
    copy = workspace.approved_copy("c", "employers", "TA12345", "ab" * 32)
    assert copy.is_relative_to(workspace.campaign("c")) and copy.name.startswith("TA12345-abababab")


def test_the_web_sees_the_send_lock_the_ledger_takes(tmp_path: Path) -> None:
    """The two sides of the lock once spelled its file name each; now both ask the workspace."""
    workspace = Workspace(tmp_path)
    workspace.outbox.mkdir()
    with Ledger.open(tmp_path) as ledger:
        assert not send_running(tmp_path, "c")
        with ledger.send_lock("c"):
            assert workspace.send_lock("c").is_file()
            assert send_running(tmp_path, "c") and not send_running(tmp_path, "other")
        assert not send_running(tmp_path, "c")


def test_python_m_outreach_is_the_outreach_command() -> None:
    done = subprocess.run([sys.executable, "-m", "outreach", "--bogus"], capture_output=True, text=True)
    assert done.returncode == 2
    # argparse's own words come through the Vietnamese table (cli hooks argparse's gettext)
    assert "thiếu tham số bắt buộc" in done.stderr or "không hiểu tham số" in done.stderr
    assert "Traceback" not in done.stderr
