"""The exceptions kehu raises, one tree.

This module imports nothing else of kehu, so every layer (the pure ``analytics`` library included)
may raise from it::

    KehuError                      base of everything kehu raises on purpose; exit code 1
    ├── ConfigurationError         a setting is missing or malformed; exit code 2
    ├── InputError                 bad user input; names file, line or row, column and value; exit 3
    │   ├── InvalidRowsError       bad rows of a file, grouped by problem (the first few of each)
    │   ├── ColumnsError           expected columns missing; lists the columns found
    │   ├── EncodingError          the file is not in the stated encoding; suggests one
    │   ├── EmptyInputError        no data rows at all
    │   ├── DuplicateIdError       one transaction id with two different contents
    │   └── CurrencyError          not an ISO 4217 currency, or more decimals than it has
    │       └── CurrencyMismatchError  amounts of two currencies in one sum, store or value run
    ├── NotFoundError              an id that does not exist (or is outside the caller's scope)
    ├── ConflictError              a state change that is not allowed now, or a stale edit
    ├── AuthenticationError        no valid credentials (HTTP 401)
    ├── PermissionDeniedError      authenticated, but the role or token scope does not allow it
    ├── RateLimitedError           too many requests or login attempts; ``retry_after`` seconds
    ├── StoreError                 the operational store cannot be used (schema out of date, ...)
    └── ModelError                 a statistical model could not give an honest answer; exit code 4
        ├── NotFittedError         a fitted-only method was called before ``fit``
        ├── IdentificationError    the data cannot identify the model (e.g. no repeat buyers)
        └── ConvergenceError       the optimiser did not converge

The CLI maps ``exit_code`` to the process exit status; the API maps the classes to HTTP statuses in
one place.
"""

from __future__ import annotations

from dataclasses import dataclass


class KehuError(Exception):
    """Base of every error kehu raises on purpose."""

    exit_code = 1


class ConfigurationError(KehuError):
    exit_code = 2


class InputError(KehuError):
    """Bad input. ``file``, ``line`` (the line of a text file, as an editor numbers it: the
    header is line 1) or ``row`` (1-based row of data without lines: Parquet, a table, an
    array), ``column`` and ``value`` locate the problem when known and are part of the
    message."""

    exit_code = 3

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        value: object = None,
        line: int | None = None,
    ) -> None:
        self.reason = message
        self.file = file
        self.row = row
        self.line = line
        self.column = column
        self.value = value
        where = []
        if file is not None:
            where.append(f"file {file}")
        if line is not None:
            where.append(f"line {line}")
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        if value is not None:
            where.append(f"value {value!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


@dataclass(frozen=True)
class RowProblem:
    """One problem found on rows of a file: ``column`` (the user's name), ``reason``, the first
    rows with it as ``(number, raw value)`` pairs (``unit`` says whether the numbers are file
    ``"line"`` numbers or data ``"row"`` numbers) and how many rows have it in all
    (``n_rows``, at least ``len(places)``)."""

    column: str | None
    reason: str
    places: tuple[tuple[int, object], ...]
    n_rows: int
    unit: str = "line"

    @property
    def n_more(self) -> int:
        return self.n_rows - len(self.places)


class InvalidRowsError(InputError):
    """Bad rows of a file, every problem with its first rows and a count of the rest
    (``problems``); ``n_rows`` rows are bad in all (a row may have several problems; default
    the sum of the problems' rows). ``line``/``row``, ``column`` and ``value`` are those of the
    first problem's first row, so that a reader of one location still finds one."""

    def __init__(
        self, problems: list[RowProblem], *, file: str | None = None, n_rows: int | None = None
    ) -> None:
        if not problems:
            raise ValueError("InvalidRowsError needs at least one problem")
        self.problems = problems
        first = problems[0]
        number, value = first.places[0]
        line = number if first.unit == "line" else None
        row = None if first.unit == "line" else number
        if len(problems) == 1 and first.n_rows == 1:
            self.n_rows = 1
            super().__init__(
                first.reason, file=file, line=line, row=row, column=first.column, value=value
            )
            return
        if n_rows is None:
            n_rows = sum(problem.n_rows for problem in problems)
        self.n_rows = n_rows
        lines = [f"{n_rows:,} bad row{'s' if n_rows > 1 else ''}:"]
        for problem in problems:
            shown = ", ".join(
                f"{problem.unit} {n}" + ("" if v is None else f" ({v!r})")
                for n, v in problem.places
            )
            more = problem.n_more
            rest = (
                f", and {more:,} more row{'s' if more > 1 else ''} with the same problem"
                if more
                else ""
            )
            column = f"column {problem.column!r}: " if problem.column is not None else ""
            lines.append(f"- {column}{problem.reason}: {shown}{rest}")
        message = "\n".join(lines)
        KehuError.__init__(self, f"file {file}: {message}" if file is not None else message)
        self.reason = message
        self.file = file
        self.row = row
        self.line = line
        self.column = first.column
        self.value = value


class ColumnsError(InputError):
    pass


class EncodingError(InputError):
    pass


class EmptyInputError(InputError):
    pass


class DuplicateIdError(InputError):
    pass


class CurrencyError(InputError):
    pass


class CurrencyMismatchError(CurrencyError):
    pass


class NotFoundError(KehuError):
    exit_code = 5


class ConflictError(KehuError):
    exit_code = 6


class AuthenticationError(KehuError):
    exit_code = 8


class PermissionDeniedError(KehuError):
    exit_code = 9


class RateLimitedError(KehuError):
    exit_code = 10

    def __init__(self, message: str, *, retry_after: int = 60) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class StoreError(KehuError):
    exit_code = 7


def N_(message: str) -> str:
    """Mark ``message`` for the translation catalogs without translating it here (this module,
    and the analytics that raise from it, may not import :mod:`kehu.core`): a page or a report
    translates it, with its variables, where it is shown."""
    return message


class ModelError(KehuError):
    """A model gave no honest answer. ``reason`` says why in words; ``advice`` what to try (each
    subclass has a default); the message is both, so a log line or a report shows them.

    Either may be a message template with ``%(name)s`` placeholders and its ``values``
    (``advice_values``), marked with :func:`N_` where it is written: ``reason`` and ``advice`` are
    then the English text filled in, and ``reason_template``/``reason_values`` (and the
    advice's) let a page or a report show the same words in its reader's language. A value that
    is itself a marked message (a sentence chosen by the raising code) is translated too."""

    exit_code = 4
    default_advice = N_(
        "try another model (MBG/NBD or Pareto/NBD), a longer purchase history, or a coarser "
        "time unit (weeks instead of days)"
    )

    def __init__(
        self,
        reason: str,
        *,
        advice: str | None = None,
        values: dict[str, object] | None = None,
        advice_values: dict[str, object] | None = None,
    ) -> None:
        self.reason_template = reason
        self.reason_values = dict(values or {})
        self.reason = reason % self.reason_values if self.reason_values else reason
        self.advice_template = self.default_advice if advice is None else advice
        self.advice_values = dict(advice_values or {})
        self.advice = (
            self.advice_template % self.advice_values
            if self.advice_values
            else self.advice_template
        )
        super().__init__(
            f"{self.reason}. What to try: {self.advice}" if self.advice else self.reason
        )


class NotFittedError(ModelError):
    default_advice = N_(
        "fit the model first (call fit(), or give its parameters with from_params())"
    )


class IdentificationError(ModelError):
    default_advice = N_(
        "the data need more repeat buyers: a longer purchase history, or another model "
        "(MBG/NBD or Pareto/NBD); a coarser time unit (weeks instead of days) can help when "
        "purchases are days apart"
    )


class ConvergenceError(ModelError):
    pass
