"""The verification QR code printed on each contract, as an SVG data URI weasyprint embeds as vectors."""

from __future__ import annotations

import segno


def qr_data_uri(url: str) -> str:
    # Level M survives a creased or smudged printout; segno raises it further when space allows.
    return segno.make(url, error="m", micro=False).svg_data_uri(scale=4, border=2)
