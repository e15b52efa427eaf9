"""Connect a phone: a sheet with a QR code for the phone's camera, the
addresses to type instead, and the fingerprint that tells this box's
certificate from any other (DESIGN section 16)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QBoxLayout, QVBoxLayout, QWidget

from stocky.https import Https
from stocky_touch.widgets.common import hint, label
from stocky_touch.widgets.narrow import is_narrow
from stocky_touch.widgets.qr import QrCode
from stocky_touch.widgets.sheet import Sheet

CAMERA = "Scan this with the phone's camera"
BYTES_A_LINE = 8  # the SHA-256's 32 bytes in four lines, to compare a piece at a time


def plain_address(host: str, port: int, path: str = "") -> str:
    return f"http://{host}{'' if port == 80 else f':{port}'}/{path}"


def fingerprint_lines(fingerprint: str) -> str:
    pairs = fingerprint.split(":")
    return "\n".join(":".join(pairs[at:at + BYTES_A_LINE]) for at in range(0, len(pairs), BYTES_A_LINE))


def _address(text: str) -> QWidget:
    widget = label(text, name="address", wrap=True)
    widget.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return widget


def _steps(https: Https, http_port: int) -> tuple[str, list[QWidget]]:
    """What the QR code holds, and the words beside it."""
    secure = https.address()
    if secure is None:
        address = plain_address(https.host, http_port)
        return address, [
            label(f"{CAMERA} to open Stocky, or type:", wrap=True), _address(address),
            hint("Stocky's secure address (HTTPS) is turned off here: on the phone Stocky cannot use "
                 "the camera to scan, and the shopping list does not open without a connection."),
        ]
    if https.fingerprint is None:  # a certificate from elsewhere: the phone trusts it already
        return secure, [label(f"{CAMERA} to open Stocky, or type:", wrap=True), _address(secure)]
    # The QR code opens the /connect page over plain HTTP, not the secure
    # address: a phone that does not trust Stocky's certificate yet would get
    # only a warning there. The page installs the certificate and then
    # leads on to the secure address, which is shown here to type as well.
    connect = plain_address(https.host, http_port, "connect")
    return connect, [
        label(f"1. {CAMERA} and open the page: it shows how to make the phone trust Stocky, "
              "once for each phone.", wrap=True),
        _address(connect),
        label("2. Then open Stocky on the phone at:", wrap=True),
        _address(secure),
        hint("When the phone installs Stocky's certificate it shows a fingerprint (SHA-256). It must read:"),
        label(fingerprint_lines(https.fingerprint), name="fingerprint"),
    ]


def connect_phone(anchor: QWidget, https: Https, http_port: int) -> Sheet:
    """The sheet: the code beside the words, or above them on a narrow screen."""
    code_text, words = _steps(https, http_port)
    room = anchor.window().size()
    narrow = is_narrow(anchor)
    # Big enough for a camera at arm's length; what is left beside it (or
    # under it) is the words' room.
    if narrow:
        side = min(room.width() - 60, room.height() * 3 // 8)
    else:
        side = min(room.height() - 170, room.width() * 2 // 5)
    body = QWidget()
    body.setObjectName("page")
    layout = QBoxLayout(QBoxLayout.Direction.TopToBottom if narrow else QBoxLayout.Direction.LeftToRight, body)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(16)
    layout.addWidget(QrCode(code_text, size=max(160, side)),
                     0, Qt.AlignmentFlag.AlignHCenter if narrow else Qt.AlignmentFlag.AlignTop)
    column = QVBoxLayout()
    column.setSpacing(8)
    for widget in words:
        # The fingerprint's box as wide as its lines; the words as the column.
        boxed = widget.objectName() == "fingerprint"
        column.addWidget(widget, 0, Qt.AlignmentFlag.AlignLeft if boxed else Qt.AlignmentFlag(0))
    column.addStretch(1)
    layout.addLayout(column, 1)
    return Sheet(anchor, f"Connect a phone to {https.host}", body, (("Done", None, "primary"),))
