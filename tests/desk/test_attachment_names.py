"""The name an attachment is kept under: the sender's own name in any script, without a path,
control or bidi characters, and at most 255 bytes of UTF-8 with its extension."""

from __future__ import annotations

import pytest

from kehu.desk.attachment_names import MAX_NAME_BYTES, attachment_name


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("投诉.txt", "投诉.txt"),
        ("客户反馈 2026-03.pdf", "客户反馈 2026-03.pdf"),
        ("Crème brûlée.png", "Crème brûlée.png"),
        ("Cre\u0300me.txt", "Crème.txt"),  # NFC: one way to write it
        ("../../etc/photo.png", "photo.png"),
        ("..\\..\\投诉.txt", "投诉.txt"),
        ("C:\\Users\\li\\投诉.txt", "投诉.txt"),
        ("dir/", "dir"),
        ("投诉\r\n.txt", "投诉_.txt"),
        ("a\x00b\x1bc.txt", "a_b_c.txt"),
        ("invoice\u202efdp.exe", "invoice_fdp.exe"),  # shown as "invoiceexe.pdf"
        ("\u2067secret\u2069.txt", "_secret_.txt"),
        ('a"b<c>|d?.txt', "a_b_c_d_.txt"),
        ("x\ud800y.txt", "x_y.txt"),  # a lone surrogate cannot be stored as UTF-8
        ("  .hidden. ", "hidden"),
        ("..", "attachment"),
        ("../", "attachment"),
        ("\r\n", "attachment"),
        ("", "attachment"),
        (None, "attachment"),
    ],
)
def test_names_keep_their_script_and_lose_what_could_act(sent: str | None, kept: str) -> None:
    assert attachment_name(sent) == kept


@pytest.mark.parametrize("stem", ["a" * 300, "投" * 100, "😀" * 80])
def test_long_names_are_cut_on_a_character_boundary_keeping_the_extension(stem: str) -> None:
    kept = attachment_name(stem + ".pdf")
    assert kept.endswith(".pdf")
    assert len(kept.encode("utf-8")) <= MAX_NAME_BYTES
    assert stem.startswith(kept.removesuffix(".pdf"))
    assert len(kept.encode("utf-8")) > MAX_NAME_BYTES - 4  # cut no shorter than it must be
