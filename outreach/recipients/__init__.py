"""Recipient lists: read (XLSX/CSV), normalise, validate and report, before anything is merged."""

from .model import Problem, Recipient, RecipientList
from .validate import KINDS, guess_kind, load_list, tax_code_valid

__all__ = ["KINDS", "Problem", "Recipient", "RecipientList", "guess_kind", "load_list", "tax_code_valid"]
