"""Recipient lists: read (XLSX/CSV), normalise, validate and report, before anything is merged;
and who sends each recipient's copy (``routing``, section 9 of the reference letter)."""

from .campaign_lists import (LIST_SUFFIXES, CampaignLists, ListVersion, PendingUpload, campaign_list_files,
                             own_list)
from .model import Participation, Problem, Recipient, RecipientList
from .participants import PaymentError, PaymentProblem, contribution_of, payment_problems
from .report import SEVERITY_LABELS, ValidationSummary, format_terminal, write_xlsx
from .routing import Route, RoutingError, check_coverage, find_district_office, payment_account, route
from .validate import KINDS, guess_kind, load_list, tax_code_valid

__all__ = [
    "CampaignLists",
    "KINDS",
    "LIST_SUFFIXES",
    "ListVersion",
    "Participation",
    "PaymentError",
    "PaymentProblem",
    "PendingUpload",
    "Problem",
    "Recipient",
    "RecipientList",
    "Route",
    "RoutingError",
    "SEVERITY_LABELS",
    "ValidationSummary",
    "campaign_list_files",
    "check_coverage",
    "contribution_of",
    "find_district_office",
    "format_terminal",
    "guess_kind",
    "load_list",
    "own_list",
    "payment_account",
    "payment_problems",
    "route",
    "tax_code_valid",
    "write_xlsx",
]
