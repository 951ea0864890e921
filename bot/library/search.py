"""Search of the answer library: BM25F over normalised words and word pairs.

Query and entries go through the same normaliser as the NLU
(:func:`bot.nlu.normalizer.normalize`: diacritics folded, lower case, chat
abbreviations expanded), so "mo tk ngan hang" and "Mở tài khoản ngân hàng"
are the same words. Every entry has three fields, weighted:

- the title (:data:`TITLE_WEIGHT`), what a volunteer would call the answer;
- the messages (:data:`BODY_WEIGHT`), what the bot says;
- the keywords (:data:`KEYWORD_WEIGHT`): the intent's training examples, i.e.
  how residents actually ask, plus, for a journey, the examples of the answers
  that offer it (:data:`RELATED_WEIGHT`).

Terms are single words and adjacent word pairs ("tien dien" as one pair tells
electricity from "tien nuoc" and "dien thoai"). A query word that is in no
entry is matched to a word one typing slip away ("ngan hnag" -> "ngan hang").
An empty query lists the catalogue in its own order (journeys first in each
topic); a query with no words (only emoji or punctuation) finds nothing.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, Iterable, List, Optional, Set, Tuple

from bot.answers.published import library_catalogue
from bot.library.catalogue import JOURNEY, AnswerCatalogue, Entry
from bot.nlu.normalizer import default_normalizer

TITLE_WEIGHT = 4.0
BODY_WEIGHT = 1.0
KEYWORD_WEIGHT = 1.0
RELATED_WEIGHT = 0.3
PAIR_BOOST = 1.5  # a matching word pair counts this much more than a single word's idf
TYPO_WEIGHT = 0.6
K1, B = 3.0, 0.75  # less saturation than the usual 1.2: an answer that is about a word says it many times
MIN_RELATIVE_SCORE = 0.35  # results scoring under this share of the best one are noise
MAX_QUERY_TERMS = 64
# Words of politeness and address that say nothing about the topic (folded).
STOPWORDS = frozenset({"a", "da", "ah", "anh", "chi", "em", "oi", "nhe", "nha", "ha", "ad", "bac", "chau", "toi"})


def words(text: str) -> List[str]:
    """Normalised words of ``text`` (no stopwords)."""
    return [t.text for t in default_normalizer().tokens(text) if t.text not in STOPWORDS]


def terms(text: str) -> List[str]:
    """Words and adjacent word pairs of one piece of text."""
    found = words(text)
    return found + [f"{a} {b}" for a, b in zip(found, found[1:])]


@dataclass
class _Field:
    weight: float
    counts: List[Counter]  # per entry: term -> frequency
    lengths: List[float]
    average: float


@dataclass
class _Index:
    entries: Tuple[Entry, ...]
    fields: List[_Field]
    idf: Dict[str, float]
    vocabulary: Set[str]  # single words
    deletions: Dict[str, List[str]]  # a word with one letter removed -> the words


def _field(weight: float, texts_per_entry: Iterable[Iterable[str]]) -> _Field:
    counts = [Counter(t for text in texts for t in terms(text)) for texts in texts_per_entry]
    lengths = [float(sum(c.values())) for c in counts]
    return _Field(weight, counts, lengths, (sum(lengths) / len(lengths)) if lengths else 1.0)


@lru_cache(maxsize=4)
def _index(library: AnswerCatalogue) -> _Index:
    entries = library.entries
    by_id = {e.id: e for e in entries}
    related = [
        [k for r in e.related if r in by_id for k in by_id[r].keywords] if e.kind == JOURNEY else []
        for e in entries
    ]
    fields = [
        _field(TITLE_WEIGHT, [[e.title] for e in entries]),
        _field(BODY_WEIGHT, [e.messages for e in entries]),
        _field(KEYWORD_WEIGHT, [e.keywords for e in entries]),
        _field(RELATED_WEIGHT, related),
    ]
    frequency: Counter = Counter()
    for i in range(len(entries)):
        frequency.update(set().union(*(f.counts[i].keys() for f in fields)))
    n = len(entries)
    idf = {term: math.log(1 + (n - df + 0.5) / (df + 0.5)) for term, df in frequency.items()}
    vocabulary = {term for term in frequency if " " not in term}
    deletions: Dict[str, List[str]] = {}
    for word in vocabulary:
        if len(word) >= 4:
            for variant in _deletions(word):
                deletions.setdefault(variant, []).append(word)
    return _Index(entries, fields, idf, vocabulary, deletions)


def _deletions(word: str) -> Set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def _correct(word: str, index: _Index) -> Optional[str]:
    """The known word one slip (a letter missing, extra, wrong or two swapped) from ``word``."""
    if len(word) < 4 or word in index.vocabulary:
        return None
    candidates = set(index.deletions.get(word, []))  # the query misses a letter
    for variant in _deletions(word):
        if variant in index.vocabulary:
            candidates.add(variant)  # the query has a letter too many
        candidates.update(index.deletions.get(variant, []))  # a wrong letter, two letters swapped
    if not candidates:
        return None
    return min(sorted(candidates), key=lambda w: index.idf[w])  # the most common one


def query_terms(query: str, index: _Index) -> Dict[str, float]:
    """{term: weight} of a query: its words (typos corrected, weaker) and word pairs."""
    found: List[Tuple[str, float]] = []
    for word in words(query)[:MAX_QUERY_TERMS]:
        if word in index.vocabulary:
            found.append((word, 1.0))
        else:
            corrected = _correct(word, index)
            found.append((corrected, TYPO_WEIGHT) if corrected else (word, 0.0))
    weights: Dict[str, float] = {}
    for word, weight in found:
        if weight:
            weights[word] = max(weights.get(word, 0.0), weight)
    for (a, wa), (b, wb) in zip(found, found[1:]):
        if wa and wb:
            pair = f"{a} {b}"
            weights[pair] = max(weights.get(pair, 0.0), PAIR_BOOST * min(wa, wb))
    return weights


def _score(index: _Index, i: int, weights: Dict[str, float]) -> float:
    score = 0.0
    for term, weight in weights.items():
        idf = index.idf.get(term)
        if idf is None:
            continue
        tf = 0.0
        for f in index.fields:
            count = f.counts[i].get(term)
            if count:
                tf += f.weight * count / (1 - B + B * f.lengths[i] / f.average)
        if tf:
            score += weight * idf * tf / (K1 + tf)
    return score


def prepare(library: Optional[AnswerCatalogue] = None) -> None:
    """Build the catalogue and its index now (they are built once, on first use otherwise)."""
    _index(library or catalogue())


def catalogue() -> AnswerCatalogue:
    """The library of the published answers (bot/answers/), rebuilt when one is published."""
    return library_catalogue()


def search(query: str, limit: int = 10, topic: Optional[str] = None,
           library: Optional[AnswerCatalogue] = None) -> List[Entry]:
    """The entries that answer ``query``, best first (at most ``limit``; ``limit`` ≤ 0: all).

    ``topic`` keeps only the entries of that topic key (an unknown key finds
    nothing). An empty query gives the topic's entries (or the whole
    catalogue) in catalogue order.
    """
    library = library or catalogue()
    cap = limit if limit and limit > 0 else None
    candidates = [i for i, e in enumerate(library.entries) if topic is None or e.topic == topic]
    if not (query or "").strip():
        return [library.entries[i] for i in candidates][:cap]
    index = _index(library)
    weights = query_terms(query, index)
    if not weights:
        return []
    scored = [(s, i) for i in candidates if (s := _score(index, i, weights)) > 0]
    if not scored:
        return []
    best = max(s for s, _ in scored)
    scored = [(s, i) for s, i in scored if s >= MIN_RELATIVE_SCORE * best]
    scored.sort(key=lambda pair: (-pair[0], pair[1]))
    return [library.entries[i] for _, i in scored][:cap]
