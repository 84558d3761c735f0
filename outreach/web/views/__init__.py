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
    /new-campaign, POST the same                    new_campaign.py: «Chiến dịch mới», campaigns/<name>.toml
    /lists, /lists/report.xlsx                      lists.py: validation of the recipient files
    /campaigns/<name>/lists                         campaign_lists.py: the campaign's own lists, versions
    POST /campaigns/<name>/lists/upload             campaign_lists.py: an upload, kept aside and checked
    /campaigns/<name>/lists/pending/<token>         campaign_lists.py: its report; POST …/accept, …/discard
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

from . import (  # noqa: F401 (each registers its routes on bp)
    accounts, actions, audit, campaign_lists, campaigns, lists, new_campaign, receipt, recipient, sending, templates,
)

from ._request import bp, redact
from .wiring import init_app

__all__ = ["bp", "init_app", "redact"]
