"""Incremental complaint clustering: join the nearest problem or open a candidate, then refine.

Complaints arrive one at a time, for months; re-clustering everything on each one would
move complaints between problems that people already own. So a new complaint joins the
most similar problem centroid when the cosine similarity reaches ``JOIN_THRESHOLD`` and
otherwise opens a candidate (the "leader" scheme, one matrix-vector product per complaint).
A periodic :func:`refine` repairs what order-dependence spoils: it merges problems whose
centroids became near-identical and splits one whose members form two separate groups
(spherical 2-means, accepted only when the silhouette says the halves really differ).

Pure numpy, deterministic. Vectors are the unit rows of :func:`h2h.problems.textrep.embed`;
a centroid is the unit-length mean of its members (kept as a running sum).
Thresholds were tuned on one seeded half of the airline complaints (docs/problems/clustering.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

Vectors = NDArray[np.float32]

JOIN_THRESHOLD = 0.25
"""Cosine similarity to a problem's centroid at which a complaint joins it."""
MERGE_THRESHOLD = 0.75
"""Centroids at least this similar are the same problem."""
SPLIT_MIN_SIZE = 8
"""Smaller problems are never split (1–2 members can't be incoherent; a few can't be judged)."""
SPLIT_SILHOUETTE = 0.12
"""Mean silhouette (cosine) of a 2-means split needed to accept it."""
SPLIT_PART_SHARE = 0.2
"""Each half of an accepted split holds at least this share of the members."""
MAX_ROUNDS = 10


@dataclass(frozen=True, slots=True)
class Assignment:
    """Where a complaint goes: ``index`` of a problem (None → open a candidate)."""

    index: int | None
    similarity: float


@dataclass(slots=True)
class Refinement:
    """What :func:`refine` suggests: merges ``(absorbed, into)`` and splits into member groups."""

    merges: list[tuple[int, int]] = field(default_factory=list)
    splits: list[tuple[int, list[list[int]]]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.merges or self.splits)


def unit(vector: NDArray[np.floating]) -> Vectors:
    """``vector`` scaled to length 1 (a zero vector stays zero)."""
    norm = float(np.linalg.norm(vector))
    return np.asarray(vector / norm if norm > 1e-9 else vector, dtype=np.float32)


def assign(vector: Vectors, centroids: Vectors) -> Assignment:
    """The most similar centroid if it reaches ``JOIN_THRESHOLD``, else a new candidate."""
    if len(centroids) == 0 or not np.any(vector):
        return Assignment(None, 0.0)
    similarities = centroids @ vector
    best = int(np.argmax(similarities))
    similarity = float(similarities[best])
    return Assignment(best if similarity >= JOIN_THRESHOLD else None, similarity)


def update_centroid(sum_vector: Vectors, size: int, vector: Vectors) -> tuple[Vectors, int]:
    """The running sum and size after ``vector`` joins; the centroid is ``unit(sum)``."""
    return np.asarray(sum_vector + vector, dtype=np.float32), size + 1


def assign_batch(
    vectors: Vectors, centroids: Vectors, *, sums: Vectors | None = None
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
        found = assign(vector, current[:size])
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
    centroids: Vectors, sizes: NDArray[np.integer], members: Mapping[int, Vectors]
) -> Refinement:
    """Merges of near-identical problems and splits of incoherent ones (deterministic).

    ``centroids[i]`` and ``sizes[i]`` describe problem ``i``; ``members[i]`` holds its
    members' vectors (problems missing from it are not considered for a split). A merge
    ``(absorbed, into)`` always points at the surviving (largest) problem of its group.
    A split lists the member row groups of ``members[i]``; merged problems are not split.
    """
    merges = _merges(centroids, sizes)
    merged = {index for pair in merges for index in pair}
    splits = []
    for index in sorted(members):
        rows = members[index]
        if index in merged or len(rows) < SPLIT_MIN_SIZE:
            continue
        groups = split_groups(rows)
        if groups is not None:
            splits.append((index, groups))
    return Refinement(merges, splits)


def _merges(centroids: Vectors, sizes: NDArray[np.integer]) -> list[tuple[int, int]]:
    """Greedy agglomeration: the most similar pair above ``MERGE_THRESHOLD`` merges first
    and its centroid is recomputed, so merges don't chain through a series of neighbours."""
    k = len(centroids)
    if k < 2:
        return []
    weight = np.maximum(np.asarray(sizes, dtype=np.float64), 1.0)
    sums = centroids.astype(np.float64) * weight[:, None]
    current = centroids.astype(np.float64)
    similarity = current @ current.T
    np.fill_diagonal(similarity, -np.inf)
    similarity[:, ~np.any(centroids, axis=1)] = -np.inf
    into = list(range(k))
    while True:
        flat = int(np.argmax(similarity))
        i, j = divmod(flat, k)
        if similarity[i, j] < MERGE_THRESHOLD:
            break
        keep, gone = (i, j) if (weight[i], -i) >= (weight[j], -j) else (j, i)
        into[gone] = keep
        sums[keep] += sums[gone]
        weight[keep] += weight[gone]
        current[keep] = sums[keep] / max(float(np.linalg.norm(sums[keep])), 1e-9)
        similarity[gone, :] = similarity[:, gone] = -np.inf
        row = current @ current[keep]
        alive = np.isfinite(similarity[keep]) | (np.arange(k) == keep)
        row[~alive] = -np.inf
        row[keep] = -np.inf
        similarity[keep, :] = similarity[:, keep] = row
    return sorted((i, _final(into, i)) for i in range(k) if into[i] != i)


def _final(into: list[int], i: int) -> int:
    while into[i] != i:
        i = into[i]
    return i


def split_groups(rows: Vectors, seed: int = 0) -> list[list[int]] | None:
    """Two member groups when spherical 2-means finds two distinct ones, else None."""
    labels = _two_means(rows, seed)
    if labels is None:
        return None
    counts = np.bincount(labels, minlength=2)
    if counts.min() < max(2, SPLIT_PART_SHARE * len(rows)):
        return None
    a, b = unit(rows[labels == 0].sum(axis=0)), unit(rows[labels == 1].sum(axis=0))
    if float(a @ b) >= MERGE_THRESHOLD or _silhouette(rows, labels) < SPLIT_SILHOUETTE:
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


def cluster_all(vectors: Vectors) -> NDArray[np.int64]:
    """The offline path: :func:`assign_batch` in the given (time) order, then :func:`refine`
    until nothing changes; returns a cluster number per vector (0, 1, … by first member)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    labels = np.asarray(
        [a.index for a in assign_batch(vectors, np.zeros((0, vectors.shape[1]), np.float32))],
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
        members = {c: vectors[r] for c, r in rows_of.items() if len(r) >= SPLIT_MIN_SIZE}
        change = refine(centroids, sizes, members)
        if not change:
            break
        labels = labels.copy()
        for absorbed, into in change.merges:
            labels[rows_of[absorbed]] = into
        fresh = len(ids)
        for cluster, groups in change.splits:
            for group in groups[1:]:
                labels[rows_of[cluster][group]] = fresh
                fresh += 1
    _, first = np.unique(labels, return_index=True)
    renumber = np.empty(labels.max() + 1, dtype=np.int64)
    renumber[labels[np.sort(first)]] = np.arange(len(first))
    return renumber[labels]
