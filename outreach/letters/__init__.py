"""Letters: the Decree-30 context of one letter (number, date, signer, recipient), the sandboxed
docxtpl render of a DOCX template and of the e-mail's text templates, ``template check``, the
skeleton a new template starts from, and the register of outgoing letters (sổ văn bản đi)."""

from .register import Register, RegisterEntry
from .render import (
    TEMPLATE_VARIABLES,
    LetterContext,
    LetterError,
    LetterTemplate,
    TemplateIssue,
    blank_date,
    build_context,
    check_empty_values,
    check_template,
    fingerprint,
    original_recipient,
    render_text_template,
    sample_contexts,
    sample_recipient,
    text_template,
    vn_date,
)
from .skeleton import write_appendix, write_skeleton

__all__ = [
    "LetterContext",
    "LetterError",
    "LetterTemplate",
    "Register",
    "RegisterEntry",
    "TEMPLATE_VARIABLES",
    "TemplateIssue",
    "blank_date",
    "build_context",
    "check_empty_values",
    "check_template",
    "fingerprint",
    "original_recipient",
    "render_text_template",
    "sample_contexts",
    "sample_recipient",
    "text_template",
    "vn_date",
    "write_appendix",
    "write_skeleton",
]
