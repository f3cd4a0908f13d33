"""Identity resolution: candidate generation by blocking on synthetic persons with planted twins.

Generates N persons (Russian names from a large synthetic surname space, emails, phones)
in a fresh SQLite database, and plants duplicates the way they happen: the same human
again under a transliterated name, a diminutive or an English equivalent ("Саша Иванов" /
"Alexander Ivanov"), the same phone in another format as a shop customer number, the same
Gmail mailbox with dots or a "+tag". Then runs one full ``resolution.suggest`` pass and
reports its parts (keys, candidate generation, scoring), the pairs compared, peak RSS and
precision/recall against the planted truth. The baseline, measured in the same run, is
reading the persons and identities the pass reads. With ``--scaling`` a run at a quarter of
N comes first, so the growth of the candidate time and of the pairs can be seen to be linear.
Prints one JSON document; nothing here is asserted anywhere.

    .venv/bin/python benchmarks/bench_resolution.py [--persons 100000] [--scaling]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy import insert, select  # noqa: E402

from h2h import registry  # noqa: E402
from h2h.accounts import service as accounts  # noqa: E402
from h2h.db import make_engine, make_sessionmaker, new_id, transaction, utcnow  # noqa: E402
from h2h.migrate import upgrade  # noqa: E402
from h2h.people import names, resolution  # noqa: E402
from h2h.people.models import (  # noqa: E402
    Identity,
    IdentityKind,
    MergeSuggestion,
    Person,
    SuggestionStatus,
)

FIRST = {  # full name → (diminutive, Latin spellings an author might use)
    "Александр": ("Саша", ["Alexander", "Aleksandr", "Sasha"]),
    "Алексей": ("Лёша", ["Alexey", "Aleksei", "Alex"]),
    "Андрей": ("Андрюша", ["Andrey", "Andrei", "Andrew"]),
    "Дмитрий": ("Дима", ["Dmitry", "Dmitriy", "Dima"]),
    "Евгений": ("Женя", ["Evgeny", "Eugene", "Zhenya"]),
    "Иван": ("Ваня", ["Ivan", "Vanya"]),
    "Михаил": ("Миша", ["Mikhail", "Michael", "Misha"]),
    "Николай": ("Коля", ["Nikolay", "Nicholas", "Kolya"]),
    "Сергей": ("Серёжа", ["Sergey", "Sergei", "Serge"]),
    "Павел": ("Паша", ["Pavel", "Paul", "Pasha"]),
    "Анна": ("Аня", ["Anna", "Anya", "Ann"]),
    "Екатерина": ("Катя", ["Ekaterina", "Katya", "Catherine"]),
    "Мария": ("Маша", ["Maria", "Mary", "Masha"]),
    "Наталья": ("Наташа", ["Natalia", "Natalya", "Natasha"]),
    "Ольга": ("Оля", ["Olga", "Olya"]),
    "Татьяна": ("Таня", ["Tatiana", "Tatyana", "Tanya"]),
    "Юлия": ("Юля", ["Yulia", "Julia", "Iuliia"]),
    "Елена": ("Лена", ["Elena", "Yelena", "Helen"]),
    "Ирина": ("Ира", ["Irina", "Ira"]),
    "Светлана": ("Света", ["Svetlana", "Sveta"]),
}
FEMALE = {"Анна", "Екатерина", "Мария", "Наталья", "Ольга", "Татьяна", "Юлия", "Елена", "Ирина"}
FEMALE |= {"Светлана"}
ROOTS = "Кор Бел Мор Сок Вол Гор Зай Лис Мед Мух Петр Сид Кузн Смир Попов Лебед Козл Нов Орл Соб"
ROOTS += " Ворон Голуб Жук Комар Сом Щук Карп Ерш Лещ Грач Дроз Чиж Снег Мороз Ветр Гром Туч"
PARTS = ("", "ан", "ен", "ин", "ол", "ур", "ыш", "ак", "ик", "ул", "ёв", "ар")
ENDINGS = ("ов", "ев", "ин", "ский", "цев", "енко")
DOMAINS = ("mail.ru", "yandex.ru", "gmail.com", "example.org")


def surnames() -> list[str]:
    roots = ROOTS.split()
    return sorted({r + p + e for r in roots for p in PARTS for e in ENDINGS})


def _female(last: str) -> str:
    if last.endswith("ский"):
        return last[:-2] + "ая"
    if last.endswith(("ов", "ев", "ин", "цев")):
        return last + "а"
    return last


def _phone(rng: random.Random) -> str:
    return f"+79{rng.randrange(10**9):09d}"


def _formatted(phone: str) -> str:
    d = phone[2:]
    return f"8 ({d[:3]}) {d[3:6]}-{d[6:8]}-{d[8:]}"


def _rows(ws: uuid.UUID, name: str, claims: list[tuple[IdentityKind, str, str, str]]) -> Any:
    now = utcnow()
    person_id = new_id()
    person = {
        "workspace_id": ws, "id": person_id, "name": name, "name_key": names.name_key(name),
        "created_at": now, "updated_at": now, "first_seen_at": now, "last_seen_at": now,
    }  # fmt: skip
    identities = [
        {
            "workspace_id": ws, "id": new_id(), "person_id": person_id, "kind": kind,
            "namespace": namespace, "value": value, "display": display,
            "first_seen_at": now, "last_seen_at": now, "created_at": now,
        }
        for kind, namespace, value, display in claims
    ]  # fmt: skip
    return person_id, person, identities


TWINS = ("latin", "diminutive", "phone", "gmail", "latin+phone")


def _twin(
    rng: random.Random, how: str, first: str, last: str, email: str, phone: str
) -> tuple[str, Any]:
    """Another record of the same human, written the way another channel would."""
    diminutive, latin = FIRST.get(first, (first, [names.transliterate(first).title()]))
    latin_last = names.transliterate(last).title().replace("Iia", "iya")
    if how == "diminutive":
        return f"{diminutive} {last}", []
    if how == "latin":
        return f"{rng.choice(latin)} {latin_last}", []
    if how == "phone":  # a shop's customer number that is the phone, written locally
        return f"{first[0]}. {last}", [
            (IdentityKind.CUSTOMER_ID, "shop", _formatted(phone), _formatted(phone))
        ]
    if how == "gmail":
        local, _, _ = email.partition("@")
        dotted = ".".join(local[i : i + 3] for i in range(0, len(local), 3))
        variant = f"{dotted}+shop@gmail.com"
        return rng.choice(latin), [(IdentityKind.EMAIL, "", variant, variant)]
    # A handle from before phones were normalised: the number only in its display.
    old = _formatted(phone)
    return f"{rng.choice(latin)} {latin_last}", [(IdentityKind.HANDLE, "old", old, old)]


def generate(session: Any, ws: uuid.UUID, n: int, rng: random.Random) -> set[frozenset[uuid.UUID]]:
    """N persons, about 5% of them planted twins of another; returns the true pairs."""
    lasts = surnames()
    common, everyone = list(FIRST), sorted(names.FIRST_NAME_DISPLAY.values())
    persons: list[dict[str, Any]] = []
    identities: list[dict[str, Any]] = []
    truth: set[frozenset[uuid.UUID]] = set()
    phones: set[str] = set()
    humans = int(n / 1.05)
    for i in range(humans):
        # Half the names from the common twenty, half from the whole table of first names.
        first = rng.choice(common if i % 2 else everyone)
        last = rng.choice(lasts)
        last = _female(last) if first in FEMALE or first[-1] in "ая" else last
        local = f"{names.transliterate(first)}.{names.transliterate(last)}{i}".replace(".", "")
        how = rng.choice(TWINS) if rng.random() < (n - humans) / humans else None
        gmail = i % 5 == 0 or how == "gmail"
        email = f"{local}@{'gmail.com' if gmail else rng.choice(DOMAINS)}"
        phone = _phone(rng)
        while phone in phones:
            phone = _phone(rng)
        phones.add(phone)
        claims = [(IdentityKind.EMAIL, "", email, email), (IdentityKind.PHONE, "", phone, phone)]
        pid, person, rows = _rows(ws, f"{first} {last}", claims)
        persons.append(person)
        identities += rows
        if how is not None:
            name, twin_claims = _twin(rng, how, first, last, email, phone)
            twin_id, twin, twin_rows = _rows(ws, name, twin_claims)
            persons.append(twin)
            identities += twin_rows
            truth.add(frozenset({pid, twin_id}))
        if len(persons) >= 20_000:
            _flush(session, persons, identities)
    _flush(session, persons, identities)
    return truth


def _flush(session: Any, persons: list[dict[str, Any]], identities: list[dict[str, Any]]) -> None:
    if persons:
        session.execute(insert(Person), persons)
    if identities:
        session.execute(insert(Identity), identities)
    persons.clear()
    identities.clear()


def baseline(factory: Any, ws: uuid.UUID) -> float:
    """Reading what the pass reads: every person's name fields and every identity."""
    start = time.perf_counter()
    with transaction(factory) as session:
        for _ in session.execute(
            select(Person.id, Person.name, Person.first_name, Person.last_name, Person.avatar_url)
            .where(Person.workspace_id == ws)
            .execution_options(yield_per=5000)
        ):
            pass
        for _ in session.execute(
            select(
                Identity.person_id, Identity.kind, Identity.value, Identity.display, Identity.url
            )
            .where(Identity.workspace_id == ws)
            .execution_options(yield_per=5000)
        ):
            pass
    return time.perf_counter() - start


def quality(session: Any, ws: uuid.UUID, truth: set[frozenset[uuid.UUID]]) -> dict[str, Any]:
    rows = session.execute(
        select(
            MergeSuggestion.person_a_id, MergeSuggestion.person_b_id, MergeSuggestion.score
        ).where(MergeSuggestion.workspace_id == ws, MergeSuggestion.status == SuggestionStatus.OPEN)
    ).all()
    out: dict[str, Any] = {"planted_pairs": len(truth), "suggested_pairs": len(rows)}
    for cut in (0.5, 0.9):
        found = {frozenset({a, b}) for a, b, s in rows if s >= cut}
        hits = len(found & truth)
        out[f"precision_at_{cut}"] = round(hits / len(found), 4) if found else None
        out[f"recall_at_{cut}"] = round(hits / len(truth), 4) if truth else None
    return out


def run(n: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite3"
        upgrade(url)
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        with transaction(factory) as session:
            owner = accounts.create_user(
                session, email="o@bench.example", name="O", password="x" * 12
            )
            ws = accounts.create_workspace(session, name="Bench", slug="bench", owner=owner).id
        start = time.perf_counter()
        with transaction(factory) as session:
            truth = generate(session, ws, n, rng)
        generated = time.perf_counter() - start
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        base = baseline(factory, ws)
        start = time.perf_counter()
        with transaction(factory) as session:
            report = resolution.suggest(session, workspace_id=ws)
        total = time.perf_counter() - start
        with transaction(factory) as session:
            measured = quality(session, ws, truth)
        engine.dispose()
    candidates = report.seconds["keys"] + report.seconds["candidates"]
    return {
        "persons": n,
        "generate_seconds": round(generated, 2),
        "baseline_read_seconds": round(base, 3),
        "pass_seconds": round(total, 2),
        "seconds": report.seconds,
        "candidate_generation_seconds": round(candidates, 3),
        "candidate_generation_vs_baseline": round(candidates / base, 2),
        "pairs_compared": report.pairs_compared,
        "pairs_per_person": round(report.pairs_compared / n, 3),
        "all_pairs": n * (n - 1) // 2,
        "blocks": report.blocks,
        "blocks_skipped": report.blocks_skipped,
        "block_cap": resolution.BLOCK_CAP,
        **measured,
        "rss_before_pass_mb": round(rss_before / 1024, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--scaling", action="store_true", help="also run at a quarter of N first")
    args = parser.parse_args()
    registry.load()
    runs = [run(args.persons // 4, args.seed)] if args.scaling else []
    runs.append(run(args.persons, args.seed))
    print(json.dumps({"benchmark": "identity resolution (SQLite)", "runs": runs}, indent=2))


if __name__ == "__main__":
    main()
