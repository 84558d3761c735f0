"""The one exception type that means "the user made a mistake", the map of all the others, and
what of a message may be shown (``redact``).

Our exception hierarchy (httpx's habit: one root per family, the tree written down here)::

    UserError                      a mistake staff can fix; the CLI prints its Vietnamese message and exits
    ├── ConfigError                config: config.toml cannot be used as written (syntax, a key, a value)
    ├── RoutingError               recipients.routing: no sender covers a recipient (what to add to config)
    ├── LetterError                letters: a template cannot make this letter
    │   └── TemplateRunError       letters.render: the template failed while filling one letter in
    ├── AddressError               outbox.messages: an e-mail address cannot be written into a message
    ├── HeaderInjectionError       outbox.messages: a header value carries a line break
    ├── IllegalTransition          delivery.ledger: a state change the state machine forbids
    ├── CampaignPaused             delivery.ledger: sending refused until someone resumes the campaign
    └── SendInProgress             delivery.ledger: another process is sending this campaign

    Exception                      internal failures, turned into per-item values before they reach staff
    ├── ConversionError            convert: a letter could not become a PDF (ConversionResult.error)
    ├── OfficeFailure              convert.office: LibreOffice timed out or crashed (restarted, retried)
    ├── TemplateFailure            letters.sandbox: a render broke a limit or raised (becomes a LetterError)
    └── _SplitMismatch, …          private to their module: caught where they are raised

Per-item failures are values, not exceptions: ``DraftProblem`` (with a ``Skip`` reason) in build and
send reports, ``Problem`` in validation, ``ConversionResult.error``. Code decides on those reasons
and on exception types, never on the wording of a message.
"""

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


class ConfigError(UserError):
    """``config.toml`` (or a table of it) cannot be used as written: the message names the key and the fix."""


def redact(text: str) -> str:
    """``text`` with the credentials of any URL in it replaced by ``***`` (``smtp://***@host:25``):
    for whatever an error, a page or a log line may quote. Every place that prints one uses this."""
    return _URL_CREDENTIALS.sub("***@", text)
