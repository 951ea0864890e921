import hashlib
import random
import re
import time

import pytest

from bot.analytics.clustering import NO_WORDS_LABEL, Cluster, cluster_messages, nlu_yaml, training_text
from bot.nlu.normalizer import fold_diacritics

# Unanswered messages as residents type them: with and without diacritics,
# abbreviations ("bhyt", "gplx", "dvc", "dk") and teencode ("ko", "dc", "j", "bn").
THEMES = {
    "bhyt": [
        "thẻ bảo hiểm y tế hết hạn thì gia hạn ở đâu",
        "the bao hiem y te het han thi gia han o dau",
        "Thẻ BHYT hết hạn rồi làm j ạ",
        "the bhyt het han roi lam j a",
        "làm lại thẻ bhyt bị mất",
        "lam lai the bhyt bi mat ntn",
        "tra cứu thẻ bảo hiểm y tế online",
        "tra cuu the bao hiem y te online dc ko",
        "thẻ bhyt của con tôi ko dùng được",
        "the bhyt cua con toi ko dung dc",
        "gia hạn bhyt cho bố mẹ",
        "gia han bao hiem y te cho bo me",
    ],
    "gplx": [
        "đổi bằng lái xe online được không",
        "doi bang lai xe online dc ko",
        "đổi gplx trên dịch vụ công",
        "doi gplx tren dvc nhu the nao",
        "bằng lái xe hết hạn đổi ở đâu",
        "bang lai xe het han doi o dau",
        "đổi bằng lái xe máy cần giấy tờ gì",
        "doi bang lai xe may can giay to j",
        "đổi giấy phép lái xe qua mạng mất bao lâu",
    ],
    "khai_sinh": [
        "đăng ký khai sinh cho con cần giấy tờ gì",
        "dang ky khai sinh cho con can giay to j",
        "làm giấy khai sinh online được không",
        "lam giay khai sinh online dc ko",
        "đăng ký khai sinh quá hạn có bị phạt không",
        "dang ky khai sinh qua han co bi phat ko",
        "dk khai sinh cho be o dau",
    ],
    "luong_huu": [
        "khi nào lĩnh lương hưu tháng này",
        "khi nao linh luong huu thang nay",
        "lương hưu tháng 7 tăng bao nhiêu",
        "luong huu thang 7 tang bn",
        "lương hưu của bố tôi chưa về",
        "luong huu cua bo toi chua ve",
    ],
}
ONE_OFFS = ["wifi ở nhà văn hoá pass là gì", "giờ mở cửa bưu điện", "chó nhà hàng xóm sủa cả đêm"]
NO_WORDS = ["", "   ", "🤔🎉", "0912345678", "?!"]


def inbox():
    """[(id, text)] and {id: theme}, ids 1..n."""
    items, theme = [], {}
    for name, texts in THEMES.items():
        for text in texts:
            items.append((len(items) + 1, text))
            theme[len(items)] = name
    for text in ONE_OFFS + NO_WORDS:
        items.append((len(items) + 1, text))
        theme[len(items)] = "one-off" if text in ONE_OFFS else "no words"
    return items, theme


def cluster_of(clusters, text, items):
    ids = {i for i, t in items if t == text}
    found = [c for c in clusters if ids & set(c.member_ids)]
    assert len(found) == 1, text
    return found[0]


def folded(text):
    return " ".join(fold_diacritics(text).lower().split())


@pytest.fixture(scope="module")
def clustered():
    items, theme = inbox()
    return items, theme, cluster_messages(items)


# -- grouping ------------------------------------------------------------------


@pytest.mark.parametrize(
    "with_marks, without_marks",
    [
        ("Thẻ BHYT hết hạn rồi làm j ạ", "the bao hiem y te het han thi gia han o dau"),
        ("tra cứu thẻ bảo hiểm y tế online", "the bhyt cua con toi ko dung dc"),
        ("đổi bằng lái xe online được không", "doi gplx tren dvc nhu the nao"),
        ("đổi giấy phép lái xe qua mạng mất bao lâu", "bang lai xe het han doi o dau"),
        ("đăng ký khai sinh quá hạn có bị phạt không", "dk khai sinh cho be o dau"),
        ("lương hưu tháng 7 tăng bao nhiêu", "luong huu cua bo toi chua ve"),
        ("khi nào lĩnh lương hưu tháng này", "luong huu thang 7 tang bn"),
    ],
)
def test_same_theme_with_and_without_diacritics_is_one_cluster(clustered, with_marks, without_marks):
    items, _, clusters = clustered
    assert cluster_of(clusters, with_marks, items) is cluster_of(clusters, without_marks, items)


def test_each_theme_is_exactly_one_cluster_of_its_own(clustered):
    items, theme, clusters = clustered
    for name, texts in THEMES.items():
        found = {cluster_of(clusters, text, items).key for text in texts}
        assert len(found) == 1, name
        (cluster,) = [c for c in clusters if c.key in found]
        assert {theme[i] for i in cluster.member_ids} == {name}
        assert cluster.count == len(texts)


def test_different_themes_and_one_offs_are_apart(clustered):
    items, _, clusters = clustered
    anchors = [texts[0] for texts in THEMES.values()] + ONE_OFFS
    keys = [cluster_of(clusters, text, items).key for text in anchors]
    assert len(set(keys)) == len(anchors)
    for text in ONE_OFFS:
        assert cluster_of(clusters, text, items).count == 1


def test_sizes_and_order(clustered):
    items, _, clusters = clustered
    assert all(isinstance(c, Cluster) for c in clusters)
    assert [c.count for c in clusters] == [12, 9, 7, 6, 5, 1, 1, 1]
    assert sum(c.count for c in clusters) == len(items)
    assert sorted(i for c in clusters for i in c.member_ids) == [i for i, _ in items]
    assert all(c.count == len(c.member_ids) for c in clusters)
    for a, b in zip(clusters, clusters[1:]):
        assert a.count > b.count or (a.count == b.count and a.label <= b.label)


def test_labels_are_short_folded_terms(clustered):
    items, _, clusters = clustered
    labels = {name: cluster_of(clusters, texts[0], items).label for name, texts in THEMES.items()}
    assert "bao hiem y te" in labels["bhyt"]
    assert "bang lai xe" in labels["gplx"]
    assert "khai sinh" in labels["khai_sinh"]
    assert "luong huu" in labels["luong_huu"]
    for cluster in clusters:
        if cluster.label != NO_WORDS_LABEL:
            assert cluster.label == folded(cluster.label)
            assert 1 <= len(cluster.label.replace(",", " ").split()) <= 6


def test_examples_are_central_distinct_member_texts(clustered):
    items, _, clusters = clustered
    text_of = dict(items)
    for cluster in clusters:
        assert 1 <= len(cluster.examples) <= 5
        assert len({folded(e) for e in cluster.examples}) == len(cluster.examples)
        member_texts = [" ".join(text_of[i].split()) for i in cluster.member_ids]
        assert set(cluster.examples) <= set(member_texts)
        # most central first: in the order of member_ids
        first_seen = [member_texts.index(e) for e in cluster.examples]
        assert first_seen == sorted(first_seen)
    bhyt = cluster_of(clusters, THEMES["bhyt"][0], items)
    # a text typed with and without diacritics is one example, shown with them
    assert "thẻ bảo hiểm y tế hết hạn thì gia hạn ở đâu" in bhyt.examples
    assert "the bao hiem y te het han thi gia han o dau" not in bhyt.examples


def test_keys_are_stable_across_runs_and_input_order(clustered):
    items, _, clusters = clustered
    for cluster in clusters:
        ids = "\x1f".join(sorted(str(i) for i in cluster.member_ids))
        assert cluster.key == hashlib.sha1(ids.encode()).hexdigest()[:12]
        assert re.fullmatch(r"[0-9a-f]{12}", cluster.key)
    assert cluster_messages(items) == clusters
    shuffled = list(items)
    for seed in range(3):
        random.Random(seed).shuffle(shuffled)
        assert cluster_messages(shuffled) == clusters


def test_messages_without_words_are_one_cluster(clustered):
    items, theme, clusters = clustered
    (no_words,) = [c for c in clusters if c.label == NO_WORDS_LABEL]
    assert {theme[i] for i in no_words.member_ids} == {"no words"}
    assert no_words.count == len(NO_WORDS)
    assert set(no_words.examples) == {"🤔🎉", "0912345678", "?!"}  # blanks are not examples


def test_a_known_emoji_is_a_word():
    clusters = cluster_messages([(1, "👍"), (2, "🤔"), (3, "ok")])
    assert [(c.label, sorted(c.member_ids)) for c in clusters] == [("ok", [1, 3]), (NO_WORDS_LABEL, [2])]


def test_edge_cases():
    assert cluster_messages([]) == []
    (one,) = cluster_messages([("a1", "lương hưu tháng này")])
    assert (one.member_ids, one.count, one.examples) == (["a1"], 1, ["lương hưu tháng này"])
    assert one.label == "luong huu thang"
    (same,) = cluster_messages([(3, "the bhyt het han"), (1, "thẻ BHYT hết hạn"), (2, "the bhyt het han")])
    assert same.member_ids == [1, 2, 3] and same.count == 3
    assert same.examples == ["the bhyt het han"]  # the commonest spelling
    (blank,) = cluster_messages([(1, ""), (2, "🎉"), (3, None), (4, "\n\t")])
    assert (blank.label, sorted(blank.member_ids), blank.examples) == (NO_WORDS_LABEL, [1, 2, 3, 4], ["🎉"])
    assert blank.member_ids[:2] == [1, 3]  # the commonest text first
    long_text = "xin hỏi " + "lương hưu " * 2000
    (long_one,) = cluster_messages([(1, long_text), (2, "luong huu")])
    assert long_one.count == 2


def test_at_most_max_items_newest_are_clustered():
    items = [(i, f"lương hưu tháng {i}") for i in range(10, 0, -1)]  # newest first
    clusters = cluster_messages(items, max_items=4)
    assert sorted(i for c in clusters for i in c.member_ids) == [7, 8, 9, 10]
    assert sum(c.count for c in cluster_messages(items, max_items=None)) == 10


def test_threshold_controls_granularity():
    items, _ = inbox()
    counts = [len(cluster_messages(items, threshold=t)) for t in (0.2, 0.75, 0.99)]
    assert counts[0] > counts[1] > counts[2]


def test_three_thousand_messages():
    rng = random.Random(42)
    subjects = [
        "thẻ bảo hiểm y tế", "the bhyt", "bằng lái xe", "gplx", "giấy khai sinh", "dang ky khai sinh",
        "lương hưu", "luong huu", "căn cước công dân", "cccd", "tiền điện", "tien nuoc", "vneid",
        "hộ chiếu", "trợ cấp thất nghiệp", "sổ đỏ",
    ]
    verbs = ["làm lại", "doi", "gia hạn", "tra cuu", "nhận", "đăng ký", "cap lai", "nộp", "kiểm tra", "hủy"]
    tails = [
        "ở đâu", "o dau vay", "online dc ko", "mất bao lâu", "cần giấy tờ j", "có mất phí không",
        "thế nào ạ", "ntn", "qua app được không", "cho người già", "cho con", "hết hạn rồi", "bị mất",
    ]
    items = [
        (i, f"{rng.choice(verbs)} {rng.choice(subjects)} {rng.choice(tails)} {rng.choice(['', 'ạ', 'ad ơi', str(i)])}")
        for i in range(3000)
    ]
    started = time.perf_counter()
    clusters = cluster_messages(items)
    elapsed = time.perf_counter() - started
    print(f"\n3,000 messages -> {len(clusters)} clusters in {elapsed:.2f} s")
    assert sum(c.count for c in clusters) == 3000
    assert clusters[0].count >= clusters[-1].count
    assert elapsed < 20


# -- NLU YAML ------------------------------------------------------------------


def read_back(text):
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    data = RasaYAMLReader().reads(text)
    return [(m.get("intent"), m.get("text")) for m in data.training_examples]


def test_nlu_yaml_round_trip():
    assigned = {
        "ask_health_insurance": [
            "thẻ bảo hiểm y tế hết hạn",
            "the bao hiem y te het han",  # the same once folded: written once
            "Thẻ  bảo hiểm y tế   hết hạn ",
            "gia hạn bhyt ở đâu",
        ],
        "ask_driving_licence": ["doi bang lai xe online dc ko", "đổi gplx trên dvc"],
    }
    text = nlu_yaml(assigned)
    assert text.startswith('version: "3.1"\nnlu:\n')
    assert read_back(text) == [
        ("ask_driving_licence", "doi bang lai xe online dc ko"),
        ("ask_driving_licence", "đổi gplx trên dvc"),
        ("ask_health_insurance", "gia hạn bhyt ở đâu"),
        ("ask_health_insurance", "thẻ bảo hiểm y tế hết hạn"),
    ]


AWKWARD = [
    'thẻ "bhyt" hết hạn',
    "cho hỏi: lương hưu 'tháng 7' đã về chưa?",
    "- bắt đầu bằng gạch đầu dòng",
    "- - -",
    "# không phải chú thích",
    "{\"entity\": \"x\"} { ngoặc nhọn }",
    "dòng một\ndòng hai\r\n  dòng ba",
    "key: value # comment? & *alias !tag %x @y `z | >",
    "\\ gạch chéo \\n",
    "tab\tở giữa\u2028và ngắt dòng unicode",
    "ký tự điều khiển\x07\x00 bỏ đi",
    "a [b] c",
]


def test_nlu_yaml_is_safe_for_awkward_texts():
    expected = sorted(
        {
            'thẻ "bhyt" hết hạn',
            "cho hỏi: lương hưu 'tháng 7' đã về chưa?",
            "- bắt đầu bằng gạch đầu dòng",
            "- - -",
            "# không phải chú thích",
            '{"entity": "x"} { ngoặc nhọn }',
            "dòng một dòng hai dòng ba",
            "key: value # comment? & *alias !tag %x @y `z | >",
            "\\ gạch chéo \\n",
            "tab ở giữa và ngắt dòng unicode",
            "ký tự điều khiển bỏ đi",
            "a [b] c",
        },
        key=folded,
    )
    text = nlu_yaml({"ask_x": AWKWARD + ["", "   ", AWKWARD[0].upper()]})
    assert read_back(text) == [("ask_x", e) for e in expected]
    assert all(training_text(t) and "\n" not in training_text(t) for t in AWKWARD)


def test_nlu_yaml_entity_markup_and_intent_names():
    text = nlu_yaml(
        {"ask_x": ["gọi [tổng đài](phone) giúp", "[a][b]"], "true": ["có"], "odd: name": ["ok"], "empty": []}
    )
    assert read_back(text) == [
        ("ask_x", "(a)(b)"),
        ("ask_x", "gọi (tổng đài)(phone) giúp"),
        ("odd: name", "ok"),
        ("true", "có"),
    ]
    assert "- intent: empty" not in text
    assert read_back(nlu_yaml({})) == []
