"""Complaint vectors and clustering on constructed cases (no shared data needed)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from h2h.problems import clustering, textrep
from h2h.problems.clustering import assign, assign_batch, cluster_all, refine, unit

ENGLISH = {
    "luggage": [
        "you lost my luggage again, still no bag after two days",
        "my suitcase never arrived, where is my bag",
        "lost baggage and nobody at the baggage desk can find it",
        "my bag was lost on the connection, no luggage for my trip",
        "still waiting for my lost suitcase, baggage claim is useless",
        "checked bag missing, lost luggage claim filed three days ago",
    ],
    "delay": [
        "flight delayed three hours and no explanation",
        "another delay, we have been sitting at the gate for hours",
        "my flight is late again, delayed twice today",
        "delayed departure, missed my connection because of the delay",
        "the plane is hours late, delays every single time",
        "two hour delay on the tarmac, flight still delayed",
    ],
    "refund": [
        "I want my money back, still no refund for the ticket",
        "refund request ignored for a month, charge my card back",
        "you charged my credit card twice and refuse to refund",
        "where is my refund, the payment was taken twice",
        "no refund after cancelling, I was charged a fee",
        "still waiting on the refund of my ticket money",
    ],
}
RUSSIAN = {
    "delivery": [
        "курьер опоздал на три часа, доставка сорвана",
        "заказ так и не доставили, курьер не приехал",
        "доставка опять задерживается, где мой заказ",
        "курьер не привез посылку в срок",
        "заказ везут уже неделю, доставка ужасная",
        "курьер перенес доставку третий раз",
    ],
    "card": [
        "с карты списали деньги дважды",
        "банк заблокировал карту без объяснений",
        "деньги списали с карты, а платеж не прошел",
        "не могу оплатить картой, платеж отклоняют",
        "списание денег с карты без моего согласия",
        "карту заблокировали, деньги на счету недоступны",
    ],
}


def _themes_separate(themes: dict[str, list[str]], language: str) -> None:
    texts = [t for group in themes.values() for t in group]
    labels = cluster_all(textrep.embed(texts, language=language))
    majority = {}
    start = 0
    for name, group in themes.items():
        part = Counter(labels[start : start + len(group)].tolist())
        cluster, count = part.most_common(1)[0]
        assert count >= len(group) - 1, (name, labels.tolist())
        majority[name] = cluster
        start += len(group)
    assert len(set(majority.values())) == len(themes), labels.tolist()


def test_distinct_english_complaint_themes_get_separate_clusters() -> None:
    _themes_separate(ENGLISH, "en")


def test_distinct_russian_complaint_themes_get_separate_clusters() -> None:
    _themes_separate(RUSSIAN, "ru")


@pytest.mark.parametrize(
    ("language", "members", "paraphrase", "other"),
    [
        ("en", ENGLISH["luggage"], "the airline lost my suitcase", "my flight was delayed"),
        ("ru", RUSSIAN["card"], "с моей карты дважды списали деньги", "курьер опоздал"),
    ],
)
def test_a_paraphrase_joins_its_problem_and_another_theme_does_not(
    language: str, members: list[str], paraphrase: str, other: str
) -> None:
    centroid = unit(textrep.embed(members, language=language).sum(axis=0))[None, :]
    joined = assign(textrep.embed([paraphrase], language=language)[0], centroid)
    assert joined.index == 0
    opened = assign(textrep.embed([other], language=language)[0], centroid)
    # The join threshold is low on purpose (refinement moves misjoined members later), so
    # another theme may sit near it; it must be far below the paraphrase.
    assert opened.similarity < clustering.JOIN_THRESHOLD + 0.05
    assert opened.similarity < joined.similarity - 0.15


def test_refine_moves_a_misjoined_member_to_its_theme_and_absorbs_a_stray_singleton() -> None:
    luggage = textrep.embed(ENGLISH["luggage"], language="en")
    delay = textrep.embed(ENGLISH["delay"], language="en")
    stray = textrep.embed(["my flight was late again, another delay"], language="en")
    wrong = np.vstack([luggage, delay[:1]])  # a delay complaint joined the luggage problem
    groups = [wrong, delay[1:], stray]
    sums = np.stack([g.sum(axis=0) for g in groups])
    centroids = textrep.normalize_rows(sums.astype(np.float32))
    sizes = np.array([len(g) for g in groups])
    result = refine(centroids, sizes, dict(enumerate(groups)), sums=sums)
    assert (0, len(luggage), 1) in result.moves
    assert not any(m[0] == 0 and m[1] < len(luggage) for m in result.moves)
    assert (2, 0, 1) in result.moves or (2, 1) in result.merges


def test_cluster_all_moves_only_with_a_margin_and_keeps_themes_apart() -> None:
    texts = ENGLISH["luggage"] + ENGLISH["delay"] + ENGLISH["refund"]
    vectors = textrep.embed(texts, language="en")
    labels = cluster_all(vectors)
    assert len(set(labels.tolist())) == 3
    assert cluster_all(vectors).tolist() == labels.tolist()  # deterministic


def test_batch_opens_candidates_that_later_items_join() -> None:
    vectors = textrep.embed(ENGLISH["refund"][:3] + ENGLISH["delay"][:3], language="en")
    existing = unit(textrep.embed(ENGLISH["luggage"], language="en").sum(axis=0))[None, :]
    found = assign_batch(vectors, existing)
    indices = [a.index for a in found]
    assert indices[0] == 1  # the first refund complaint opens candidate k = 1
    assert indices[:3] == [1, 1, 1]
    assert indices[3] == 2 and set(indices[3:]) == {2}


def test_batch_with_sums_moves_existing_centroids_like_one_by_one() -> None:
    rng = np.random.default_rng(1)
    vectors = textrep.normalize_rows(rng.normal(size=(40, textrep.DIM)).astype(np.float32))
    centroids = vectors[:3].copy()
    sums = vectors[:3].copy()
    batched = [a.index for a in assign_batch(vectors[3:], centroids, sums=sums)]
    one_by_one = []
    current, running = list(centroids), list(sums)
    for vector in vectors[3:]:
        found = assign(vector, np.stack(current))
        index = len(current) if found.index is None else found.index
        if found.index is None:
            current.append(vector)
            running.append(vector.copy())
        else:
            running[index], _ = clustering.update_centroid(running[index], 1, vector)
            current[index] = unit(running[index])
        one_by_one.append(index)
    assert batched == one_by_one


def test_refine_merges_near_identical_problems_into_the_larger() -> None:
    base = textrep.embed(["lost my luggage, no bag"], language="en")[0]
    twin = unit(base + 0.05 * textrep.embed(["suitcase missing"], language="en")[0])
    far = textrep.embed(["refund my ticket money"], language="en")[0]
    centroids = np.stack([base, far, twin])
    result = refine(centroids, np.array([3, 5, 10]), {})
    assert result.merges == [(0, 2)]
    assert result.splits == []


def _two_groups(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a, b = np.eye(textrep.DIM, dtype=np.float32)[:2]
    rows = [a + 0.3 * rng.normal(size=textrep.DIM) / 16 for _ in range(n)]
    rows += [b + 0.3 * rng.normal(size=textrep.DIM) / 16 for _ in range(n)]
    return textrep.normalize_rows(np.asarray(rows, dtype=np.float32))


def test_refine_splits_an_incoherent_problem_into_its_two_groups() -> None:
    members = _two_groups(6)
    centroid = unit(members.sum(axis=0))[None, :]
    result = refine(centroid, np.array([12]), {0: members})
    assert len(result.splits) == 1
    cluster, groups = result.splits[0]
    assert cluster == 0
    assert sorted(map(sorted, groups)) == [list(range(6)), list(range(6, 12))]


def test_refine_keeps_a_coherent_problem_and_never_splits_small_ones() -> None:
    coherent = textrep.embed(ENGLISH["delay"] * 2, language="en")
    small = _two_groups(1)
    centroids = np.stack([unit(coherent.sum(axis=0)), unit(small.sum(axis=0))])
    result = refine(centroids, np.array([12, 2]), {0: coherent, 1: small})
    assert result.splits == []


def test_cluster_all_puts_a_returning_theme_back_into_its_cluster() -> None:
    texts = ENGLISH["luggage"] + ENGLISH["refund"] + ENGLISH["luggage"]
    labels = cluster_all(textrep.embed(texts, language="en"))
    assert labels[:6].tolist() == labels[12:].tolist()
    assert labels.min() == 0 and labels[0] == 0


@pytest.mark.parametrize("language", ["en", "ru", None])
@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "😡😡😡🤬",
        "!!!???",
        "@united",
        "http://example.com/x?y=1",
        "12345 678",
        "\x00\x07",
    ],
)
def test_texts_without_words_give_a_zero_vector(text: str, language: str | None) -> None:
    vector = textrep.embed([text], language=language)
    assert vector.shape == (1, textrep.DIM)
    assert not vector.any()
    assert assign(vector[0], vector).index is None


def test_huge_and_garbage_texts_give_unit_vectors() -> None:
    texts = ["my bag is lost " * 50_000, "asdkjh qwpoeiru zzxmcnv " * 100, "flight" + "!" * 10_000]
    vectors = textrep.embed(texts, language="en")
    norms = np.linalg.norm(vectors, axis=1)
    assert vectors.dtype == np.float32
    assert np.all(np.isfinite(vectors))
    assert norms[0] == pytest.approx(1.0, abs=1e-5)
    assert norms[2] == pytest.approx(1.0, abs=1e-5)
    assert norms[1] == pytest.approx(1.0, abs=1e-5) or norms[1] == 0.0


def test_ignored_brand_names_and_handles_leave_only_the_complaint() -> None:
    plain = textrep.embed(["lost my bag"], language="en")
    branded = textrep.embed(
        ["@united United lost my bag"], language="en", ignore=["@united", "United"]
    )
    assert np.allclose(plain, branded)
    assert not np.allclose(plain, textrep.embed(["United lost my bag"], language="en"))


def test_russian_brand_is_ignored_in_any_case_form() -> None:
    plain = textrep.embed(["опять списали деньги"], language="ru")
    branded = textrep.embed(["Сбербанк опять списали деньги"], language="ru", ignore=["Сбербанка"])
    assert np.allclose(plain, branded)


def test_space_of_keeps_russian_apart() -> None:
    assert textrep.space_of("ru") == "ru"
    assert textrep.space_of("ru-RU") == "ru"
    assert textrep.space_of("en") == "en"
    assert textrep.space_of(None) == "en"


def test_russian_key_phrases_are_lemmatised_and_distinctive() -> None:
    phrases = textrep.key_phrases(
        RUSSIAN["delivery"], language="ru", background=RUSSIAN["card"], limit=5
    )
    assert "курьер" in " ".join(phrases)
    assert "доставка" in " ".join(phrases)
    assert not any("карта" in p for p in phrases)


def test_english_key_phrases_skip_stop_words_and_ignored_brands() -> None:
    texts = [f"@united United {t}" for t in ENGLISH["luggage"]]
    phrases = textrep.key_phrases(
        texts, language="en", background=ENGLISH["delay"], ignore=["@united", "United"]
    )
    joined = " ".join(phrases)
    assert "bag" in joined or "luggage" in joined
    assert "united" not in joined
    assert not {"my", "the", "and"} & set(joined.split())


def test_representative_quotes_skip_near_duplicates() -> None:
    texts = ["lost my luggage"] * 3 + ["my suitcase never arrived", "bag missing after flight"]
    vectors = textrep.embed(texts, language="en")
    picked = textrep.representative(vectors, unit(vectors.sum(axis=0)), k=3)
    assert len(picked) == 3
    assert sum(1 for i in picked if i < 3) == 1
