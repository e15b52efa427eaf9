"""The wedge-scanner key decoder: what a scanner types on a US keyboard comes
back as the exact text of the code, and typing that is not a scan is dropped."""

from __future__ import annotations

import json

import pytest

from stocky.inputs.keydecoder import DOWN, HOLD, KEY_CODES, UP, KeyDecoder, decode

# A real scan of EAN-13 4006381333931 with a Symbol LS2208, as evdev codes
# (key, value, time), SYN events left out: down/up pairs about 4 ms apart.
RECORDED_EAN = [
    (5, 1, 100.000), (5, 0, 100.002), (11, 1, 100.004), (11, 0, 100.006),
    (11, 1, 100.008), (11, 0, 100.010), (7, 1, 100.012), (7, 0, 100.014),
    (4, 1, 100.016), (4, 0, 100.018), (9, 1, 100.020), (9, 0, 100.022),
    (2, 1, 100.024), (2, 0, 100.026), (4, 1, 100.028), (4, 0, 100.030),
    (4, 1, 100.032), (4, 0, 100.034), (4, 1, 100.036), (4, 0, 100.038),
    (10, 1, 100.040), (10, 0, 100.042), (4, 1, 100.044), (4, 0, 100.046),
    (2, 1, 100.048), (2, 0, 100.050), (28, 1, 100.052), (28, 0, 100.054),
]

# The US layout written out independently of the decoder's table.
_PLAIN = {" ": "SPACE", "-": "MINUS", ",": "COMMA", ".": "DOT", "/": "SLASH", ";": "SEMICOLON",
          "'": "APOSTROPHE", "[": "LEFTBRACE", "]": "RIGHTBRACE", "=": "EQUAL", "\\": "BACKSLASH"}
_SHIFTED = {"{": "LEFTBRACE", "}": "RIGHTBRACE", '"': "APOSTROPHE", ":": "SEMICOLON", "_": "MINUS",
            "!": "1", "@": "2", "#": "3", "$": "4", "%": "5", "^": "6", "&": "7", "*": "8",
            "(": "9", ")": "0", "+": "EQUAL", "<": "COMMA", ">": "DOT", "?": "SLASH", "|": "BACKSLASH"}


def typed(text: str, start: float = 0.0, step: float = 0.004, shift: str = "KEY_LEFTSHIFT",
          end: str | None = "KEY_ENTER") -> list[tuple[str, int, float]]:
    """The key events a wedge scanner sends for ``text`` and a terminator."""
    events: list[tuple[str, int, float]] = []
    clock = iter(start + i * step for i in range(10_000))

    def press(key: str) -> None:
        events.append((key, DOWN, next(clock)))
        events.append((key, UP, next(clock)))

    for char in text:
        if char.isdigit() or char.islower():
            press(f"KEY_{char.upper()}")
        elif char.isupper() or char in _SHIFTED:
            events.append((shift, DOWN, next(clock)))
            press(f"KEY_{char}" if char.isupper() else f"KEY_{_SHIFTED[char]}")
            events.append((shift, UP, next(clock)))
        else:
            press(f"KEY_{_PLAIN[char]}")
    if end:
        press(end)
    return events


def test_a_recorded_ean_decodes_to_its_digits():
    assert decode(RECORDED_EAN) == ["4006381333931"]


def test_key_codes_are_the_kernels():
    ecodes = pytest.importorskip("evdev.ecodes")
    assert {name: ecodes.ecodes[name] for name in KEY_CODES} == KEY_CODES


@pytest.mark.parametrize("shift", ["KEY_LEFTSHIFT", "KEY_RIGHTSHIFT"])
def test_a_json_command_card_decodes_exactly(shift):
    card = '{"command":"set_mode","payload":"remove"}'
    (text,) = decode(typed(card, shift=shift))
    assert text == card
    assert json.loads(text) == {"command": "set_mode", "payload": "remove"}


def test_every_printable_ascii_character_survives():
    text = "".join(chr(c) for c in range(32, 127) if chr(c) not in "`~")
    assert decode(typed(text)) == [text]


def test_mixed_case_and_a_location_uuid():
    card = '{"command":"set_location","payload":"0b5c3f2e-9d1a-4c7e-8f00-aa11bb22cc33"}'
    assert decode(typed("Milk-1L") + typed(card, start=1.0)) == ["Milk-1L", card]


@pytest.mark.parametrize("end", ["KEY_ENTER", "KEY_KPENTER", "KEY_TAB"])
def test_enter_keypad_enter_and_tab_end_a_scan(end):
    assert decode(typed("4006381333931", end=end)) == ["4006381333931"]


def test_nothing_comes_out_before_the_terminator():
    decoder = KeyDecoder()
    assert [decoder.feed(event) for event in typed("123", end=None)] == [None] * 6
    assert decoder.feed(("KEY_ENTER", DOWN, 0.03)) == "123"


def test_noise_keys_then_a_pause_are_dropped():
    # A cat on the keyboard types "qx", then, a second later, a real scan.
    noise = [("KEY_Q", DOWN, 0.0), ("KEY_Q", UP, 0.01), ("KEY_X", DOWN, 0.02), ("KEY_X", UP, 0.03)]
    assert decode(noise + typed("4006381333931", start=1.0)) == ["4006381333931"]


def test_a_scan_that_stalls_midway_is_discarded():
    # Half a code, then nothing (events lost, the scanner unplugged in the
    # middle); 300 ms later the next scan must not be glued onto it.
    half = typed("400638", end=None)
    after = typed("5000112637922", start=half[-1][2] + 0.3)
    assert decode(half + after) == ["5000112637922"]
    # Nor does a terminator after the stall turn the fragment into a scan.
    assert decode(half + [("KEY_ENTER", DOWN, half[-1][2] + 0.3)]) == []


def test_the_timeout_is_configurable():
    slow = typed("123", step=0.15)  # a slow Bluetooth scanner
    assert decode(slow) == []
    assert decode(slow, timeout=0.2) == ["123"]


def test_control_characters_are_dropped():
    # Some scanners wrap codes in Ctrl+B ... Ctrl+C, and send Escape or F-keys.
    events = [("KEY_LEFTCTRL", DOWN, 0.000), ("KEY_B", DOWN, 0.001), ("KEY_B", UP, 0.002),
              ("KEY_LEFTCTRL", UP, 0.003), ("KEY_ESC", DOWN, 0.004), ("KEY_ESC", UP, 0.005),
              (59, DOWN, 0.006), (59, UP, 0.007)]  # 59: KEY_F1
    events += typed("12345", start=0.008, end=None)
    events += [("KEY_RIGHTCTRL", DOWN, 0.05), ("KEY_C", DOWN, 0.051), ("KEY_C", UP, 0.052),
               ("KEY_RIGHTCTRL", UP, 0.053), ("KEY_ENTER", DOWN, 0.054)]
    assert decode(events) == ["12345"]


def test_auto_repeat_and_key_ups_add_nothing():
    events = [("KEY_4", DOWN, 0.0), ("KEY_4", HOLD, 0.03), ("KEY_4", HOLD, 0.06),
              ("KEY_4", UP, 0.07), ("KEY_2", DOWN, 0.08), ("KEY_2", UP, 0.09),
              ("KEY_ENTER", DOWN, 0.1), ("KEY_ENTER", HOLD, 0.13), ("KEY_ENTER", UP, 0.14)]
    assert decode(events) == ["42"]


def test_repeated_characters_are_separate_presses():
    assert decode(typed("1000")) == ["1000"]


def test_shift_released_means_lower_case_again():
    events = [("KEY_LEFTSHIFT", DOWN, 0.0), ("KEY_RIGHTSHIFT", DOWN, 0.001),
              ("KEY_A", DOWN, 0.002), ("KEY_LEFTSHIFT", UP, 0.003),
              ("KEY_B", DOWN, 0.004),  # the right Shift is still down
              ("KEY_RIGHTSHIFT", UP, 0.005), ("KEY_C", DOWN, 0.006), ("KEY_ENTER", DOWN, 0.007)]
    assert decode(events) == ["ABc"]


def test_an_empty_scan_and_unknown_codes_yield_nothing():
    assert decode([("KEY_ENTER", DOWN, 0.0), (999, DOWN, 0.01), ("KEY_TAB", DOWN, 0.02)]) == []


def test_an_overlong_scan_is_dropped_whole():
    decoder = KeyDecoder(max_length=5)
    results = [decoder.feed(event) for event in typed("1234567")]
    assert [r for r in results if r is not None] == []
    assert [decoder.feed(event) for event in typed("12", start=1.0)][-2:] == ["12", None]


def test_reset_forgets_a_partial_scan():
    decoder = KeyDecoder()
    for event in typed("999", end=None):
        decoder.feed(event)
    decoder.reset()
    assert [r for e in typed("42", start=0.05) if (r := decoder.feed(e))] == ["42"]


# -- the GS1 group separator (GS, 0x1D) -----------------------------------------

GS = "\x1d"


def chord(modifiers: list[str], keys: list[str], start: float, step: float = 0.004) -> list[tuple[str, int, float]]:
    """Modifiers held down while ``keys`` are pressed one by one, then released."""
    names = [*((m, DOWN) for m in modifiers),
             *((k, v) for key in keys for k, v in ((key, DOWN), (key, UP))),
             *((m, UP) for m in reversed(modifiers))]
    return [(name, value, start + i * step) for i, (name, value) in enumerate(names)]


def ctrl_bracket(start: float, ctrl: str = "KEY_LEFTCTRL") -> list[tuple[str, int, float]]:
    return chord([ctrl], ["KEY_RIGHTBRACE"], start)


def alt_code(digits: str, start: float, alt: str = "KEY_LEFTALT") -> list[tuple[str, int, float]]:
    return chord([alt], [f"KEY_KP{d}" for d in digits], start)


def typed_with_gs(head: str, separator, tail: str) -> list[tuple[str, int, float]]:
    """``head``, GS typed by ``separator``, ``tail`` and Enter."""
    first = typed(head, end=None)
    gs = separator(first[-1][2] + 0.004)
    return first + gs + typed(tail, start=gs[-1][2] + 0.004)


def gs1_typed(separator) -> list[tuple[str, int, float]]:
    """A GS1 DataMatrix as a wedge scanner types it: the batch (AI 10, any
    length) needs GS before the use-by date that follows it."""
    return typed_with_gs("]d2010950110153000310ABC123", separator, "17271231")


@pytest.mark.parametrize(
    "separator",
    [
        pytest.param(lambda at: ctrl_bracket(at), id="ctrl+]"),
        pytest.param(lambda at: ctrl_bracket(at, "KEY_RIGHTCTRL"), id="right-ctrl+]"),
        pytest.param(lambda at: alt_code("0029", at), id="alt+0029"),
        pytest.param(lambda at: alt_code("029", at), id="alt+029"),
        pytest.param(lambda at: alt_code("29", at, "KEY_RIGHTALT"), id="right-alt+29"),
    ],
)
def test_a_gs1_code_keeps_its_group_separator_and_its_date(separator):
    from stocky.core import gs1

    (text,) = decode(gs1_typed(separator))
    assert text == f"]d2010950110153000310ABC123{GS}17271231"
    element = gs1.parse(text)
    assert (element.batch, element.use_by.isoformat()) == ("ABC123", "2027-12-31")


def test_every_character_may_come_as_an_alt_code():
    # Scanners set to emulate the keypad type each character as its Alt code.
    events: list[tuple[str, int, float]] = []
    for char in "]C1Milk-1L":
        events += alt_code(f"{ord(char):04d}", events[-1][2] + 0.004 if events else 0.0)
    events.append(("KEY_ENTER", DOWN, events[-1][2] + 0.004))
    assert decode(events) == ["]C1Milk-1L"]


def test_the_group_separator_survives_auto_repeat_of_its_modifier():
    events = [("KEY_LEFTALT", DOWN, 0.0), ("KEY_KP2", DOWN, 0.001), ("KEY_KP2", UP, 0.002),
              ("KEY_LEFTALT", HOLD, 0.03), ("KEY_KP9", DOWN, 0.031), ("KEY_KP9", UP, 0.032),
              ("KEY_LEFTALT", UP, 0.033), ("KEY_1", DOWN, 0.034), ("KEY_ENTER", DOWN, 0.035)]
    assert decode(events) == [f"{GS}1"]


@pytest.mark.parametrize(
    "keys",
    [
        pytest.param(chord(["KEY_LEFTCTRL"], ["KEY_B"], 0.0), id="ctrl+b"),
        pytest.param(chord(["KEY_LEFTCTRL"], ["KEY_LEFTBRACE"], 0.0), id="ctrl+[ (escape)"),
        pytest.param(chord(["KEY_LEFTCTRL", "KEY_LEFTALT"], ["KEY_RIGHTBRACE"], 0.0), id="ctrl+alt+]"),
        pytest.param(chord(["KEY_LEFTMETA"], ["KEY_RIGHTBRACE"], 0.0), id="meta+]"),
        pytest.param(chord(["KEY_LEFTALT"], ["KEY_RIGHTBRACE"], 0.0), id="alt+]"),
        pytest.param(chord(["KEY_LEFTALT"], ["KEY_F"], 0.0), id="alt+f"),
        pytest.param(chord(["KEY_LEFTALT"], ["KEY_2", "KEY_9"], 0.0), id="alt+29 off the keypad"),
        pytest.param(alt_code("0007", 0.0), id="alt+0007 (bell)"),
        pytest.param(alt_code("0013", 0.0), id="alt+0013 (carriage return)"),
        pytest.param(alt_code("00029", 0.0), id="alt+00029 (five digits)"),
        pytest.param(alt_code("0233", 0.0), id="alt+0233 (not ascii)"),
        pytest.param(chord(["KEY_LEFTALT"], ["KEY_KP2", "KEY_X", "KEY_KP9"], 0.0), id="alt+2 x 9"),
        pytest.param(chord(["KEY_LEFTALT", "KEY_LEFTCTRL"], ["KEY_KP2", "KEY_KP9"], 0.0), id="ctrl+alt+29"),
    ],
)
def test_other_control_chords_still_type_nothing(keys):
    events = typed("12", end=None) + [(k, v, t + 0.01) for k, v, t in keys]
    events += typed("34", start=events[-1][2] + 0.004)
    assert decode(events) == ["1234"]


def test_an_alt_code_cut_by_a_stall_types_nothing():
    events = [("KEY_LEFTALT", DOWN, 0.0), ("KEY_KP2", DOWN, 0.001), ("KEY_KP2", UP, 0.002),
              ("KEY_KP9", DOWN, 0.5), ("KEY_KP9", UP, 0.501), ("KEY_LEFTALT", UP, 0.502)]
    events += typed("42", start=0.503)
    assert decode(events) == ["42"]


@pytest.mark.parametrize("prefix", ["]C1", "]d2", "]Q3", "]e0"])
def test_the_symbology_prefix_a_scanner_types_comes_through(prefix):
    from stocky.core import gs1

    (text,) = decode(typed_with_gs(f"{prefix}0109501101530003", ctrl_bracket, "15270600"))
    assert text == f"{prefix}0109501101530003{GS}15270600"
    assert gs1.parse(text).best_before.isoformat() == "2027-06-30"  # day 00: the month's end
