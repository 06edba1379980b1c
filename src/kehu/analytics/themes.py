"""Complaint themes: what a set of complaints, ticket messages or survey verbatims is about, in
Chinese and English, and what each theme costs in satisfaction (issue 10, item 5).

Features
    Each text becomes its words (:func:`kehu.analytics.text.tokenize`: jieba segmentation for
    Chinese, a regex tokenizer with stop words and Harman's S stemmer for English, both in one
    mixed text) and then a TF-IDF vector (Salton & Buckley 1988, "Term-weighting approaches in
    automatic text retrieval", *Information Processing & Management* 24(5), 513-523): the
    logarithmic term frequency ``1 + log tf``, the smoothed inverse document frequency
    ``idf(w) = log((1 + N) / (1 + df(w))) + 1`` (``N`` texts, ``df(w)`` of them with ``w``) and
    cosine normalisation to unit Euclidean length, the weighting SMART's notation calls "ltc".
    Short complaints repeat few words, so the weighting is mostly the idf: a word found in every
    complaint ("客服", "order") weighs least.

Two ways to find themes, both on these vectors:

:class:`ThemeDiscovery` (nothing known in advance)
    Non-negative matrix factorisation ``X ≈ W H`` of the n x V TF-IDF matrix into ``k`` themes
    (Lee & Seung 1999, "Learning the parts of objects by non-negative matrix factorization",
    *Nature* 401, 788-791, who showed on text that the factors are topics): row ``j`` of ``H``
    weighs the words of theme ``j`` (its top words name it), row ``i`` of ``W`` says how much of
    each theme text ``i`` holds. The Frobenius loss ``||X - W H||²`` is minimised by
    hierarchical alternating least squares (HALS; Cichocki & Phan 2009, "Fast local algorithms
    for large scale nonnegative matrix and tensor factorizations", *IEICE Trans. Fundamentals*
    E92-A(3), 708-721; Gillis 2014, "The why and how of nonnegative matrix factorization",
    arXiv:1401.5226), which updates one column of ``W`` (or row of ``H``) at a time in closed
    form, ``W[:, j] <- max(0, W[:, j] + ((X Hᵀ)[:, j] - W (H Hᵀ)[:, j]) / (H Hᵀ)[j, j])``, and
    converges much faster than Lee & Seung's (2001) multiplicative updates. It starts from
    NNDSVD (Boutsidis & Gallopoulos 2008, "SVD based initialization: a head start for
    nonnegative matrix factorization", *Pattern Recognition* 41(4), 1350-1362): theme 1 from the
    absolute values of the leading singular vectors, theme ``j`` from the positive or the
    negative parts of the ``j``-th pair (whichever has the larger product of norms), scaled by
    ``sqrt(σ_j · that product)``. It is computed from the singular value decomposition and
    needs no random numbers: the same texts give the same themes on every run and machine. The
    number of themes is the caller's (a manager reads the top words and chooses; there is no
    rule that finds the "true" number of complaint themes, and the seeded mode below is the one
    to use once the business has named its themes).
    A text's theme shares are its row of ``W`` divided by its sum; its main theme is the largest
    share, and it belongs to every theme whose share is at least ``share_threshold``. A text
    with no word of the vocabulary belongs to none ("other").

:class:`SeededThemes` (the business names its themes)
    Each theme is named with a few seed words (``{"delivery": ["物流", "快递", "delivery"]}``),
    so the themes are the same between runs and months and a manager's report keeps its rows.
    A theme's centroid starts as the unit vector of its seed words (each seed word weighing the
    same); a text's score for a theme is the cosine of its vector with the centroid (0..1). The
    centroids are then refined by Rocchio's (1971) relevance feedback, ``c = α s + (1 - α) m``
    (Rocchio, "Relevance feedback in information retrieval", in Salton (ed.), *The SMART
    Retrieval System*, 313-323), ``s`` the seed vector, ``m`` the unit mean vector of the texts
    assigned to the theme, repeated as in seeded self-training (Nigam, McCallum, Thrun &
    Mitchell 2000, "Text classification from labeled and unlabeled documents using EM",
    *Machine Learning* 39, 103-134, with a nearest-centroid rule in place of naive Bayes): this
    lets the theme learn the words that come with its seeds ("包裹", "tracking" with "快递") while
    ``α`` keeps it anchored to what the business meant. Labels (an agent's corrections: a text's
    true theme, or ``"other"``) fix those texts' themes, and each weighs ``correction_weight``
    unlabelled texts in its theme's mean, so a few corrections move the centroid and the
    corrections are learned, not just kept. A text's main theme is the one with the highest
    score if it reaches ``threshold``, else ``"other"``; it also belongs to every further theme
    scoring at least ``threshold`` and ``secondary`` times the best.

Per theme (:func:`summarise_themes`)
    its words, example texts (the ids of the texts that score highest), its count and share,
    counts per period and per segment, a trend, and the gap of each outcome (CSAT, an NPS
    answer, a 0/1 repeat contact) between texts with and without the theme:

    * Trend: the relative change per period of the theme's share of texts, ``exp(b) - 1`` from
      the log-linear regression ``log E[y_t] = log n_t + a + b t`` of the theme's count ``y_t``
      on the period's position ``t``, with the period's number of texts ``n_t`` as offset, fitted
      by iteratively reweighted least squares; quasi-Poisson: the variance is the Poisson one
      times a dispersion ``φ = Σ (y_t - μ_t)² / μ_t / (T - 2)`` estimated from the Pearson
      residuals (taken as 1 when below 1: a handful of months cannot show that counts vary less
      than Poisson ones), and the interval ``exp(b ± t_{T-2} se(b)) - 1`` (McCullagh & Nelder
      1989, *Generalized Linear Models*, 2nd ed., ch. 6 on log-linear models and ch. 9 on
      quasi-likelihood; Wedderburn 1974, "Quasi-likelihood functions, generalized linear
      models, and the Gauss-Newton method", *Biometrika* 61, 439-447). Monthly counts vary more
      than a Poisson count would (a storm delays every parcel in a week), which the dispersion
      and the t quantile on ``T - 2`` degrees of freedom take into account. The periods must be
      equally spaced (give every month, also those with no text of the theme) and at least
      three must hold texts.
    * Outcome gap: the mean outcome of the texts with the theme minus that of the texts without
      it, with Welch's interval ``d ± t_ν sqrt(s₁²/n₁ + s₂²/n₂)`` and
      ``ν = (s₁²/n₁ + s₂²/n₂)² / ((s₁²/n₁)²/(n₁ - 1) + (s₂²/n₂)²/(n₂ - 1))`` (Welch 1947, "The
      generalization of 'Student's' problem when several different population variances are
      involved", *Biometrika* 34, 28-35; Satterthwaite 1946, *Biometrics Bulletin* 2, 110-114),
      the two-sided p-value and both n. Its ``impact`` is ``d n₁ / (n₁ + n₂)``, the amount the
      overall mean is below what it would be if the texts with the theme scored like the others
      (with the interval scaled alike, the share taken as known): "which problems cost the most
      satisfaction" is :func:`rank_by_outcome`, a ranked list with that uncertainty. The gap is
      an association: customers with a theme may differ in other ways too.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse, stats
from scipy.sparse import linalg as sparse_linalg

from kehu.analytics.satisfaction import DEFAULT_MIN_N, answers_array, check_level, check_min_n
from kehu.analytics.text import tokenize
from kehu.errors import ConvergenceError, EmptyInputError, InputError, NotFittedError

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

#: The label of a text that belongs to no theme.
OTHER = "other"

_HALS_MAX_ITERATIONS = 500
_HALS_TOLERANCE = 1e-6
_IRLS_MAX_ITERATIONS = 100
_IRLS_TOLERANCE = 1e-10


# --- features -------------------------------------------------------------------------------


class TfidfVectorizer:
    """TF-IDF vectors of tokenised texts (module docstring: Salton & Buckley 1988's "ltc").

    ``fit`` learns the vocabulary (words in at least ``min_df`` texts, plus ``extra_words``,
    e.g. seed words) and each word's idf; ``transform`` gives a sparse n x V matrix whose rows
    have unit length (a text with no known word is a row of zeros)."""

    def __init__(self, *, min_df: int = 1) -> None:
        if isinstance(min_df, bool) or not isinstance(min_df, int) or min_df < 1:
            raise InputError("min_df must be a whole number of at least 1", value=min_df)
        self.min_df = min_df

    def fit(
        self, documents: Sequence[Sequence[str]], extra_words: Sequence[str] = ()
    ) -> TfidfVectorizer:
        document_frequency: Counter[str] = Counter()
        for words in documents:
            document_frequency.update(set(words))
        kept = {word for word, df in document_frequency.items() if df >= self.min_df}
        kept.update(extra_words)
        self.vocabulary_ = sorted(kept)
        self.index_ = {word: j for j, word in enumerate(self.vocabulary_)}
        n = len(documents)
        df = np.array([document_frequency.get(word, 0) for word in self.vocabulary_], dtype=float)
        self.idf_ = np.log((1.0 + n) / (1.0 + df)) + 1.0
        return self

    def transform(self, documents: Sequence[Sequence[str]]) -> sparse.csr_array:
        if not hasattr(self, "idf_"):
            raise NotFittedError("the TF-IDF vectorizer is not fitted")
        rows: list[int] = []
        columns: list[int] = []
        values: list[float] = []
        for i, words in enumerate(documents):
            counts = Counter(word for word in words if word in self.index_)
            if not counts:
                continue
            weights = {
                self.index_[word]: (1.0 + np.log(tf)) * self.idf_[self.index_[word]]
                for word, tf in counts.items()
            }
            norm = float(np.sqrt(sum(w * w for w in weights.values())))
            for j, w in weights.items():
                rows.append(i)
                columns.append(j)
                values.append(w / norm)
        return sparse.csr_array(
            (values, (rows, columns)), shape=(len(documents), len(self.vocabulary_))
        )


def _texts(texts: Sequence[str] | ArrayLike, name: str = "texts") -> list[str]:
    """The texts as a list of str; a missing text is an empty one, anything else not a str an
    :class:`InputError` naming the row."""
    if isinstance(texts, str):
        raise InputError("give a list of texts, not one string", column=name)
    values = list(np.asarray(texts, dtype=object).ravel()) if not isinstance(texts, list) else texts
    if not values:
        raise EmptyInputError("no texts at all: there is nothing to find themes in", column=name)
    checked = []
    for row, text in enumerate(values, start=1):
        if text is None or (isinstance(text, float) and np.isnan(text)):
            checked.append("")
        elif isinstance(text, str):
            checked.append(text)
        else:
            raise InputError("a text must be a string", row=row, column=name, value=text)
    return checked


def _tokens(texts: list[str], name: str) -> list[list[str]]:
    documents = [tokenize(text) for text in texts]
    if not any(documents):
        raise EmptyInputError(
            f"none of the {len(texts)} texts has a word left after tokenising (only "
            "punctuation, numbers or stop words)",
            column=name,
        )
    return documents


def _top_words(weights: FloatArray, vocabulary: Sequence[str], n: int) -> list[str]:
    order = np.argsort(-weights, kind="stable")[:n]
    return [vocabulary[j] for j in order if weights[j] > 0]


# --- unsupervised: NMF ----------------------------------------------------------------------


class ThemeDiscovery:
    """Themes found by non-negative matrix factorisation of the texts' TF-IDF matrix (module
    docstring: NNDSVD start, HALS updates; deterministic, no random numbers).

    ``n_themes`` themes; ``min_df`` drops words found in fewer texts (a word in one complaint
    cannot tie complaints together); ``share_threshold`` the theme share from which a text
    belongs to a further theme. After ``fit``: ``theme_names_`` ("theme 1", ...),
    ``word_weights_`` (k x V, rows of ``H``), ``vocabulary_``, ``shares_`` (n x k, rows summing
    to 1, or 0 for a text with no known word), ``labels_`` (the main theme's name or
    ``"other"``), ``membership_`` (n x k booleans) and ``reconstruction_error_``."""

    def __init__(
        self, n_themes: int, *, min_df: int = 1, share_threshold: float = 0.35, max_words: int = 8
    ) -> None:
        if isinstance(n_themes, bool) or not isinstance(n_themes, int) or n_themes < 1:
            raise InputError("n_themes must be a whole number of at least 1", value=n_themes)
        if not 0.0 < share_threshold <= 1.0:
            raise InputError(
                "share_threshold must be in (0, 1]", column="share_threshold", value=share_threshold
            )
        self.n_themes = n_themes
        self.min_df = min_df
        self.share_threshold = share_threshold
        self.max_words = max_words

    def fit(self, texts: Sequence[str] | ArrayLike) -> ThemeDiscovery:
        checked = _texts(texts)
        if len(checked) < self.n_themes:
            raise InputError(
                f"{len(checked)} texts for {self.n_themes} themes: give at least as many texts "
                "as themes",
                column="texts",
            )
        documents = _tokens(checked, "texts")
        vectorizer = TfidfVectorizer(min_df=self.min_df).fit(documents)
        if len(vectorizer.vocabulary_) < self.n_themes:
            raise InputError(
                f"only {len(vectorizer.vocabulary_)} words are in at least {self.min_df} texts, "
                f"fewer than the {self.n_themes} themes: lower min_df or ask for fewer themes",
                column="texts",
            )
        matrix = vectorizer.transform(documents)
        w, h, error = _nmf_hals(matrix, self.n_themes)
        totals = w.sum(axis=1)
        shares = np.divide(w, totals[:, None], out=np.zeros_like(w), where=totals[:, None] > 0)
        self.vectorizer_ = vectorizer
        self.vocabulary_ = vectorizer.vocabulary_
        self.theme_names_ = [f"theme {j + 1}" for j in range(self.n_themes)]
        self.word_weights_ = h
        self.document_weights_ = w
        self.shares_ = shares
        self.reconstruction_error_ = error
        membership = _membership(shares, self.share_threshold, 0.0)
        main = _main_index(shares, 1e-12)
        rows = np.flatnonzero(main >= 0)
        membership[rows, main[rows]] = True  # the main theme, even when its share is small
        self.membership_ = membership
        self.labels_ = [OTHER if t < 0 else self.theme_names_[t] for t in main]
        return self

    def top_words(self, n: int | None = None) -> dict[str, list[str]]:
        """Each theme's ``n`` (default ``max_words``) heaviest words."""
        self._check_fitted()
        count = self.max_words if n is None else n
        return {
            name: _top_words(self.word_weights_[j], self.vocabulary_, count)
            for j, name in enumerate(self.theme_names_)
        }

    def transform(self, texts: Sequence[str] | ArrayLike) -> FloatArray:
        """The theme shares of new texts: non-negative least squares of their TF-IDF vectors on
        the fitted ``H`` (by the same HALS updates, ``H`` held fixed)."""
        self._check_fitted()
        matrix = self.vectorizer_.transform([tokenize(text) for text in _texts(texts)])
        w = _nmf_fixed_h(matrix, self.word_weights_)
        totals = w.sum(axis=1)
        return np.divide(w, totals[:, None], out=np.zeros_like(w), where=totals[:, None] > 0)

    def summarise(self, **options: Any) -> list[ThemeSummary]:
        """:func:`summarise_themes` of the fitted texts (``ids=``, ``periods=``, ...)."""
        self._check_fitted()
        return summarise_themes(
            self.membership_,
            self.theme_names_,
            scores=self.shares_,
            words=self.top_words(),
            **options,
        )

    def _check_fitted(self) -> None:
        if not hasattr(self, "word_weights_"):
            raise NotFittedError("the theme discovery is not fitted")


def _nndsvd(matrix: sparse.csr_array, k: int) -> tuple[FloatArray, FloatArray]:
    """NNDSVD start (Boutsidis & Gallopoulos 2008; module docstring): W (n x k), H (k x V)."""
    n, v = matrix.shape
    if k < min(n, v) - 1:
        # the k leading singular triplets only (ARPACK), from a fixed start vector so that the
        # result does not depend on a random one; NNDSVD does not depend on their signs
        start = np.full(min(n, v), 1.0 / np.sqrt(min(n, v)))
        u, s, vt = sparse_linalg.svds(matrix.astype(np.float64), k=k, v0=start)
        order = np.argsort(-s)
        u, s, vt = u[:, order], s[order], vt[order]
    else:
        u, s, vt = np.linalg.svd(matrix.toarray(), full_matrices=False)
    w = np.zeros((n, k))
    h = np.zeros((k, v))
    w[:, 0] = np.sqrt(s[0]) * np.abs(u[:, 0])
    h[0, :] = np.sqrt(s[0]) * np.abs(vt[0, :])
    for j in range(1, min(k, s.size)):
        x, y = u[:, j], vt[j, :]
        x_pos, x_neg = np.maximum(x, 0), np.maximum(-x, 0)
        y_pos, y_neg = np.maximum(y, 0), np.maximum(-y, 0)
        norms_pos = np.linalg.norm(x_pos) * np.linalg.norm(y_pos)
        norms_neg = np.linalg.norm(x_neg) * np.linalg.norm(y_neg)
        if norms_pos >= norms_neg:
            left, right, sigma = x_pos, y_pos, norms_pos
        else:
            left, right, sigma = x_neg, y_neg, norms_neg
        if sigma == 0:
            continue
        scale = np.sqrt(s[j] * sigma)
        w[:, j] = scale * left / np.linalg.norm(left)
        h[j, :] = scale * right / np.linalg.norm(right)
    return w, h


def _hals_columns(w: FloatArray, a: FloatArray, b: FloatArray) -> None:
    """One HALS sweep (Cichocki & Phan 2009; module docstring) of the columns of ``w`` in
    place, for the problem min ||X - w G||² with ``a = X Gᵀ`` and ``b = G Gᵀ``."""
    for j in range(w.shape[1]):
        if b[j, j] <= 0:
            continue
        w[:, j] = np.maximum(w[:, j] + (a[:, j] - w @ b[:, j]) / b[j, j], 1e-16)


def _nmf_hals(matrix: sparse.csr_array, k: int) -> tuple[FloatArray, FloatArray, float]:
    w, h = _nndsvd(matrix, k)
    squared_norm = float(matrix.multiply(matrix).sum())
    previous = np.inf
    for _ in range(_HALS_MAX_ITERATIONS):
        _hals_columns(w, np.asarray(matrix @ h.T), h @ h.T)
        ht = h.T.copy()
        _hals_columns(ht, np.asarray(matrix.T @ w), w.T @ w)
        h = ht.T.copy()
        xh = np.asarray(matrix @ h.T)
        error = squared_norm - 2.0 * float(np.sum(w * xh)) + float(np.sum((w.T @ w) * (h @ h.T)))
        if previous - error <= _HALS_TOLERANCE * squared_norm:
            return w, h, float(np.sqrt(max(error, 0.0)))
        previous = error
    raise ConvergenceError(
        f"the matrix factorisation did not converge in {_HALS_MAX_ITERATIONS} sweeps",
        advice="ask for fewer themes or raise min_df",
    )


def _nmf_fixed_h(matrix: sparse.csr_array, h: FloatArray) -> FloatArray:
    w = np.full((matrix.shape[0], h.shape[0]), 1e-3)
    a, b = np.asarray(matrix @ h.T), h @ h.T
    for _ in range(200):
        before = w.copy()
        _hals_columns(w, a, b)
        if np.max(np.abs(w - before)) < 1e-9:
            break
    w[np.asarray(matrix.sum(axis=1)).ravel() == 0] = 0.0
    return np.where(w > 1e-12, w, 0.0)


# --- seeded and supervised ------------------------------------------------------------------


class SeededThemes:
    """Themes named by the business with seed words, refined on the texts and learned from
    agents' corrections (module docstring: cosine to Rocchio centroids, seeded self-training).

    ``seeds`` maps each theme's name to its seed words or phrases, in either language (each is
    tokenised like a text, so "on hold" seeds the word "hold"). ``threshold`` is the lowest
    cosine score for a theme (below it for every theme a text is ``"other"``); ``secondary``
    the fraction of the best score a further theme needs; ``seed_weight`` is Rocchio's ``α``;
    ``correction_weight`` how many unlabelled texts one corrected text weighs; ``rounds`` the
    most refinement rounds (they stop early when no text changes theme).

    After ``fit``: ``theme_names_`` (the seeds' order), ``centroids_`` (k x V, unit rows),
    ``vocabulary_``, ``scores_`` (n x k cosines of the fitted texts), ``labels_`` (each text's
    main theme or ``"other"``; a corrected text has its correction), ``membership_`` (n x k
    booleans) and ``n_rounds_``."""

    def __init__(
        self,
        seeds: Mapping[str, Sequence[str]],
        *,
        threshold: float = 0.02,
        secondary: float = 0.8,
        seed_weight: float = 0.5,
        correction_weight: float = 2.0,
        rounds: int = 10,
        max_words: int = 8,
    ) -> None:
        if not isinstance(seeds, Mapping) or not seeds:
            raise InputError("seeds must name at least one theme with its seed words")
        for name, words in seeds.items():
            if not isinstance(name, str) or not name.strip():
                raise InputError("a theme's name must be a non-empty string", value=name)
            if name == OTHER:
                raise InputError(f"{OTHER!r} is reserved for texts of no theme", value=name)
            if isinstance(words, str) or not words:
                raise InputError(
                    "each theme needs a list of seed words", column=f"seeds[{name!r}]", value=words
                )
        for value, low, high, label in (
            (threshold, 0.0, 1.0, "threshold"),
            (secondary, 0.0, 1.0, "secondary"),
            (seed_weight, 0.0, 1.0, "seed_weight"),
        ):
            if not low < value <= high:
                raise InputError(f"{label} must be in ({low:g}, {high:g}]", value=value)
        if correction_weight <= 0:
            raise InputError("correction_weight must be positive", value=correction_weight)
        if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 0:
            raise InputError("rounds must be a whole number of at least 0", value=rounds)
        self.seeds = {name: list(words) for name, words in seeds.items()}
        self.threshold = threshold
        self.secondary = secondary
        self.seed_weight = seed_weight
        self.correction_weight = correction_weight
        self.rounds = rounds
        self.max_words = max_words

    def fit(
        self,
        texts: Sequence[str] | ArrayLike,
        labels: Sequence[str | None] | ArrayLike | None = None,
    ) -> SeededThemes:
        """Learn the centroids from ``texts``; ``labels`` (one per text, ``None`` where not
        corrected) are agents' corrections: a theme's name or ``"other"``."""
        checked = _texts(texts)
        names = list(self.seeds)
        fixed = self._labels(labels, len(checked), names)
        documents = _tokens(checked, "texts")
        seed_words = {name: self._seed_words(name) for name in names}
        vectorizer = TfidfVectorizer(min_df=1).fit(
            documents, extra_words=[w for words in seed_words.values() for w in words]
        )
        matrix = vectorizer.transform(documents)
        seed_vectors = np.zeros((len(names), len(vectorizer.vocabulary_)))
        for t, name in enumerate(names):
            for word in seed_words[name]:
                seed_vectors[t, vectorizer.index_[word]] = 1.0
        seed_vectors /= np.linalg.norm(seed_vectors, axis=1, keepdims=True)

        weights = np.where(fixed >= -1, self.correction_weight, 1.0)  # -2: not corrected
        centroids = seed_vectors.copy()
        assigned = np.full(len(checked), -2)
        rounds = 0
        for rounds in range(1, self.rounds + 1):  # noqa: B007 (kept as n_rounds_)
            scores = np.asarray(matrix @ centroids.T)
            choice = _main_index(scores, self.threshold)
            choice = np.where(fixed >= -1, fixed, choice)
            if np.array_equal(choice, assigned):
                break
            assigned = choice
            centroids = self._centroids(matrix, assigned, weights, seed_vectors)
        scores = np.asarray(matrix @ centroids.T)
        self.vectorizer_ = vectorizer
        self.vocabulary_ = vectorizer.vocabulary_
        self.theme_names_ = names
        self.centroids_ = centroids
        self.scores_ = scores
        self.n_rounds_ = rounds
        main = np.where(fixed >= -1, fixed, _main_index(scores, self.threshold))
        self.labels_ = [OTHER if t < 0 else names[t] for t in main]
        membership = _membership(scores, self.threshold, self.secondary)
        corrected = fixed >= -1
        membership[corrected] = False
        rows = np.flatnonzero(corrected & (fixed >= 0))
        membership[rows, fixed[rows]] = True
        self.membership_ = membership
        return self

    def scores(self, texts: Sequence[str] | ArrayLike) -> FloatArray:
        """The cosine score (0..1) of each new text for each theme (n x k)."""
        self._check_fitted()
        matrix = self.vectorizer_.transform([tokenize(text) for text in _texts(texts)])
        return np.asarray(matrix @ self.centroids_.T)

    def predict(self, texts: Sequence[str] | ArrayLike) -> list[str]:
        """Each new text's main theme, or ``"other"``."""
        main = _main_index(self.scores(texts), self.threshold)
        return [OTHER if t < 0 else self.theme_names_[t] for t in main]

    def themes_of(self, texts: Sequence[str] | ArrayLike) -> list[list[str]]:
        """Every theme of each new text (main theme first; empty for "other")."""
        scores = self.scores(texts)
        membership = _membership(scores, self.threshold, self.secondary)
        return [
            [self.theme_names_[t] for t in np.argsort(-row_scores, kind="stable") if row[t]]
            for row, row_scores in zip(membership, scores, strict=True)
        ]

    def top_words(self, n: int | None = None) -> dict[str, list[str]]:
        """Each theme's ``n`` (default ``max_words``) heaviest centroid words."""
        self._check_fitted()
        count = self.max_words if n is None else n
        return {
            name: _top_words(self.centroids_[t], self.vocabulary_, count)
            for t, name in enumerate(self.theme_names_)
        }

    def summarise(self, **options: Any) -> list[ThemeSummary]:
        """:func:`summarise_themes` of the fitted texts (``ids=``, ``periods=``, ...)."""
        self._check_fitted()
        return summarise_themes(
            self.membership_,
            self.theme_names_,
            scores=self.scores_,
            words=self.top_words(),
            **options,
        )

    def _seed_words(self, name: str) -> list[str]:
        words: list[str] = []
        for seed in self.seeds[name]:
            if not isinstance(seed, str):
                raise InputError(
                    "a seed word must be a string", column=f"seeds[{name!r}]", value=seed
                )
            tokens = tokenize(seed)
            if not tokens:
                raise InputError(
                    "the seed word has no word left after tokenising (a stop word, a number or "
                    "punctuation)",
                    column=f"seeds[{name!r}]",
                    value=seed,
                )
            words.extend(tokens)
        return list(dict.fromkeys(words))

    @staticmethod
    def _labels(
        labels: Sequence[str | None] | ArrayLike | None, n: int, names: list[str]
    ) -> NDArray[np.int_]:
        """Corrections as theme positions: -1 for "other", -2 for not corrected."""
        fixed = np.full(n, -2)
        if labels is None:
            return fixed
        values = list(np.asarray(labels, dtype=object).ravel())
        if len(values) != n:
            raise InputError(
                f"{len(values)} labels for {n} texts: give one label (or None) per text",
                column="labels",
            )
        position = {name: t for t, name in enumerate(names)}
        for row, label in enumerate(values, start=1):
            if label is None or (isinstance(label, float) and np.isnan(label)) or label == "":
                continue
            if label == OTHER:
                fixed[row - 1] = -1
            elif label in position:
                fixed[row - 1] = position[label]
            else:
                raise InputError(
                    f"not a theme of the seeds ({', '.join(names)}) nor {OTHER!r}",
                    row=row,
                    column="labels",
                    value=label,
                )
        return fixed

    def _centroids(
        self,
        matrix: sparse.csr_array,
        assigned: NDArray[np.int_],
        weights: FloatArray,
        seed_vectors: FloatArray,
    ) -> FloatArray:
        centroids = seed_vectors.copy()
        for t in range(seed_vectors.shape[0]):
            rows = np.flatnonzero(assigned == t)
            if rows.size == 0:
                continue
            mean = np.asarray(weights[rows] @ matrix[rows]).ravel()
            norm = np.linalg.norm(mean)
            if norm == 0:
                continue
            mixed = self.seed_weight * seed_vectors[t] + (1.0 - self.seed_weight) * mean / norm
            centroids[t] = mixed / np.linalg.norm(mixed)
        return centroids

    def _check_fitted(self) -> None:
        if not hasattr(self, "centroids_"):
            raise NotFittedError("the seeded themes are not fitted")


def _main_index(scores: FloatArray, threshold: float) -> NDArray[np.int_]:
    """The best theme per row, -1 where no score reaches ``threshold``."""
    best = np.argmax(scores, axis=1)
    return np.where(scores[np.arange(scores.shape[0]), best] >= threshold, best, -1)


def _membership(scores: FloatArray, threshold: float, secondary: float) -> BoolArray:
    best = scores.max(axis=1, keepdims=True)
    member = (scores >= threshold) & (scores >= secondary * best) & (best > 0)
    return np.asarray(member, dtype=bool)


# --- per theme: counts, trend, outcome gaps -------------------------------------------------


@dataclass(frozen=True)
class ThemeTrend:
    """The relative change per period of a theme's share of texts (``0.1`` = 10 % more each
    period), with its interval at ``level`` (module docstring: quasi-Poisson log-linear)."""

    estimate: float
    low: float
    high: float
    level: float
    p_value: float
    n_periods: int
    dispersion: float
    standard_error: float
    method: str = "quasi-Poisson log-linear trend of the share, t interval"


@dataclass(frozen=True)
class OutcomeGap:
    """Mean outcome with the theme minus without it, Welch interval at ``level``; ``impact`` is
    the difference times the theme's share of the answered texts (module docstring)."""

    outcome: str
    difference: float
    low: float
    high: float
    level: float
    p_value: float
    degrees_of_freedom: float
    mean_with: float
    mean_without: float
    n_with: int
    n_without: int
    impact: float
    impact_low: float
    impact_high: float
    small_sample: bool
    method: str = "Welch t"


@dataclass(frozen=True)
class ThemeSummary:
    """One theme: its words, example ids, count and share of the texts, counts per period and
    segment, trend (``None`` without periods or with fewer than three), and outcome gaps by
    outcome name (an outcome is absent when either side has fewer than two answers)."""

    theme: str
    n: int
    share: float
    words: list[str]
    examples: list[Hashable]
    by_period: dict[Hashable, int] = field(default_factory=dict)
    by_segment: dict[Hashable, int] = field(default_factory=dict)
    trend: ThemeTrend | None = None
    outcomes: dict[str, OutcomeGap] = field(default_factory=dict)


def summarise_themes(
    membership: ArrayLike,
    themes: Sequence[str],
    *,
    scores: ArrayLike | None = None,
    words: Mapping[str, Sequence[str]] | None = None,
    ids: Sequence[Hashable] | ArrayLike | None = None,
    periods: Sequence[Hashable] | ArrayLike | None = None,
    period_order: Sequence[Hashable] | None = None,
    segments: Sequence[Hashable] | ArrayLike | None = None,
    outcomes: Mapping[str, ArrayLike] | None = None,
    n_examples: int = 3,
    level: float = 0.95,
    min_n: int = DEFAULT_MIN_N,
) -> list[ThemeSummary]:
    """Per theme (module docstring): ``membership`` is n x k (text ``i`` has theme ``j``);
    ``scores`` (n x k) rank the examples; ``ids`` name the texts (default their 0-based rows);
    ``periods`` and ``segments`` hold one key per text (``None`` for unknown); ``period_order``
    lists every period in time order (default the sorted keys found), so that months with no
    text are counted as 0 and the trend's periods are equally spaced; ``outcomes`` maps a name
    to one answer per text (NaN where the text has none, e.g. no survey answer)."""
    level, min_n = check_level(level), check_min_n(min_n)
    member = np.asarray(membership, dtype=bool)
    if member.ndim != 2 or member.shape[1] != len(themes):
        raise InputError(
            f"membership must be n x {len(themes)} (one column per theme), got {member.shape}",
            column="membership",
        )
    n = member.shape[0]
    if n == 0:
        raise EmptyInputError("no texts at all", column="membership")
    score = member.astype(float) if scores is None else np.asarray(scores, dtype=float)
    if score.shape != member.shape:
        raise InputError(f"scores must have shape {member.shape}", column="scores")
    names = list(range(n)) if ids is None else _keys(ids, n, "ids")
    period_keys = None if periods is None else _keys(periods, n, "periods")
    segment_keys = None if segments is None else _keys(segments, n, "segments")
    order = None if period_keys is None else _period_order(period_keys, period_order)
    outcome_values = {name: _outcome(values, n, name) for name, values in (outcomes or {}).items()}
    summaries = []
    for j, theme in enumerate(themes):
        has = member[:, j]
        ranked = np.argsort(-score[:, j], kind="stable")
        examples = [names[i] for i in ranked if has[i]][:n_examples]
        by_period: dict[Hashable, int] = {}
        trend = None
        if period_keys is not None and order is not None:
            by_period = {key: 0 for key in order}
            totals = dict.fromkeys(order, 0)
            for key, flag in zip(period_keys, has, strict=True):
                if key is None:
                    continue
                totals[key] += 1
                by_period[key] += int(flag)
            trend = _trend_or_none(by_period, totals, order, level)
        by_segment: dict[Hashable, int] = {}
        if segment_keys is not None:
            counts: Counter[Hashable] = Counter(
                key for key, flag in zip(segment_keys, has, strict=True) if flag and key is not None
            )
            by_segment = _sorted_counts(counts, segment_keys)
        gaps = {}
        for name, values in outcome_values.items():
            gap = outcome_gap(values, has, name=name, level=level, min_n=min_n)
            if gap is not None:
                gaps[name] = gap
        summaries.append(
            ThemeSummary(
                theme=theme,
                n=int(has.sum()),
                share=float(has.mean()),
                words=list(words.get(theme, [])) if words else [],
                examples=examples,
                by_period=by_period,
                by_segment=by_segment,
                trend=trend,
                outcomes=gaps,
            )
        )
    return summaries


def rank_by_outcome(
    summaries: Sequence[ThemeSummary], outcome: str, *, higher_is_better: bool = True
) -> list[ThemeSummary]:
    """The themes that cost the most first: by ``impact`` on ``outcome`` (most negative first
    when a higher outcome is better, as CSAT and NPS; most positive first otherwise, as a repeat
    contact). Themes without that outcome's gap come last."""
    known = [s for s in summaries if outcome in s.outcomes]
    if not known and summaries:
        raise InputError("no theme has a gap for this outcome", column=outcome)
    sign = 1.0 if higher_is_better else -1.0
    known.sort(key=lambda s: sign * s.outcomes[outcome].impact)
    return known + [s for s in summaries if outcome not in s.outcomes]


def outcome_gap(
    outcome: ArrayLike,
    has_theme: ArrayLike,
    *,
    name: str = "outcome",
    level: float = 0.95,
    min_n: int = DEFAULT_MIN_N,
) -> OutcomeGap | None:
    """Mean ``outcome`` with the theme minus without, Welch's interval (module docstring).
    Rows with a missing outcome are left out; ``None`` when either side has fewer than two
    answers or both sides are constant (no variance to estimate)."""
    level, min_n = check_level(level), check_min_n(min_n)
    values = answers_array(outcome, name)
    flags = np.asarray(has_theme, dtype=bool)
    if flags.shape != values.shape:
        raise InputError(
            f"{values.size} outcomes for {flags.size} texts: give one per text", column=name
        )
    if not np.isfinite(values[~np.isnan(values)]).all():
        raise InputError("an outcome must be a finite number", column=name)
    answered = ~np.isnan(values)
    with_theme, without = values[answered & flags], values[answered & ~flags]
    n1, n2 = with_theme.size, without.size
    if n1 < 2 or n2 < 2:
        return None
    v1, v2 = with_theme.var(ddof=1) / n1, without.var(ddof=1) / n2
    standard_error = float(np.sqrt(v1 + v2))
    difference = float(with_theme.mean() - without.mean())
    if standard_error == 0:
        return None
    df = float((v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1)))
    half = float(stats.t.ppf(0.5 + level / 2.0, df)) * standard_error
    p_value = float(2.0 * stats.t.sf(abs(difference) / standard_error, df))
    share = n1 / (n1 + n2)
    return OutcomeGap(
        outcome=name,
        difference=difference,
        low=difference - half,
        high=difference + half,
        level=level,
        p_value=p_value,
        degrees_of_freedom=df,
        mean_with=float(with_theme.mean()),
        mean_without=float(without.mean()),
        n_with=int(n1),
        n_without=int(n2),
        impact=difference * share,
        impact_low=(difference - half) * share,
        impact_high=(difference + half) * share,
        small_sample=n1 < min_n or n2 < min_n,
    )


def theme_trend(counts: ArrayLike, totals: ArrayLike, *, level: float = 0.95) -> ThemeTrend:
    """The trend of a theme's share over equally spaced periods: ``counts[t]`` texts with the
    theme of ``totals[t]`` texts in period ``t`` (module docstring: quasi-Poisson log-linear
    regression with offset ``log totals``). Periods with no text at all are left out (they say
    nothing about the share); at least three must remain, and the theme must occur."""
    level = check_level(level)
    y = answers_array(counts, "counts")
    n = answers_array(totals, "totals")
    if y.shape != n.shape:
        raise InputError(f"{y.size} counts for {n.size} totals", column="counts")
    if (y < 0).any() or (y > n).any() or np.isnan(y).any() or np.isnan(n).any():
        raise InputError("each count must be between 0 and its period's total", column="counts")
    position = np.arange(y.size, dtype=float)
    kept = n > 0
    y, n, position = y[kept], n[kept], position[kept]
    if y.size < 3:
        raise InputError(
            f"a trend needs at least 3 periods with texts, got {y.size}", column="periods"
        )
    if y.sum() == 0:
        raise InputError("the theme occurs in no period: it has no trend", column="counts")
    design = np.column_stack([np.ones(y.size), position])
    offset = np.log(n)
    coefficients = _poisson_irls(y, design, offset)
    mean = np.exp(design @ coefficients + offset)
    information = np.linalg.inv(design.T @ (design * mean[:, None]))
    df = y.size - 2
    # Never less noise than a Poisson count: a dispersion below 1 estimated from a handful of
    # months is more likely luck than real regularity, and would narrow the interval.
    dispersion = max(1.0, float(np.sum((y - mean) ** 2 / mean) / df))
    standard_error = float(np.sqrt(dispersion * information[1, 1]))
    b = float(coefficients[1])
    if standard_error == 0:
        low = high = b
        p_value = 0.0 if b != 0 else 1.0
    else:
        half = float(stats.t.ppf(0.5 + level / 2.0, df)) * standard_error
        low, high = b - half, b + half
        p_value = float(2.0 * stats.t.sf(abs(b) / standard_error, df))
    return ThemeTrend(
        estimate=float(np.expm1(b)),
        low=float(np.expm1(low)),
        high=float(np.expm1(high)),
        level=level,
        p_value=p_value,
        n_periods=int(y.size),
        dispersion=dispersion,
        standard_error=standard_error,
    )


def _poisson_irls(y: FloatArray, design: FloatArray, offset: FloatArray) -> FloatArray:
    """Maximum likelihood of ``log E[y] = X b + offset`` by iteratively reweighted least squares
    (McCullagh & Nelder 1989, §2.5)."""
    coefficients = np.zeros(design.shape[1])
    coefficients[0] = np.log(y.sum() / np.exp(offset).sum())
    previous = np.inf
    for _ in range(_IRLS_MAX_ITERATIONS):
        linear = design @ coefficients
        mean = np.exp(linear + offset)
        working = linear + (y - mean) / mean
        weighted = design * mean[:, None]
        coefficients = np.asarray(
            np.linalg.solve(design.T @ weighted, weighted.T @ working), dtype=np.float64
        )
        mean = np.exp(design @ coefficients + offset)
        with np.errstate(divide="ignore", invalid="ignore"):
            deviance = 2.0 * float(np.sum(np.where(y > 0, y * np.log(y / mean), 0.0) - (y - mean)))
        if abs(previous - deviance) <= _IRLS_TOLERANCE * (abs(deviance) + 1.0):
            return coefficients
        previous = deviance
    raise ConvergenceError(
        f"the trend's log-linear regression did not converge in {_IRLS_MAX_ITERATIONS} iterations",
        advice="a theme found only in the first or only in the last period has no finite trend",
    )


def _trend_or_none(
    by_period: dict[Hashable, int],
    totals: dict[Hashable, int],
    order: list[Hashable],
    level: float,
) -> ThemeTrend | None:
    counts = [by_period[key] for key in order]
    sizes = [totals[key] for key in order]
    if sum(1 for size in sizes if size > 0) < 3 or sum(counts) == 0:
        return None
    try:
        return theme_trend(counts, sizes, level=level)
    except ConvergenceError:
        return None


def _keys(values: Sequence[Hashable] | ArrayLike, n: int, name: str) -> list[Hashable]:
    keys = list(np.asarray(values, dtype=object).ravel())
    if len(keys) != n:
        raise InputError(f"{len(keys)} {name} for {n} texts: give one per text", column=name)
    return [None if _missing(key) else key for key in keys]


def _missing(key: object) -> bool:
    return key is None or (isinstance(key, float) and np.isnan(key))


def _period_order(keys: list[Hashable], given: Sequence[Hashable] | None) -> list[Hashable]:
    present = [key for key in dict.fromkeys(keys) if key is not None]
    if given is None:
        with contextlib.suppress(TypeError):
            return sorted(present)  # type: ignore[type-var]
        return present
    order = list(given)
    unknown = [key for key in present if key not in set(order)]
    if unknown:
        raise InputError("a period is not in period_order", column="periods", value=unknown[0])
    return order


def _sorted_counts(counts: Counter[Hashable], keys: list[Hashable]) -> dict[Hashable, int]:
    present = [key for key in dict.fromkeys(keys) if key is not None]
    with contextlib.suppress(TypeError):
        present = sorted(present)  # type: ignore[type-var]
    return {key: counts.get(key, 0) for key in present}


def _outcome(values: ArrayLike, n: int, name: str) -> FloatArray:
    array = answers_array(values, name)
    if array.size != n:
        raise InputError(f"{array.size} answers for {n} texts: give one per text", column=name)
    return array
