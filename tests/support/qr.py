"""Reading QR codes off screenshots and printed pages, with a real decoder
(zxing-cpp), as a phone's camera reads them."""

from __future__ import annotations

import pytest


def decode_qr_codes(pixels: memoryview) -> list[str]:
    """Every QR code in a greyscale image (rows x columns), by zxing-cpp."""
    zxingcpp = pytest.importorskip("zxingcpp", reason="zxing-cpp is not installed")
    return [code.text for code in zxingcpp.read_barcodes(pixels, formats=zxingcpp.BarcodeFormat.QRCode)]
