"""The benches' own data stays runnable: a moved data file once broke every bench that makes lists."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.datagen import generate_employers, write_employers_xlsx  # noqa: E402
from outreach.recipients import load_list  # noqa: E402


def test_generated_employers_are_a_list_outreach_accepts(tmp_path: Path) -> None:
    path = tmp_path / "employers.xlsx"
    write_employers_xlsx(path, generate_employers(20, seed=1))
    loaded = load_list(path, "employers")
    assert len(loaded.recipients) == 20 and not loaded.rejected_rows
