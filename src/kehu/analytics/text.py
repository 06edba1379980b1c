"""Words of a complaint, ticket message or survey verbatim, in Chinese, English or both.

:func:`tokenize` turns one text into the list of its content words, the features of
:mod:`kehu.analytics.themes`:

1. Unicode NFKC normalisation, so that full-width letters and digits (``ＡＰＰ``, ``１２``),
   common in Chinese input, become their ASCII forms, then lower-casing.
2. The text is cut into runs of Han characters and runs of Latin letters and digits; anything
   else (punctuation of either script, spaces, emoji) separates words.
3. A Han run is segmented by the jieba algorithm (a prefix dictionary with a DAG of candidate
   words, the most probable path by dynamic programming, and an HMM for words not in the
   dictionary), through ``rjieba``, the Python binding of the Rust port ``jieba-rs`` (MIT,
   maintained, a wheel with no Python dependencies; the original ``jieba`` 0.42.1 of 2020 is an
   sdist whose modules raise ``DeprecationWarning`` for invalid escape sequences when compiled,
   and it logs to stderr and writes a cache file on first use).
4. A Latin run is split on anything but letters, digits and the apostrophe; words of one letter,
   numbers and the English stop words below are dropped, and plurals are folded by Harman's
   (1991) "S" stemmer (Harman, "How effective is suffixing?", *Journal of the American Society
   for Information Science* 42(1), 7-15: ``-ies`` -> ``-y`` unless ``-eies``/``-aies``,
   ``-es`` -> ``-e`` unless ``-aes``/``-ees``/``-oes``, ``-s`` dropped unless ``-us``/``-ss``),
   the lightest of the stemmers Harman compared, chosen because complaint themes hinge on nouns
   (refunds, points, returns) and it never merges words of different meaning the way a
   Porter-style stemmer can (``general``/``generous``). The Snowball English stemmer
   (``snowballstemmer`` 3.1.1) was tried on the tuning split of the labelled sample in
   ``tests/analytics/test_themes.py`` and gave the same accuracy (0.709), so it is not used.
5. Chinese stop words (particles, pronouns, the commonest function words; the short list below,
   written for kehu) and Han tokens that are only numerals are dropped.

Mixed texts (English words inside Chinese, as in "退款还是显示 processing") work: each run goes
its own way and the words of both join the same list. The stop lists are short on purpose: the
inverse document frequency of the themes' TF-IDF weighting already down-weights words common to
all complaints.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import rjieba


def _word_set(words: str) -> frozenset[str]:
    """The words of a whitespace-separated list."""
    return frozenset(words.split())


#: English function words dropped from Latin runs (written for kehu: pronouns, articles,
#: auxiliaries, prepositions, conjunctions and contractions that carry no theme).
ENGLISH_STOP_WORDS = _word_set(
    """
    a about above after again against all am an and any are aren't as at be because been before
    being below between both but by can can't cannot could couldn't did didn't do does doesn't
    doing don't down during each few for from further had hadn't has hasn't have haven't having
    he her here hers herself him himself his how i i'd i'll i'm i've if in into is isn't it it's
    its itself just let's me more most my myself no nor not of off on once only or other ought
    our ours ourselves out over own same she should shouldn't so some such than that that's the
    their theirs them themselves then there there's these they they're this those through to too
    under until up very was wasn't we we're we've were weren't what what's when where which while
    who whom why will with won't would wouldn't you you'd you'll you're you've your yours
    yourself yourselves also still even yet ever every get got never one another anything nothing
    without
    """
)

#: Chinese function words dropped after segmentation (written for kehu: particles, pronouns,
#: copula, common adverbs and measure words that every theme shares).
CHINESE_STOP_WORDS = _word_set(
    """
    的 了 是 我 你 他 她 它 我们 你们 他们 她们 在 有 也 都 就 还 又 很 太 吧 呢 吗 啊 呀 嘛
    这 那 这个 那个 这些 那些 个 和 与 及 或 但 但是 而 却 就是 一 一个 被 把 给 让 对 从 向
    说 会 要 能 可 可以 到 着 过 地 得 之 什么 怎么 为什么 自己 已经 不 没 没有 也不 都不
    还是 然后 因为 所以 如果 我的 你们的 一下 一次 还有 真的 里 上 下 中 后 前
    """
)

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUNS = re.compile(f"([{_HAN}]+)|([a-z0-9']+)")
_HAN_NUMERALS = frozenset("零一二三四五六七八九十百千万两〇")


def tokenize(text: str) -> list[str]:
    """The content words of ``text``, in order (module docstring)."""
    normal = unicodedata.normalize("NFKC", text).lower()
    words: list[str] = []
    for han, latin in _RUNS.findall(normal):
        if han:
            words.extend(_chinese_words(han))
        else:
            words.extend(_english_words(latin))
    return words


def tokenize_all(texts: Iterable[str]) -> list[list[str]]:
    """:func:`tokenize` of each text."""
    return [tokenize(text) for text in texts]


def _chinese_words(run: str) -> list[str]:
    return [
        word
        for word in _segmenter().cut(run)
        if word not in CHINESE_STOP_WORDS and not set(word) <= _HAN_NUMERALS
    ]


def _english_words(run: str) -> list[str]:
    word = run.strip("'")
    if word.endswith("'s"):  # the possessive: the customer's -> customer
        word = word[:-2]
    if len(word) < 2 or word.isdigit() or word in ENGLISH_STOP_WORDS:
        return []
    return [s_stem(word)]


def s_stem(word: str) -> str:
    """Harman's (1991) "S" stemmer (module docstring): plural endings only, first rule that fits."""
    if word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    # words of three letters keep their -s (gas, bus, yes): a guard of kehu's, not Harman's
    if word.endswith("s") and not word.endswith(("us", "ss")) and len(word) > 3:
        return word[:-1]
    return word


@lru_cache(maxsize=1)
def _segmenter() -> rjieba.Jieba:
    """The jieba segmenter, loaded once on first use (its dictionary takes a moment)."""
    import rjieba

    return rjieba.Jieba()
