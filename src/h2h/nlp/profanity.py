"""Obscene words and direct insults in Russian and English messages, obfuscations included.

Matching runs on lower-cased "views" of the text of the same length as the text, so every
regex span is a span of the original: in the Russian view Latin look-alikes and digits
inside Cyrillic words become Cyrillic ("xyй"), in the English view the other way round
("sh1t", "a$$"). A handle or link is blanked out of both views: "@yoursbitchh" is a name.

What counts (see docs/nlp/annotation-guide.md):
- profanity: Russian mat (хуй, пизда, ебать, блядь and derivatives, plus мудак, пидор, сука,
  залупа, манда) and English profanity (fuck, shit, bitch, ass, cunt, dick, twat, wanker...).
  Vulgar but non-obscene words (жопа, говно, хрен, херня, crap, piss, damn) and
  abbreviations (wtf, хз) are not profanity.
- insult: a word that insults a person or company (идиот, мразь, moron), an obscene person
  noun (мудак, долбоёб, asshole), or a negative word said of the reader ("вы клоуны",
  "you are a joke", "@airline is useless"). Accusations (мошенники, scammers, liars, thieves)
  are complaints of fraud, not insults, and are left to the intent detector; шлюха and
  whore insult but are not mat, so they are insults only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# ---------------------------------------------------------------------------------------
# Word lists. Each entry is (cue, profanity, insult, alternatives). An alternative is a
# regex over the view that starts with a plain letter and is tried at the start of a word;
# a leading "~" lets it start inside a word (нахуй, спиздил). In the view 'ё' is 'е', and
# '*' (also '@', '№' in Russian) hides a letter. _f("f u c k") spells a root tolerant of
# repeated letters and of '*' for any letter but the first; "s{2}" is a doubled letter.
# The first entry that matches a word wins, so person nouns come before their roots.
# ---------------------------------------------------------------------------------------

_ANY = r"[\w*]*"  # the rest of the word
_END = r"(?![\w*])"  # the word ends here
_S = r"[\s,\-—–]{1,4}"  # a gap between words in the addressed-insult phrases


def _f(spec: str) -> str:
    first, *rest = spec.split()
    parts = [f"{first}{first}*"]  # a plain first letter keeps the fast path (see _fast)
    for unit in rest:
        core = unit.removesuffix("{2}")
        parts.append(rf"(?:{core}{{2,}}|\*\*)" if unit != core else rf"(?:{core}+|\*)")
    return "".join(parts)


def _alts(stems: str, tail: str) -> tuple[str, ...]:
    return tuple(f"{stem.strip('_')}{tail}" for stem in stems.split())  # "_": no stem


_Word = tuple[str, ...]  # (cue, "P" profanity / "I" insult / "PI" both, *alternatives)
_RU_NOUN = r"(?:а|у|ом|е|ы|и|ов|ам|ами|ах|ой|ою|ка|ки|ку|кой|ке|ок)?" + _END
_RU_SOFT = r"(?:ь|и|ью|ей|ям|ями|ях)" + _END  # мразь, тварь, сволочь
_EB = r"(?:е+(?:б+|\*)|\*б+|\*\*(?=[а-я]))"  # за*бал, на**али, but not за** (a kiss)
_EB_PREFIXES = "за на вы у по про пере недо до при не " + " ".join(
    f"{stem}{sign}" for stem in ("под", "от", "с", "в", "раз", "об", "из", "вз") for sign in "ъь"
)
# Not after ра/ко/ло/ти/ли/су/лу/оу: страхуй, рахую and закохуйтесь (Ukrainian: I count, fall
# in love), плохую, тихую, лихую, сухую, глухую, лопоухую. хуйцаа is a Mongolian dish.
_XU = "х" + "".join(f"(?<!{g}х)" for g in ("ра", "ко", "ло", "ти", "ли", "су", "лу", "оу"))
_XU += rf"(?:у+(?:[йеяию]+|\*)|\*[йеяию]+)(?!цаа){_ANY}"  # х* or х** alone is no root
_PIZD = rf"~п(?:[иеы]+|\*)?(?:з+(?:д+|\*)|\*д+){_ANY}"
_DURAK = rf"д(?<!в д)(?<!валять д)ура(?:к|ч[ьк]){_RU_NOUN}"  # not the card game or the idiom
_TUPOY_PERSON = (
    rf"туп(?:ой|ая|ые|ых|ого|ому)(?={_S}(?:оператор|менеджер|продав|консультант|сотрудни"
    r"|кассир|курьер|водител|админ|модератор|баб|мужик|люд|девк|чиновник|врач))"
)

RU_WORDS: list[_Word] = [
    ("еб", "PI", f"долбо{_EB}{_ANY}", rf"у{_EB}(?:ок|к[иауе]|ищ|ан){_ANY}"),
    ("еб", "PI", f"{_f('е б')}(?:лан|анат|анашк|анько){_ANY}"),
    # ебей is eBay and ЕБРР a bank; от*бись hides "ъе" behind one star.
    ("еб", "P", f"{_f('е б')}(?!ей{_END}|рр{_END}){_ANY}", *_alts(_EB_PREFIXES, _EB + _ANY)),
    ("еб", "P", *_alts("под от с в раз об из вз", rf"\*б+{_ANY}")),
    ("хуй", "PI", f"~ху(?:есос|ил[оаы]|йл[оа]){_ANY}"),
    ("хуй", "P", f"~{_XU}"),
    ("пизд", "PI", f"~пизд(?:абол|юк|яй){_ANY}"),
    ("пизд", "P", _PIZD, rf"~пи\*{{2,3}}[а-я]{_ANY}", f"~пизж{_ANY}"),
    # бля goes on with д/т or ends: бляха, бляшка and бл*н (блин) are not mat.
    ("бля", "P", rf"бл(?:я+|\*)(?:{_END}|[дт*]{_ANY})", f"блэт{_ANY}", rf"б\*{{2,3}}[дт]?ь{_END}"),
    ("мудак", "PI", f"{_f('м у д а [кч]')}{_ANY}", f"мудил{_ANY}", f"мудозвон{_ANY}"),
    ("пидор", "PI", rf"п(?:и+|\*)д(?:[оа]+|\*)?р{_ANY}"),
    ("сука", "P", f"{_f('с у к')}(?:а+|и+|е|у|ой|ам|ами|ах){_END}", f"сукин{_ANY}"),
    ("сука", "P", f"суч(?:ка|ки|ку|кой|ке|ара|ары|ий|ье|ья|ьи|ек|ок){_END}"),
    ("залупа", "P", f"залуп{_ANY}"),
    ("манда", "P", f"манд(?:а|ы|е|у|ой|ою|авошк{_ANY}){_END}"),
    # Insults are whole nouns: идиотизм, дебильный, уродливый do not count.
    ("insult:идиот", "I", f"идиот{_RU_NOUN}"),
    ("insult:дебил", "I", f"д[еи]бил{_RU_NOUN}"),
    ("insult:придурок", "I", *_alts("придур недоум", f"(?:ок|к){_RU_NOUN}")),
    ("insult:кретин", "I", *_alts("кретин дегенерат имбецил", _RU_NOUN)),
    ("insult:ублюдок", "I", *_alts("ублюд вырод подон отмороз", f"(?:ок|к){_RU_NOUN}")),
    ("insult:урод", "I", f"урод(?:ин|ец|ц)?{_RU_NOUN}"),
    ("insult:мразь", "I", *_alts("мраз твар сволоч бездар", _RU_SOFT)),
    ("insult:скотина", "I", *_alts("скотин гнид ехидн тупиц лошар", _RU_NOUN), f"скоты{_END}"),
    ("insult:козел", "I", f"коз(?:ел|лы|лин[аыеу]){_END}"),
    ("insult:чмо", "I", *_alts("чмо быдло хамло", _END), f"чмошник{_RU_NOUN}"),
    ("insult:лох", "I", *_alts("олух болван мерзавец мерзавц подлец подлецы", _RU_NOUN)),
    ("insult:лох", "I", rf"лох(?![\-\s]?несс){_RU_NOUN}"),  # not Лох-Несс
    ("insult:шлюха", "I", *_alts("шлюх гондон гандон говнюк засранец засранц", _RU_NOUN)),
    ("insult:дурак", "I", _DURAK, f"дур(?:а|ы|е|у|ой|ень|ни|ачье|ында){_END}"),
    ("insult:тупой", "I", *_alts("тупорыл тупоголов безмозгл рукожоп", _ANY), _TUPOY_PERSON),
    # Plural тупые mostly means people; тупой нож, тупая боль, тупой угол do not.
    ("insult:тупой", "I", rf"туп(?:ые|ых|ыми){_END}(?!\s{{1,3}}(?:нож|угл|вопрос|предмет))"),
]

_FUCK = (
    _f("f [uv] c k"),
    r"pp*h+u+c+k+",
    "fcuk",
    rf"fu[kq](?=(?:s|ing|in|ed|er|ers)?{_END})",  # only whole words: Fukushima
    rf"fck(?=(?:s|ing|in|ed|er|ers)?{_END})",
)
_SHIT = _f("s h [iy] t")
_ASS = _f("a s{2}")
EN_WORDS: list[_Word] = [
    ("fuck", "PI", *(f"{p}{c}{_ANY}" for p in ("mother", "motha", "mutha") for c in _FUCK)),
    ("fuck", "PI", *(f"{c}(?:ers?|wits?){_END}" for c in _FUCK)),
    ("fuck", "P", *(f"{p}{c}{_ANY}" for p in ("", "cluster", "mind", "brain") for c in _FUCK)),
    ("shit", "PI", f"{_SHIT}(?:heads?|bags?|stains?){_END}", f"dip{_SHIT}s?{_END}"),
    ("shit", "P", *_alts("_ bull horse ape chicken bat dog", f"{_SHIT}(?!ake){_ANY}")),
    ("bitch", "P", rf"bb*(?:[iy]+|\*)(?:t+|\*)?(?:c+|\*)h{_ANY}", f"biatch{_ANY}"),
    ("ass", "PI", f"{_ASS}(?:holes?|hats?|wipes?|clowns?){_END}", f"arseholes?{_END}"),
    ("ass", "PI", *_alts("dumb jack fat lard smart", f"{_ASS}(?:es)?{_END}")),
    ("ass", "P", f"{_ASS}(?:es)?{_END}", f"arse{_END}"),
    ("cunt", "PI", f"{_f('c u n t')}{_ANY}"),
    ("dick", "PI", f"dick(?:heads?|wads?|faces?){_END}"),
    ("dick", "P", f"{_f('d i c k')}s?{_END}"),
    ("cock", "PI", f"cocksuck{_ANY}"),
    ("twat", "PI", f"twats?{_END}", f"wank(?:ers?|s|ing)?{_END}"),
    ("nigger", "PI", f"nigg(?:er|a)s?{_END}", f"faggots?{_END}"),
    # Russian mat typed in Latin; "suka" and "huy" are left out (names, Vietnamese).
    ("бля", "P", f"bl[iy]a[dt]{_ANY}"),
    ("пизд", "P", f"pi[sz]d{_ANY}"),
    ("хуй", "P", *_alts("na po", f"hu[iyj]{_END}")),
    ("insult:idiot", "I", f"idiots?{_END}"),
    ("insult:moron", "I", *_alts("moron imbecile cretin retard", f"s?{_END}")),
    ("insult:scumbag", "I", *_alts("scumbag dirtbag douchebag bastard", f"s?{_END}")),
    ("insult:nitwit", "I", *_alts("nitwit halfwit dimwit numbskull numskull buffoon", f"s?{_END}")),
    ("insult:whore", "I", *_alts("whore slut", f"s?{_END}")),
]

# Words that insult only when said of the reader: (subjects, filler, predicates, what may
# follow). A predicate is (cue, pattern); a cue without "insult:" is also profanity.
_Form = tuple[tuple[str, ...], str, list[tuple[str, str]], str]
_EN_FILLER = (
    r"(?:such|so|a|an|the|bunch|of|total|complete|absolute|utter|fucking|freaking|effing|huge"
    r"|big|real|just|really|all|truly|totally|completely|literally|incredibly|extremely|most"
    r"|bloody|damn|pure|simply|officially|seriously|being|still|now)"
)
_EN_STAFF = (
    r"(?:staff|employees|agents|crew|reps?|representatives|team|people|company|airline"
    r"|management|support|service|pilots?|workers|bank)"
)
_EN_STUPID = [
    ("insult:stupid", "stupid|dumb|brainless|retarded"),
    ("insult:incompetent", "incompetent|clueless"),
    ("insult:useless", "useless|worthless|pathetic"),
]
_EN_NOUNS = [
    ("insult:joke", "jokes?|disgrace|embarrassment"),
    ("insult:clown", "clowns?|losers?|amateurs?|fools?|muppets?|jokers?"),
]
EN_ADDRESSED: list[_Form] = [
    (
        (
            r"you(?:\s(?:guys|people|all|lot))?(?:\s(?:are|r)|['’]?re)",
            r"u\s(?:are|r)",
            r"y'?all\s(?:are|r)",
            r"§§*\s(?:is|are)",
            rf"your\s{_EN_STAFF}\s(?:is|are)",
            r"are\s(?:you|u)(?:\sguys|\speople)?",
        ),
        f"(?:{_S}{_EN_FILLER}){{0,4}}{_S}",
        _EN_STUPID + _EN_NOUNS,
        _END,
    ),
    ((r"bunch\sof\s", r"pack\sof\s"), "", _EN_NOUNS[1:], _END),
    (
        (r"you", r"ya"),
        r"(?:\s(?:stupid|dumb|useless|pathetic|bloody|fucking)){0,3}\s",
        [("insult:clown", "clowns|losers?|amateurs|fools|muppets|jokers")],
        _END,
    ),
    ((r"your", r"you"), r"\s", _EN_STUPID, rf"(?=\s(?:{_EN_STAFF}|guys|lot|bunch|idiots))"),
]
# Self-deprecation is no insult: "я такая дура", "I'm an idiot", "made me look like a fool".
_RU_SELF = (
    r"(?:(?<![\w*])я|себя|выглядеть|выгляжу|казаться)(?:\s+(?:же|такая|такой|просто|опять|вообще"
    r"|полная|полный|реально|ведь|тоже|еще|иногда|бываю|была|был|чувствую|полным|полной))*\s+$"
)
_EN_SELF = (
    r"(?<![\w*])(?:i'?m|i\s+am|me|myself|i\s+was|i\s+feel|i\s+felt)(?:\s+(?:such|so|a|an|the"
    r"|total|complete|absolute|real|biggest|like|look|looked|feel|felt))*\s+$"
)
_RU_FILLER = (
    r"(?:все|просто|там|совсем|реально|вообще|что|ли|же|такие|какие|полные|конченн?ые|самые)"
)
RU_ADDRESSED: list[_Form] = [
    (
        ("вы", "ты", "§§*", r"ваш[аеи]?\s[а-я]+", r"твои\s[а-я]+"),
        f"(?:{_S}{_RU_FILLER}){{0,3}}{_S}",
        [
            ("insult:тупой", "туп(?:ой|ая|ые|ое|ица)"),
            ("insult:клоун", "клоун(?:ы)?"),
            ("insult:бездарь", "бездарн(?:ые|ый|ая)|бездари"),
            ("insult:некомпетентный", "некомпетентн(?:ые|ый|ая)|дилетанты|криворукие"),
            ("insult:убогий", "убог(?:ие|ий|ая)|жалк(?:ие|ий|ая)|конченн?(?:ые|ый|ая)"),
            ("insult:дно", "дно|позорище|ничтожеств[оа]|безмозглые"),
            ("сука", "сук[аи]"),
        ],
        _END,
    ),
]

# ---------------------------------------------------------------------------------------

# Look-alikes and digits; '@' and '№' hide a letter in Russian ("бл@дь", "п№здец"). The
# Russian table runs before lower-casing: 'M' is 'М' but 'm' is an italic 'т' ("чmо" in a
# styled "несмоmρя ни на что"), 'B' is 'В' but 'b' is 'ь' ("блядb").
_RU_TABLE = str.maketrans(
    "abcekmnoprtuxyhiABCEKMHOPTXYI036ёЁіІїЇўЎ@№", "аьсектпоргтихуниАВСЕКМНОРТХУИозбееииииуу**"
)
_EN_TABLE = str.maketrans("авекмнорстухіѕё013@$№", "abekmhopctyxiseoieas*")
# Views are translated only when a word mixes scripts or symbols, as str.translate is slow on
# Cyrillic. Each check starts with the rare side of the pair, so that sre skips the rest.
_RU_MIXED = re.compile(r"[a-zA-Z0-9@№іїўІЇЎ](?:(?<=[а-яёА-ЯЁ].)|(?=[а-яёА-ЯЁ]))")
_EN_MIXED = re.compile(r"[a-zA-Z](?:(?<=[0-9@$!№а-яёА-ЯЁіІѕЅ].)|(?=[0-9@$!№а-яёА-ЯЁіІѕЅ]))")
_BANG_LETTER = re.compile(r"!(?=[a-z])")
_HANDLE_OR_URL = re.compile(r"@(?<![\w@]@)\w{1,64}|https?://\S{1,2000}|www\.\S{1,2000}")
_CYRILLIC = re.compile("[а-яёА-ЯЁ]")
_LATIN = re.compile("[a-zA-Z]")
# Mongolian and Kazakh Cyrillic: there хуйцаа and the like are ordinary words.
_NON_RUSSIAN = re.compile("[өүәңғқұһӨҮӘҢҒҚҰҺ]")
# Single letters with separators: "б.л.я.т.ь", "f u c k". When the last letter starts a word
# ("е б а т ь ты"), one step back ends the run on a single letter, so runs stay linear.
_SPACED = re.compile(r"[^\w*]((?:[^\W\d_][ .\-_]{1,2}){2,}[^\W\d_])(?![\w*])")
_WORD_CHAR = re.compile(r"[\w*]")
_NOT_WORD = re.compile(r"[^\w*]")
_MAX_PREFIX = 32  # how far back a root found inside a word looks for the word's start


def _fast(alternatives: Iterable[str]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    # Both patterns open with a character class, so sre's search loop skips at C speed to
    # the next separator (or the next х/п for roots inside words) and then tries only the
    # branches of one first letter. A look-behind or group in front would make it try every
    # branch at every position: 5-10x slower.
    starts: dict[str, list[str]] = {}
    inside: dict[str, list[str]] = {}
    for alternative in alternatives:
        body = alternative.removeprefix("~")
        group = inside if alternative.startswith("~") else starts
        group.setdefault(re.escape(body[0]), []).append(body[1:])

    def union(groups: dict[str, list[str]]) -> str:
        return "|".join(f"{first}(?:{'|'.join(rest)})" for first, rest in groups.items())

    return re.compile(rf"[^\w§](?:{union(starts)})"), re.compile(union(inside) or "(?!)")


@dataclass(frozen=True, slots=True)
class _Lexicon:
    starts: re.Pattern[str]
    inside: re.Pattern[str]
    entries: tuple[tuple[str, bool, bool, re.Pattern[str]], ...]
    phrases: re.Pattern[str]
    predicates: tuple[tuple[str, bool, re.Pattern[str]], ...]
    self_directed: re.Pattern[str]


def _lexicon(words: list[_Word], forms: list[_Form], self_directed: str) -> _Lexicon:
    def whole(alternative: str) -> str:
        return rf"[\w*]*?{alternative[1:]}" if alternative.startswith("~") else alternative

    phrases = [
        f"{subject}{gap}(?:{'|'.join(p for _, p in predicates)}){after}"
        for subjects, gap, predicates, after in forms
        for subject in subjects
    ]
    unique = {predicate: None for _, _, predicates, _ in forms for predicate in predicates}
    starts, inside = _fast(alt for _, _, *alts in words for alt in alts)
    return _Lexicon(
        starts=starts,
        inside=inside,
        entries=tuple(
            (cue, "P" in kind, "I" in kind, re.compile("|".join(map(whole, alts))))
            for cue, kind, *alts in words
        ),
        phrases=_fast(phrases)[0],
        predicates=tuple((c, not c.startswith("insult:"), re.compile(p)) for c, p in unique),
        self_directed=re.compile(self_directed),
    )


_RU = _lexicon(RU_WORDS, RU_ADDRESSED, _RU_SELF)
_EN = _lexicon(EN_WORDS, EN_ADDRESSED, _EN_SELF)


@dataclass(frozen=True, slots=True)
class ProfanityResult:
    profanity: bool  # obscene words present (Russian mat, English profanity)
    insult: bool  # the author insults someone, with or without profanity
    spans: tuple[tuple[int, int], ...]  # obscene and insulting words in the given text
    cues: tuple[str, ...]  # canonical roots that matched: ("хуй", "fuck", "insult:идиот")


_EMPTY = ProfanityResult(False, False, (), ())
_Hit = tuple[int, int, str, bool, bool]


def _lower(text: str) -> str:
    # 'İ' is the one character whose lower case is two characters long; spans must stay aligned.
    return (text.replace("İ", "I") if "İ" in text else text).lower()


def _russian_view(text: str) -> str:
    if _RU_MIXED.search(text):
        return _lower(text.translate(_RU_TABLE))
    return _lower(text).replace("ё", "е")


def _english_view(text: str) -> str:
    view = _lower(text)
    if text.isascii() or _EN_MIXED.search(text):  # translating ASCII is cheap
        view = view.translate(_EN_TABLE)
    return _BANG_LETTER.sub("i", view) if "!" in view else view


def _keep(text: str, start: int, end: int, script: re.Pattern[str]) -> bool:
    word = text[start:end]
    if not script.search(word):
        return False  # a Russian root in a Latin word or the other way round
    if script is _CYRILLIC and len(_NON_RUSSIAN.findall(text, max(start - 60, 0), end + 60)) > 1:
        return False  # one stray letter is a typo, two around the word are another language
    # A masked word needs two visible letters and no more hidden ones than that, plus one:
    # "б***ь" and "f**k" are words, "f***" or "****" could be anything.
    real = sum(c.isalnum() for c in word)
    if real < 2 or len(word) - real > real + 1:
        return False
    # "Dick Smith" and "Dick's Sporting Goods" are names; "Dick move" or "dick" is not.
    after = text[end : end + 2]
    name = after in ("'s", "’s") or (after[:1] == " " and after[1:].isupper())
    return not (word == "Dick" and name)


def _word_at(view: str, index: int) -> tuple[int, int]:
    start, floor = index, max(index - _MAX_PREFIX, 0)
    while start > floor and _WORD_CHAR.match(view, start - 1):
        start -= 1
    while start < index and view[start] == "*":
        start += 1  # emphasis: "*fuck*"
    tail = _NOT_WORD.search(view, index)
    return start, tail.start() if tail else len(view)


def _candidates(view: str, lex: _Lexicon) -> set[tuple[int, int]]:
    words = {_word_at(view, m.start()) for m in lex.starts.finditer(" " + view)}
    pos = 0
    while (match := lex.inside.search(view, pos)) is not None:
        word = _word_at(view, match.start())
        words.add(word)
        pos = max(word[1], match.end())  # one search per word, even in "хуйхуйхуй..."
    return words


def _classify(view: str, start: int, end: int, lex: _Lexicon) -> tuple[str, bool, bool] | None:
    for cue, prof, insult, pattern in lex.entries:
        found = pattern.match(view, start)
        if found is not None and found.end() == end:
            return cue, prof, insult
    return None


def _scan(view: str, text: str, lex: _Lexicon, script: re.Pattern[str], hits: list[_Hit]) -> None:
    seen: dict[str, tuple[str, bool, bool] | None] = {}  # a flood of one word is classified once
    for start, end in _candidates(view, lex):
        word = view[start:end]
        if word not in seen:
            seen[word] = _classify(view, start, end, lex)
        if (entry := seen[word]) is None or not _keep(text, start, end, script):
            continue
        cue, prof, insult = entry
        if insult and lex.self_directed.search(view, max(start - 40, 0), start):
            insult = False  # "я долбоёб" is still mat, but insults nobody
        if prof or insult:
            hits.append((start, end, cue, prof, insult))
    for match in lex.phrases.finditer(" " + view):
        start = end = match.end() - 1  # the predicate is the phrase's last word
        while start > match.start() and _WORD_CHAR.match(view, start - 1):
            start -= 1
        for cue, prof, pattern in lex.predicates:
            if pattern.fullmatch(view, start, end) and _keep(text, start, end, script):
                hits.append((start, end, cue, prof, True))
                break


def _detect_in(text: str, hits: list[_Hit]) -> None:
    source = text
    if "@" in text or "/" in text or "www." in text:
        # Handles and links are not the author's words: "@yoursbitchh" is somebody's name.
        source = _HANDLE_OR_URL.sub(lambda m: "§" * len(m.group()), text)
    if _CYRILLIC.search(source):
        _scan(_russian_view(source), text, _RU, _CYRILLIC, hits)
    if _LATIN.search(source):
        _scan(_english_view(source), text, _EN, _LATIN, hits)


def _spaced_hits(text: str, hits: list[_Hit]) -> None:
    for run in _SPACED.finditer(" " + text):
        if ". " in run.group(1) and run.group(1).isupper():
            continue  # initials: "Е.Б. Петров"
        letters = [i - 1 for i in range(*run.span(1)) if text[i - 1].isalpha()]
        found: list[_Hit] = []
        _detect_in("".join(text[i] for i in letters), found)
        for start, end, cue, prof, insult in found:
            hits.append((letters[start], letters[end - 1] + 1, cue, prof, insult))


def detect(text: str) -> ProfanityResult:
    """Obscene words and insults in a message, with their spans and the roots that matched."""
    hits: list[_Hit] = []
    _detect_in(text, hits)
    _spaced_hits(text, hits)
    if not hits:
        return _EMPTY
    hits.sort()
    spans: list[tuple[int, int]] = []
    for start, end, *_ in hits:
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
        else:
            spans.append((start, end))
    cues: dict[str, None] = {}
    for _, _, cue, prof, insult in hits:
        cues[cue] = None
        if prof and insult:
            cues[f"insult:{cue}"] = None
    return ProfanityResult(
        profanity=any(hit[3] for hit in hits),
        insult=any(hit[4] for hit in hits),
        spans=tuple(spans),
        cues=tuple(cues),
    )


def mask(text: str, spans: Sequence[tuple[int, int]] | None = None) -> str:
    """Display rendering: each obscene or insulting word keeps its first letter, the rest is '*'."""
    if spans is None:
        spans = detect(text).spans
    chars = list(text)
    for start, end in spans:
        for i in range(max(start, 0) + 1, min(end, len(chars))):
            if not chars[i].isspace():  # "f u c k" becomes "f * * *"
                chars[i] = "*"
    return "".join(chars)
