"""Paying voluntary social insurance, as pure functions: the amount of the next period from the
dated rules in config.toml (``contribution``), and the VietQR transfer code (``vietqr``, drawn as a
PNG by ``qr_image``). Nothing here reads files or knows a recipient."""

from .contribution import (
    Contribution,
    ContributionError,
    ContributionRules,
    Month,
    format_dong,
    next_period,
)
from .qr_image import qr_png
from .vietqr import crc16_ccitt_false, transfer_payload, with_crc

__all__ = [
    "Contribution",
    "ContributionError",
    "ContributionRules",
    "Month",
    "crc16_ccitt_false",
    "format_dong",
    "next_period",
    "qr_png",
    "transfer_payload",
    "with_crc",
]
