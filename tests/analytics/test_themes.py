"""Complaint themes (kehu.analytics.themes), evaluated on a labelled sample and pinned to
statsmodels.

The labelled sample (``data/complaint_themes_sample.csv``)
    200 short complaint texts, ``id, language, split, theme, text``: 8 themes a retailer's or a
    service desk's customers complain about (``delivery`` late, lost or misdelivered; ``refund``
    and returns; ``defect``, a faulty or damaged product; ``staff``, rude or unhelpful people;
    ``billing``, overcharges and wrong bills; ``app``, the app, website and login; ``waiting`` on
    the phone, in a queue or for a reply; ``points``, loyalty points, membership and vouchers),
    25 each: 11 in Chinese, 10 in English and 4 mixed (English words in Chinese) per theme, 88,
    80 and 32 in all. They are synthetic: written one by one by the helper session that wrote
    this module (an AI model working for the kehu lead), from the kinds of complaint a retail
    service desk hears, each phrased on its own (different sentence shapes, vocabularies, lengths
    and registers; many without the theme's obvious word, e.g. "快递小哥一直说在路上" or "The
    driver left the box in the rain"), and a few deliberately ambiguous (a refund whose
    tracking number shows delivered; a restocking fee). Each text has one theme, the one its
    author meant. The file was written and committed before the method's settings were chosen
    (commit "A labelled sample of 200 complaint texts ...", before the module). The themes were
    interleaved (id 1 delivery, 2 refund, ... 9 delivery again) and every third id (id % 3 ==
    0: 66 texts, 8 or 9 per theme) is the held-out split; the settings (threshold, seed weight,
    correction weight, stop words, the stemmer, NMF's min_df) and the seed words below were
    chosen looking at the tune split only, and the held-out figures were measured once, after.
    They are optimistic for another business's texts: the seeds and the texts have one author.

What was measured on the held-out split (chance is 1/8 = 0.125):

    ========================================================  ========  ========
    mode                                                      accuracy  macro F1
    ========================================================  ========  ========
    seeded, no corrections (fitted on all 200 texts)            0.667     0.682
    seeded + the tune split's 134 labels as corrections         0.712     0.731
    seeded + corrections, fitted on the tune split alone,
    predicting the held-out texts                               0.742     0.752
    ========================================================  ========  ========

    Unsupervised NMF with 8 themes on all 200 texts: adjusted Rand index 0.111, NMI 0.231 with
    the labels, purity 0.36 (the share of texts whose discovered theme's majority label is
    theirs). NMF on texts of 5-20 words in two languages that share no word is weak: it finds
    the themes whose words recur (积分/会员/兑换, 10 of its 16 texts about points; point,
    membership, reward, 9 of 18) and mixes or splits the others by language. It is a discovery
    aid for naming the seeded themes, not a tagger.

    With a broken segmenter (each Han run kept as one "word"), the seeded held-out accuracy
    falls to 0.273 and NMF's ARI to 0.019
    (:func:`test_the_evaluation_fails_with_a_broken_segmenter`).

The thresholds below sit a few points under those figures, so a change that costs more than
that fails. The ARI and NMI are computed here from their textbook formulas (Hubert & Arabie
1985, "Comparing partitions", *Journal of Classification* 2, 193-218; NMI with the arithmetic
mean of the entropies, Strehl & Ghosh 2002), checked on a hand-worked example.

Statistics pinned to statsmodels on the same data: the Welch gap (``CompareMeans`` with
``usevar="unequal"``) and the trend (``GLM`` Poisson with the offset, ``scale="X2"``,
``use_t=True``).
"""

from __future__ import annotations

import csv
from collections import Counter
from math import comb, log
from pathlib import Path

import numpy as np
import pytest
import statsmodels.api as sm
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

import kehu.analytics.text as text_module
from kehu.analytics.themes import (
    OTHER,
    SeededThemes,
    ThemeDiscovery,
    outcome_gap,
    rank_by_outcome,
    summarise_themes,
    theme_trend,
)
from kehu.errors import EmptyInputError, InputError, NotFittedError

SAMPLE = Path(__file__).parent / "data" / "complaint_themes_sample.csv"

#: The seed words a service-desk manager would give each theme (chosen on the tune split).
SEEDS = {
    "delivery": [
        "物流", "快递", "配送", "发货", "包裹", "送货", "签收",
        "delivery", "parcel", "courier", "shipping", "package", "tracking", "arrive",
    ],
    "refund": ["退款", "退货", "换货", "退回", "refund", "return", "money back", "exchange"],
    "defect": [
        "质量", "坏了", "破损", "故障", "漏水", "用不了",
        "broken", "faulty", "defect", "damaged", "stopped working", "cracked",
    ],
    "staff": [
        "态度", "店员", "客服", "不耐烦", "不理人",
        "rude", "staff", "unhelpful", "manager", "agent",
    ],
    "billing": [
        "扣费", "多收", "扣款", "账单", "价格", "发票",
        "charged", "overcharged", "bill", "invoice", "price", "fee",
    ],
    "app": [
        "登录", "闪退", "密码", "验证码", "页面", "系统",
        "app", "login", "crash", "password", "website", "error",
    ],
    "waiting": [
        "排队", "没人接", "电话", "等", "回复",
        "hold", "wait", "queue", "phone", "hotline", "reply",
    ],
    "points": [
        "积分", "会员", "兑换", "优惠券",
        "points", "loyalty", "reward", "redeem", "voucher", "member",
    ],
}  # fmt: skip


def load_sample() -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    with SAMPLE.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    texts = [row["text"] for row in rows]
    themes = np.array([row["theme"] for row in rows])
    held_out = np.array([row["split"] == "heldout" for row in rows])
    languages = np.array([row["language"] for row in rows])
    return texts, themes, held_out, languages


# --- the agreement measures, from their textbook formulas ------------------------------------


def adjusted_rand_index(truth: list[str], found: list[str]) -> float:
    """Hubert & Arabie (1985): (Σ C(n_ij, 2) - E) / (½ (Σ C(a_i, 2) + Σ C(b_j, 2)) - E)."""
    pairs = sum(comb(count, 2) for count in Counter(zip(truth, found, strict=True)).values())
    rows = sum(comb(count, 2) for count in Counter(truth).values())
    columns = sum(comb(count, 2) for count in Counter(found).values())
    expected = rows * columns / comb(len(truth), 2)
    return (pairs - expected) / ((rows + columns) / 2 - expected)


def normalised_mutual_information(truth: list[str], found: list[str]) -> float:
    """I(U, V) / ((H(U) + H(V)) / 2), natural logarithms."""
    n = len(truth)
    joint = Counter(zip(truth, found, strict=True))
    a, b = Counter(truth), Counter(found)
    mutual = sum(c / n * log(c * n / (a[u] * b[v])) for (u, v), c in joint.items())

    def entropy(counts: Counter[str]) -> float:
        return -sum(c / n * log(c / n) for c in counts.values())

    return mutual / ((entropy(a) + entropy(b)) / 2)


def macro_f1(truth: np.ndarray, found: np.ndarray) -> float:
    scores = []
    for theme in sorted(set(truth)):
        tp = np.sum((found == theme) & (truth == theme))
        fp = np.sum((found == theme) & (truth != theme))
        fn = np.sum((found != theme) & (truth == theme))
        scores.append(2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores))


def test_agreement_measures_on_a_hand_worked_example() -> None:
    """[0,0,1,1] against [0,0,1,2]: Σ C(n_ij,2) = 1, rows 2, columns 1, E = 2/6, so ARI =
    (1 - 1/3) / (3/2 - 1/3) = 4/7 (scikit-learn's documentation shows 0.57 for this pair);
    V refines U, so I = H(U) = ln 2 and H(V) = 1.5 ln 2: NMI = ln 2 / (1.25 ln 2) = 0.8."""
    truth, found = ["a", "a", "b", "b"], ["x", "x", "y", "z"]
    assert adjusted_rand_index(truth, found) == pytest.approx(4 / 7)
    assert normalised_mutual_information(truth, found) == pytest.approx(0.8)
    assert macro_f1(np.array(truth), np.array(["a", "b", "b", "b"])) == pytest.approx(
        (2 / 3 + 0.8) / 2
    )


# --- the evaluation on the labelled sample ---------------------------------------------------


def test_seeded_themes_on_the_held_out_split() -> None:
    """Module docstring: 0.667 accuracy and 0.682 macro F1 measured."""
    texts, themes, held_out, _ = load_sample()
    found = np.array(SeededThemes(SEEDS).fit(texts).labels_)
    assert np.mean(found[held_out] == themes[held_out]) >= 0.62
    assert macro_f1(themes[held_out], found[held_out]) >= 0.63


def test_corrections_improve_the_held_out_split() -> None:
    """Module docstring: with the tune split's labels as corrections, 0.712 / 0.731 measured
    (fitted on all texts) and 0.742 / 0.752 (fitted on the tune split, predicting the rest);
    both above the seeds alone."""
    texts, themes, held_out, _ = load_sample()
    corrections = [None if held else theme for held, theme in zip(held_out, themes, strict=True)]
    seeded = np.array(SeededThemes(SEEDS).fit(texts).labels_)
    corrected = np.array(SeededThemes(SEEDS).fit(texts, labels=corrections).labels_)
    assert np.mean(corrected[held_out] == themes[held_out]) >= 0.67
    assert macro_f1(themes[held_out], corrected[held_out]) >= 0.69
    assert np.mean(corrected[held_out] == themes[held_out]) > np.mean(
        seeded[held_out] == themes[held_out]
    )
    tune = [text for text, held in zip(texts, held_out, strict=True) if not held]
    model = SeededThemes(SEEDS).fit(tune, labels=list(themes[~held_out]))
    predicted = np.array(
        model.predict([text for text, held in zip(texts, held_out, strict=True) if held])
    )
    assert np.mean(predicted == themes[held_out]) >= 0.70
    assert macro_f1(themes[held_out], predicted) >= 0.71


def test_discovered_themes_agree_somewhat_with_the_labels() -> None:
    """Module docstring: ARI 0.111, NMI 0.231, purity 0.36 measured on all 200 texts."""
    texts, themes, _, _ = load_sample()
    found = ThemeDiscovery(8).fit(texts).labels_
    truth = list(themes)
    assert adjusted_rand_index(truth, found) >= 0.08
    assert normalised_mutual_information(truth, found) >= 0.20
    majority = sum(
        Counter(t for t, f in zip(truth, found, strict=True) if f == theme).most_common(1)[0][1]
        for theme in set(found)
    )
    assert majority / len(truth) >= 0.33


def test_the_evaluation_fails_with_a_broken_segmenter(monkeypatch: pytest.MonkeyPatch) -> None:
    """The thresholds above are not met when Chinese is not segmented (each Han run one word):
    0.273 held-out accuracy and ARI 0.019 measured. This shows the evaluation can fail."""
    monkeypatch.setattr(text_module, "_chinese_words", lambda run: [run])
    texts, themes, held_out, _ = load_sample()
    found = np.array(SeededThemes(SEEDS).fit(texts).labels_)
    assert np.mean(found[held_out] == themes[held_out]) < 0.62
    assert adjusted_rand_index(list(themes), ThemeDiscovery(8).fit(texts).labels_) < 0.08


def test_every_language_is_tagged_better_than_chance() -> None:
    """Per language, on all 200 texts (Chinese, English, mixed): each well above 1/8."""
    texts, themes, _, languages = load_sample()
    found = np.array(SeededThemes(SEEDS).fit(texts).labels_)
    for language in ("zh", "en", "mixed"):
        chosen = languages == language
        assert np.mean(found[chosen] == themes[chosen]) >= 0.5, language


# --- the seeded mode's behaviour -------------------------------------------------------------

SMALL_SEEDS = {"delivery": ["快递", "delivery"], "refund": ["退款", "refund"]}
SMALL_TEXTS = [
    "快递三天还没到",
    "delivery is late again",
    "退款一直没到账",
    "refund still not paid",
    "the parcel and the delivery are lost",
    "谢谢，问题已经解决",
]


def test_a_text_without_any_theme_word_is_other() -> None:
    model = SeededThemes(SMALL_SEEDS).fit(SMALL_TEXTS)
    assert model.labels_ == ["delivery", "delivery", "refund", "refund", "delivery", OTHER]
    assert not model.membership_[5].any()
    assert model.predict(["great service, thanks"]) == [OTHER]


def test_a_text_may_have_two_themes() -> None:
    model = SeededThemes(SMALL_SEEDS).fit(SMALL_TEXTS)
    assert model.themes_of(["refund for the late delivery"]) == [["delivery", "refund"]] or (
        model.themes_of(["refund for the late delivery"]) == [["refund", "delivery"]]
    )
    assert model.themes_of(["退款"]) == [["refund"]]


def test_corrections_are_kept_and_learned() -> None:
    """An agent tags "package lost" as delivery: that text keeps the tag, and a new text with
    the same new word ("package") is then tagged delivery too, which without the correction
    it is not."""
    texts = [*SMALL_TEXTS, "package gone, nowhere to be seen"]
    without = SeededThemes(SMALL_SEEDS).fit(texts)
    assert without.labels_[-1] == OTHER
    assert without.predict(["my package never came"]) == [OTHER]
    labels = [None] * len(texts)
    labels[-1] = "delivery"
    labels[5] = "refund"  # an agent's correction wins over the model
    model = SeededThemes(SMALL_SEEDS).fit(texts, labels=labels)
    assert model.labels_[-1] == "delivery"
    assert model.labels_[5] == "refund"
    assert model.membership_[5].tolist() == [False, True]
    assert model.predict(["my package never came"]) == ["delivery"]


def test_seeded_themes_are_the_same_on_every_run() -> None:
    texts, _, _, _ = load_sample()
    first = SeededThemes(SEEDS).fit(texts[:60])
    second = SeededThemes(SEEDS).fit(texts[:60])
    assert first.labels_ == second.labels_
    np.testing.assert_array_equal(first.centroids_, second.centroids_)
    assert list(first.top_words()) == list(SEEDS)


def test_unknown_theme_in_corrections_names_the_row() -> None:
    with pytest.raises(InputError, match=r"row 2.*labels.*'shipping'"):
        SeededThemes(SMALL_SEEDS).fit(SMALL_TEXTS, labels=[None, "shipping", *[None] * 4])
    with pytest.raises(InputError, match="2 labels for 6 texts"):
        SeededThemes(SMALL_SEEDS).fit(SMALL_TEXTS, labels=["refund", None])


@pytest.mark.parametrize(
    ("seeds", "message"),
    [
        ({}, "at least one theme"),
        ({"delivery": []}, "list of seed words"),
        ({"delivery": "快递"}, "list of seed words"),
        ({OTHER: ["x"]}, "reserved"),
    ],
)
def test_bad_seeds_are_refused(seeds: dict[str, list[str]], message: str) -> None:
    with pytest.raises(InputError, match=message):
        SeededThemes(seeds)
    with pytest.raises(InputError, match="rounds"):
        SeededThemes(SMALL_SEEDS, rounds=-1)


def test_a_seed_word_that_is_only_a_stop_word_is_named() -> None:
    with pytest.raises(InputError, match=r"seeds\['refund'\].*'the'"):
        SeededThemes({"refund": ["退款", "the"]}).fit(SMALL_TEXTS)


# --- the unsupervised mode's behaviour -------------------------------------------------------


def test_discovery_is_a_stationary_point_of_the_factorisation() -> None:
    """At a local minimum of ||X - W H||² with W, H >= 0 the Karush-Kuhn-Tucker conditions hold:
    the gradient is >= 0 and zero wherever the factor is positive (Gillis 2014, §3). HALS
    stops on a small relative change, so they hold to a tolerance."""
    texts, _, _, _ = load_sample()
    model = ThemeDiscovery(6).fit(texts)
    x = model.vectorizer_.transform([text_module.tokenize(t) for t in texts]).toarray()
    w, h = model.document_weights_, model.word_weights_
    gradient_w = w @ (h @ h.T) - x @ h.T
    gradient_h = (w.T @ w) @ h - w.T @ x
    scale = np.abs(x @ h.T).max()
    assert gradient_w.min() > -1e-2 * scale
    assert np.abs(w * gradient_w).max() < 1e-2 * scale * w.max()
    assert gradient_h.min() > -1e-2 * np.abs(w.T @ x).max()
    again = ThemeDiscovery(6).fit(texts)
    np.testing.assert_array_equal(again.word_weights_, model.word_weights_)


def test_discovery_shares_and_new_texts() -> None:
    texts, _, _, _ = load_sample()
    model = ThemeDiscovery(8).fit(texts)
    np.testing.assert_allclose(model.shares_.sum(axis=1), 1.0)
    main = [model.theme_names_.index(label) for label in model.labels_]
    assert model.membership_[np.arange(len(texts)), main].all()  # the main theme is a theme
    assert (model.membership_.sum(axis=1) >= 1).all()
    shares = model.transform(["积分一直没到账", "!!!"])
    assert shares[0].sum() == pytest.approx(1.0)
    assert shares[1].sum() == 0.0
    points_theme = next(t for t, words in model.top_words().items() if "积分" in words)
    assert int(np.argmax(shares[0])) == model.theme_names_.index(points_theme)


def test_discovery_input_errors() -> None:
    with pytest.raises(EmptyInputError, match="no texts"):
        ThemeDiscovery(2).fit([])
    with pytest.raises(EmptyInputError, match="has a word left"):
        ThemeDiscovery(2).fit(["!!!", "123", "the of"])
    with pytest.raises(InputError, match="3 texts for 4 themes"):
        ThemeDiscovery(4).fit(["快递慢", "退款慢", "态度差"])
    with pytest.raises(InputError, match=r"row 2.*'texts'"):
        ThemeDiscovery(1).fit(["快递慢", 42])
    with pytest.raises(InputError, match="n_themes"):
        ThemeDiscovery(0)
    with pytest.raises(NotFittedError):
        ThemeDiscovery(2).top_words()
    with pytest.raises(NotFittedError):
        SeededThemes(SMALL_SEEDS).predict(["快递"])


# --- per theme: counts, trend, outcome gaps --------------------------------------------------


def test_outcome_gap_matches_statsmodels_welch() -> None:
    rng = np.random.default_rng(11)
    has = rng.random(90) < 0.3
    csat = np.where(has, rng.integers(1, 4, 90), rng.integers(3, 6, 90)).astype(float)
    csat[[3, 17]] = np.nan  # texts without a survey answer are left out
    gap = outcome_gap(csat, has, name="csat", level=0.9)
    assert gap is not None
    answered = ~np.isnan(csat)
    oracle = CompareMeans(DescrStatsW(csat[answered & has]), DescrStatsW(csat[answered & ~has]))
    low, high = oracle.tconfint_diff(alpha=0.1, usevar="unequal")
    _, p_value, df = oracle.ttest_ind(usevar="unequal")
    assert (gap.low, gap.high) == pytest.approx((low, high), rel=1e-10)
    assert gap.p_value == pytest.approx(p_value, rel=1e-9)
    assert gap.degrees_of_freedom == pytest.approx(df, rel=1e-12)
    assert gap.n_with + gap.n_without == 88
    share = gap.n_with / 88
    assert gap.impact == pytest.approx(gap.difference * share)
    assert gap.impact_low == pytest.approx(low * share)


def test_trend_matches_statsmodels_quasi_poisson_glm() -> None:
    """Overdispersed counts (φ > 1): statsmodels' scale="X2" with t intervals is the oracle."""
    counts = np.array([12, 25, 11, 30, 22, 41])
    totals = np.array([100, 110, 95, 120, 118, 130])
    trend = theme_trend(counts, totals)
    design = sm.add_constant(np.arange(6.0))
    oracle = sm.GLM(counts, design, family=sm.families.Poisson(), offset=np.log(totals)).fit(
        scale="X2", use_t=True
    )
    assert oracle.scale > 1
    low, high = oracle.conf_int()[1]
    assert trend.estimate == pytest.approx(np.expm1(oracle.params[1]), rel=1e-8)
    assert (trend.low, trend.high) == pytest.approx((np.expm1(low), np.expm1(high)), rel=1e-7)
    assert trend.p_value == pytest.approx(oracle.pvalues[1], rel=1e-6)
    assert trend.dispersion == pytest.approx(oracle.scale, rel=1e-8)


def test_trend_never_claims_less_than_poisson_noise() -> None:
    """Underdispersed counts: the dispersion is taken as 1, the plain Poisson GLM's standard
    error with a t quantile on T - 2 degrees of freedom."""
    counts = np.array([12, 15, 11, 19, 22, 25])
    totals = np.array([100, 110, 95, 120, 118, 130])
    trend = theme_trend(counts, totals)
    oracle = sm.GLM(
        counts, sm.add_constant(np.arange(6.0)), family=sm.families.Poisson(), offset=np.log(totals)
    ).fit(scale=1.0, use_t=True)
    assert trend.dispersion == 1.0
    assert trend.standard_error == pytest.approx(oracle.bse[1], rel=1e-7)
    low, high = oracle.conf_int()[1]
    assert (trend.low, trend.high) == pytest.approx((np.expm1(low), np.expm1(high)), rel=1e-7)


def test_trend_input_errors() -> None:
    with pytest.raises(InputError, match="at least 3 periods"):
        theme_trend([1, 2], [10, 10])
    with pytest.raises(InputError, match="between 0 and its period's total"):
        theme_trend([1, 20, 3], [10, 10, 10])
    with pytest.raises(InputError, match="occurs in no period"):
        theme_trend([0, 0, 0], [10, 10, 10])


def test_summary_counts_examples_and_ranking() -> None:
    """Six texts over three months and two segments, two themes: the counts are those of the
    table below, the examples the highest-scoring texts, and delivery (CSAT 1-2 with it, 4-5
    without) costs more satisfaction than refund (3 with, 3-4 without)."""
    membership = np.array(
        [[1, 0], [1, 1], [0, 1], [1, 0], [0, 0], [0, 1]], dtype=bool
    )  # delivery, refund
    scores = np.array([[0.9, 0], [0.5, 0.6], [0, 0.8], [0.7, 0], [0, 0], [0, 0.3]])
    months = ["2026-01", "2026-01", "2026-02", "2026-03", "2026-03", "2026-03"]
    segments = ["gold", "basic", "gold", "basic", "basic", None]
    csat = [1, 2, 4, 2, 5, 3]
    repeat = [1, 1, 0, 1, 1, 0]
    summaries = summarise_themes(
        membership,
        ["delivery", "refund"],
        scores=scores,
        ids=["t1", "t2", "t3", "t4", "t5", "t6"],
        periods=months,
        segments=segments,
        outcomes={"csat": csat, "repeat": repeat},
        n_examples=2,
    )
    delivery, refund = summaries
    assert (delivery.n, refund.n) == (3, 3)
    assert delivery.share == pytest.approx(0.5)
    assert delivery.examples == ["t1", "t4"]
    assert refund.examples == ["t3", "t2"]
    assert delivery.by_period == {"2026-01": 2, "2026-02": 0, "2026-03": 1}
    assert refund.by_segment == {"basic": 1, "gold": 1}
    assert delivery.outcomes["csat"].difference == pytest.approx(5 / 3 - 4)
    assert delivery.trend is not None and delivery.trend.n_periods == 3
    assert [s.theme for s in rank_by_outcome(summaries, "csat")] == ["delivery", "refund"]
    assert [s.theme for s in rank_by_outcome(summaries, "repeat", higher_is_better=False)] == [
        "delivery",
        "refund",
    ]


def test_summary_from_a_fitted_model_and_its_errors() -> None:
    model = SeededThemes(SMALL_SEEDS).fit(SMALL_TEXTS)
    summaries = model.summarise(ids=list("abcdef"), periods=["m1", "m1", "m2", "m2", "m3", "m3"])
    assert [s.theme for s in summaries] == ["delivery", "refund"]
    assert summaries[0].examples[0] in {"a", "b", "e"}
    assert "快递" in summaries[0].words
    with pytest.raises(InputError, match="2 periods for 6 texts"):
        model.summarise(periods=["m1", "m2"])
    with pytest.raises(InputError, match="3 answers for 6 texts"):
        model.summarise(outcomes={"csat": [1, 2, 3]})
    with pytest.raises(InputError, match="not in period_order"):
        model.summarise(periods=["m1"] * 6, period_order=["m2"])
