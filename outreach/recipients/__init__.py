"""Recipient lists: read (XLSX/CSV), normalise, validate and report, before anything is merged;
and who sends each recipient's copy (``routing``, section 9 of the reference letter)."""

from .model import Problem, Recipient, RecipientList
from .report import SEVERITY_LABELS, ValidationSummary, format_terminal, write_xlsx
from .routing import Route, RoutingError, check_coverage, find_district_office, route
from .validate import KINDS, guess_kind, load_list, tax_code_valid

__all__ = [
    "KINDS",
    "Problem",
    "Recipient",
    "RecipientList",
    "Route",
    "RoutingError",
    "SEVERITY_LABELS",
    "ValidationSummary",
    "check_coverage",
    "find_district_office",
    "format_terminal",
    "guess_kind",
    "load_list",
    "route",
    "tax_code_valid",
    "write_xlsx",
]
