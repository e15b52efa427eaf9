"""QR codes for labels and command cards, as PNG or SVG.

Rendering is CPU work: callers on the event loop use an executor.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import qrcode

QrFormat = Literal["png", "svg"]
MEDIA_TYPES: dict[str, str] = {"png": "image/png", "svg": "image/svg+xml"}


def _code(text: str) -> qrcode.QRCode:
    # Imported on first use: it adds a tenth of a second to every start.
    import qrcode

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=4)
    code.add_data(text)
    code.make(fit=True)
    return code


def render(text: str, fmt: QrFormat = "png") -> bytes:
    import qrcode.image.pure
    import qrcode.image.svg

    factory = qrcode.image.pure.PyPNGImage if fmt == "png" else qrcode.image.svg.SvgPathImage
    out = io.BytesIO()
    _code(text).make_image(image_factory=factory).save(out)
    return out.getvalue()


def matrix(text: str) -> list[list[bool]]:
    """The modules of the code, quiet zone included (for drawing it in Qt)."""
    return _code(text).get_matrix()
