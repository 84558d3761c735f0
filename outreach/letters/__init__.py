"""Letters: the Decree-30 context of one letter (number, date, signer, recipient: ``context``), the
sandboxed docxtpl render of a DOCX template and of the e-mail's text templates (``render``),
``template check`` (``check``), the template proposed from the leadership's ordinary Word letter
(``recognise``), the skeleton a new template starts from, and the register of outgoing letters
(sổ văn bản đi)."""

from .register import Register, RegisterEntry
from .check import (
    TemplateField,
    check_empty_values,
    check_template,
    list_columns,
    provided_variables,
    sample_recipient,
    template_fields,
    template_samples,
)
from .context import (
    TEMPLATE_VARIABLES,
    LetterContext,
    blank_date,
    build_context,
    fingerprint,
    original_recipient,
    sample_contexts,
    vn_date,
)
from .recognise import RecognisedPart, Recognition, propose_template, recognise_letter
from .render import (
    LetterError,
    LetterTemplate,
    TemplateIssue,
    first_lines,
    html_email_template,
    render_text_template,
    text_template,
)
from .skeleton import write_appendix, write_skeleton

__all__ = [
    "LetterContext",
    "LetterError",
    "LetterTemplate",
    "RecognisedPart",
    "Recognition",
    "Register",
    "RegisterEntry",
    "TEMPLATE_VARIABLES",
    "TemplateField",
    "TemplateIssue",
    "blank_date",
    "build_context",
    "check_empty_values",
    "check_template",
    "fingerprint",
    "first_lines",
    "html_email_template",
    "list_columns",
    "original_recipient",
    "propose_template",
    "provided_variables",
    "recognise_letter",
    "render_text_template",
    "sample_contexts",
    "sample_recipient",
    "template_fields",
    "template_samples",
    "text_template",
    "vn_date",
    "write_appendix",
    "write_skeleton",
]
