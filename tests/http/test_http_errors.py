"""The one error map: an input error of a file names its line, bad rows come with every problem."""

from __future__ import annotations

import json

from kehu.errors import InputError, InvalidRowsError, RowProblem
from kehu.http.errors import kehu_error_reply


def test_bad_rows_of_a_file_are_answered_with_every_problem() -> None:
    error = InvalidRowsError(
        [
            RowProblem("order_date", "cannot read the date", ((3, "31/01/2024"),), n_rows=25),
            RowProblem("amount", "the amount is missing", ((9, None),), n_rows=1),
        ],
        file="sales.csv",
        n_rows=26,
    )
    reply = kehu_error_reply(error)
    body = json.loads(reply.json_response().body)["error"]
    assert reply.status == 422 and body["type"] == "InvalidRowsError"
    assert (body["field"], body["line"]) == ("order_date", 3) and "row" not in body
    assert body["problems"] == [
        {
            "field": "order_date",
            "reason": "cannot read the date",
            "lines": [[3, "31/01/2024"]],
            "n_rows": 25,
        },
        {"field": "amount", "reason": "the amount is missing", "lines": [[9, None]], "n_rows": 1},
    ]
    assert "and 24 more rows with the same problem" in body["message"]


def test_a_data_row_is_still_a_row() -> None:
    body = kehu_error_reply(InputError("bad", file="x.parquet", row=41, column="amount")).body()
    assert body["error"]["row"] == 41 and "line" not in body["error"]
