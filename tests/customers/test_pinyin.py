"""Pinyin keys of names and the pinyin form of search words (pure functions)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from pypinyin import lazy_pinyin

from kehu.customers.pinyin import MAX_KEY_SYLLABLES, MAX_VARIANTS, pinyin_keys, pinyin_query


def _keys(*names: str | None) -> list[str]:
    keys = pinyin_keys(names)
    assert keys is None or keys.startswith(" ")
    return (keys or "").split()


def _finds(word: str, *names: str) -> bool:
    """What the search does with a word and a name's keys: the word begins a key."""
    query = pinyin_query(word)
    return query is not None and f" {query}" in (pinyin_keys(names) or "")


def test_keys_start_at_every_syllable_in_full_and_first_letters() -> None:
    assert _keys("张伟") == ["wei", "zhangwei", "zw"]
    # keys that begin a longer key are left out: "xiao" is found by "xiaoming"
    assert _keys("张小华") == ["hua", "xh", "xiaohua", "zhangxiaohua", "zxh"]


def test_what_a_chinese_crm_user_types_finds_the_name() -> None:
    for word in ("zhangwei", "ZhangWei", "zhang", "wei", "zhangw", "zw", "z", "zhāng", "wěi"):
        assert _finds(word, "张伟"), word
    for word in ("zwei", "zhangweii", "hangwei", "wz", "weizhang"):
        assert not _finds(word, "张伟"), word


def test_polyphonic_characters_are_indexed_with_each_reading() -> None:
    # the surname 曾 is zeng; pypinyin reads it ceng out of context
    assert {"zengwei", "cengwei", "zw", "cw"} <= set(_keys("曾伟"))
    # 单 as a surname is shan; dan and chan are its other readings
    assert {"shanxiongxin", "danxiongxin", "sxx", "dxx"} <= set(_keys("单雄信"))
    # in a phrase pypinyin knows the reading: 银行 is yin hang, not yin xing
    assert "yinhang" in _keys("银行") and "yinxing" not in _keys("银行")


def test_u_umlaut_is_typed_v_and_u_and_tones_are_ignored() -> None:
    assert {"lvbu", "lubu", "lb"} <= set(_keys("吕布"))
    assert pinyin_query("lǚ") == "lu"
    assert pinyin_query("Xi'an") == "xian"


def test_only_chinese_characters_have_keys() -> None:
    assert pinyin_keys(["Ada King", None, ""]) is None
    assert _keys("李娜 Lina") == _keys("李娜")
    # a character pypinyin cannot read splits the name: no key spans it
    assert _keys("张\U0002000b伟") == ["wei", "zhang"]
    # names, family and given names together, no duplicates
    assert _keys("张伟", "张", "伟") == _keys("张伟")


def test_words_that_cannot_be_pinyin() -> None:
    for word in ("138", "a_b", "zhang.wei@example.com", "张伟", "abc1", ""):
        assert pinyin_query(word) is None, word


def test_a_long_name_has_bounded_keys() -> None:
    name = "上海明远贸易有限公司北京分公司重庆办事处长沙联络站"
    keys = _keys(name)
    syllables = len(name)
    assert len(keys) <= 2 * syllables * MAX_VARIANTS
    assert all(len(k) <= 6 * MAX_KEY_SYLLABLES for k in keys)
    assert _finds("shanghaimingyuan", name) and _finds("shmy", name)
    assert _finds("mingyuanmaoyi", name) and _finds("bjfgs", name)


_HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)


@given(st.text(_HAN, min_size=1, max_size=6))
def test_any_chinese_name_is_found_by_its_usual_pinyin(name: str) -> None:
    syllables = [s for s in lazy_pinyin(name) if s.isascii() and s.isalpha()]
    if len(syllables) != len(name):
        return  # a character pypinyin cannot read
    full = "".join(syllables)
    assert _finds(full, name)
    assert _finds("".join(s[0] for s in syllables), name)
    assert _finds(" ".join(syllables).split()[-1], name)  # the given name alone
    assert _finds(full[: max(1, len(full) // 2)], name)  # a start of it
