"""Groups the messages the assistant could not answer, and exports reviewed ones.

The admin "unanswered inbox" shows fallback / low-confidence messages as
clusters of similar questions; a cluster is then assigned to a topic (intent),
marked as a new topic or ignored. :func:`cluster_messages` makes the clusters,
:func:`nlu_yaml` writes the assigned messages as Rasa 3.x NLU training data.

How messages are compared
-------------------------
Residents write the same question with or without diacritics and with chat
abbreviations, so every text first goes through the project's normaliser
(:func:`bot.nlu.normalizer.normalize`: NFC, lower case, diacritics folded,
"ko"/"dc"/"j"/"tk"/"app"... expanded, punctuation and unknown emoji dropped).
A few domain abbreviations that the shared table does not expand are expanded
here as well ("bhyt", "gplx", "bhtn"; "dk" reads "dang ky" unless it follows
"khong"/"co" or ends the message, where it means "duoc"). Then question frames
and particles that say nothing about the topic ("o dau", "nhu the nao",
"duoc khong", "a", "toi", ...) are removed, and so are bare numbers, leaving
the content words. A message with no letters at all (empty, digits, emoji
only) has nothing to compare: all of them form one cluster labelled
"(không có chữ)".

Distinct content texts are vectorised twice with TF-IDF (idf from the texts
being clustered): word unigrams + bigrams ("tien dien" vs "tien nuoc") and
character n-grams (``char_wb``, 2-5, for typos and spelling variants). The
cosine similarity used is ``0.3 * char + 0.7 * word``. Average-linkage
agglomerative clustering then merges groups while their mean pairwise cosine
distance stays below ``threshold``. (This is exactly what sklearn's
``AgglomerativeClustering(n_clusters=None, distance_threshold=t,
affinity="precomputed", linkage="average")`` computes -- it hands the work to
scipy's ``linkage`` -- called directly so the n x n matrix and its index arrays
are never built: the condensed distances are filled block by block.)

Identical content texts are one point (so a message sent 200 times does not
pull the average towards itself); they still all count in ``count`` and
``member_ids``.

The default threshold, 0.75
---------------------------
Measured on hand-written inbox samples -- set A: 5 themes (bhyt card, driving
licence, birth registration, pension, electricity bill) + 5 one-off
questions; set B: A plus 5 more themes (water bill, VNeID, passport, citizen
ID, unemployment benefit) and 8 more one-offs; each theme written with and
without diacritics, teencode included -- and on 3,000 synthetic messages
(verb + one of 20 subjects + question tail, 15 topics):

=========  ===============  ===============  ===============
threshold  A: ARI / purity  B: ARI / purity  3,000 synthetic
=========  ===============  ===============  ===============
0.65       0.54 / 1.00      0.65 / 0.99      0.67 / 0.93
0.70       0.66 / 1.00      0.68 / 0.98      0.76 / 0.91
0.75       0.80 / 1.00      0.84 / 0.98      0.77 / 0.91
0.80       0.98 / 1.00      0.89 / 0.98      0.77 / 0.87
0.85       1.00 / 1.00      0.86 / 0.94      0.75 / 0.83
=========  ===============  ===============  ===============

(each cell: adjusted Rand index against the themes / purity, which is
sklearn's homogeneity score.) A wrong "assign" puts wrong examples into the training
data, while a theme split in two only costs a second click, so purity comes
first: 0.75 is the highest threshold that keeps it on all three samples. At
0.8 the 3,000 messages merge whole topics (bảo hiểm y tế with bảo hiểm xã
hội, tiền điện with tiền nước); at 0.75 those stay apart and a theme of set B
shows up as one to four clusters. The mistakes left are messages that share
only a generic phrase ("hoá đơn nước sao cao vậy" among the electricity
bills, "app vneid bị lỗi" next to "thanh toán tiền điện qua app"). Short texts
share few terms, hence a distance this high: the messages of a cluster have
an average cosine similarity of at least 0.25. Lower it for tighter
clusters, raise it for fewer.

Cost and the cap
----------------
Normalising and vectorising are linear; the similarities and the average
linkage are O(n^2) in time and memory in the number n of distinct content
texts (5,000 distinct texts: 12.5 M distances, 100 MB, twice that while scipy
links them). Measured on this project's 2-core box with other work running,
after the first call (imports: ~0.3 s): 3,000 realistic messages ~0.4 s,
5,000 ~0.8 s; the worst case, every text distinct and sharing many
syllables, 3,000 ~1.1 s and 5,000 ~2.4 s (~300 MB peak).

Above ``max_items`` (default 5,000) only the first ``max_items`` items are
clustered: callers pass the inbox newest first (as ``queries.unanswered``
does), so these are the most recent messages; the rest show up once those
are reviewed.

Output is deterministic and does not depend on the order of ``items``
(below the cap): cluster keys are a hash of the member ids.
"""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any, Dict, Hashable, Iterable, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from bot.nlu.normalizer import default_normalizer, fold_diacritics

DEFAULT_THRESHOLD = 0.75
DEFAULT_MAX_ITEMS = 5000
WORD_WEIGHT = 0.7  # share of word n-grams in the similarity; the rest is character n-grams
MAX_EXAMPLES = 5
MAX_LABEL_TERMS = 3
LABEL_MIN_SCORE = 0.4  # of the best term's score
NO_WORDS_LABEL = "(không có chữ)"
_BLOCK_ROWS = 512

# Domain abbreviations the shared table (bot/nlu/abbreviations.yml) does not expand.
_EXTRA_EXPANSIONS = {
    "bhyt": ("bao", "hiem", "y", "te"),
    "gplx": ("giay", "phep", "lai", "xe"),
    "bhtn": ("bao", "hiem", "that", "nghiep"),
}
# Question frames, removed as whole phrases (folded, after abbreviation expansion).
_STOP_PHRASES = tuple(
    tuple(p.split())
    for p in (
        "co duoc khong", "duoc khong", "nhu the nao", "the nao", "o dau", "bao nhieu",
        "bao lau", "lam sao", "tai sao", "sao vay", "la gi", "lam gi", "lam on", "vui long",
    )
)
# Particles and pronouns. Folded words that are also content words are left out
# on purpose: "can" (cần/căn), "cua" (của/cửa), "ban" (bạn/bản), "anh" (anh/ảnh),
# "chi" (chị/chỉ), "thi" (thì/thi), "ma" (mà/mã), "nha" (nha/nhà), "sao" (bản sao).
_STOP_WORDS = frozenset(
    "a oi nhe ha nhi vay la co khong duoc gi toi minh em cac nhung roi nao o "
    "phai xin giup ai khi va hay nay kia tren".split()
)
_LONGEST_PHRASE = max(len(p) for p in _STOP_PHRASES)
# Rasa reads "[text](entity)", "[text]{...}" and "[text][...]" in an example as entity markup.
_ENTITY_MARKUP = re.compile(
    r"\[(?P<entity_text>[^\]]+?)\](\((?P<entity>[^:)]+?)(?:\:(?P<value>[^)]+))?\)"
    r"|\{(?P<entity_dict>[^}]+?)\}|\[(?P<list_entity_dicts>.*?)\])"
)
# Characters YAML does not allow in a document (and the byte-order mark).
_NOT_YAML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufeff\ufffe\uffff]")
_PLAIN_INTENT = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_YAML_KEYWORDS = frozenset({"y", "n", "yes", "no", "true", "false", "on", "off", "null"})


@dataclass
class Cluster:
    """A group of similar unanswered messages."""

    key: str  # sha1 of the sorted member ids (as text), first 12 hex digits
    member_ids: list  # most central text first; ids of one text in ascending order
    count: int
    examples: List[str]  # up to 5 most central texts, distinct after folding
    label: str  # the 2-3 most characteristic folded terms


@dataclass
class _Point:
    """One distinct content text and the messages that reduce to it."""

    content: str
    ids: List[Any]
    texts: List[str]


def cluster_messages(
    items: Sequence[Tuple[Hashable, str]],
    threshold: float = DEFAULT_THRESHOLD,
    max_items: Optional[int] = DEFAULT_MAX_ITEMS,
) -> List[Cluster]:
    """Group similar messages. Sorted by count descending, then label.

    ``items`` are ``(id, text)`` pairs, newest first; above ``max_items`` only
    the first ``max_items`` are used (``None`` for no cap). ``threshold`` is
    the largest average cosine distance (0-1) inside a cluster.
    """
    if max_items is not None and len(items) > max_items:
        items = items[:max_items]
    points: Dict[str, _Point] = {}
    no_words: List[Tuple[Any, str]] = []
    contents: Dict[str, Optional[str]] = {}  # the same text is often sent many times
    for item_id, text in items:
        text = "" if text is None else str(text)
        if text not in contents:
            contents[text] = _content_text(text)
        content = contents[text]
        if content is None:
            no_words.append((item_id, text))
            continue
        point = points.setdefault(content, _Point(content, [], []))
        point.ids.append(item_id)
        point.texts.append(text)

    ordered = [points[c] for c in sorted(points)]  # canonical order: independent of input order
    clusters = [_make_cluster(members, label) for members, label in _group(ordered, threshold)]
    if no_words:
        by_text: Dict[str, _Point] = {}
        for item_id, text in no_words:
            point = by_text.setdefault(text, _Point("", [], []))
            point.ids.append(item_id)
            point.texts.append(text)
        commonest = sorted(by_text.values(), key=lambda p: (-len(p.ids), p.texts[0]))
        clusters.append(_make_cluster(commonest, NO_WORDS_LABEL))
    clusters.sort(key=lambda c: (-c.count, c.label, c.key))
    return clusters


def nlu_yaml(examples_by_intent: Mapping[str, Sequence[str]]) -> str:
    """Rasa 3.x NLU YAML for the given examples, one block per intent.

    Intents are sorted by name and left out when they have no example. Each
    example is put in Unicode NFC, has its whitespace (newlines included)
    collapsed to single spaces and the characters YAML cannot hold removed;
    square brackets that Rasa would read as entity markup ("[x](y)") become
    round ones (see :func:`training_text`). Examples that are the same once
    folded (diacritics, case, spacing) are written once -- the version with
    diacritics and the fewest capitals is kept -- and sorted by their folded
    form. The examples go in a literal block, so quotes, colons, "#", braces
    and leading dashes need no escaping.
    """
    lines = ['version: "3.1"', "nlu:"]
    for intent in sorted(examples_by_intent):
        name = str(intent).strip()
        if not name:
            raise ValueError("an intent name is empty")
        cleaned = _dedupe_examples(examples_by_intent[intent])
        if not cleaned:
            continue
        lines.append(f"- intent: {_yaml_scalar(name)}")
        lines.append("  examples: |")
        lines.extend(f"    - {example}" for example in cleaned)
    if len(lines) == 2:
        lines[1] = "nlu: []"
    return "\n".join(lines) + "\n"


def training_text(text: str) -> str:
    """``text`` as :func:`nlu_yaml` writes it: one line, YAML-safe, no entity markup."""
    text = " ".join(_NOT_YAML.sub(" ", unicodedata.normalize("NFC", str(text))).split())
    while _ENTITY_MARKUP.search(text):
        text = _ENTITY_MARKUP.sub(lambda m: m.group(0).replace("[", "(").replace("]", ")"), text)
    return text


# -- comparing texts ---------------------------------------------------------


def _content_text(text: str) -> Optional[str]:
    """The words of ``text`` that say what it is about; None when it has no letters."""
    words = [token.text for token in default_normalizer().tokens(text)]
    if all(word.isdigit() for word in words):
        return None
    expanded: List[str] = []
    for index, word in enumerate(words):
        if word == "dk":
            at_end = index == len(words) - 1
            word = "duoc" if at_end or (expanded and expanded[-1] in ("khong", "co")) else "dang ky"
            expanded.extend(word.split())
        else:
            expanded.extend(_EXTRA_EXPANSIONS.get(word, (word,)))
    content: List[str] = []
    index = 0
    while index < len(expanded):
        for size in range(min(_LONGEST_PHRASE, len(expanded) - index), 1, -1):
            if tuple(expanded[index : index + size]) in _STOP_PHRASES:
                index += size
                break
        else:
            word = expanded[index]
            if word not in _STOP_WORDS and not word.isdigit():
                content.append(word)
            index += 1
    return " ".join(content or expanded)


def _vectors(contents: List[str]):
    """Row-normalised TF-IDF vectors (char and word n-grams) and the word vectoriser."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer

    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, dtype=np.float32)
    words = TfidfVectorizer(
        analyzer="word", token_pattern=r"\S+", ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32
    )
    char_matrix = chars.fit_transform(contents)
    word_matrix = words.fit_transform(contents)
    combined = hstack(
        [char_matrix * np.float32((1 - WORD_WEIGHT) ** 0.5), word_matrix * np.float32(WORD_WEIGHT**0.5)]
    ).tocsr()
    return combined, word_matrix.tocsr(), words


def _condensed_distances(matrix) -> np.ndarray:
    """Cosine distances of the (row-normalised) rows, in scipy's condensed form."""
    n = matrix.shape[0]
    condensed = np.empty(n * (n - 1) // 2, dtype=np.float64)
    transposed = matrix.T.tocsr()  # CSR x CSR is the fastest sparse product here
    position = 0
    for start in range(0, n, _BLOCK_ROWS):
        stop = min(start + _BLOCK_ROWS, n)
        block = (matrix[start:stop] @ transposed).toarray()
        for row in range(start, stop):
            tail = block[row - start, row + 1 :]
            condensed[position : position + tail.size] = tail
            position += tail.size
    np.subtract(1.0, condensed, out=condensed)
    np.clip(condensed, 0.0, 2.0, out=condensed)
    return condensed


def _group(points: List[_Point], threshold: float) -> Iterable[Tuple[List[_Point], str]]:
    """Clusters of points, each ordered most central first, with its label."""
    if not points:
        return []
    matrix, word_matrix, words = _vectors([p.content for p in points])
    if len(points) == 1:
        labels = np.zeros(1, dtype=int)
    else:
        from scipy.cluster.hierarchy import fcluster, linkage

        tree = linkage(_condensed_distances(matrix), method="average")
        labels = fcluster(tree, t=threshold, criterion="distance")
    vocabulary = words.get_feature_names_out()
    idf = words.idf_  # a property that recomputes: read it once
    weights = np.array([len(p.ids) for p in points], dtype=np.float64)
    groups: Dict[int, List[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        groups[int(label)].append(index)
    result = []
    for indices in groups.values():
        if len(indices) == 1:
            ordered = indices
        else:
            rows = matrix[indices]
            centrality = rows @ np.asarray(rows.T @ weights[indices]).ravel()
            order = sorted(
                range(len(indices)),
                key=lambda k: (-round(float(centrality[k]), 9), -weights[indices[k]], points[indices[k]].content),
            )
            ordered = [indices[k] for k in order]
        label = _label(word_matrix, vocabulary, idf, ordered, weights, points)
        result.append(([points[i] for i in ordered], label))
    return result


def _label(
    word_matrix,
    vocabulary: Sequence[str],
    idf: np.ndarray,
    indices: List[int],
    weights: np.ndarray,
    points: List[_Point],
) -> str:
    """The cluster's most characteristic terms, non-overlapping, in reading order.

    A term's score is the share of the cluster's messages that contain it
    times its idf over all texts being clustered: common inside the cluster,
    rare outside it. A bigram beats its own words when it is as common.
    Terms scoring under 40% of the best are left out once there are two words.
    """
    # Straight from the CSR arrays: slicing a sparse matrix per cluster is slow.
    rows = np.asarray(indices)
    starts, ends = word_matrix.indptr[rows], word_matrix.indptr[rows + 1]
    present = np.concatenate([word_matrix.indices[a:b] for a, b in zip(starts, ends)])
    columns, inverse = np.unique(present, return_inverse=True)  # the terms in the cluster
    share = np.bincount(inverse, weights=np.repeat(weights[rows], ends - starts)) / weights[rows].sum()
    scores = share * idf[columns]
    terms = [vocabulary[j] for j in columns]
    candidates = sorted(
        range(len(columns)), key=lambda k: (-round(float(scores[k]), 9), -terms[k].count(" "), terms[k])
    )
    chosen: List[Tuple[str, ...]] = []
    used: set = set()
    for k in candidates:
        term = tuple(terms[k].split())
        if used.intersection(term):
            continue
        if chosen and len(used) >= 2 and scores[k] < LABEL_MIN_SCORE * scores[candidates[0]]:
            break
        chosen.append(term)
        used.update(term)
        if len(chosen) == MAX_LABEL_TERMS:
            break
    central = points[indices[0]].content.split()

    def position(term: Tuple[str, ...]) -> int:
        for start in range(len(central) - len(term) + 1):
            if tuple(central[start : start + len(term)]) == term:
                return start
        return len(central)

    placed = sorted(((position(term), term) for term in chosen), key=lambda pair: pair[0])
    parts: List[str] = []
    previous_end = None
    for start, term in placed:
        found = start < len(central)
        if parts and found and start == previous_end:
            parts[-1] += " " + " ".join(term)  # adjacent in the text: one phrase
        else:
            parts.append(" ".join(term))
        previous_end = start + len(term) if found else None
    return ", ".join(parts)


# -- building the result -----------------------------------------------------


def _make_cluster(points: List[_Point], label: str) -> Cluster:
    member_ids: List[Any] = []
    examples: List[str] = []
    seen = set()
    for point in points:
        member_ids.extend(sorted(point.ids, key=_id_order))
        if len(examples) < MAX_EXAMPLES:
            for text in _variants(point.texts):
                key = _fold_key(text)
                if key and key not in seen:
                    seen.add(key)
                    examples.append(" ".join(text.split()))
                    break
    digest = hashlib.sha1("\x1f".join(sorted(str(i) for i in member_ids)).encode("utf-8")).hexdigest()
    return Cluster(key=digest[:12], member_ids=member_ids, count=len(member_ids), examples=examples, label=label)


def _variants(texts: List[str]) -> List[str]:
    """A point's texts, the best example first: most frequent, with diacritics, shortest."""
    counts = Counter(texts)
    return sorted(counts, key=lambda t: (-counts[t], not _has_marks(t), len(t), t))


def _id_order(item_id: Any) -> Tuple[str, Any]:
    if isinstance(item_id, (int, float)) and not isinstance(item_id, bool):
        return ("0", item_id)
    return ("1", str(item_id))


def _has_marks(text: str) -> bool:
    """True when ``text`` has Vietnamese diacritics (or other combining marks)."""
    return fold_diacritics(text) != unicodedata.normalize("NFC", text)


def _fold_key(text: str) -> str:
    return " ".join(fold_diacritics(unicodedata.normalize("NFC", text)).lower().split())


# -- YAML --------------------------------------------------------------------


def _dedupe_examples(examples: Iterable[str]) -> List[str]:
    best: Dict[str, str] = {}
    for raw in examples:
        text = training_text(raw)
        if not text:
            continue
        key = _fold_key(text)
        current = best.get(key)
        if current is None or _example_rank(text) < _example_rank(current):
            best[key] = text
    return [best[key] for key in sorted(best, key=lambda k: (k, best[k]))]


def _example_rank(text: str) -> Tuple[bool, int, str]:
    """Prefer the version with diacritics, then the fewest capitals, then code-point order."""
    return (not _has_marks(text), sum(ch.isupper() for ch in text), text)


def _yaml_scalar(name: str) -> str:
    if _PLAIN_INTENT.fullmatch(name) and name.lower() not in _YAML_KEYWORDS:
        return name
    return json.dumps(name, ensure_ascii=False)
