"""The GS1 element-string parser (stocky/core/gs1.py), against the
examples of the GS1 General Specifications ("GenSpecs"): the GTINs the
specification uses in its examples (09501101530003, 12345678901231), its
element strings as a scanner transmits them (symbology identifier, FNC1 as
GS after a variable-length field) and as printed in parentheses, its date
rules (day 00, the century of section 7.12). The strings are written out
from the specification's text; section numbers are those of recent
releases and move a little between releases."""

from __future__ import annotations

from datetime import date

import pytest

from stocky.core import gs1
from stocky.core.errors import InvalidInput

GS = "\x1d"


def test_the_gs1_128_example_of_section_5_4_7_with_use_by_and_batch():
    # GS1-128 (symbology identifier ]C1, GenSpecs 5.4): GTIN, use-by date,
    # and the batch last, so it needs no separator (GenSpecs 7.8).
    parsed = gs1.parse("]C1" "0112345678901231" "17251231" "10AB-123")
    assert parsed == gs1.Gs1(gtin="12345678901231", use_by=date(2025, 12, 31), batch="AB-123")


def test_the_gs1_datamatrix_example_with_batch_ended_by_gs_then_a_date():
    # GS1 DataMatrix (]d2, GenSpecs 5.6): a variable-length AI (10) not in last place
    # ends with FNC1, transmitted as GS (0x1D); the predefined-length AI (15) needs none.
    parsed = gs1.parse(f"]d20109501101530003" "10ABC123" f"{GS}" "15261000")
    assert parsed.gtin == "09501101530003"
    assert parsed.batch == "ABC123"
    assert parsed.best_before == date(2026, 10, 31)  # day 00: the month's last day (GenSpecs 3.4.5)
    assert parsed.product_code == "9501101530003"  # leading 0: the EAN-13 on the pack


def test_the_human_readable_form_in_parentheses():
    # The human-readable interpretation (GenSpecs 4.15): AIs in parentheses.
    parsed = gs1.parse("(01)09501101530003(17)261231(10)AB-123")
    assert parsed.gtin == "09501101530003"
    assert parsed.use_by == date(2026, 12, 31)
    assert parsed.batch == "AB-123"


@pytest.mark.parametrize("prefix", ["]d2", "]C1", "]Q3", "]e0", ""])
def test_every_symbology_prefix_and_none(prefix):
    parsed = gs1.parse(f"{prefix}010950110153000317270228")
    assert parsed.gtin == "09501101530003"
    assert parsed.use_by == date(2027, 2, 28)


def test_use_by_wins_over_best_before_and_other_fixed_fields_are_skipped():
    # AI 11 (production date) and 13 (packaging date) are fixed length; 21 (serial) variable.
    text = f"]d20109501101530003112601011326010215270101{GS}17261130" "21SERIAL9"
    parsed = gs1.parse(text)
    assert parsed.best_before == date(2027, 1, 1)
    assert parsed.use_by == date(2026, 11, 30)
    assert parsed.date == date(2026, 11, 30)


def test_a_upc_a_product_folds_to_the_ean_13_stocky_stores():
    parsed = gs1.parse("]C1" "0100036000291452" "15260101")
    assert parsed.product_code == "0036000291452"


def test_plain_barcodes_are_not_gs1():
    for code in ("4006381333931", "036000291452", "0109501101530004", "hello", "(10)AB"):
        assert gs1.parse(code) is None


def test_digits_are_0_to_9_only():
    # str.isdigit() is true for "³"; int() reads "３" (fullwidth), "٣" (Arabic-Indic), "३" (Devanagari).
    # Without a symbology prefix or "(01)" these are not GS1 at all: plain barcodes.
    assert gs1.parse("010950110153000\u00b3") is None
    assert gs1.parse("(\u0660\u0661)09501101530003") is None
    assert not gs1.gtin_valid("0950110153000\uff13")
    for text, why in [
        ("]d2010950110153000\u00b3", "14 digits 0-9"),
        ("(01)0950110153000\u0663", "14 digits 0-9"),
        ("]d20109501101530003172612\uff131", "YYMMDD"),
        ("]d20109501101530003\u0967\u096d261231", "no application identifier"),
    ]:
        with pytest.raises(InvalidInput) as refused:
            gs1.parse(text)
        assert why in refused.value.message, text


@pytest.mark.parametrize(
    "text, why",
    [
        ("]d20109501101530004", "check digit"),
        ("]d2010950110153000317261301", "month 13"),
        ("]d2010950110153000317260230", "no day 30"),
        ("]d201095011015300031726", "ends inside"),
        ("]C110AB", "no GTIN"),
        ("(01)09501101530003(17)2612", "YYMMDD"),
        ("]d2010950110153000317261231XX", "no application identifier"),
    ],
)
def test_a_broken_gs1_code_is_refused_with_the_reason(text, why):
    with pytest.raises(InvalidInput) as refused:
        gs1.parse(text)
    assert why in refused.value.message


def test_the_century_follows_section_7_12():
    today_yy = date.today().year % 100
    far_back = f"{(today_yy - 60) % 100:02d}"
    parsed = gs1.parse(f"]d20109501101530003" f"17{far_back}0101")
    assert parsed.use_by.year == date.today().year + 40  # 60 years back is read as 40 ahead
