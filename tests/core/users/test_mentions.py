"""Finding @mentions of colleagues in a text (kehu.core.users.mentions), without a store."""

from __future__ import annotations

from kehu.core.users.mentions import MentionableUser, find_mentions, split_mentions

ANA = MentionableUser(1, "Ana Lima", "ana")
ANABEL = MentionableUser(2, "Anabel", "anabel.k")
LI = MentionableUser(3, "李娜", "lina")
USERS = [ANA, ANABEL, LI]


def names(text: str) -> list[tuple[int, str]]:
    return [(m.user.user_id, text[m.start : m.end]) for m in find_mentions(text, USERS)]


def test_user_names_and_display_names_are_mentions() -> None:
    assert names("@ana please look") == [(1, "@ana")]
    assert names("Thanks, @Ana Lima!") == [(1, "@Ana Lima")]
    assert names("@anabel.k and @Anabel") == [(2, "@anabel.k"), (2, "@Anabel")]
    assert names("请@李娜看一下") == [(3, "@李娜")]
    assert names("(@lina)") == [(3, "@lina")]


def test_ordinary_text_is_no_mention() -> None:
    assert names("write to ana@example.com") == []
    assert names("@anatomy of a complaint") == []
    assert names("@nobody here, and a lone @") == []
    assert names("no at sign") == []
    assert find_mentions("@ana", []) == []


def test_the_longest_name_wins() -> None:
    assert names("@Ana Lima and @ana") == [(1, "@Ana Lima"), (1, "@ana")]
    assert names("@Anabel") == [(2, "@Anabel")]


def test_a_text_splits_into_plain_pieces_and_mentions() -> None:
    text = "Hi @ana, see @李娜."
    pieces = split_mentions(text, find_mentions(text, USERS))
    assert pieces == [("Hi ", None), ("@ana", ANA), (", see ", None), ("@李娜", LI), (".", None)]
    assert "".join(piece for piece, _ in pieces) == text
