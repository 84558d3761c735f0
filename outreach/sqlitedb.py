"""One SQLite connection and transaction per call, for the small stores beside the ledger (the
register, the accounts): every process opens its own, so they are safe across processes."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path


@contextmanager
def transaction(path: Path, write: bool = True) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE for a change, so writers queue on the lock and a check-then-write cannot race
    (two issues never share a number, two admins never disable the last two administrators)."""
    with closing(sqlite3.connect(path, timeout=30, isolation_level=None)) as db:
        db.row_factory = sqlite3.Row
        db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
