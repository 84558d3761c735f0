"""The outbox: what a build leaves for staff to review and approve — one folder per draft
(``letter.docx``, ``letter.pdf``, ``message.eml``), the campaign's manifest, the print bundles.

* ``build``: ``build_campaign`` (drafts staged in ``.new/`` and swapped in, manifest checkpoints,
  evidence never replaced) and ``issue_document_number``;
* ``manifest``: ``Draft`` (with its channel and payload), ``Manifest``, the skip and stop reasons;
* ``messages``: the MIME message of one draft, built and parsed back;
* ``bundle`` and ``bundles``: print bundles (each letter on fresh sheets), participants' bundles.
* ``progress``: ``Step`` and ``OnStep``, how far a build has got, told to whoever started it.

The build's entry points load on first use: ``build`` consults the ledger (``outreach.delivery``),
which itself reads manifests and messages from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .bundle import sheet_pages, write_address_labels, write_bundle
from .manifest import (
    CHANNEL_LABELS,
    SENT_LATER,
    Channel,
    Draft,
    DraftFile,
    DraftProblem,
    Halt,
    Manifest,
    ManifestCache,
    RejectedRow,
    Skip,
    Stop,
    letter_pages,
    read_manifest,
    sha256_file,
    write_manifest,
)
from .messages import (
    RECEIPT_TOKEN_BYTES,
    Attachment,
    Envelope,
    build_message,
    check_address,
    decoded_header,
    envelope_of,
    message_bytes,
    new_message_id,
    parse_message,
    set_text_header,
    upgrade_attachments,
    with_receipt_link,
)
from .progress import BUILD_PHASE, BUNDLE_PHASE, OnStep, Step, no_steps

if TYPE_CHECKING:
    from .build import (BuildReport, attachment_titles, build_campaign, issue_document_number, letter_title,
                        load_campaign_recipients, message_variables)

__all__ = [
    "Attachment",
    "BUILD_PHASE",
    "BUNDLE_PHASE",
    "BuildReport",
    "CHANNEL_LABELS",
    "Channel",
    "Draft",
    "DraftFile",
    "DraftProblem",
    "Envelope",
    "Halt",
    "Manifest",
    "ManifestCache",
    "OnStep",
    "RECEIPT_TOKEN_BYTES",
    "RejectedRow",
    "SENT_LATER",
    "Skip",
    "Step",
    "Stop",
    "attachment_titles",
    "build_campaign",
    "build_message",
    "check_address",
    "decoded_header",
    "envelope_of",
    "issue_document_number",
    "letter_pages",
    "letter_title",
    "load_campaign_recipients",
    "message_bytes",
    "message_variables",
    "new_message_id",
    "no_steps",
    "parse_message",
    "read_manifest",
    "set_text_header",
    "sha256_file",
    "sheet_pages",
    "upgrade_attachments",
    "with_receipt_link",
    "write_address_labels",
    "write_bundle",
    "write_manifest",
]

_BUILD = ("BuildReport", "attachment_titles", "build_campaign", "issue_document_number", "letter_title",
          "load_campaign_recipients", "message_variables")


def __getattr__(name: str) -> object:
    if name in _BUILD:
        from . import build

        return getattr(build, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
