"""The approval gate of ``[signing] required = true``: what approval binds to (message.eml) must carry
the letter signed by the leader and then the agency, and each guidance appendix signed by the agency,
all intact, trusted and covering their whole file. The static attachments a campaign copies as they
are (a leaflet) are exempt: they are not this office's documents.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import Config, load_config
from ..outbox import Draft, sha256_file
from ..outbox import parse_message
from ..workspace import Workspace
from ..config import ROLE_LABELS, SigningConfig

if TYPE_CHECKING:
    from .verify import PdfCheck, Verifier


class SigningGate:
    def __init__(self, config: Config | None) -> None:
        self.config = config
        self.signing = config.signing if config is not None else SigningConfig()
        self._verifier: "Verifier | None" = None
        self._exempt: dict[str, set[str]] = {}

    @property
    def verifier(self) -> Verifier:
        if self._verifier is None:
            from .verify import verifier_for  # pyHanko: loaded only when a signature is really checked

            self._verifier = verifier_for(self.signing.trust_roots)
        return self._verifier

    def refusal(self, draft: Draft) -> str:
        """Why this draft may not be approved for lack of signatures ("" when it may)."""
        if not self.signing.required or not draft.to:
            return ""
        assert self.config is not None
        who = f"{draft.key} ({draft.name})"
        fix = f"Cách sửa: chạy 'outreach sign {draft.campaign} --as leader' rồi '--as agency'."
        try:
            message = parse_message(draft.eml_path(self.config.root).read_bytes())
        except OSError:
            return f"{who}: không có message.eml. Cách sửa: chạy 'outreach build {draft.campaign}'."
        pdfs = [(p.get_filename() or "", p.get_content()) for p in message.iter_attachments()
                if p.get_content_type() == "application/pdf"]
        if not pdfs:
            return f"{who}: thư không đính kèm công văn PDF. Cách sửa: chạy 'outreach build {draft.campaign}'."
        exempt = self._static_attachments(draft.campaign)
        (letter_name, letter), *appendices = pdfs
        problems = self._letter_problems(self.verifier.check(letter, letter_name))
        for name, data in appendices:
            if hashlib.sha256(data).hexdigest() in exempt:
                continue
            check = self.verifier.check(data, name)
            if "agency" not in check.valid_roles() or not check.ok:
                problems.append(f"phụ lục '{name}' chưa có chữ ký số hợp lệ của {ROLE_LABELS['agency']}"
                                + _detail(check))
        return f"{who}: " + "; ".join(problems) + f". {fix}" if problems else ""

    def _letter_problems(self, check: "PdfCheck") -> list[str]:
        roles = check.valid_roles()
        problems = [f"công văn chưa có chữ ký số hợp lệ của {ROLE_LABELS[role]}" for role in ("leader", "agency")
                    if role not in roles]
        if not problems and not check.ok:
            problems.append("công văn có chữ ký không hợp lệ" + _detail(check))
        if not problems:
            certificates = {s.role: s.certificate_sha256 for s in check.signatures}
            if certificates["leader"] == certificates["agency"]:
                problems.append("chữ ký của lãnh đạo và của cơ quan dùng cùng một chứng thư số")
        return problems

    def _static_attachments(self, campaign: str) -> set[str]:
        """sha256 of the campaign's copied-as-is attachments, as the build left them."""
        if campaign not in self._exempt:
            assert self.config is not None
            folder = self.config.workspace.attachments(campaign)
            statics = self.config.campaigns[campaign].static_attachments if campaign in self.config.campaigns else ()
            self._exempt[campaign] = {sha256_file(folder / s.name) for s in statics if (folder / s.name).is_file()}
        return self._exempt[campaign]


def _detail(check: "PdfCheck") -> str:
    bad = [s.describe() for s in check.signatures if not s.ok]
    if check.problem:
        bad.insert(0, check.problem)
    return f" ({'; '.join(bad)})" if bad else ""


def signing_gate(root: Path) -> SigningGate:
    """The gate of the working folder at ``root`` (no config.toml: nothing is required)."""
    config = load_config(root) if Workspace(root).config_file.is_file() else None
    return SigningGate(config)
