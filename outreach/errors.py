"""The one exception type that means "the user made a mistake", and what of a message may be shown."""

from __future__ import annotations

import re

# From "//" to the last "@" of the same word: the user and password of smtp://user:pa@ss@host, all of them.
_URL_CREDENTIALS = re.compile(r"(?<=//)\S*@")


class UserError(Exception):
    """A mistake the user can fix: bad input, a missing file, a wrong setting.

    The CLI prints ``message`` (Vietnamese, naming what is wrong and how to fix it) and exits
    with ``exit_code`` -- never a traceback.
    """

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def redact(text: str) -> str:
    """``text`` with the credentials of any URL in it replaced by ``***`` (``smtp://***@host:25``):
    for whatever an error, a page or a log line may quote. Every place that prints one uses this."""
    return _URL_CREDENTIALS.sub("***@", text)
