"""Staff accounts and roles: who did something is a fact recorded with the login, not a typed name.

* ``store``: the account store (``outbox/accounts.sqlite``): accounts, roles, server-side sessions,
  the append-only record of account changes; ``Actor``, what the ledger and the register record.
* ``passwords``: scrypt hashes.
"""

from __future__ import annotations

from .store import ROLE_LABELS, Account, Accounts, Actor, Role, check_login

PASSWORD_ENV = "OUTREACH_USER_PASSWORD"  # where `outreach user add/passwd` read a password, unprompted

__all__ = ["Account", "Accounts", "Actor", "PASSWORD_ENV", "ROLE_LABELS", "Role", "check_login"]
