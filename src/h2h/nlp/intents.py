"""Intents of a customer message by explainable cue rules (see docs/nlp/annotation-guide.md).

Every label is decided by *cues*: words (matched by lemma, so Russian inflections count),
short phrase patterns, and a few window rules over the words (an actor verb near an
authority). A cue has a weight in 0..1; a label's score is the noisy-OR of its cues'
weights, ``1 - prod(1 - w)``, so the strongest cue sets the floor and every further cue
raises it. A label applies when its score reaches ``THRESHOLD``. The matched snippets are
returned so that the UI can show *why* a message got its labels.

Threat is the label that matters most, and the cheapest to get wrong: a message that
*mentions* a court or a review is not a threat. A threat needs a lever (an authority, a
court or lawyer, the media, a chargeback, public reviews, violence) *and* the author's
framing: a first-person future or announcing verb near it ("подам в суд", "I'll contact
the BBB"), a condition ("иначе", "unless you refund"), or "my lawyer".
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass

from h2h.nlp.intents_lexicon import (
    _BIGRAMS,
    _CLASSES,
    _FIRST_PERSON_ENDINGS,
    _FOR,
    _FRAMED_PHRASES,
    _IMPERATIVE_ENDINGS,
    _INFINITIVE_ENDINGS,
    _INTENSIFIERS,
    _INVERTED,
    _LAWYER_MOVES,
    _LAWYER_SAYS,
    _NEEDS_SUBJECT,
    _NOT_FIRST,
    _ON_NEGATION,
    _PAST_ENDINGS,
    _PHRASES,
    _SECOND_PLURAL_ENDINGS,
    _STATIVE,
    _SUBJECTS,
    _THEIR,
    _THIRD_PERSON_ENDINGS,
    _ULTIMATUM_SUBJECTS,
    _VERB_LEMMA_ENDINGS,
    _WEAK_ACTORS,
    _WORD_CUES,
    ACT,
    ACT_PAST,
    AUTH,
    BUY_DESIRE,
    BUY_VERB,
    CHARGEBACK,
    CLAIM,
    CLEAR,
    COND,
    CONTEXT,
    DESIRE,
    EVERY,
    EXPOSE,
    FORMAL,
    LAWYER,
    LEVER_VERB,
    LEVERS,
    MONEY,
    NEG,
    PERSON,
    PERSONAL,
    POLICE,
    POSS,
    REQ_VERB,
    REVIEW,
    SPEAK,
    STOLEN,
    TAIL,
    TARGET,
    VIOLENT,
)
from h2h.subjects.text import AnalyzedText, Token

# fmt: off
INTENTS: tuple[str, ...] = (
    "complaint", "question", "request", "praise", "suggestion", "purchase", "threat", "spam",
    "other",
)
THRESHOLD = 0.5
MAX_CHARS = 20_000  # a customer states the point early; bounds time on pasted megabytes
MAX_TOKENS = 4_000
CACHE_SIZE = 100_000  # words whose classes are remembered, like the analyzer's word cache
WINDOW = 8  # words between a lever and the author's verb ("напишу на вас жалобу в ФАС")
NEGATED_WEIGHT = 0.45  # a praise cue under negation counts as a complaint cue of this weight
_SENTENCE_WORD = re.compile(r"(?:^|[.!?;:\n]\s*)(?:xuser\s+)*([a-z']+)")
# fmt: on
# Taking a dispute to one's bank is leverage against a merchant only when there is a grievance.
_MY_BANK = re.compile(
    r"\b(?:contact|call|tell|ask|go to|through|with|getting|get|have) my (?:bank|credit card"
    r" company|card issuer|card company)\b(?! card| account| app| statement| details)"
)
# What the author wants the bank to do: a bank called "to check the transfer" is no lever.
_REVERSAL = re.compile(r"\b(?:reverse|revers|claw|dispute|charge ?back|block|cancel)\w*")
_FRAUD = re.compile(r"мошен|обман|афер|scam|fraud")
# A sentence ending in "?" (but not "?!", which is indignation) is a question for sure when
# it has an interrogative word; a bare "?" after a statement is often venting.
_QUESTION = re.compile(r"\?+(?![!?]*!)")
_SENTENCE_ENDS = ".!?\n"
_TAG_QUESTION = re.compile(
    r"(?:не так ли|не правда ли|ведь так|is ?n'?t it|do ?n'?t you think)\W*$"
)
_INTERROGATIVE = re.compile(
    r"\b(?:how|what|why|where|when|which|who|whose|как|сколько|где|когда|почему|зачем|кто"
    r"|что|чем|куда|откуда|какой|какая|какое|какие|каков|ли|шо|че|разве|неужели|можно)\b"
    r"|^\s*(?:xuser\s+)*(?:so |and |but |ok |well |hi |hello )?(?:is|are|am|was|were|can|could"
    r"|do|does|did|will|would|should|has|have|may|any|anyone|is ?n'?t|are ?n'?t|do ?n'?t"
    r"|does ?n'?t|did ?n'?t|ca ?n'?t|wo ?n'?t)\b"
)
_URLS = re.compile(r"\bxurl\b")
_MENTIONS = re.compile(r"^(?:xuser\s+)+")
_SUPPORTED = frozenset(("ru", "uk", "en"))


@dataclass(frozen=True, slots=True)
class IntentResult:
    """The labels of one message (in ``INTENTS`` order), their scores and the cues behind them."""

    labels: tuple[str, ...]
    scores: dict[str, float]
    cues: dict[str, tuple[str, ...]]


Hit = tuple[str, float, str]  # label, weight, snippet (lower-cased; "" for non-textual evidence)
Pattern = tuple[str, float, re.Pattern[str]]
WordInfo = tuple[int, tuple[tuple[str, float], ...], int]  # classes, cues, triggered patterns


def _compile(table: Iterable[tuple[str, float, str, str]]) -> tuple[Pattern, ...]:
    return tuple((label, weight, re.compile(pattern)) for label, weight, _, pattern in table)


def _build_tables() -> tuple[
    dict[str, int], dict[str, tuple[tuple[str, float], ...]], dict[str, int]
]:
    classes: dict[str, int] = {}
    for flag, words in _CLASSES.items():
        for word in words.split():
            classes[word] = classes.get(word, 0) | flag
    for _, tail in _BIGRAMS:
        classes[tail] = classes.get(tail, 0) | TAIL
    cues: dict[str, tuple[tuple[str, float], ...]] = {}
    for label, by_weight in _WORD_CUES.items():
        for weight, words in by_weight.items():
            for word in words.split():
                cues[word] = (*cues.get(word, ()), (label, weight))
    triggers: dict[str, int] = {}
    for index, (_, _, words, _) in enumerate(_PHRASES + _FRAMED_PHRASES):
        for word in words.split():
            triggers[word] = triggers.get(word, 0) | 1 << index
    return classes, cues, triggers


_CLASS_OF, _CUES_OF, _TRIGGERS = _build_tables()
_PATTERNS = _compile(_PHRASES + _FRAMED_PHRASES)
_ALWAYS = _TRIGGERS.pop("*")
_FRAMED_MASK = ((1 << len(_FRAMED_PHRASES)) - 1) << len(_PHRASES)
_WORD_INFO: dict[str, WordInfo] = {}  # by surface; lemmas are a function of it


@dataclass(slots=True)
class _Scan:
    """The words of a message as the rules see them."""

    tokens: tuple[Token, ...]
    tags: list[int]  # word classes per token
    marked: list[int]  # positions of tokens with any class, the only ones rules look at
    seen: int  # union of the classes
    triggers: int  # bit set of the phrase patterns worth trying


def detect(
    text: str,
    analyzed: AnalyzedText,
    language: str | None,
    sentiment: str | None = None,
    negative: float = 0.0,
) -> IntentResult:
    """Label a normalised message with intents; ``analyzed`` is ``analyze(text)``."""
    text = text[:MAX_CHARS]
    # Same length as the text (ё -> е, ’ -> '), so a match's span is also the original's.
    low = text.lower().replace("ё", "е").replace("’", "'")
    hits: list[Hit] = []
    scan = _scan(analyzed.tokens[:MAX_TOKENS], hits)
    _match_phrases(low, scan.triggers & ~_FRAMED_MASK, hits)
    if "xurl" in low:  # link farms; one link is ordinary, several add up
        hits.append(("spam", min(0.15 * len(_URLS.findall(low)), 0.45), ""))
    if "?" in low:
        hits.append(_question_mark(low, language, hits))
    if scan.seen & (REQ_VERB | BUY_VERB):
        _verb_rules(scan, hits)
    _failures(scan, hits)
    _weigh_context(scan.seen, sentiment, negative, hits)
    _threats(scan, low, hits, sentiment)
    return _result(text, low, hits, sentiment, negative)


def has_lever(analyzed: AnalyzedText) -> bool:
    """Whether the text names something a threat could pull: reviews, media, regulators,
    courts, banks, violence (the learned threat head only counts where one is named)."""
    return bool(_scan(analyzed.tokens[:MAX_TOKENS], []).seen & LEVERS)


def _scan(tokens: tuple[Token, ...], hits: list[Hit]) -> _Scan:
    """Word classes of every token (by surface and lemma), and the single-word cues."""
    scan = _Scan(tokens, [], [], 0, _ALWAYS)
    tags = scan.tags
    for i, token in enumerate(tokens):
        flags, cues, triggers = _WORD_INFO.get(token.surface) or _word_info(token)
        if flags & TAIL and i:
            flags |= _bigram(tokens[i - 1], token)
            if flags & CLEAR:  # "food court", "суд да дело": neither word is a lever
                flags &= ~LEVERS
                tags[i - 1] &= ~LEVERS
        tags.append(flags)
        if flags:
            scan.marked.append(i)
            scan.seen |= flags
        scan.triggers |= triggers
        if cues:
            negated = (
                _negated_before(tokens, tags, i)
                or _word_at(tokens, i + 1) == "нет"  # "претензий нет"
                or (_word_at(tokens, i + 1), _word_at(tokens, i + 2)) == ("for", "nothing")
            )
            for label, weight in cues:
                if not negated:
                    hits.append((label, weight, token.surface))
                elif label in _ON_NEGATION:  # "не понравилось" is as much a gripe as "плохо"
                    hits.append((_ON_NEGATION[label], NEGATED_WEIGHT, token.surface))
    return scan


def _word_info(token: Token) -> WordInfo:
    flags, triggers = 0, 0
    cues: tuple[tuple[str, float], ...] = ()
    for form in (token.surface, *token.lemmas):
        flags |= _CLASS_OF.get(form, 0)
        triggers |= _TRIGGERS.get(form, 0)
        cues = cues or _CUES_OF.get(form, ())
    if _first_person(token):
        flags |= ACT  # "выложу", "сообщим", "открываю": the author's own present or future
    if len(_WORD_INFO) >= CACHE_SIZE:
        _WORD_INFO.clear()  # bounded like the analyzer's own cache; refilled from hot words
    _WORD_INFO[token.surface] = info = (flags, cues, triggers)
    return info


def _first_person(token: Token) -> bool:
    """A Russian verb in the first person ("напишу", "обратимся"): a verb's lemma, -у/-ю/-ем/-им."""
    word = token.surface
    if not word.endswith(_FIRST_PERSON_ENDINGS) or word.endswith(_NOT_FIRST) or word.isascii():
        return False
    return any(
        lemma.endswith(_VERB_LEMMA_ENDINGS) and lemma != word and lemma not in _STATIVE
        for lemma in token.lemmas
    )


def _bigram(previous: Token, token: Token) -> int:
    flags = 0
    for head in (previous.surface, *previous.lemmas):
        for tail in (token.surface, *token.lemmas):
            flags |= _BIGRAMS.get((head, tail), 0)
    return flags


def _negated_before(tokens: tuple[Token, ...], tags: list[int], i: int) -> bool:
    """A negation right before word i, or before an intensifier before it ("не очень вкусно")."""
    if i and tags[i - 1] & NEG:
        return True
    return i > 1 and tokens[i - 1].surface in _INTENSIFIERS and bool(tags[i - 2] & NEG)


def _word_at(tokens: tuple[Token, ...], i: int) -> str:
    return tokens[i].surface if 0 <= i < len(tokens) else ""


def _match_phrases(low: str, triggers: int, hits: list[Hit]) -> None:
    """The phrase patterns whose trigger words occur in the text."""
    index = 0
    while triggers:
        if triggers & 1:
            label, weight, pattern = _PATTERNS[index]
            if found := pattern.search(low):
                hits.append((label, weight, _clip(found.group())))
        triggers >>= 1
        index += 1


def _clip(snippet: str) -> str:
    """A matched phrase without the punctuation and placeholder mentions around it."""
    return _MENTIONS.sub("", snippet.strip(" .!?;:\n"))


def _question_mark(low: str, language: str | None, hits: list[Hit]) -> Hit:
    rhetorical = False
    for count, mark in enumerate(_QUESTION.finditer(low)):
        if count == 20:
            break  # a wall of question marks says nothing more after the first few
        end = mark.start()
        # The sentence before the mark, looked up backwards so that junk stays linear.
        start = max(low.rfind(stop, max(0, end - 300), end) for stop in _SENTENCE_ENDS) + 1
        sentence = low[start:end]
        if _TAG_QUESTION.search(sentence):
            rhetorical = True  # "не так ли?": asks for agreement, not for information
            continue
        if asking := _INTERROGATIVE.search(sentence):
            return ("question", 0.65, _clip(asking.group()))
    # Without our words we cannot tell a question from "...has an attitude with me? Wow.".
    unknown = language is not None and language not in _SUPPORTED
    venting = unknown or rhetorical or _score(hits, "complaint") >= THRESHOLD
    return ("question", 0.35 if venting else 0.5, "?")


def _verb_rules(scan: _Scan, hits: list[Hit]) -> None:
    """Russian requests and purchases: "верните", "хочу/прошу" + infinitive, "вернёте деньги"."""
    tokens, tags = scan.tokens, scan.tags
    for i in scan.marked:
        flags, word = tags[i], tokens[i].surface
        before = range(max(0, i - 3), i)
        if flags & REQ_VERB:
            asked = word.endswith(_INFINITIVE_ENDINGS) and any(tags[j] & DESIRE for j in before)
            money = any(t & MONEY for t in tags[max(0, i - 3) : i + 4])
            if word.endswith(_IMPERATIVE_ENDINGS):
                hits.append(("request", 0.65, word))
            elif asked or (money and not word.endswith(_PAST_ENDINGS)):
                hits.append(("request", 0.55, word))
        if flags & BUY_VERB and any(
            tags[j] & BUY_DESIRE and not (j and tags[j - 1] & NEG) for j in before
        ):
            hits.append(("purchase", 0.6, word))


def _failures(scan: _Scan, hits: list[Hit]) -> None:
    """Russian "не" + a verb of what happened or happens ("не положили", "не работает")."""
    tokens, tags = scan.tokens, scan.tags
    if not scan.seen & (CONTEXT | TARGET) or _has(hits, "praise"):
        return  # "давно я так не смеялась" is no service failure
    for i in scan.marked:
        if tokens[i].surface not in ("не", "нет") or i + 1 >= len(tokens):
            continue
        if tokens[i].surface == "нет":
            # "ответа нет", "нет записи": something the customer expected is missing.
            if i + 1 == len(tokens) or (i and tags[i - 1] & TARGET):
                hits.append(("complaint", 0.35, "нет"))
            continue
        token = tokens[i + 1]
        word = token.surface
        if word.endswith(_PAST_ENDINGS + _THIRD_PERSON_ENDINGS) and any(
            lemma.endswith(_VERB_LEMMA_ENDINGS) for lemma in token.lemmas
        ):
            hits.append(("complaint", 0.4, f"не {word}"))
            return


def _weigh_context(seen: int, sentiment: str | None, negative: float, hits: list[Hit]) -> None:
    """Customer context and the classifier's sentiment as evidence for complaint and praise."""
    # Addressing someone (xuser) is no context: in Russian social data it is mostly friends.
    context = bool(seen & CONTEXT)
    praised = _has(hits, "praise")
    if context:
        # "Кухня - изумительная!", "transfer problems": said of the place, the service.
        hits.extend([(label, 0.25, "") for label in ("praise", "complaint") if _has(hits, label)])
    if sentiment == "negative":
        # Negative chit-chat is not a complaint: it needs something a customer talks about.
        share = 0.6 if context or _has(hits, "complaint") else 0.25
        hits.append(("complaint", negative * share, ""))
        if negative >= 0.6:
            # Praise in a clearly negative message is mostly sarcasm ("lost my bag again,
            # great job"); only thanks keep their weight.
            hits[:] = [
                (label, weight / 2 if label == "praise" and weight < 0.6 else weight, snippet)
                for label, weight, snippet in hits
            ]
    elif sentiment == "positive" and (praised or context):
        hits.append(("praise", 0.3, ""))


def _has(hits: list[Hit], label: str) -> bool:
    return any(hit[0] == label for hit in hits)


def _score(hits: Iterable[Hit], label: str) -> float:
    """Noisy-OR of the label's cue weights: the strongest cue, raised by every other one."""
    missing = 1.0
    for hit_label, weight, _ in hits:
        if hit_label == label:
            missing *= 1.0 - min(weight, 0.99)
    return 1.0 - missing


@dataclass(slots=True)
class _Frame:
    """What frames the levers of one message: the author's acts, conditions and pressure."""

    tokens: tuple[Token, ...]
    tags: list[int]
    actors: list[int]
    conditions: list[int]
    demand: bool  # a condition or a request: "верните деньги, или ..."
    pressure: bool  # a demand or a grievance
    grievance: bool  # a complaint, including the classifier's negative sentiment
    stolen: bool  # a theft is mentioned
    addressed: bool  # the company is addressed ("вы", "your") or the message is hostile
    fraud: bool  # the author calls it a fraud: the police are aimed at the company
    hostile: bool  # the classifier finds the message negative

    def near(self, i: int, cls: int, reach: int) -> bool:
        tags = self.tags
        return any(tags[j] & cls for j in range(max(0, i - reach), min(len(tags), i + reach + 1)))


def _threats(scan: _Scan, low: str, hits: list[Hit], sentiment: str | None) -> None:
    """Levers (authority, court, media, reviews, chargeback, violence) framed by the author."""
    framed = scan.triggers & _FRAMED_MASK
    if not (scan.seen & LEVERS or framed or " my " in low):
        return
    grievance = _score(hits, "complaint") >= THRESHOLD
    addressed = bool(scan.seen & TARGET) or sentiment == "negative"
    actors, conditions = _actors(scan, low, grievance or addressed), _conditions(scan)
    found: list[Hit] = []
    if actors or conditions:
        _match_phrases(low, framed, found)
    demand = bool(conditions) or _score(hits, "request") >= THRESHOLD
    frame = _Frame(
        scan.tokens,
        scan.tags,
        actors,
        conditions,
        demand=demand,
        pressure=demand or grievance,
        grievance=grievance,
        stolen=bool(scan.seen & STOLEN),
        addressed=addressed,
        fraud=bool(_FRAUD.search(low)),
        hostile=sentiment == "negative",
    )
    bank = _MY_BANK.search(low) if actors or conditions else None
    if bank and (frame.pressure or _REVERSAL.search(low)):
        found.append(("threat", 0.65, bank.group()))
    # Per kind of lever only the strongest occurrence counts: three weak mentions of the
    # media near one "I'll" are not three threats.
    strongest: dict[int, list[Hit]] = {}
    for i in scan.marked:
        if kind := scan.tags[i] & LEVERS:
            cues = _lever(frame, i)
            if _score(cues, "threat") > _score(strongest.get(kind, []), "threat"):
                strongest[kind] = cues
    for cues in strongest.values():
        found.extend(cues)
    hits.extend(found)


def _actors(scan: _Scan, low: str, addressed: bool) -> list[int]:
    """Positions of the author's own future, present or announced action, not negated."""
    tokens, tags, found = scan.tokens, scan.tags, []
    first = next((i for i, token in enumerate(tokens) if token.surface != "xuser"), 0)
    starts: set[str] | None = None  # words that open a sentence: "Filing a complaint ..."
    for i in scan.marked:
        flags, word = tags[i], tokens[i].surface
        if flags & LEVER_VERB:
            # The lever as the subject of what is coming: "the FAA will hear about this".
            if any(tags[j] & LEVERS for j in range(max(0, i - 5), i)):
                found.append(i)
            continue
        if not flags & (ACT | ACT_PAST):
            continue
        following = _word_at(tokens, i + 1)
        if flags & ACT:
            negated = (i and tags[i - 1] & NEG) or _CLASS_OF.get(following, 0) & NEG
            asking = word in ("will", "shall") and following in _INVERTED  # "will the court..."
            # "he's going to sue you", "United will believe": English needs its subject.
            subject = i == first or any(
                tokens[j].surface in _SUBJECTS for j in range(i - 2, i) if j >= 0
            )
            if not subject and word in _NEEDS_SUBJECT and word.endswith("ing"):
                if starts is None:
                    starts = {m.group(1) for m in _SENTENCE_WORD.finditer(low[:MAX_CHARS])}
                subject = word in starts
            weak = word in _WEAK_ACTORS and not (subject and word == "will") and not addressed
            if not (negated or asking or weak or (word in _NEEDS_SUBJECT and not subject)):
                found.append(i)
        elif i == first or any(tags[j] & PERSON for j in range(max(0, i - 3), i)):
            found.append(i)  # "я уже написала", "I've filed"; not "жительница написала"
    return found


def _conditions(scan: _Scan) -> list[int]:
    """Positions of ultimatums: "иначе", "если не ...", "или я", "unless", "if you don't"."""
    tokens, tags, found = scan.tokens, scan.tags, []
    for i in scan.marked:
        word = tokens[i].surface
        following = _word_at(tokens, i + 1)
        if not tags[i] & COND:
            # "Не вернёте деньги — напишу", "don't make me", "keep ignoring me and ...".
            if (word == "не" and following.endswith(_SECOND_PLURAL_ENDINGS)) or (
                word in ("don't", "dont") and following == "make"
            ):
                found.append(i)
            continue
        next_flags = tags[i + 1] if i + 1 < len(tags) else 0
        if word in ("если", "if", "пока"):
            ultimatum = any(flags & NEG for flags in tags[i + 1 : i + 6])
        elif word in ("или", "or", "otherwise", "until", "далее", "потом", "затем", "then"):
            # "или я", "или пойду в полицию", "или прокуратура", "until my video drops"
            ultimatum = following in _ULTIMATUM_SUBJECTS or bool(next_flags & (ACT | LEVERS))
            ultimatum = ultimatum or (word == "until" and bool(next_flags & POSS))
        elif word == "before":
            ultimatum = following in _ULTIMATUM_SUBJECTS
        elif word == "keep":
            ultimatum = following.endswith("ing")
        elif word == "else":
            ultimatum = i > 0 and tokens[i - 1].surface == "or"
        else:
            ultimatum = following != "говоря"  # "иначе говоря" is a figure of speech
        if ultimatum:
            found.append(i)
    return found


def _lever(frame: _Frame, i: int) -> list[Hit]:
    """Threat cues of the lever at word i; a lever nobody pulls ("суд арестовал") gives none."""
    tokens, tags = frame.tokens, frame.tags
    flags, word = tags[i], tokens[i].surface
    if _negated_before(tokens, tags, i) or _word_at(tokens, i + 1) == "нет":
        return []  # "без претензий", "претензий нет", "no lawyer"
    if flags & LAWYER and _word_at(tokens, i - 1) in _THEIR:
        return []  # "спасибо вашему юристу", "your lawyers were great": theirs, not ours
    reach = WINDOW if flags & ~CLAIM else 2  # "направлю претензию", not "претензия ... буду"
    at = _nearest(frame.actors, i, reach)
    conditioned = _nearest(frame.conditions, i, 2 * WINDOW) is not None
    cue = _span(tokens, at, i)
    if flags & VIOLENT:
        # Russian forms are first person already; "this will kill your battery" is not.
        armed = not word.isascii() or _nearest(frame.actors, i, 2) is not None
        iffy = conditioned or frame.near(i, COND, WINDOW)  # "if he blocks me again I'll ..."
        personal = frame.near(i, PERSONAL, 3) and (frame.pressure or iffy)
        return [("threat", 0.8, cue)] if armed and (frame.near(i, TARGET, 5) or personal) else []
    if flags & LAWYER and i and tags[i - 1] & POSS and _word_at(tokens, i - 2) not in _FOR:
        # "Мой адвокат свяжется с вами" vs "my lawyer friend recommended you".
        following = {_word_at(tokens, j) for j in range(i + 1, i + 4)}
        moving = at is not None or frame.grievance or bool(following & _LAWYER_MOVES)
        moving = moving or bool(following & _LAWYER_SAYS)
        return [("threat", 0.7 if moving else 0.45, f"{tokens[i - 1].surface} {word}")]
    if flags & (AUTH | CHARGEBACK | CLAIM) and (at is not None or (conditioned and flags & ~CLAIM)):
        return [("threat", 0.8 if at is not None else 0.6, cue)]
    if flags & AUTH and frame.addressed and frame.near(i, FORMAL, 3):
        # "Жалоба в прокуратуру уже готова", "Complaint to the DOT is already drafted".
        return [("threat", 0.6, cue)]
    if at is None:
        if conditioned and frame.pressure and flags & (EXPOSE | REVIEW):
            return [("threat", 0.55, cue)]  # "keep ignoring me and see what happens on twitter"
        return []
    found: list[Hit] = []
    if flags & EXPOSE:
        # "Напишу журналистам" is plain; "I'll be on TV" needs a grievance to be leverage.
        speakers = (j for j in frame.actors if abs(j - i) <= WINDOW and tags[j] & SPEAK)
        speaking = not word.isascii() and any(True for _ in speakers)  # not just the nearest
        found += [("threat", 0.65 if speaking else 0.45, cue)]
        found += [("threat", 0.4 if frame.pressure or frame.hostile else 0.0, "")]
    if flags & POLICE and not frame.stolen:
        # "I reported it to the police" is a stolen card; "я вызову полицию" is leverage.
        aimed = (frame.near(i, TARGET, WINDOW) and not tags[at] & ACT_PAST) or conditioned
        aimed = aimed or frame.fraud or frame.demand
        found += [("threat", 0.45, cue), ("threat", 0.35 if aimed else 0.0, "")]
    if flags & REVIEW:
        everywhere = frame.near(i, EVERY, WINDOW)
        pressed = everywhere or frame.demand or frame.grievance or frame.addressed
        found += [("threat", 0.35, cue), ("threat", 0.45 if pressed else 0.0, "")]
    return found


def _span(tokens: tuple[Token, ...], at: int | None, i: int) -> str:
    """A lever and its actor as one cue, in text order: "подам … суд", "суд … подам"."""
    if at is None or at == i:
        return tokens[i].surface
    first, last = sorted((at, i))
    return f"{tokens[first].surface} … {tokens[last].surface}"


def _nearest(positions: list[int], i: int, reach: int) -> int | None:
    """The position closest to i within reach (positions are sorted; bisect keeps it O(log n))."""
    at = bisect_left(positions, i)
    candidates = [j for j in positions[max(0, at - 1) : at + 1] if abs(j - i) <= reach]
    return min(candidates, key=lambda j: abs(j - i)) if candidates else None


def _result(
    text: str, low: str, hits: list[Hit], sentiment: str | None, negative: float
) -> IntentResult:
    if sentiment == "positive" and negative < 0.2:
        # Warm messages that mention a lawyer or the press are rarely leverage.
        hits = [(lab, w * 0.85 if lab == "threat" else w, s) for lab, w, s in hits]
    missing = dict.fromkeys(INTENTS, 1.0)
    for label, weight, _ in hits:
        missing[label] *= 1.0 - min(weight, 0.99)
    scores = {label: 1.0 - missing[label] for label in INTENTS[:-1]}
    if scores["spam"] >= THRESHOLD:
        scores["praise"] = 0.0  # an advert praises its own goods, not the company addressed
    labels = tuple(label for label in INTENTS[:-1] if scores[label] >= THRESHOLD)
    if not labels:
        return IntentResult(
            ("other",), {"other": round(1.0 - max(scores.values()), 3)}, {"other": ()}
        )
    cues = {
        label: tuple(
            dict.fromkeys(
                _as_written(text, low, s) for lab, w, s in hits if lab == label and s and w
            )
        )
        for label in labels
    }
    return IntentResult(labels, {label: round(scores[label], 3) for label in labels}, cues)


def _as_written(text: str, low: str, snippet: str) -> str:
    """The snippet with the text's own capitalisation, when it can be found."""
    if "…" in snippet:
        return " … ".join(_as_written(text, low, part) for part in snippet.split(" … "))
    at = low.find(snippet)
    return text[at : at + len(snippet)] if at >= 0 and len(low) == len(text) else snippet
