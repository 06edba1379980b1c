"""Money: an amount in integer minor units of one ISO 4217 currency.

kehu stores an amount as an integer count of its currency's minor unit (cents, fen; a yen is its
own minor unit) with the currency's code beside it, so a setting changed later cannot make stored
figures mean something else. :class:`Money` is that pair in code::

    >>> price = Money.of("12.34", "CNY")
    >>> price.minor, price.currency
    (1234, 'CNY')
    >>> str(price * 3 + Money.of("0.98", "CNY"))
    '38.00 CNY'
    >>> Money.of("1.005", "KWD").format("en")
    'KWD1.005'

The rules:

- **Minor unit**: ISO 4217's exponent of the currency (JPY 0; CNY, EUR, USD 2; KWD 3; CLF 4), from
  the table below. Not Babel's (CLDR's) digits: those are a display convention that differs from
  ISO for some currencies (HUF and IDR: 2 in ISO, 0 in CLDR) and can change with a Babel release,
  and the scale of stored integers must never move with a library upgrade.
- **Currencies**: the ISO 4217 codes Babel knows, less the units that have no minor unit (gold,
  silver, special drawing rights, the test and "no currency" codes); lower case is accepted and
  kept upper case.
- **Arithmetic**: ``+``, ``-`` and the comparisons only between amounts of one currency;
  anything else raises :class:`~kehu.errors.CurrencyMismatchError` (``==`` between two currencies
  is simply false). ``* int`` is exact. ``* Decimal`` (a ratio: a share, a rate, a discount) and
  ``/ int`` (a mean) are computed exactly and rounded once to the minor unit, **half to even**
  (banker's rounding): ties go either way equally often, so a sum of many rounded shares does not
  drift upwards as with half-up; it is IEEE 754's default and numpy's ``round``, which the value
  engine's model estimates go through on their way into the store.
- **No float**: a float amount, factor or divisor is a ``TypeError``; binary floats cannot hold
  0.1 and have no place in money. Amounts come in as ``Decimal``, decimal strings or integers.
- **Parsing** (:meth:`Money.of`) is exact: more decimals than the currency has is a
  :class:`~kehu.errors.CurrencyError`, unless the caller names a ``decimal`` rounding mode.
- **Formatting** (:meth:`Money.format`) uses Babel in the given locale: its symbol, grouping and
  digits (CLDR's for the locale, so an amount kept in finer units than a locale shows is rounded
  for display only).

This module imports nothing of kehu but :mod:`kehu.errors`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from functools import cache
from numbers import Integral

from babel import Locale
from babel.numbers import format_currency, list_currencies

from kehu.errors import CurrencyError, CurrencyMismatchError

__all__ = [
    "ROUNDING",
    "Money",
    "currency_code",
    "currency_exponent",
]

#: The rounding of every inexact result (``* Decimal``, ``/ int``): half to even.
ROUNDING = ROUND_HALF_EVEN


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: ISO 4217 minor units that are not 2 (ISO 4217's list of current codes). A change here changes
#: the meaning of stored integers: it needs a migration that rescales them.
_EXPONENTS_NOT_TWO: dict[str, int] = {
    **dict.fromkeys(
        _codes("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"), 0
    ),
    **dict.fromkeys(_codes("BHD IQD JOD KWD LYD OMR TND"), 3),
    **dict.fromkeys(_codes("CLF UYW"), 4),
}

#: ISO 4217 codes without a minor unit ("N.A."): metals, funds and codes that are no money.
_NO_MINOR_UNIT = _codes("XAG XAU XBA XBB XBC XBD XDR XPD XPT XSU XTS XUA XXX")


@cache
def _known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


@cache
def currency_code(code: str) -> str:
    """``code`` as an ISO 4217 currency code kehu keeps money in (upper case), or a
    :class:`~kehu.errors.CurrencyError` naming it."""
    if not isinstance(code, str):
        raise TypeError(f"a currency code is a string, got {type(code).__name__}")
    normal = code.strip().upper()
    if len(normal) != 3 or not normal.isascii() or not normal.isalpha():
        raise CurrencyError(f"a currency is a 3-letter ISO 4217 code, got {code!r}")
    if normal in _NO_MINOR_UNIT:
        raise CurrencyError(f"{normal} has no minor unit: it cannot be a currency of amounts")
    if normal not in _known_currencies():
        raise CurrencyError(f"{code!r} is not an ISO 4217 currency code")
    return normal


def currency_exponent(code: str) -> int:
    """Decimal places of the currency's minor unit (ISO 4217): ``JPY`` 0, ``CNY`` 2,
    ``KWD`` 3."""
    return _EXPONENTS_NOT_TWO.get(currency_code(code), 2)


def _round_half_even(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded to an integer, ties to the even one, exactly."""
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    quotient, remainder = divmod(numerator, denominator)  # floor: 0 <= remainder < denominator
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient


def _refuse_float(value: object, role: str) -> None:
    if isinstance(value, float):
        raise TypeError(f"a float {role} is refused for money: pass a Decimal, a str or an int")


@dataclass(frozen=True, slots=True)
class Money:
    """``minor`` integer units of the minor unit of ``currency`` (``Money(1234, "CNY")`` is
    ¥12.34). Immutable; see the module's docstring for the rules."""

    minor: int
    currency: str

    def __post_init__(self) -> None:
        _refuse_float(self.minor, "amount")
        if isinstance(self.minor, bool) or not isinstance(self.minor, Integral):
            raise TypeError(
                f"Money's minor units are an integer, got {type(self.minor).__name__} "
                "(Money.of reads a decimal amount)"
            )
        object.__setattr__(self, "minor", int(self.minor))  # numpy integers become int
        object.__setattr__(self, "currency", currency_code(self.currency))

    # --- making amounts ---------------------------------------------------------------------

    @classmethod
    def of(
        cls, amount: Decimal | str | int, currency: str, *, rounding: str | None = None
    ) -> Money:
        """An amount in major units (``"12.34"``, ``Decimal("12.34")``, ``12``) of
        ``currency``. Exact: more decimals than the currency has is a
        :class:`~kehu.errors.CurrencyError`, unless ``rounding`` (a :mod:`decimal` mode such as
        ``ROUND_HALF_EVEN``) says how to round them away."""
        _refuse_float(amount, "amount")
        exponent = currency_exponent(currency)
        try:
            value = amount if isinstance(amount, Decimal) else Decimal(str(amount).strip())
        except InvalidOperation:
            raise CurrencyError(f"{amount!r} is not a decimal amount") from None
        if not value.is_finite():
            raise CurrencyError(f"an amount must be a finite number, got {amount!r}")
        # enough digits that quantize never rounds the integer part nor fails
        context = Context(prec=max(28, value.adjusted() + exponent + 2))
        quantum = Decimal(1).scaleb(-exponent)
        rounded = value.quantize(quantum, rounding=rounding or ROUNDING, context=context)
        if rounding is None and rounded != value:
            raise CurrencyError(
                f"{amount} has more decimals than {currency_code(currency)} has ({exponent})"
            )
        return cls(int(rounded.scaleb(exponent, context=context)), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def total(cls, amounts: Iterable[Money], currency: str) -> Money:
        """The sum of ``amounts`` (zero when there are none), all in ``currency``."""
        result = cls.zero(currency)
        for amount in amounts:
            result = result + amount
        return result

    # --- reading amounts --------------------------------------------------------------------

    @property
    def exponent(self) -> int:
        """Decimal places of the currency's minor unit."""
        return currency_exponent(self.currency)

    @property
    def amount(self) -> Decimal:
        """The amount in major units, exactly (``Decimal("12.34")``)."""
        return Decimal(self.minor).scaleb(-self.exponent, context=Context(prec=60))

    def __str__(self) -> str:
        """``12.34 CNY``: for logs and messages; pages use :meth:`format`."""
        return f"{self.amount} {self.currency}"

    def format(self, locale: Locale | str, *, whole: bool = False) -> str:
        """The amount with the currency's symbol in ``locale`` (a Babel locale or its name):
        ``CN¥1,234.50`` in English, ``¥1,234.50`` in Chinese. ``whole`` rounds to whole major
        units (for tables of large values)."""
        if isinstance(locale, str):
            locale = Locale.parse(locale)
        pattern = None
        if whole:
            standard = locale.currency_formats["standard"].pattern
            pattern = standard.split(";")[0].replace(".00", "")
        return str(
            format_currency(
                self.amount,
                self.currency,
                format=pattern,
                locale=locale,
                currency_digits=not whole,
            )
        )

    # --- arithmetic -------------------------------------------------------------------------

    def _same_currency(self, other: object, operation: str) -> Money:
        if not isinstance(other, Money):
            raise TypeError(
                f"cannot {operation} Money and {type(other).__name__}: both must be Money"
            )
        if other.currency != self.currency:
            raise CurrencyMismatchError(
                f"cannot {operation} {self.currency} and {other.currency} amounts: "
                "money of two currencies does not mix"
            )
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.minor + self._same_currency(other, "add").minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.minor - self._same_currency(other, "subtract").minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.minor), self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        """Times an integer (exact) or a ``Decimal`` ratio (rounded half to even)."""
        _refuse_float(factor, "factor")
        if isinstance(factor, Decimal):
            if not factor.is_finite():
                raise ValueError(f"cannot multiply money by {factor}")
            numerator, denominator = factor.as_integer_ratio()
            return Money(_round_half_even(self.minor * numerator, denominator), self.currency)
        if isinstance(factor, bool) or not isinstance(factor, Integral):
            return NotImplemented
        return Money(self.minor * int(factor), self.currency)

    __rmul__ = __mul__

    def __truediv__(self, divisor: int) -> Money:
        """Divided by a whole number (a mean), rounded half to even."""
        _refuse_float(divisor, "divisor")
        if isinstance(divisor, bool) or not isinstance(divisor, Integral):
            return NotImplemented
        if divisor == 0:
            raise ZeroDivisionError("money divided by zero")
        return Money(_round_half_even(self.minor, int(divisor)), self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.minor < self._same_currency(other, "compare").minor

    def __le__(self, other: Money) -> bool:
        return self.minor <= self._same_currency(other, "compare").minor

    def __gt__(self, other: Money) -> bool:
        return self.minor > self._same_currency(other, "compare").minor

    def __ge__(self, other: Money) -> bool:
        return self.minor >= self._same_currency(other, "compare").minor
