"""Turn the keystrokes of a keyboard-wedge barcode scanner back into text.

A wedge scanner "types" what it reads on a US keyboard layout and ends with
Enter (or Tab). This module is pure: no evdev, no Qt, no clock of its own. The
USB reader feeds it kernel key events and the touch UI's Qt fallback feeds it
key names, both as ``(key, value, time)``:

- ``key``: a Linux key name (``"KEY_A"``) or its evdev code (``30``);
- ``value``: ``UP`` (0), ``DOWN`` (1) or ``HOLD`` (2, the kernel's auto-repeat);
- ``time``: seconds, any monotonic origin (the event's own timestamp).

A scanner types a whole code in a few milliseconds; a gap longer than
``timeout`` between two key events means a person or line noise, so the
partial scan is thrown away.

Keys pressed with Ctrl, Alt or Meta type nothing (Ctrl+B, Alt+F4: some
scanners wrap codes in such keys), with two exceptions, both for control and
other characters a keyboard has no key for. A GS1 code needs the group
separator GS (0x1D) after a variable-length field such as the batch (AI 10),
and a scanner in keyboard mode types it as

- Ctrl+] (the ASCII control key for 0x1D, as Ctrl+M is Enter): the usual
  keyboard output of control characters (Datalogic's default, for one);
- an Alt code: Alt held while the character's decimal number is typed on the
  numeric keypad, Alt+029 or Alt+0029 (Honeywell's "ALT mode", Zebra's
  "Emulate Keypad", which may send every character so). Alt codes of GS and
  of printable ASCII characters are taken; others type nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

UP, DOWN, HOLD = 0, 1, 2

DEFAULT_TIMEOUT = 0.1  # seconds between two key events of one scan
DEFAULT_MAX_LENGTH = 4096

# Linux input-event-codes.h numbers, so the decoder needs no evdev (the Qt
# fallback runs on any OS). tests/unit/test_keydecoder.py checks them
# against evdev's table.
KEY_CODES: dict[str, int] = {
    "KEY_1": 2, "KEY_2": 3, "KEY_3": 4, "KEY_4": 5, "KEY_5": 6,
    "KEY_6": 7, "KEY_7": 8, "KEY_8": 9, "KEY_9": 10, "KEY_0": 11,
    "KEY_MINUS": 12, "KEY_EQUAL": 13, "KEY_TAB": 15,
    "KEY_Q": 16, "KEY_W": 17, "KEY_E": 18, "KEY_R": 19, "KEY_T": 20,
    "KEY_Y": 21, "KEY_U": 22, "KEY_I": 23, "KEY_O": 24, "KEY_P": 25,
    "KEY_LEFTBRACE": 26, "KEY_RIGHTBRACE": 27, "KEY_ENTER": 28, "KEY_LEFTCTRL": 29,
    "KEY_A": 30, "KEY_S": 31, "KEY_D": 32, "KEY_F": 33, "KEY_G": 34,
    "KEY_H": 35, "KEY_J": 36, "KEY_K": 37, "KEY_L": 38,
    "KEY_SEMICOLON": 39, "KEY_APOSTROPHE": 40, "KEY_GRAVE": 41, "KEY_LEFTSHIFT": 42,
    "KEY_BACKSLASH": 43,
    "KEY_Z": 44, "KEY_X": 45, "KEY_C": 46, "KEY_V": 47, "KEY_B": 48,
    "KEY_N": 49, "KEY_M": 50,
    "KEY_COMMA": 51, "KEY_DOT": 52, "KEY_SLASH": 53, "KEY_RIGHTSHIFT": 54,
    "KEY_KPASTERISK": 55, "KEY_LEFTALT": 56, "KEY_SPACE": 57,
    "KEY_KP7": 71, "KEY_KP8": 72, "KEY_KP9": 73, "KEY_KPMINUS": 74,
    "KEY_KP4": 75, "KEY_KP5": 76, "KEY_KP6": 77, "KEY_KPPLUS": 78,
    "KEY_KP1": 79, "KEY_KP2": 80, "KEY_KP3": 81, "KEY_KP0": 82, "KEY_KPDOT": 83,
    "KEY_KPENTER": 96, "KEY_RIGHTCTRL": 97, "KEY_KPSLASH": 98, "KEY_RIGHTALT": 100,
    "KEY_LEFTMETA": 125, "KEY_RIGHTMETA": 126,
}
KEY_NAMES: dict[int, str] = {code: name for name, code in KEY_CODES.items()}

# US layout: key -> (plain, with Shift).
_ROWS = (
    ("1234567890-=", "!@#$%^&*()_+", ("1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "MINUS", "EQUAL")),
    ("[]", "{}", ("LEFTBRACE", "RIGHTBRACE")),
    (";'`\\,./", ':"~|<>?', ("SEMICOLON", "APOSTROPHE", "GRAVE", "BACKSLASH", "COMMA", "DOT", "SLASH")),
)
KEYMAP: dict[str, tuple[str, str]] = {
    f"KEY_{suffix}": (plain, shifted)
    for plains, shifteds, suffixes in _ROWS
    for plain, shifted, suffix in zip(plains, shifteds, suffixes, strict=True)
}
KEYMAP.update({f"KEY_{c}": (c.lower(), c) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"})
KEYMAP["KEY_SPACE"] = (" ", " ")
# Some scanners type digits on the keypad; Shift does not change them.
KEYMAP.update({f"KEY_KP{d}": (d, d) for d in "0123456789"})
KEYMAP.update({
    "KEY_KPMINUS": ("-", "-"), "KEY_KPPLUS": ("+", "+"), "KEY_KPDOT": (".", "."),
    "KEY_KPSLASH": ("/", "/"), "KEY_KPASTERISK": ("*", "*"),
})

TERMINATORS = frozenset({"KEY_ENTER", "KEY_KPENTER", "KEY_TAB"})
SHIFTS = frozenset({"KEY_LEFTSHIFT", "KEY_RIGHTSHIFT"})
CTRLS = frozenset({"KEY_LEFTCTRL", "KEY_RIGHTCTRL"})
ALTS = frozenset({"KEY_LEFTALT", "KEY_RIGHTALT"})
METAS = frozenset({"KEY_LEFTMETA", "KEY_RIGHTMETA"})
# While one of these is down, a key is a control character (Ctrl+B, Alt+...),
# which never belongs in a scan, except for the two ways of typing GS above.
CONTROLS = CTRLS | ALTS | METAS

GS = "\x1d"
GS_KEY = "KEY_RIGHTBRACE"  # Ctrl+]
KEYPAD_DIGITS = {f"KEY_KP{d}": d for d in "0123456789"}
MAX_ALT_CODE_DIGITS = 4  # "0029": Windows' four-digit form with the leading zero


class KeyEvent(NamedTuple):
    key: str | int
    value: int
    time: float


def key_name(key: str | int) -> str | None:
    return KEY_NAMES.get(key) if isinstance(key, int) else key


class KeyDecoder:
    """Feed key events one by one; a finished scan comes back from ``feed``."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT, max_length: int = DEFAULT_MAX_LENGTH) -> None:
        self.timeout = timeout
        self.max_length = max_length
        self._held: set[str] = set()  # modifiers now down
        self._text: list[str] = []
        self._last: float | None = None
        self._overflow = False
        self._alt_code: str | None = None  # the digits typed while Alt is down; None: spoilt

    def reset(self) -> None:
        """Forget the partial scan (events were lost, or the device is gone)."""
        self._held.clear()
        self._discard()

    def feed(self, event: tuple[str | int, int, float]) -> str | None:
        key, value, time = event
        name = key_name(key)
        if self._last is not None and time - self._last > self.timeout:
            self._discard()  # a stall: whatever came before was not one scan
        self._last = time
        if name is None:
            return None
        if name in SHIFTS or name in CONTROLS:
            if value == UP:
                self._held.discard(name)
                if name in ALTS and not self._held & ALTS:
                    self._end_alt_code()
            elif name not in self._held:
                if name in ALTS and not self._held & ALTS:
                    self._alt_code = ""
                self._held.add(name)
            return None
        if value != DOWN:
            # Key-ups carry no text; a scanner never means auto-repeat, it
            # presses again for "00".
            return None
        if name in TERMINATORS:
            text = None if self._overflow else "".join(self._text) or None
            self._discard()
            return text
        if self._held & CONTROLS:
            self._chord(name)
            return None
        chars = KEYMAP.get(name)
        if chars is None:
            return None  # Escape, F-keys...: not part of a scan
        self._append(chars[1] if self._held & SHIFTS else chars[0])
        return None

    def _chord(self, name: str) -> None:
        """A key pressed with Ctrl, Alt or Meta: GS, a digit of an Alt code, or nothing."""
        held = self._held
        if name == GS_KEY and held & CTRLS and not held & (ALTS | METAS):
            self._append(GS)
        elif (
            name in KEYPAD_DIGITS and held & ALTS and not held & (CTRLS | METAS)
            and self._alt_code is not None and len(self._alt_code) < MAX_ALT_CODE_DIGITS
        ):
            self._alt_code += KEYPAD_DIGITS[name]
        else:
            self._alt_code = None  # Alt+F4 and the like: no Alt code either

    def _end_alt_code(self) -> None:
        """Alt released: the Alt code typed while it was down becomes its character."""
        code, self._alt_code = self._alt_code, None
        if code:
            char = chr(int(code))
            if char == GS or " " <= char <= "~":
                self._append(char)

    def _append(self, char: str) -> None:
        if len(self._text) >= self.max_length:
            self._overflow = True
            self._text.clear()
        if not self._overflow:
            self._text.append(char)

    def _discard(self) -> None:
        self._text.clear()
        self._overflow = False
        self._alt_code = None


def decode(
    events: Iterable[tuple[str | int, int, float]], timeout: float = DEFAULT_TIMEOUT
) -> list[str]:
    """Every complete scan in ``events``, in order."""
    decoder = KeyDecoder(timeout)
    return [text for event in events if (text := decoder.feed(event)) is not None]
