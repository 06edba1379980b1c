"""The words of complaint texts (kehu.analytics.text).

Pinned numbers and where they come from:

* Chinese segmentation: the words that the original Python ``jieba`` 0.42.1 (``jieba.lcut``,
  default mode with the HMM) gave for the same sentences, run once by hand in this session
  (jieba is not a dependency); kehu's list is that list less its stop words and punctuation.
* The S stemmer: the three rules of Harman (1991), applied by hand to each example.
"""

from __future__ import annotations

import pytest

from kehu.analytics.text import CHINESE_STOP_WORDS, ENGLISH_STOP_WORDS, s_stem, tokenize


def test_chinese_is_segmented_as_jieba_does_less_stop_words() -> None:
    # jieba 0.42.1: ['快递', '三天', '了', '还', '没到', '，', '客服', '态度', '很差']
    assert tokenize("快递三天了还没到，客服态度很差") == [
        "快递",
        "三天",
        "没到",
        "客服",
        "态度",
        "很差",
    ]
    # jieba 0.42.1: ['退款', '申请', '提交', '一周', '了', '没有', '处理']
    assert tokenize("退款申请提交一周了没有处理") == ["退款", "申请", "提交", "一周", "处理"]


def test_english_is_lower_cased_stop_worded_and_plurals_folded() -> None:
    assert tokenize("The courier's PARCELS didn't arrive, 3 days late!") == [
        "courier",
        "parcel",
        "arrive",
        "day",
        "late",
    ]


@pytest.mark.parametrize(
    ("word", "stem"),
    [
        ("queries", "query"),  # -ies -> -y
        ("zombies", "zomby"),  # the rule has no exceptions beyond -eies/-aies (Harman's own)
        ("plates", "plate"),  # -es -> -e
        ("toes", "toe"),  # -oes keeps its -e: the -s rule applies
        ("refunds", "refund"),  # -s dropped
        ("status", "status"),  # -us kept
        ("glass", "glass"),  # -ss kept
        ("bus", "bus"),  # three letters keep their -s (kehu's guard)
    ],
)
def test_s_stemmer_follows_harmans_rules(word: str, stem: str) -> None:
    assert s_stem(word) == stem


def test_mixed_text_gives_the_words_of_both_languages_in_order() -> None:
    assert tokenize("refund 申请提交了十天，还是显示 processing。") == [
        "refund",
        "申请",
        "提交",
        "十天",
        "显示",
        "processing",
    ]


def test_full_width_letters_become_ascii() -> None:
    assert tokenize("ＡＰＰ一直闪退") == tokenize("app一直闪退") == ["app", "一直", "闪退"]


def test_punctuation_numbers_and_stop_words_leave_nothing() -> None:
    assert tokenize("") == []
    assert tokenize("!!! 123 ？？ the of 的了") == []
    assert tokenize("三十") == []  # Han numerals alone say nothing of a theme


def test_stop_lists_hold_no_theme_word() -> None:
    theme_words = {"refund", "delivery", "late", "rude", "charged", "app", "wait", "point"}
    assert not theme_words & ENGLISH_STOP_WORDS
    assert not {"退款", "快递", "态度", "积分", "排队", "登录"} & CHINESE_STOP_WORDS
