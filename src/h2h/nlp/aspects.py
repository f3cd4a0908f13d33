"""Aspects of a customer message (delivery, price, staff, ...) with a sentiment for each.

Terms are matched on lemmas (Russian, pymorphy3) and light English forms, so one entry
covers the inflections; multi-word terms match consecutive words, longest term first.
Each aspect's sentiment is the polarity of the words near its mentions; a polarity word
counts for the nearest mention only, within its clause (contrast words such as "но" and
"but" end a clause), so "еда вкусная, но официант хамил" gives food positive and staff
negative. An aspect with no polarity words nearby takes the message's sentiment.

An analysed text keeps words only, so commas and full stops cannot end a clause here:
callers that split long texts into sentences first get sharper per-aspect sentiment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from h2h.subjects.text import AnalyzedText, Token, analyze

ASPECTS: tuple[str, ...] = (
    "delivery", "price", "quality", "staff", "support", "payment",
    "refund", "website_app", "location", "food", "timing", "booking",
)  # fmt: skip

# Terms, comma-separated; a multi-word term is its words' lemmas separated by spaces.
# Russian terms are pymorphy3 normal forms (a test checks that each finds itself); English
# terms list the inflections they need, as English words only lose a plural "s". A longer
# term wins, so "качество обслуживание" is staff, not quality, and "цена качество" price.
# Left out, as they mostly mean something else in messages (measured on the dev set and
# SentiRuEval): стоить (worth), счет (account), комиссия (committee), дорогой (dear),
# перевод (translation), подождать ("погодите"), вкус ("со вкусом"), качественный (of
# anything), войти (a room), музыка, алкоголь, блин, водитель, чемодан, машина; pay
# (price more often), seat (booking more often), error, freeze (a card), deal, rate,
# free, credit, cancel, flight, server, driver, account, version.
_TERMS_RU: dict[str, str] = {
    "delivery": "доставка, доставить, доставлять, доставщик, курьер, курьерский, посылка, "
    "бандероль, привезти, привозить, самовывоз, пункт выдача, трек номер, отслеживание, "
    "отследить, сдэк, боксберри, почта россия, заказ прийти, заказ приехать, багаж",
    "price": "цена, стоимость, ценник, ценовой, прайс, дорого, дороговатый, "
    "дорогущий, дешево, дешевый, недорого, недорогой, скидка, тариф, переплатить, переплата, "
    "наценка, подорожать, подорожание, бюджетный, чаевые, комиссия за, бесплатно, "
    "бесплатный, цена качество",
    "quality": "качество, некачественный, брак, бракованный, дефект, поломка, сломаться, "
    "ломаться, неисправность, неисправный, подделка, надежность, двигатель, мотор, движок, "
    "подвеска, коробка передача, кузов, багажник, шумоизоляция, расход топливо, "
    "расход бензин, проходимость, клиренс, управляемость, ржавчина, коррозия, тормоз, "
    "коробка автомат, разгон, пластик, внешний вид",
    "staff": "персонал, сотрудник, работник, официант, официантка, бармен, бариста, повар, "
    "менеджер, администратор, продавец, продавщица, консультант, кассир, врач, доктор, "
    "медсестра, парикмахер, таксист, стюардесса, бортпроводник, экипаж, охранник, хостес, "
    "сомелье, кальянщик, обслуживание, обслуживать, обслужить, сервис, хамить, нахамить, "
    "хамство, хамский, грубить, нагрубить, вежливый, невежливый, приветливый, гардеробщик, "
    "качество обслуживание, качественный обслуживание",
    "support": "поддержка, техподдержка, саппорт, горячий линия, оператор, колл центр, "
    "call центр, чат, дозвониться, дозваниваться, служба поддержка, обращение, тикет",
    "payment": "оплата, оплатить, оплачивать, платеж, заплатить, карта, списать, списание, "
    "транзакция, терминал, эквайринг, наличные, наличка, кэшбэк, кешбэк, пин код, пополнить, "
    "пополнение, предоплата, перевести деньга, перевод деньга, рассрочка",
    "refund": "возврат, вернуть деньга, компенсация, компенсировать, возместить, возмещение",
    "website_app": "сайт, приложение, личный кабинет, мочь войти, получаться войти, логин, "
    "пароль, аккаунт, обновление, глючить, глюк, баг, лагать, зависать, вылетать, "
    "интерфейс, браузер, регистрация, зарегистрироваться, авторизация, плей маркет, апп",
    "location": "интерьер, атмосфера, обстановка, уютно, уютный, уют, чистота, чисто, "
    "грязно, грязь, грязный, парковка, шумно, шумный, зал, мебель, диван, туалет, "
    "вид из окно, тесно, тесновато, просторно, просторный, душно, накурить, помещение, "
    "терраса, веранда, декор, кресло, сиденье, салон, расположение, живой музыка, "
    "музыкальный программа, громкий музыка, караоке, танцпол, диванчик, освещение, "
    "вентиляция, гардероб, антураж, полумрак",
    "food": "еда, блюдо, меню, вкусно, вкусный, невкусный, порция, кухня, пицца, суши, ролл, "
    "салат, суп, стейк, десерт, кофе, чай, пиво, вино, коктейль, напиток, мясо, рыба, паста, "
    "бургер, шашлык, торт, пирожное, выпечка, соус, закуска, гарнир, завтрак, ужин, ланч, "
    "бизнес ланч, покушать, поесть, перекусить, приготовить, раф, латте, капучино, кальян, "
    "шаурма, лапша, пельмень, картошка, картофель, курица, сыр, каша, цезарь, тирамису, "
    "морс, лимонад, сок, приправа, специя, пересолить, безвкусный, качество кухня, "
    "качество еда, качество блюдо, качественный еда, вкус блюдо, вкус еда, горячее, хлеб, "
    "шампанское, рис, лосось, мороженое, фрукт, овощ, свинина, креветка, чизкейк, "
    "поужинать, пообедать, ужинать, обедать, съесть, кушать",
    "timing": "ждать, прождать, дождаться, ожидание, задержка, задержать, задерживать, "
    "задерживаться, задержаться, опоздание, опоздать, опаздывать, очередь, долго, "
    "час работа, график работа, режим работа, во сколько, до сколько, вовремя, срок, расписание",
    "booking": "бронь, бронировать, забронировать, бронирование, запись на, записаться, "
    "билет, рейс, посадочный, регистрация на рейс, заказать столик, столик заказать",
}
_TERMS_EN: dict[str, str] = {
    "delivery": "delivery, deliver, delivered, delivering, shipping, shipped, shipment, "
    "courier, parcel, package, baggage, luggage, bag, carryon, carry on, tracking, "
    "tracking number, dispatched, postman, mailman, fedex, dhl, usps, hasn't arrived",
    "price": "price, priced, pricing, cost, costly, fee, expensive, cheap, cheaper, "
    "cheapest, overpriced, pricey, discount, discounted, tariff, surcharge, exchange rate, "
    "affordable, value for money, full price, pay full price, pay more",
    "quality": "quality, broken, defective, faulty, damaged, malfunction, malfunctioning, "
    "stopped working, poorly made, flimsy, counterfeit, wifi, wi fi",
    "staff": "staff, employee, worker, waiter, waitress, bartender, barista, chef, crew, "
    "agent, rep, representative, manager, cashier, clerk, doctor, nurse, dentist, "
    "receptionist, flight attendant, attendant, stewardess, pilot, personnel, handler, "
    "skycap, ramper, rude, polite, courteous, service quality",
    "support": "support, hotline, helpline, customer service, customer care, cust svc, "
    "on hold, wait on hold, call center, call centre, dm, live chat, help desk, helpdesk, "
    "phone call, email, speak to a human, customer support, tech support, answer our call, "
    "call back",
    "payment": "payment, paid, card, credit card, debit card, charge, charged, transaction, "
    "transfer, top up, topping up, topped up, add money, add fund, debit, withdraw, "
    "withdrawal, withdrawn, atm, deposit, apple pay, google pay, paypal, invoice, billing, "
    "billed, declined, checkout, purchase, beneficiary, send money",
    "refund": "refund, refunded, refunding, reimburse, reimbursed, reimbursement, "
    "voucher, compensation, compensate, compensated, money back",
    "website_app": "app, application, website, site, web, webplayer, web player, online, "
    "login, log in, logged in, logged out, log out, sign in, signin, password, update, "
    "updated, crash, crashed, crashing, bug, buggy, glitch, freezes, freezing, "
    "error message, error code, browser, chrome, firefox, reinstall, reinstalling, "
    "re installing, installed, uninstall, interface, notification, push notification",
    "location": "ambience, ambiance, atmosphere, decor, interior, clean, cleanliness, dirty, "
    "filthy, cabin, legroom, seat comfort, comfortable seat, uncomfortable seat, new seat, "
    "parking, noisy, noise, cramped, lounge, restroom, bathroom, toilet, lavatory, cot",
    "food": "food, meal, menu, taste, tasty, delicious, dish, snack, drink, beverage, "
    "coffee, tea, breakfast, lunch, dinner, pizza, burger, sandwich, salad, soup, steak, "
    "dessert, wine, beer, cocktail, flavor, flavour, portion, cuisine, chicken, fries, "
    "pasta, sushi",
    "timing": "delay, delayed, delaying, late, wait, waiting, waited, queue, on time, "
    "layover, missed connection, missed my connection, how long, wait time, opening hours, "
    "business hours, take forever, taking forever, took forever, overdue, schedule",
    "booking": "booking, book, booked, rebook, rebooked, rebooking, reservation, reserve, "
    "reserved, appointment, ticket, ticketed, flight change, change my flight, cancelled, "
    "canceled, cancellation, cancelled flight, standby, itinerary, boarding pass, reroute, "
    "rerouted, re route, connecting flight, waitlist, confirmation number, seat assignment, "
    "seat selection",
}

# Polarity lexicon: lemmas and English word forms, then multi-word phrases (lemmas).
_LEXICON: dict[float, str] = {
    1.0: "хороший, отличный, прекрасный, замечательный, великолепный, превосходный, "
    "восхитительный, изумительный, шикарный, классный, супер, суперски, вкусный, уютный, "
    "вежливый, приветливый, внимательный, доброжелательный, дружелюбный, радушный, "
    "гостеприимный, любезный, учтивый, профессиональный, понравиться, нравиться, любить, "
    "обожать, рекомендовать, советовать, спасибо, благодарить, благодарность, довольный, "
    "восторг, лучший, идеальный, обалденный, офигенный, потрясать, бесподобный, "
    "божественный, крутой, круто, кайф, кайфовый, респект, молодец, порадовать, радовать, "
    "изысканный, умело, аппетитный, полюбить, объедение, незабываемый, "
    "good, great, excellent, amazing, awesome, fantastic, wonderful, perfect, best, nice, "
    "love, loved, friendly, helpful, polite, courteous, professional, delicious, tasty, "
    "thanks, thank, thx, appreciate, appreciated, happy, pleased, glad, recommend, "
    "impressed, outstanding, superb, brilliant, lovely, rock, kudos, fabulous, stellar, "
    "phenomenal, flawless, attentive, knowledgeable, pleasant, lifesaver",
    0.5: "удобный, быстрый, быстро, чистый, свежий, приятный, качественный, надежный, "
    "аккуратный, дешевый, недорогой, недорого, выгодный, просторный, красивый, помочь, "
    "оперативно, оперативный, сытный, сочный, ароматный, нежный, неплохой, достойный, "
    "удачный, спокойный, теплый, романтичный, стильный, разнообразный, вместительный, "
    "неприхотливый, плюс, грамотный, приемлемый, ненавязчивый, демократичный, доступный, "
    "адекватный, разумный, комфортный, приличный, внушительный, экономичный, мощный, "
    "плавный, домашний, любимый, улыбчивый, отзывчивый, компетентный, заботливый, чуткий, "
    "нормальный, вовремя, милый, мягкий, практичный, гуманный, обширный, интересный, "
    "устроить, "
    "fast, quick, quickly, speedy, easy, smooth, seamless, convenient, comfortable, comfy, "
    "fresh, cheap, affordable, reasonable, efficient, prompt, reliable, resolved, fixed, "
    "worth, enjoy, enjoyed, cool, beautiful, spacious, cozy, cosy, quiet, respect, care, "
    "cares, better, kind, woo, hoo, fine",
    -0.5: "медленный, медленно, долго, долгий, дорого, дороговатый, дорогущий, "
    "переплатить, переплата, завысить, задержка, опоздание, опоздать, сломаться, поломка, "
    "ломаться, брак, дефект, проблема, ошибка, глюк, глючить, зависать, виснуть, лагать, "
    "тормозить, грязный, грязно, шумно, шумный, тесно, тесновато, душно, неудобный, "
    "пересолить, подгорелый, черствый, несвежий, пресный, жесткий, недожарить, пережарить, "
    "потерять, пропасть, слабый, претензия, нарекание, многовато, жалоба, недовольный, "
    "отказать, отказ, минус, недостаток, жаль, обсчитать, игнорировать, забыть, перепутать, "
    "невозможно, сложно, трудно, равнодушный, безразличный, нерасторопный, медлительный, "
    "назойливый, навязчивый, невнимательный, неприятный, неприветливый, надменный, "
    "раздражать, дребезжать, скрипеть, стучать, ржаветь, вибрация, непрожарить, недочет, "
    "забывчивость, "
    "expensive, overpriced, pricey, slow, delay, delayed, late, missing, noisy, cramped, "
    "uncomfortable, inconvenient, fail, failed, fails, failure, error, issue, problem, bug, "
    "buggy, crash, crashed, crashing, freezes, glitch, wrong, stuck, ignored, mess, sadly, "
    "sad, unfortunately, complaint, attitude, duplicate, declined, expired, lag, lagging, "
    "laggy, disconnected, disconnection, bounce, bounced, generic, unable, can't, cannot, "
    "couldn't, snit, cancelled, canceled, hassle, confusing, refused, denied, rejected, "
    "missed, mediocre, stranded, overbooked, ugh",
    -1.0: "плохой, ужасный, отвратительный, отвратный, кошмарный, кошмар, ужас, мерзкий, "
    "противный, невкусный, безвкусный, хамить, нахамить, хамство, хамский, грубый, грубить, "
    "наглый, бракованный, некачественный, разочаровать, разочарование, обмануть, обман, "
    "мошенник, отстой, гадость, худший, безобразие, отвратно, непрофессиональный, "
    "некомпетентный, хреновый, паршивый, жуткий, позор, беспредел, бардак, испортить, "
    "скиснуть, возмутить, возмущать, бесить, грабеж, "
    "bad, terrible, horrible, awful, worst, worse, poor, poorly, rude, broken, lost, stolen, "
    "damaged, dirty, filthy, useless, pointless, unreliable, disappointed, "
    "disappointing, frustrated, frustrating, upset, angry, annoyed, annoying, unacceptable, "
    "horrendous, disgusting, sucks, suck, scam, incompetent, unhelpful, unprofessional, "
    "nightmare, hate, hated, ridiculous, joke, fraud, unauthorized, overcharged, pathetic, "
    "lousy, worthless, garbage, crap, crappy, shitty, dreadful, atrocious, misleading, "
    "unusable, waste, wtf",
}
_PHRASES: dict[float, str] = {
    1.0: "на высота, пальчик облизать, выше всякий похвала, выше весь похвала, well done, "
    "top notch",
    -1.0: "оставлять желать хороший, оставлять желать, ниже плинтус, rip off, ripped off, let down",
}
# Size words: more is better, except for price and waiting ("цены высокие").
_SIZES: dict[float, str] = {
    0.5: "высокий, огромный, high, huge",
    -0.5: "низкий, маленький, небольшой, low, small, tiny",
}
_MORE_IS_WORSE = frozenset(("price", "timing"))
# Neutral alone, negative when negated: "не работает", "didn't help", "not able to".
_FAILS_WHEN_NEGATED = (
    "работать, помочь, помогать, прийти, приходить, доставить, привезти, отвечать, "
    "ответить, дозвониться, вернуть, получить, загружаться, грузиться, открываться, мочь, "
    "смочь, получаться, получиться, удаваться, удаться, хватать, соответствовать, стоить, "
    "впечатлить, "
    "work, works, working, worked, help, helps, helped, arrive, arrived, respond, "
    "responded, answer, answered, load, loading, open, receive, received, play, let, "
    "allow, able, available, show, refund, deliver, get"
)
_NEGATORS = (
    "не, нет, ни, без, никогда, никак, никакой, not, no, never, without, zero, nothing, "
    "nobody, none, nor"
)
_POST_NEGATORS = "нет, никакой"  # "претензий нет", "претензий никаких"
_CONTRAST = "но, однако, зато, а, but, however, whereas"  # what follows outweighs
_CONCESSION = "хотя, although, though"  # what follows weighs less

WINDOW = 5  # tokens either side of a mention
NEGATION_SCOPE = 3  # a negator turns polarity words up to this many tokens on
NEUTRAL_BELOW = 0.2  # |score| under this is neutral
MAX_TOKENS = 5_000  # longer texts are read by their head, so time stays bounded
_DECAY = 0.25  # weight of a polarity word: 1 / (1 + _DECAY * distance)
_CLAUSE_WEIGHT = {"contrast": 2.0, "concession": 0.5, "plain": 1.0}
_NEGATED_FAIL = -0.8  # "не работает": a failure, a little short of an outright "ужасно"
_SENTIMENTS = frozenset(("negative", "neutral", "positive"))


@dataclass(frozen=True, slots=True)
class AspectDef:
    """An aspect and its terms: lemmas, multi-word terms as lemmas separated by spaces."""

    key: str
    terms: frozenset[str]


@dataclass(frozen=True, slots=True)
class AspectHit:
    """An aspect found in a text, with its sentiment and the words that signalled it."""

    aspect: str
    sentiment: str  # "negative" | "neutral" | "positive"
    score: float  # polarity near the mentions, -1..1; 0.0 when there was none
    cues: tuple[str, ...]  # the matched words, normalised, in text order


def _split(terms: str) -> frozenset[str]:
    return frozenset(t.strip() for t in terms.split(",") if t.strip())


DEFAULT: tuple[AspectDef, ...] = tuple(
    AspectDef(key, _split(_TERMS_RU[key]) | _split(_TERMS_EN[key])) for key in ASPECTS
)

_POLARITY = {word: value for value, words in _LEXICON.items() for word in _split(words)}
_SIZE_POLARITY = {word: value for value, words in _SIZES.items() for word in _split(words)}


def _phrases_by_first() -> dict[str, list[tuple[tuple[str, ...], float]]]:
    out: dict[str, list[tuple[tuple[str, ...], float]]] = {}
    for value, phrases in _PHRASES.items():
        for first, *rest in map(str.split, _split(phrases)):
            out.setdefault(first, []).append((tuple(rest), value))
    return out


_PHRASES_BY_FIRST = _phrases_by_first()
_FAILS = _split(_FAILS_WHEN_NEGATED)
_NEGATOR_SET, _POST_NEGATOR_SET = _split(_NEGATORS), _split(_POST_NEGATORS)
_CLAUSE_OF = dict.fromkeys(_split(_CONTRAST), "contrast") | dict.fromkeys(
    _split(_CONCESSION), "concession"
)


@dataclass(frozen=True, slots=True)
class _Word:
    """What one word means for sentiment; computed once per distinct token."""

    polarity: float
    size: bool  # a size word: its polarity turns for aspects where more is worse
    fails: bool  # negative when negated
    negator: bool
    post_negator: bool
    clause: str  # the kind of clause this word starts, or ""
    phrases: tuple[tuple[tuple[str, ...], float], ...]  # phrases starting here: rest, value


def _longest(phrase: tuple[tuple[str, ...], float]) -> tuple[int, tuple[str, ...], float]:
    return -len(phrase[0]), phrase[0], phrase[1]


def _strongest(values: list[float]) -> float:
    # A word with several lemmas may carry several polarities; the strongest wins, and a
    # negative one on a tie (complaints matter more than praise to a CRM).
    return max(values, key=lambda v: (abs(v), -v)) if values else 0.0


_WORDS: dict[str, _Word] = {}
_WORDS_MAX = 50_000  # distinct words kept; the cache starts afresh when full


def _words(tokens: Sequence[Token]) -> list[_Word]:
    # Keyed by the word as written (its lemmas follow from it): a plain dict lookup is
    # several times cheaper than an lru_cache keyed by the token.
    get = _WORDS.get
    return [get(t.surface) or _remember(t) for t in tokens]


def _remember(token: Token) -> _Word:
    if len(_WORDS) >= _WORDS_MAX:
        _WORDS.clear()
    word = _WORDS[token.surface] = _word(token)
    return word


def _word(token: Token) -> _Word:
    lemmas = token.lemmas | {token.surface}
    polarity = _strongest([_POLARITY[lemma] for lemma in lemmas if lemma in _POLARITY])
    size = not polarity and not lemmas.isdisjoint(_SIZE_POLARITY)
    if size:
        polarity = _strongest([_SIZE_POLARITY[lemma] for lemma in lemmas & _SIZE_POLARITY.keys()])
    return _Word(
        polarity,
        size,
        not lemmas.isdisjoint(_FAILS),
        not lemmas.isdisjoint(_NEGATOR_SET) or token.surface.endswith("n't"),
        not lemmas.isdisjoint(_POST_NEGATOR_SET),
        _CLAUSE_OF.get(token.surface, ""),
        # Longest phrase first: "оставлять желать лучшего" before "оставлять желать".
        tuple(
            sorted((p for lemma in lemmas for p in _PHRASES_BY_FIRST.get(lemma, ())), key=_longest)
        ),
    )


@dataclass(frozen=True, slots=True)
class _Index:
    first: frozenset[str]  # every lemma that can start a term: a fast "no aspect" check
    by_first: dict[str, tuple[tuple[tuple[frozenset[str], ...], tuple[str, ...]], ...]]
    order: tuple[str, ...]  # aspect keys in output order


def _compile_term(term: str, expand: bool) -> tuple[frozenset[str], ...]:
    """Acceptable lemmas per word of a term, split into words as texts are."""
    # A built-in term is written as its lemma; where the analyser lemmatises that spelling
    # differently ("латте", "во"), its lemmas are accepted too. Workspace terms may be
    # typed inflected ("доставки"), so any of their lemmas will do.
    return tuple(
        t.lemmas | {t.surface} if expand or t.surface not in t.lemmas else frozenset((t.surface,))
        for t in analyze(term).tokens
    )


@lru_cache(maxsize=256)
def _index(extra: tuple[AspectDef, ...]) -> _Index:
    keys_of: dict[tuple[frozenset[str], ...], set[str]] = {}
    order = list(ASPECTS)
    for definitions, expand in ((DEFAULT, False), (extra, True)):
        for definition in definitions:
            if definition.key not in order:
                order.append(definition.key)
            for term in definition.terms:
                if compiled := _compile_term(term, expand):
                    keys_of.setdefault(compiled, set()).add(definition.key)
    by_first: dict[str, list[tuple[tuple[frozenset[str], ...], tuple[str, ...]]]] = {}
    for compiled, keys in keys_of.items():
        for lemma in compiled[0]:
            by_first.setdefault(lemma, []).append((compiled, tuple(sorted(keys))))
    return _Index(
        frozenset(by_first),
        {k: tuple(sorted(v, key=lambda t: -len(t[0]))) for k, v in by_first.items()},
        tuple(order),
    )


def _match(tokens: Sequence[Token], i: int, index: _Index) -> tuple[int, set[str]]:
    """Length and aspects of the longest term(s) starting at word ``i`` (0 if none)."""
    best, keys = 0, set[str]()
    for lemma in tokens[i].lemmas & index.first:
        for positions, aspects in index.by_first[lemma]:  # longest first
            size = len(positions)
            if size < best:
                break
            if i + size <= len(tokens) and all(
                not tokens[i + k].lemmas.isdisjoint(positions[k]) for k in range(1, size)
            ):
                if size > best:
                    best, keys = size, set()
                keys.update(aspects)
    return best, keys


def _mentions(
    tokens: Sequence[Token], index: _Index
) -> tuple[dict[int, tuple[str, ...]], dict[str, list[str]]]:
    """Which aspects cover each word, and each aspect's cues; a matched word is used once."""
    cover: dict[int, tuple[str, ...]] = {}
    cues: dict[str, list[str]] = {}
    first, end = index.first, 0
    # Most words start no term; the comprehension skips them at C speed.
    for i in [i for i, t in enumerate(tokens) if not t.lemmas.isdisjoint(first)]:
        if i < end:
            continue
        size, keys = _match(tokens, i, index)
        if not size:
            continue
        cue = " ".join(t.surface for t in tokens[i : i + size])
        for key in keys:
            if cue not in cues.setdefault(key, []):
                cues[key].append(cue)
        end = i + size
        cover.update(dict.fromkeys(range(i, end), tuple(sorted(keys))))
    return cover, cues


def _clauses(words: Sequence[_Word]) -> tuple[list[int], list[float]]:
    """Clause number of each word, and each clause's weight (after "but" counts double)."""
    of: list[int] = []
    weights = [_CLAUSE_WEIGHT["plain"]]
    for word in words:
        if word.clause:
            weights.append(_CLAUSE_WEIGHT[word.clause])
        of.append(len(weights) - 1)
    return of, weights


def _phrase_at(tokens: Sequence[Token], p: int, word: _Word) -> tuple[int, float]:
    """End and value of a polarity phrase starting at ``p`` (``p + 1`` and 0.0 if none)."""
    for rest, value in word.phrases:
        end = p + 1 + len(rest)
        if end <= len(tokens) and all(
            lemma in tokens[p + 1 + k].lemmas for k, lemma in enumerate(rest)
        ):
            return end, value
    return p + 1, 0.0


def _polarities(
    tokens: Sequence[Token], words: Sequence[_Word], clause_of: Sequence[int]
) -> list[tuple[int, float, bool]]:
    """Polarity words and phrases by position, negation applied: (position, value, size)."""
    out: list[tuple[int, float, bool]] = []
    n, p = len(words), 0
    while p < n:
        word = words[p]
        end, value = _phrase_at(tokens, p, word) if word.phrases else (p + 1, 0.0)
        value = value or word.polarity
        if value or word.fails:
            clause = clause_of[p]
            negated = any(
                words[q].negator and clause_of[q] == clause
                for q in range(max(0, p - NEGATION_SCOPE), p)
            ) or (end < n and words[end].post_negator and clause_of[end] == clause)
            if value:
                size = word.size and end == p + 1
                out.append((p, -value if negated else value, size))
            elif negated:
                out.append((p, _NEGATED_FAIL, False))
        p = end
    return out


def _sentiment(score: float) -> str:
    if score >= NEUTRAL_BELOW:
        return "positive"
    if score <= -NEUTRAL_BELOW:
        return "negative"
    return "neutral"


def detect(
    analyzed: AnalyzedText,
    language: str | None,
    message_sentiment: str = "neutral",
    extra: Sequence[AspectDef] = (),
) -> list[AspectHit]:
    """The aspects a text mentions, each with the sentiment of the words around it."""
    # ``language`` is accepted for the pipeline's sake: the Russian and English terms are
    # in different scripts, and Russian messages often use English product words (app,
    # wifi), so both term sets always apply.
    del language
    # Frozen copies: the compiled index is cached per distinct set of workspace aspects.
    index = _index(tuple(AspectDef(d.key, frozenset(d.terms)) for d in extra))
    tokens = analyzed.tokens[:MAX_TOKENS]
    if not tokens or analyzed.lemmas.isdisjoint(index.first):
        return []
    cover, cues = _mentions(tokens, index)
    if not cover:
        return []
    totals = _attribute(tokens, cover)
    fallback = message_sentiment if message_sentiment in _SENTIMENTS else "neutral"
    hits = []
    for key in index.order:
        if key not in cues:
            continue
        weighted, weight = totals.get(key, (0.0, 0.0))
        if weight:
            score = round(max(-1.0, min(1.0, weighted / weight)), 3)
            hits.append(AspectHit(key, _sentiment(score), score, tuple(cues[key])))
        else:
            hits.append(AspectHit(key, fallback, 0.0, tuple(cues[key])))
    return hits


def _attribute(
    tokens: Sequence[Token], cover: dict[int, tuple[str, ...]]
) -> dict[str, tuple[float, float]]:
    """Give each polarity word to the nearest mention(s): weighted sum and weight per aspect."""
    words = _words(tokens)
    clause_of, clause_weights = _clauses(words)
    with_mentions = {clause_of[q] for q in cover}
    totals: dict[str, tuple[float, float]] = {}
    n = len(words)
    for p, value, size in _polarities(tokens, words, clause_of):
        clause = clause_of[p]
        # A clause without a mention ("официант не улыбчивый, но вежливый") speaks of a
        # neighbouring one.
        own = clause in with_mentions
        for distance in range(WINDOW + 1):
            keys = {
                key
                for q in (p - distance, p + distance)
                if 0 <= q < n and q in cover and (not own or clause_of[q] == clause)
                for key in cover[q]
            }
            if keys:
                weight = clause_weights[clause] / (1.0 + _DECAY * distance)
                for key in keys:
                    signed = -value if size and key in _MORE_IS_WORSE else value
                    weighted, total = totals.get(key, (0.0, 0.0))
                    totals[key] = (weighted + weight * signed, total + weight)
                break
    return totals


def polarity(analyzed: AnalyzedText) -> float:
    """Polarity of a whole text from the lexicon, -1..1 (0.0 when it has no polarity words)."""
    tokens = analyzed.tokens[:MAX_TOKENS]
    words = _words(tokens)
    clause_of, clause_weights = _clauses(words)
    weighted = weight = 0.0
    for p, value, _size in _polarities(tokens, words, clause_of):
        weighted += clause_weights[clause_of[p]] * value
        weight += clause_weights[clause_of[p]]
    return round(weighted / weight, 3) if weight else 0.0
