"""Pinyin keys of Chinese names, so that "zhang wei", "zhangwei", "zhangw" and "zw" find 张伟.

Chinese CRM users type a name the way their pinyin keyboard does: the full syllables with or
without spaces, the first letters, or a full start followed by a few letters. The keys of a name
(:func:`pinyin_keys`) are read from each run of Chinese characters with pypinyin, tone-less
(``Style.NORMAL``); at every syllable one key starts with the full pinyin of that syllable and the
ones after it, and one with their first letters: 张小明 gives ``zhangxiaoming xiaoming ming`` and
``zxm xm m``. A search word matches a name when it is the beginning of one of its keys
(:func:`pinyin_query` gives the word's form), so

- "zhang wei" (two words, each must match), "zhangwei", "ZhangWei", "zhangw" and "zw" find 张伟,
  and "wei" or "xiaoming" find the given name alone;
- a word mixing first letters and then full syllables ("zwei") does not: it would need every
  mix of the two forms, 2^n keys for a name of n characters;
- a word mixing characters and pinyin ("张wei") does not either; "张 wei" (two words) does;
- tones typed as marks are ignored ("zhāng wěi"), and ü is both "v" (as pinyin keyboards type
  it: "lv" for 吕) and "u" ("lu").

Polyphonic characters: pypinyin's reading in context comes first (its phrase dictionary knows
银行 is yin hang and 长孙 is zhang sun). A character it gives several readings for (曾 ceng and
zeng, 单 dan, chan and shan) adds a variant of the name with each other reading, one character at
a time, up to :data:`MAX_VARIANTS` per run, so the surname, the first character, gets its readings
first: a surname is where the reading most often differs from the everyday one, and every
combination of a long organisation name's readings would be thousands of keys. A key spans at
most :data:`MAX_KEY_SYLLABLES` syllables, which bounds a long name's keys; a longer word typed
without spaces finds nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from pypinyin import Style, pinyin

#: readings of one run of characters that are indexed: the reading in context and up to this many
#: minus one variants with one other reading each
MAX_VARIANTS = 8
#: the longest key, in syllables
MAX_KEY_SYLLABLES = 10

# CJK ideographs: the unified block, extension A, the compatibility block, extensions B to H,
# and 〇 (ling)
_HAN_RUN = re.compile(r"[\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+")
_PINYIN_WORD = re.compile(r"^[a-z]+$")


def pinyin_keys(names: Iterable[str | None]) -> str | None:
    """The ``search_pinyin`` of a customer with these names: its keys, each after a space
    (``" zhangwei wei zw"``), so that a word matches at a key's start with ``LIKE '% word%'``;
    ``None`` for names without Chinese characters. A key that begins another is left out (any
    word it matches, the longer key matches too)."""
    keys: set[str] = set()
    for name in names:
        if not name:
            continue
        for run in _HAN_RUN.findall(unicodedata.normalize("NFKC", name)):
            for syllables in _readable_stretches(run):
                for variant in _variants(syllables):
                    keys.update(_keys_of(variant))
    if not keys:
        return None
    ordered = sorted(keys)
    # in sorted order a key that begins any other key begins the one right after it
    kept = [
        key
        for key, after in zip(ordered, [*ordered[1:], ""], strict=True)
        if not after.startswith(key)
    ]
    return "".join(" " + key for key in kept)


def pinyin_query(word: str) -> str | None:
    """The form of a search word that is matched against the keys: lower case, tone marks and
    apostrophes (xi'an) dropped; ``None`` when the word cannot be pinyin (digits, other
    letters)."""
    decomposed = unicodedata.normalize("NFKD", word.strip().lower())
    letters = "".join(ch for ch in decomposed if not unicodedata.combining(ch) and ch not in "'’")
    return letters if _PINYIN_WORD.match(letters) else None


def _readable_stretches(run: str) -> list[list[list[str]]]:
    """The readings of each character of ``run``, split where pypinyin knows no reading (a rare
    ideograph): a key never spans a character it cannot spell."""
    stretches: list[list[list[str]]] = [[]]
    for readings in pinyin(run, style=Style.NORMAL, heteronym=True):
        spelt = _spellings(readings)
        if spelt:
            stretches[-1].append(spelt)
        elif stretches[-1]:
            stretches.append([])
    return [stretch for stretch in stretches if stretch]


def _spellings(readings: list[str]) -> list[str]:
    """A character's readings as a keyboard spells them: ü as v and as u (lv, lu)."""
    spelt: list[str] = []
    for reading in readings:
        reading = reading.lower()
        if not _PINYIN_WORD.match(reading):
            continue  # pypinyin hands back a character it cannot read as it is
        spelt.append(reading)
        if "v" in reading:
            spelt.append(reading.replace("v", "u"))
    return list(dict.fromkeys(spelt))


def _variants(readings: list[list[str]]) -> list[list[str]]:
    """The reading in context, then the same with one character read otherwise, first
    character first, :data:`MAX_VARIANTS` at most."""
    usual = [spelt[0] for spelt in readings]
    variants = [usual]
    for position, spelt in enumerate(readings):
        for other in spelt[1:]:
            if len(variants) == MAX_VARIANTS:
                return variants
            variants.append([*usual[:position], other, *usual[position + 1 :]])
    return variants


def _keys_of(syllables: list[str]) -> Iterable[str]:
    for start in range(len(syllables)):
        window = syllables[start : start + MAX_KEY_SYLLABLES]
        yield "".join(window)
        yield "".join(syllable[0] for syllable in window)
