"""Database URLs in messages and logs: the password masked."""

from __future__ import annotations

import pytest

from kehu.store.urls import mask_passwords, masked_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://kehu:s3cret@db.example/kehu", "postgresql://kehu:***@db.example/kehu"),
        (
            "postgresql+psycopg://kehu:p%40ss@db.example:6543/kehu?sslmode=require",
            "postgresql+psycopg://kehu:***@db.example:6543/kehu?sslmode=require",
        ),
        ("postgresql://kehu@db.example/kehu", "postgresql://kehu@db.example/kehu"),
        ("sqlite:///kehu.db", "sqlite:///kehu.db"),
        ("not a url://kehu:s3cret@host", "not a url://kehu:***@host"),
        (
            "postgresql://kehu:s3cret@db.example:port/kehu",
            "postgresql://kehu:***@db.example:port/kehu",
        ),
    ],
)
def test_masked_url(url: str, shown: str) -> None:
    assert masked_url(url) == shown


def test_mask_passwords_in_text() -> None:
    text = "tried postgresql://a:one@h1/x, then mysql://b:two@h2/y"
    assert mask_passwords(text) == "tried postgresql://a:***@h1/x, then mysql://b:***@h2/y"
