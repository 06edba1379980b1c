"""Money: integer minor units of one ISO 4217 currency; arithmetic within one currency, rounding
half to even, exact parsing by the currency's exponent, formatting in English and Chinese."""

from __future__ import annotations

import doctest
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import kehu.core.money
from kehu.core.money import Money, currency_code, currency_exponent
from kehu.errors import CurrencyError, CurrencyMismatchError, InputError


def test_the_module_examples_hold() -> None:
    assert doctest.testmod(kehu.core.money, raise_on_error=True).attempted >= 4


# -- currencies and their minor units ----------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "exponent"),
    [("JPY", 0), ("KRW", 0), ("CNY", 2), ("EUR", 2), ("USD", 2), ("KWD", 3), ("CLF", 4)],
)
def test_exponents_are_iso_4217(code: str, exponent: int) -> None:
    assert currency_exponent(code) == exponent


def test_exponents_are_iso_not_the_display_digits_of_cldr() -> None:
    # Babel (CLDR) shows HUF, IDR and IQD without decimals; ISO 4217 gives them 2, 2 and 3,
    # and stored integers must not change scale with a Babel release
    assert (currency_exponent("HUF"), currency_exponent("IDR"), currency_exponent("IQD")) == (
        2,
        2,
        3,
    )


def test_codes_are_normalised_and_unknown_ones_refused() -> None:
    assert currency_code(" cny ") == "CNY"
    assert Money(1, "usd").currency == "USD"
    with pytest.raises(CurrencyError, match="'UDS' is not an ISO 4217 currency code"):
        Money(1, "UDS")
    with pytest.raises(CurrencyError, match="3-letter"):
        Money(1, "US")
    with pytest.raises(CurrencyError, match="XAU has no minor unit"):
        Money(1, "XAU")
    assert issubclass(CurrencyError, InputError)  # 422 in the API, exit code 3 in the CLI


def test_minor_units_are_integers_never_floats() -> None:
    with pytest.raises(TypeError, match="float"):
        Money(12.5, "CNY")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="integer"):
        Money(True, "CNY")
    with pytest.raises(TypeError, match="integer"):
        Money("1250", "CNY")  # type: ignore[arg-type]
    numpy = pytest.importorskip("numpy")
    amount = Money(numpy.int64(1250), "CNY")  # type: ignore[arg-type]
    assert type(amount.minor) is int and amount == Money(1250, "CNY")


# -- parsing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("12.34", "CNY", 1234),
        ("-3.10", "USD", -310),
        ("12.340", "EUR", 1234),  # trailing zeros are no extra precision
        ("1234", "JPY", 1234),
        ("1.005", "KWD", 1005),
        ("0.0001", "CLF", 1),
        ("1E+3", "JPY", 1000),
        (" 7 ", "CNY", 700),
    ],
)
def test_parsing_uses_the_currencys_exponent(text: str, currency: str, minor: int) -> None:
    assert Money.of(text, currency) == Money(minor, currency)
    assert Money.of(Decimal(text.strip()), currency) == Money(minor, currency)


def test_parsing_is_exact_unless_a_rounding_is_named() -> None:
    with pytest.raises(CurrencyError, match=r"1\.5 has more decimals than JPY has \(0\)"):
        Money.of("1.5", "JPY")
    with pytest.raises(CurrencyError, match="more decimals than CNY has"):
        Money.of("0.125", "CNY")
    assert Money.of("0.125", "CNY", rounding="ROUND_HALF_EVEN") == Money(12, "CNY")
    assert Money.of("0.125", "CNY", rounding=ROUND_HALF_UP) == Money(13, "CNY")
    assert Money.of(30, "USD") == Money(3000, "USD")


@pytest.mark.parametrize("bad", ["abc", "", "NaN", "Infinity", "1,5"])
def test_parsing_refuses_what_is_no_amount(bad: str) -> None:
    with pytest.raises(CurrencyError):
        Money.of(bad, "CNY")


def test_parsing_refuses_floats() -> None:
    with pytest.raises(TypeError, match="float amount"):
        Money.of(0.1, "CNY")  # type: ignore[arg-type]


def test_amount_and_text() -> None:
    assert Money(1234, "CNY").amount == Decimal("12.34")
    assert Money(-5, "KWD").amount == Decimal("-0.005")
    assert Money(1234, "JPY").amount == Decimal(1234)
    assert str(Money(-50, "USD")) == "-0.50 USD"
    assert str(Money(1234, "JPY")) == "1234 JPY"


# -- arithmetic --------------------------------------------------------------------------------


def test_addition_and_subtraction_within_one_currency() -> None:
    a, b = Money(1234, "CNY"), Money(66, "CNY")
    assert a + b == Money(1300, "CNY")
    assert a - b == Money(1168, "CNY")
    assert -a == Money(-1234, "CNY") and abs(-a) == a
    assert Money.total([a, b, b], "CNY") == Money(1366, "CNY")
    assert Money.total([], "JPY") == Money.zero("JPY")
    assert b < a and a >= b and not a < b and a <= a


def test_mixing_currencies_is_refused_with_both_named() -> None:
    yuan, dollars = Money(100, "CNY"), Money(100, "USD")
    for operation in (
        lambda: yuan + dollars,
        lambda: yuan - dollars,
        lambda: yuan < dollars,
        lambda: yuan >= dollars,
        lambda: Money.total([yuan, dollars], "CNY"),
    ):
        with pytest.raises(CurrencyMismatchError, match="CNY and USD"):
            operation()
    # equality is no arithmetic: two currencies are simply different amounts
    assert yuan != dollars
    assert len({yuan, dollars, Money(100, "CNY")}) == 2
    with pytest.raises(TypeError, match="both must be Money"):
        yuan + 1  # type: ignore[operator]


def test_multiplication_by_an_integer_is_exact() -> None:
    assert Money(1234, "CNY") * 3 == Money(3702, "CNY")
    assert 3 * Money(1234, "CNY") == Money(3702, "CNY")
    assert Money(-7, "JPY") * 0 == Money(0, "JPY")


@pytest.mark.parametrize(
    ("minor", "ratio", "expected"),
    [
        (5, "0.5", 2),  # 2.5 -> 2: ties to the even neighbour
        (7, "0.5", 4),  # 3.5 -> 4
        (15, "0.1", 2),  # 1.5 -> 2
        (25, "0.1", 2),  # 2.5 -> 2
        (-25, "0.1", -2),  # -2.5 -> -2
        (-35, "0.1", -4),  # -3.5 -> -4
        (1000, "0.333", 333),
        (1001, "0.0015", 2),  # 1.5015 -> 2: above the tie
        (10**20 + 1, "0.5", 5 * 10**19),  # exact beyond float and Decimal's 28 digits
    ],
)
def test_multiplication_by_a_ratio_rounds_half_to_even(
    minor: int, ratio: str, expected: int
) -> None:
    assert Money(minor, "USD") * Decimal(ratio) == Money(expected, "USD")


def test_division_by_a_whole_number_rounds_half_to_even() -> None:
    assert Money(10, "USD") / 4 == Money(2, "USD")  # 2.5
    assert Money(14, "USD") / 4 == Money(4, "USD")  # 3.5
    assert Money(10, "USD") / 3 == Money(3, "USD")
    assert Money(-10, "USD") / 4 == Money(-2, "USD")
    assert Money(10, "USD") / -4 == Money(-2, "USD")
    with pytest.raises(ZeroDivisionError):
        Money(10, "USD") / 0


def test_floats_are_refused_as_factor_and_divisor() -> None:
    with pytest.raises(TypeError, match="float factor"):
        Money(100, "CNY") * 1.5  # type: ignore[operator]
    with pytest.raises(TypeError, match="float divisor"):
        Money(100, "CNY") / 2.0  # type: ignore[operator]
    with pytest.raises(ValueError, match="NaN"):
        Money(100, "CNY") * Decimal("NaN")
    with pytest.raises(TypeError):
        Money(100, "CNY") * Money(2, "CNY")  # type: ignore[operator]


@given(
    st.integers(min_value=-(10**15), max_value=10**15),
    st.decimals(min_value=-1000, max_value=1000, allow_nan=False, allow_infinity=False, places=6),
)
def test_a_ratio_product_is_the_exact_product_rounded_once(minor: int, ratio: Decimal) -> None:
    product = Money(minor, "EUR") * ratio
    exact = Decimal(minor) * ratio  # up to 22 digits: exact in Decimal's 28
    assert abs(Decimal(product.minor) - exact) <= Decimal("0.5")
    assert product.minor == int(exact.quantize(Decimal(1), rounding="ROUND_HALF_EVEN"))


@given(st.integers(min_value=-(10**12), max_value=10**12), st.integers(1, 10**6))
def test_shares_of_a_division_never_stray_more_than_half_a_unit(minor: int, n: int) -> None:
    share = Money(minor, "CNY") / n
    assert abs(share.minor * n - minor) * 2 <= n


# -- formatting --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("money", "locale", "expected"),
    [
        (Money(123456789, "CNY"), "en", "CN¥1,234,567.89"),
        (Money(123456789, "CNY"), "zh_Hans_CN", "¥1,234,567.89"),
        (Money(123456789, "USD"), "en", "$1,234,567.89"),
        (Money(123456789, "USD"), "zh_Hans_CN", "US$1,234,567.89"),
        (Money(-5050, "USD"), "en", "-$50.50"),
        (Money(-5050, "CNY"), "zh_Hans_CN", "-¥50.50"),
        (Money(1234, "JPY"), "en", "¥1,234"),
        (Money(1234, "JPY"), "zh_Hans_CN", "JP¥1,234"),
        (Money(1005, "KWD"), "en", "KWD1.005"),
    ],
)
def test_formatting_in_english_and_chinese(money: Money, locale: str, expected: str) -> None:
    assert money.format(locale) == expected


def test_whole_units_for_tables_of_large_values() -> None:
    assert Money(123456789, "USD").format("en", whole=True) == "$1,234,568"
    assert Money(123456789, "CNY").format("zh_Hans_CN", whole=True) == "¥1,234,568"
