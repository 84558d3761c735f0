"""A QR code as a PNG, for a letter to print."""

from __future__ import annotations

import io


def qr_png(data: str) -> bytes:
    """A full QR symbol (never a Micro QR, which banking apps do not read) at error-correction level M,
    with the four-module quiet zone scanners need; the same data always gives the same bytes."""
    import segno  # ~300 ms of imports (urllib, xml): only a renewal letter draws a QR code

    symbol = segno.make_qr(data, error="m", boost_error=False)
    buffer = io.BytesIO()
    symbol.save(buffer, kind="png", scale=8, border=4)
    return buffer.getvalue()
