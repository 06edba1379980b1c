"""Search: Chinese substrings, phone fragments, emails, wildcards, filters, permissions."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from customer_helpers import AGENT, NOBODY
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from kehu.core.auth.scoping import _SCOPES
from kehu.customers.normalize import escape_like, normalize_phone, search_terms
from kehu.customers.schemas import CustomerUpdate
from kehu.customers.search import search_customers
from kehu.customers.service import edit_customer, tag_customer
from kehu.customers.tables import Customer
from kehu.errors import InputError, PermissionDeniedError
from staff_support import add_staff


def _names(session: Session, query: str, **filters: object) -> list[str]:
    page = search_customers(session, AGENT, query, **filters)  # type: ignore[arg-type]
    return sorted(c.name or "" for c in page.items)


@pytest.fixture
def people(person: Callable[..., int]) -> dict[str, int]:
    return {
        "张伟": person("张伟", ("email", "Zhang.Wei@Example.COM"), ("phone", "+86 138-0013-8000")),
        "张小明": person("张小明", ("phone", "021 6123 4567")),
        "李娜": person("李娜", ("email", "li.na@example.cn"), ("wechat", "LiNa_88")),
        "100% Cotton": person("100% Cotton"),
        "100 Cotton": person("100 Cotton"),
        "a_b": person("a_b"),
        "axb": person("axb"),
    }


def test_chinese_substrings(session: Session, people: dict[str, int]) -> None:
    assert _names(session, "张") == ["张伟", "张小明"]
    assert _names(session, "伟") == ["张伟"]
    assert _names(session, "小明") == ["张小明"]
    assert _names(session, "王") == []


def test_phone_fragments_ignore_spaces_dashes_and_country_code(
    session: Session, people: dict[str, int]
) -> None:
    assert _names(session, "1380013") == ["张伟"]
    assert _names(session, "138 0013") == ["张伟"]
    assert _names(session, "138-0013-8000") == ["张伟"]
    assert _names(session, "+86 138") == ["张伟"]
    assert _names(session, "13800138000") == ["张伟"]
    assert _names(session, "6123-45") == ["张小明"]


def test_emails_case_insensitive_substrings(session: Session, people: dict[str, int]) -> None:
    assert _names(session, "zhang.wei@example.com") == ["张伟"]
    assert _names(session, "ZHANG.WEI@EX") == ["张伟"]
    assert _names(session, "example") == ["张伟", "李娜"]
    assert _names(session, "lina_88") == ["李娜"]


def test_wildcards_are_literal(session: Session, people: dict[str, int]) -> None:
    assert _names(session, "100%") == ["100% Cotton"]
    assert _names(session, "a_b") == ["a_b"]
    assert _names(session, "%") == ["100% Cotton"]


def test_every_word_must_match(session: Session, people: dict[str, int]) -> None:
    assert _names(session, "cotton 100%") == ["100% Cotton"]
    assert _names(session, "张 example") == ["张伟"]


def test_search_follows_edits(session: Session, people: dict[str, int]) -> None:
    edit_customer(session, AGENT, people["李娜"], CustomerUpdate(version=1, name="李娜 Lina"))
    assert _names(session, "lina") == ["李娜 Lina"]


def test_filters_and_paging(session: Session, people: dict[str, int]) -> None:
    tag_customer(session, AGENT, people["张伟"], "VIP")
    assert _names(session, "", tag="VIP") == ["张伟"]
    assert _names(session, "", kind="organisation") == []
    page = search_customers(session, AGENT, "", limit=3, offset=0)
    rest = search_customers(session, AGENT, "", limit=3, offset=3)
    assert page.total == rest.total == len(people)
    assert not {c.id for c in page.items} & {c.id for c in rest.items}
    with pytest.raises(InputError) as bad:
        search_customers(session, AGENT, "", limit=0)
    assert bad.value.column == "limit"
    with pytest.raises(InputError) as kind:
        search_customers(session, AGENT, "", kind="robot")
    assert kind.value.column == "kind"


def test_search_goes_through_the_permission_layer(
    session: Session, person: Callable[..., int], monkeypatch: pytest.MonkeyPatch
) -> None:
    add_staff(session, AGENT.user_id, 77)  # type: ignore[arg-type]
    person("张三", owner_user_id=AGENT.user_id)
    person("张四", owner_user_id=77)
    with pytest.raises(PermissionDeniedError):
        search_customers(session, NOBODY, "张")
    monkeypatch.setitem(
        _SCOPES,
        Customer,
        lambda statement, principal: statement.where(Customer.owner_user_id == principal.user_id),
    )
    page = search_customers(session, AGENT, "张")
    assert [c.name for c in page.items] == ["张三"]
    assert page.total == 1


@given(
    st.sampled_from(["", "+86", "0086", "86"]),
    st.lists(st.sampled_from([" ", "-", ""]), min_size=10, max_size=10),
)
def test_phone_normal_form_ignores_formatting(prefix: str, separators: list[str]) -> None:
    digits = "13800138000"
    written = prefix + "".join(d + s for d, s in zip(digits, [*separators, ""], strict=False))
    assert normalize_phone(written) == digits
    assert search_terms(written) == [(prefix.lstrip("+") + digits)]


@given(st.text(max_size=20))
def test_escaped_like_patterns_have_no_bare_wildcards(fragment: str) -> None:
    escaped = escape_like(fragment)
    i = 0
    while i < len(escaped):
        if escaped[i] == "\\":
            i += 2
            continue
        assert escaped[i] not in "%_"
        i += 1


# --- pinyin ------------------------------------------------------------------------------------


def test_full_pinyin_with_or_without_spaces_and_initials(
    session: Session, people: dict[str, int]
) -> None:
    for query in ("zhang wei", "zhangwei", "ZhangWei", "ZHANG WEI", "zhāng wěi", "zw", "ZW"):
        assert _names(session, query) == ["张伟"], query
    assert _names(session, "zhang") == ["张伟", "张小明"]
    assert _names(session, "xiaoming") == ["张小明"]
    assert _names(session, "zxm") == ["张小明"]
    assert _names(session, "wei zhang") == ["张伟"]  # words in any order
    assert _names(session, "zwei") == []  # initials then full syllables: not indexed


def test_a_full_start_and_then_initials_or_a_few_letters(
    session: Session, people: dict[str, int]
) -> None:
    assert _names(session, "zhangw") == ["张伟"]
    assert _names(session, "zhang w") == ["张伟"]  # two words: zhang..., and a syllable w...
    assert _names(session, "zhangx") == ["张小明"]
    assert _names(session, "zhangxiaom") == ["张小明"]


def test_pinyin_and_characters_and_contacts_together(
    session: Session, people: dict[str, int]
) -> None:
    assert _names(session, "张 wei") == ["张伟"]
    assert _names(session, "zhang example") == ["张伟"]
    assert _names(session, "li 88") == ["李娜"]
    # pinyin matches from the start of a syllable, not inside one (张小明 has no Latin contact)
    assert _names(session, "iaoming") == []
    # ... but it still matches as a substring of the names, ids and contacts
    assert _names(session, "ina") == ["李娜"]


def test_polyphonic_surnames_are_found_by_each_reading(
    person: Callable[..., int], session: Session
) -> None:
    person("曾伟")
    person("单雄信")
    person("吕布")
    assert _names(session, "zeng wei") == _names(session, "ceng wei") == ["曾伟"]
    assert _names(session, "shan xiongxin") == _names(session, "danxiongxin") == ["单雄信"]
    assert _names(session, "sxx") == ["单雄信"]
    assert _names(session, "lvbu") == _names(session, "lu bu") == _names(session, "lǚ") == ["吕布"]


def test_pinyin_follows_edits_and_erasure_of_names(
    session: Session, people: dict[str, int]
) -> None:
    edit_customer(session, AGENT, people["李娜"], CustomerUpdate(version=1, name="王芳"))
    assert _names(session, "wangfang") == ["王芳"]
    assert _names(session, "lina") == ["王芳"]  # the wechat id LiNa_88 is still there
    assert _names(session, "linuo") == []


def test_an_agent_finds_no_customer_outside_their_scope_by_pinyin(
    session: Session, person: Callable[..., int], monkeypatch: pytest.MonkeyPatch
) -> None:
    add_staff(session, AGENT.user_id, 77)  # type: ignore[arg-type]
    person("张三", owner_user_id=AGENT.user_id)
    person("张四", owner_user_id=77)
    monkeypatch.setitem(
        _SCOPES,
        Customer,
        lambda statement, principal: statement.where(Customer.owner_user_id == principal.user_id),
    )
    for query in ("zhangsi", "zhang si", "zs", "si", "张四", "zhang"):
        names = [c.name for c in search_customers(session, AGENT, query).items]
        assert "张四" not in names, query
    assert [c.name for c in search_customers(session, AGENT, "zs").items] == ["张三"]
    with pytest.raises(PermissionDeniedError):
        search_customers(session, NOBODY, "zhangsi")


def test_a_cached_statement_is_run_with_the_new_words(
    session: Session, people: dict[str, int]
) -> None:
    # the same shape of query, so the same compiled statement, with other words each time
    for _ in range(2):
        assert _names(session, "zhangwei") == ["张伟"]
        assert _names(session, "xiaoming") == ["张小明"]
        assert _names(session, "lina") == ["李娜"]
        assert _names(session, "张 wei") == ["张伟"]
        assert _names(session, "李 na") == ["李娜"]
