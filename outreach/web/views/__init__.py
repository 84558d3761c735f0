"""The pages and actions, one module per URL family. Pages are GETs; every change is a POST that
redirects back with a flash message. All share one blueprint, so ``url_for("views.…")`` names stay.

Addresses::

    /                                               campaigns.py: campaigns, their counts, build button
    /campaigns/<name>                               campaigns.py: recipients table, filters, paging
    /campaigns/<name>/print.pdf                     campaigns.py: print bundle (recipients without e-mail)
    /campaigns/<name>/recipients/<code>             recipient.py: letter pages beside the e-mail
    /campaigns/<name>/recipients/<code>/…           recipient.py: pages/<n>.png, letter.pdf, letter.docx,
                                                    body.html, attachments/<i>, message.eml
    POST /campaigns/<name>/{build,issue}            campaigns.py
    POST /campaigns/<name>/{approve,revoke,test-copy,resolve,pause,resume}   actions.py
    /campaigns/<name>/sending, …/progress.json      sending.py: sending progress, delivery record
    /campaigns/<name>/bao-cao-gui-thu.xlsx          sending.py: the delivery record to download
    /campaigns/<name>/chua-nhan[.xlsx]              sending.py: who has not received the letter yet
    /campaigns/<name>/audit                         audit.py: who did what, when, from where
    /lists, /lists/report.xlsx                      lists.py: validation of the recipient files
    /templates, POST /templates/upload              templates.py: the letter from Word, the field picker
    /templates/proposals/<sha256>[/mau.docx]        templates.py: what was recognised, the proposed template, its check
    POST /templates/proposals/<sha256>/save         templates.py: save it into templates/ (never over a file)
    /templates/files/<file>                         templates.py: the check of a template in templates/
    /templates/email/<name>, POST the same          templates.py: a campaign's own e-mail subject and text
    /accounts, POST /accounts[/<login>/…]           accounts.py: staff accounts (administrators)
    /account, POST /account/password                accounts.py: one's own account and password
    /xac-nhan/<token>, POST the same                receipt.py: a recipient confirms receipt (public)

Who may use each POST (and the account pages) is said with ``auth.requires`` beside its route.
"""

from . import accounts, actions, audit, campaigns, lists, receipt, recipient, sending, templates  # noqa: F401 (each registers its routes on bp)
from ._request import bp, redact
from .wiring import init_app

__all__ = ["bp", "init_app", "redact"]
