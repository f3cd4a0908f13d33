"""Incremental complaint clustering: join the nearest problem or open a candidate, then refine.

Complaints arrive one at a time, for months; re-clustering everything on each one would
move complaints between problems that people already own. So a new complaint joins the
most similar problem centroid when the cosine similarity reaches ``JOIN_THRESHOLD`` and
otherwise opens a candidate (the "leader" scheme, one matrix-vector product per complaint).
A periodic :func:`refine` repairs what order-dependence spoils: single complaints move to
the problem whose members are on average clearly more similar to them (online k-means with
mean similarities, so early big problems stop acting as attractors and stray singletons
dissolve), problems whose members are on average alike merge (average link, not centroid
cosine), and one whose members form two separate groups splits (spherical 2-means, accepted
only when the silhouette says the halves really differ).

Pure numpy, deterministic. Vectors are the unit rows of :func:`h2h.problems.textrep.embed`;
a centroid is the unit-length mean of its members (kept as a running sum).
Thresholds were tuned on one seeded half of the airline complaints (docs/problems/clustering.md).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

Vectors = NDArray[np.float32]

JOIN_THRESHOLD = 0.20
"""Cosine similarity to a problem's centroid at which a complaint joins it (English space)."""
MERGE_THRESHOLD = 0.26
"""Two problems whose members are on average at least this similar (average link: the mean
cosine over all pairs across them) are the same problem."""
MOVE_MARGIN = 0.02
"""A member moves when another problem's members are on average this much more similar to it
than the rest of its own problem's members are."""
MOVE_ITERATIONS = 5
SPLIT_MIN_SIZE = 8
"""Smaller problems are never split (1–2 members can't be incoherent; a few can't be judged)."""
SPLIT_SILHOUETTE = 0.12
"""Mean silhouette (cosine) of a 2-means split needed to accept it."""
SPLIT_PART_SHARE = 0.2
"""Each half of an accepted split holds at least this share of the members."""
SPLIT_BETWEEN = 0.16
"""The halves of an accepted split are on average less similar than this (well below the merge
threshold, so the next refinement does not merge them back)."""
MAX_ROUNDS = 10


@dataclass(frozen=True, slots=True)
class Assignment:
    """Where a complaint goes: ``index`` of a problem (None → open a candidate)."""

    index: int | None
    similarity: float


@dataclass(slots=True)
class Refinement:
    """What :func:`refine` suggests, to apply in this order: ``moves`` of single members
    ``(cluster, row in members[cluster], target)``, merges ``(absorbed, into)``, and splits
    into member row groups."""

    merges: list[tuple[int, int]] = field(default_factory=list)
    splits: list[tuple[int, list[list[int]]]] = field(default_factory=list)
    moves: list[tuple[int, int, int]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.merges or self.splits or self.moves)


def unit(vector: NDArray[np.floating]) -> Vectors:
    """``vector`` scaled to length 1 (a zero vector stays zero)."""
    norm = float(np.linalg.norm(vector))
    return np.asarray(vector / norm if norm > 1e-9 else vector, dtype=np.float32)


@dataclass(frozen=True, slots=True)
class Tuning:
    """The thresholds of one vector space (the defaults are the English ones above)."""

    join: float = JOIN_THRESHOLD
    merge: float = MERGE_THRESHOLD
    split_between: float = SPLIT_BETWEEN


TUNINGS: Mapping[str, Tuning] = {"ru": Tuning(join=0.25, merge=0.30, split_between=0.25)}
"""Spaces whose vectors need their own thresholds. Navec's Russian space is denser than the
distilled English one: different complaint themes of the demo coffee shop are on average
0.04–0.24 alike (English dental themes 0.04), so at the English values a late-delivery and a
double-charge complaint share a problem and a mixed problem is never split. No labelled
Russian complaint set exists to tune on; these were set from the demo themes and the
RuSentiment negatives' top problems (``benchmarks/problems.py``) and are a known weak spot."""


def tuning(space: str) -> Tuning:
    """The thresholds for complaints in ``space``."""
    return TUNINGS.get(space, Tuning())


def assign(vector: Vectors, centroids: Vectors, *, threshold: float = JOIN_THRESHOLD) -> Assignment:
    """The most similar centroid if it reaches ``threshold``, else a new candidate."""
    if len(centroids) == 0 or not np.any(vector):
        return Assignment(None, 0.0)
    similarities = centroids @ vector
    best = int(np.argmax(similarities))
    similarity = float(similarities[best])
    return Assignment(best if similarity >= threshold else None, similarity)


def update_centroid(sum_vector: Vectors, size: int, vector: Vectors) -> tuple[Vectors, int]:
    """The running sum and size after ``vector`` joins; the centroid is ``unit(sum)``."""
    return np.asarray(sum_vector + vector, dtype=np.float32), size + 1


def assign_batch(
    vectors: Vectors,
    centroids: Vectors,
    *,
    sums: Vectors | None = None,
    threshold: float = JOIN_THRESHOLD,
) -> list[Assignment]:
    """:func:`assign` for each vector in order, as if each were stored before the next.

    A vector that opens a candidate gets the next new index (``k``, ``k + 1``, … for ``k``
    existing centroids; its ``similarity`` is to the best centroid it did not join), and
    later vectors of the batch may join it. With ``sums`` (the running sums of the existing
    problems) their centroids move as members join, exactly as one-by-one processing would;
    without, they stay fixed for the batch. A zero vector opens a candidate nothing joins.
    """
    k = len(centroids)
    dim = centroids.shape[1] if k else vectors.shape[-1]
    capacity = k + len(vectors)
    current = np.zeros((capacity, dim), dtype=np.float32)
    running = np.zeros((capacity, dim), dtype=np.float32)
    current[:k] = centroids
    moving = np.zeros(capacity, dtype=bool)
    if sums is not None:
        running[:k] = sums
        moving[:k] = True
    size = k
    out: list[Assignment] = []
    for vector in np.asarray(vectors, dtype=np.float32):
        found = assign(vector, current[:size], threshold=threshold)
        index = found.index
        if index is None:
            index, size = size, size + 1
            moving[index] = True
        out.append(Assignment(index, found.similarity))
        if moving[index]:
            running[index] += vector
            current[index] = unit(running[index])
    return out


def coherence(members: Vectors) -> float:
    """Mean cosine of the members to their centroid (1.0: all alike)."""
    if len(members) == 0:
        return 0.0
    return float(np.mean(members @ unit(members.sum(axis=0))))


def refine(
    centroids: Vectors,
    sizes: NDArray[np.integer],
    members: Mapping[int, Vectors],
    *,
    sums: NDArray[np.floating] | None = None,
    targets: Collection[int] | None = None,
    tuning: Tuning = Tuning(),
) -> Refinement:
    """Member moves, merges of alike problems and splits of incoherent ones (deterministic).

    ``centroids[i]`` and ``sizes[i]`` describe problem ``i`` and ``sums[i]`` is the sum of its
    member vectors (without ``sums`` it is estimated from ``members``, or as ``size`` alike
    members for problems not in it); ``members[i]`` holds the vectors of the members that may
    move (problems missing from it keep theirs). A member whose nearest problem is not among
    ``targets`` (default: ``members``' problems) stays where it is. First each movable member
    goes to the problem whose members are on average clearly (``MOVE_MARGIN``) more similar to
    it than the rest of its own (a few rounds, as online k-means with averages; a lone
    complaint is never a target, so singletons dissolve into bigger problems, not attract them).
    Then merges by average link ≥ ``MERGE_THRESHOLD`` on the moved state; a merge
    ``(absorbed, into)`` points at the surviving (largest) problem. A problem that lost or got
    members or merged is not split in the same call.
    """
    totals = _sums(centroids, sizes, members, sums)
    counts = np.asarray(sizes, dtype=np.float64).copy()
    allowed = set(members) if targets is None else set(targets)
    moves = _moves(totals, counts, members, allowed)
    merges = _merges(totals, counts, tuning.merge)
    touched = {i for pair in merges for i in pair} | {m[0] for m in moves} | {m[2] for m in moves}
    splits = []
    for index in sorted(members):
        rows = members[index]
        if index in touched or len(rows) < SPLIT_MIN_SIZE:
            continue
        groups = split_groups(rows, between=tuning.split_between)
        if groups is not None:
            splits.append((index, groups))
    return Refinement(merges, splits, moves)


def _sums(
    centroids: Vectors,
    sizes: NDArray[np.integer],
    members: Mapping[int, Vectors],
    sums: NDArray[np.floating] | None,
) -> NDArray[np.float64]:
    if sums is not None:
        return np.asarray(sums, dtype=np.float64).copy()
    out = centroids.astype(np.float64) * np.asarray(sizes, dtype=np.float64)[:, None]
    for index, rows in members.items():
        if len(rows):
            out[index] = rows.sum(axis=0, dtype=np.float64) * (sizes[index] / len(rows))
    return out


def _moves(
    totals: NDArray[np.float64],
    counts: NDArray[np.float64],
    members: Mapping[int, Vectors],
    allowed: set[int],
) -> list[tuple[int, int, int]]:
    """Online k-means with mean similarities, in place on ``totals``/``counts``: the
    ``(cluster, row, target)`` of every movable member that ended elsewhere."""
    keys = [i for i in sorted(members) if len(members[i])]
    if not keys or len(totals) < 2:
        return []
    rows = np.vstack([members[i] for i in keys]).astype(np.float64)
    owner = np.concatenate([np.full(len(members[i]), i) for i in keys])
    position = np.concatenate([np.arange(len(members[i])) for i in keys])
    current = owner.copy()
    every = np.arange(len(rows))
    closed = np.asarray([i not in allowed for i in range(len(totals))])
    for _ in range(MOVE_ITERATIONS):
        means = totals / np.maximum(counts, 1.0)[:, None]
        similarity = rows @ means.T
        rest = counts[current] - 1.0
        own = np.einsum("ij,ij->i", rows, totals[current] - rows)
        own = np.where(rest > 0, own / np.maximum(rest, 1.0), 0.0)
        similarity[every, current] = -np.inf
        similarity[:, counts < 2] = -np.inf  # a lone complaint attracts no one: merges pair those
        best = np.argmax(similarity, axis=1)
        moving = (similarity[every, best] > own + MOVE_MARGIN) & ~closed[best]
        if not moving.any():
            break
        np.subtract.at(totals, current[moving], rows[moving])
        np.subtract.at(counts, current[moving], 1.0)
        np.add.at(totals, best[moving], rows[moving])
        np.add.at(counts, best[moving], 1.0)
        current[moving] = best[moving]
    return [
        (int(owner[r]), int(position[r]), int(current[r])) for r in np.flatnonzero(current != owner)
    ]


def _merges(
    totals: NDArray[np.float64], counts: NDArray[np.float64], threshold: float = MERGE_THRESHOLD
) -> list[tuple[int, int]]:
    """Greedy average-link agglomeration: the pair whose members are on average most similar
    merges first (while ≥ ``MERGE_THRESHOLD``) and its mean is recomputed. Average link, not
    centroid cosine: a big diffuse problem's unit centroid looks close to everything, while
    its members are not."""
    k = len(totals)
    if k < 2:
        return []
    weight = counts.copy()
    sums = totals.copy()
    means = sums / np.maximum(weight, 1.0)[:, None]
    similarity = means @ means.T
    np.fill_diagonal(similarity, -np.inf)
    empty = (weight <= 0) | ~np.any(sums, axis=1)
    similarity[:, empty] = -np.inf
    similarity[empty, :] = -np.inf
    into = list(range(k))
    while True:
        flat = int(np.argmax(similarity))
        i, j = divmod(flat, k)
        if similarity[i, j] < threshold:
            break
        keep, gone = (i, j) if (weight[i], -i) >= (weight[j], -j) else (j, i)
        into[gone] = keep
        sums[keep] += sums[gone]
        weight[keep] += weight[gone]
        means[keep] = sums[keep] / weight[keep]
        similarity[gone, :] = similarity[:, gone] = -np.inf
        row = means @ means[keep]
        alive = np.isfinite(similarity[keep]) | (np.arange(k) == keep)
        row[~alive] = -np.inf
        row[keep] = -np.inf
        similarity[keep, :] = similarity[:, keep] = row
    return sorted((i, _final(into, i)) for i in range(k) if into[i] != i)


def _final(into: list[int], i: int) -> int:
    while into[i] != i:
        i = into[i]
    return i


def split_groups(
    rows: Vectors, seed: int = 0, *, between: float = SPLIT_BETWEEN
) -> list[list[int]] | None:
    """Two member groups when spherical 2-means finds two distinct ones, else None."""
    labels = _two_means(rows, seed)
    if labels is None:
        return None
    counts = np.bincount(labels, minlength=2)
    if counts.min() < max(2, SPLIT_PART_SHARE * len(rows)):
        return None
    a, b = rows[labels == 0].mean(axis=0), rows[labels == 1].mean(axis=0)
    if float(a @ b) >= between or _silhouette(rows, labels) < SPLIT_SILHOUETTE:
        return None
    return [np.flatnonzero(labels == g).tolist() for g in (0, 1)]


def _two_means(rows: Vectors, seed: int, iterations: int = 25) -> NDArray[np.int64] | None:
    """Spherical 2-means from a deterministic far-apart pair (the seed breaks no ties)."""
    del seed  # kept in the signature: a randomised start could come later
    usable = np.flatnonzero(np.abs(rows).sum(axis=1) > 0)
    if len(usable) < 4:
        return None
    centre = unit(rows.sum(axis=0))
    first = usable[int(np.argmin(rows[usable] @ centre))]
    second = usable[int(np.argmin(rows[usable] @ rows[first]))]
    seeds = np.stack([rows[first], rows[second]])
    labels = np.zeros(len(rows), dtype=np.int64)
    for _ in range(iterations):
        new = np.argmax(rows @ seeds.T, axis=1).astype(np.int64)
        if _ > 0 and np.array_equal(new, labels):
            break
        labels = new
        for g in (0, 1):
            if not np.any(labels == g):
                return None
            seeds[g] = unit(rows[labels == g].sum(axis=0))
    return labels


def _silhouette(rows: Vectors, labels: NDArray[np.int64]) -> float:
    """Mean silhouette with cosine distance (exact for n ≤ 3000, a fixed sample beyond)."""
    if len(rows) > 3000:
        pick = np.random.default_rng(0).choice(len(rows), 3000, replace=False)
        rows, labels = rows[pick], labels[pick]
    distance = 1.0 - rows @ rows.T
    scores = np.zeros(len(rows))
    for g in (0, 1):
        inside = labels == g
        n_in = int(inside.sum())
        if n_in < 2:
            return -1.0
        a = distance[inside][:, inside].sum(axis=1) / (n_in - 1)
        b = distance[inside][:, ~inside].mean(axis=1)
        scores[inside] = (b - a) / np.maximum(np.maximum(a, b), 1e-9)
    return float(scores.mean())


def cluster_all(vectors: Vectors, tuning: Tuning = Tuning()) -> NDArray[np.int64]:
    """The offline path, as the product runs without people: :func:`assign_batch` in the
    given (time) order, then :func:`refine` (moves, merges, splits) until nothing changes or
    ``MAX_ROUNDS``; returns a cluster number per vector (0, 1, … by first member)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    labels = np.asarray(
        [
            a.index
            for a in assign_batch(
                vectors, np.zeros((0, vectors.shape[1]), np.float32), threshold=tuning.join
            )
        ],
        dtype=np.int64,
    )
    for _ in range(MAX_ROUNDS):
        ids, labels = np.unique(labels, return_inverse=True)
        sums = np.zeros((len(ids), vectors.shape[1]), dtype=np.float64)
        np.add.at(sums, labels, vectors)
        centroids = np.asarray(
            sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-9), np.float32
        )
        sizes = np.bincount(labels, minlength=len(ids))
        order = np.argsort(labels, kind="stable")
        bounds = np.r_[0, np.cumsum(sizes)]
        rows_of = {c: order[bounds[c] : bounds[c + 1]] for c in range(len(ids))}
        members = {c: vectors[r] for c, r in rows_of.items()}
        change = refine(centroids, sizes, members, sums=sums, tuning=tuning)
        if not change:
            break
        labels = labels.copy()
        for cluster, row, target in change.moves:
            labels[rows_of[cluster][row]] = target
        into = np.arange(len(ids))
        for absorbed, survivor in change.merges:
            into[absorbed] = survivor
        labels = into[labels]
        fresh = len(ids)
        for cluster, groups in change.splits:
            for group in groups[1:]:
                labels[rows_of[cluster][group]] = fresh
                fresh += 1
    _, first = np.unique(labels, return_index=True)
    renumber = np.empty(labels.max() + 1, dtype=np.int64)
    renumber[labels[np.sort(first)]] = np.arange(len(first))
    return renumber[labels]
