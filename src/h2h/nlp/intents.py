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

# --- Word lexicons: surfaces and lemmas (Russian by pymorphy3 lemma, English light forms) ---
# Word classes for the threat and request rules, as bit flags on each token.
AUTH, CLAIM, POLICE, EXPOSE, REVIEW, EVERY, CHARGEBACK = 1, 2, 4, 8, 16, 32, 64
ACT, ACT_PAST, PERSON, POSS, LAWYER, NEG, TARGET = 128, 256, 512, 1024, 2048, 4096, 8192
VIOLENT, DESIRE, REQ_VERB, BUY_VERB, CONTEXT, CLEAR = 2**14, 2**15, 2**16, 2**17, 2**18, 2**19
BUY_DESIRE, SPEAK, COND, PERSONAL, TAIL, MONEY = 2**20, 2**21, 2**22, 2**23, 2**24, 2**25
STOLEN = 2**26
LEVERS = AUTH | CLAIM | POLICE | EXPOSE | REVIEW | CHARGEBACK | VIOLENT

_CLASSES: dict[int, str] = {  # a word may be in several classes: the flags are OR-ed
    # Regulators, courts and lawyers; "претензия" is separate: only a verb right next to it
    # makes it the formal legal claim ("направлю претензию") rather than a gripe.
    AUTH: """роспотребнадзор потребнадзор прокуратура генпрокуратура прокурор фас цб центробанк
        минздрав росздравнадзор ростехнадзор роскомнадзор ространснадзор росавиация
        трудинспекция гострудинспекция инспекция инстанция надзорный правоохранительный фнс
        налоговая мвд омбудсмен зпп озпп суд суду иск исковый позов судиться засудить арбитраж
        court courts lawsuit litigation sue suing bbb ftc faa fcc cfpb dot ombudsman
        regulator regulators authorities""",
    AUTH | LAWYER: """адвокат юрист юрисконсульт lawyer lawyers attorney attorneys solicitor
        solicitors""",
    CLAIM: "претензия",
    POLICE: "полиция милиция участковый полицейский поліція поліцію поліції police cops",
    # A theft sends the author to the police about someone else, not as leverage on us.
    STOLEN: "украсть кража вор ограбить stolen steal stole theft robbed robbery pickpocketed",
    EXPOSE: """сми журналист журналистка блогер блогерша блоггер телевидение тв телеканал
        пресса газета редакция ютуб тикток пикабу соцсеть
        media press journalist journalists reporter reporters tv viral youtube tiktok""",
    REVIEW: "отзыв отзовик review reviews yelp trustpilot tripadvisor",
    EVERY: "везде всюду повсюду площадка ресурс отзовик everywhere every platforms sites websites",
    CHARGEBACK: "чарджбэк чарджбек chargeback chargebacks",
    # The author as actor: first-person future and present forms, modals of intent, and
    # the second-person consequences ("будете объясняться", "ждите проверку"). Verbs of
    # telling (SPEAK) aim a lever at an audience: "напишу журналистам".
    ACT | SPEAK: """напишу напишем обращусь обратимся пожалуюсь пожалуемся сообщу сообщим
        расскажу расскажем отправлю отправим направлю направим выложу выложим опубликую
        опубликуем пойду пойдем дойду дойдем позвоню позвоним накатаю настрочу обращаюсь
        обращаемся пишу пишем жалуюсь звернуся поскаржуся""",
    ACT: """готовлю готовим подам подадим заявлю заявим оставлю оставим привлеку привлечем передам
        передадим подключу подключим вызову вызовем натравлю натравим подаю подаем иду идем буду
        будем будете собираюсь собираемся намерен намерена намерены планирую планируем
        рассматриваю придется вынужден вынуждена вынуждены готов готова готовы ждите увидимся
        встретимся i'll we'll you'll will gonna going shall considering pursuing ready prepared
        contacting filing reporting calling escalating taking disputing""",
    AUTH | ACT: "засужу засудим",
    # Announcing a step already taken counts only with a person marker near it, so news
    # ("жительница написала заявление") does not.
    ACT_PAST | SPEAK: """написал написала написали обратился обратилась обратились отправил
        отправила направил направила пожаловался пожаловалась пожаловались""",
    ACT_PAST: """подал подала подали заявил заявила contacted filed reported called escalated
        disputed""",
    PERSON: "я мы уже вчера сегодня тоже i i've i'm im we we've we're already just have",
    POSS: "мой наш my our",
    NEG: "не ни нет без никакой not never no don't won't wouldn't didn't",
    TARGET: """вас вам вами ваш вашего вашей вашу ваши ваших вашим вашему
        компания контора магазин офис курьер менеджер директор сотрудник продавец
        you your u y'all yall staff store office manager employee employees driver""",
    # Violence against a person ("я тебя убью") is mostly banter unless there is a grievance.
    PERSONAL: "тебя тебе твой его ее их him her them",
    COND: "иначе противном unless если if пока или or otherwise until else",
    VIOLENT: """убью убьем прибью урою зарежу пристрелю застрелю взорву сожгу подожгу покалечу
        изобью закопаю придушу разобью kill hurt shoot stab punch burn bomb smash""",
    DESIRE | BUY_DESIRE: "хочу хотим хотела хотел хотели хотелось можно интересует",
    DESIRE: "требую требуем прошу просим нужно надо необходимо можете могли могу",
    BUY_DESIRE: "планирую",
    REQ_VERB: """вернуть возвратить возместить компенсировать отменить перезвонить позвонить
        помочь исправить починить заменить поменять разблокировать удалить связаться
        ответить разобраться перевести доставить привезти прислать выслать отправить
        проверить решить уволить наказать извиниться перенести аннулировать""",
    BUY_VERB: "купить приобрести заказать записаться забронировать оформить подключить",
    MONEY: "деньга предоплата аванс оплата",  # "когда вернёте деньги" asks for them back
    # Things a customer talks about; with negative sentiment they make a complaint likely.
    CONTEXT: """заказ доставка курьер магазин оператор поддержка сервис обслуживание банк
        карта деньга возврат товар приложение сайт ресторан кафе официант официантка
        кухня блюдо меню еда машина автомобиль менеджер персонал сотрудник администратор
        цена качество салон атмосфера интерьер музыка пиво вино кофе бариста повар
        десерт порция компания продавец клиент услуга тариф оплата платеж списание
        подвеска двигатель багажник резина мотор кузов заведение зал банкет
        flight flights bag bags luggage baggage delay service customer app account card
        charge charges fee fees refund order delivery support staff agent booking seat
        seats ticket tickets update premium subscription payment transfer gate crew
        airline plane reservation phone hold money transaction""",
}
_BIGRAMS: dict[tuple[str, str], int] = {  # (previous word, word) -> extra classes of word
    ("право", "потребитель"): AUTH, ("защита", "потребитель"): AUTH,
    ("следственный", "комитет"): AUTH, ("small", "claims"): AUTH, ("small", "claim"): AUTH,
    ("consumer", "protection"): AUTH, ("consumer", "affairs"): AUTH,
    ("trading", "standards"): AUTH, ("business", "bureau"): AUTH, ("legal", "action"): AUTH,
    ("class", "action"): AUTH, ("legal", "team"): AUTH | LAWYER,
    ("legal", "department"): AUTH | LAWYER, ("legal", "counsel"): AUTH | LAWYER,
    ("charge", "back"): CHARGEBACK,
    ("food", "court"): CLEAR,  # an airport food court is not a court
    ("суд", "да"): CLEAR,  # "пока суд да дело"
}

# Single-word cues of the other labels: label -> weight -> words (surface or lemma).
_WORD_CUES: dict[str, dict[float, str]] = {
    "complaint": {
        0.6: """worst unacceptable pathetic disgusting disgraceful incompetent nightmare
            unhelpful unreliable отвратительный отвратительно безобразие хамство нахамить
            бракованный невкусный невкусно отстой""",
        0.5: """terrible horrible awful ridiculous disappointed disappointing frustrated
            frustrating upset angry furious useless rude scam sucks overcharged stranded
            pointless annoying annoyed ignored ignoring unauthorized ужасный ужасно кошмар
            кошмарный хамить хам грубить обман обмануть обманывать мошенник
            мошенничество разочарование разочаровать разочарованный недовольный
            жалоба игнорировать глюк глючить лагать таракан""",
        0.4: """joke lost delayed delay delays glitch crash crashes crashed crashing freezes
            freezing failing
            fails failure broken stuck poorly sigh ugh wtf mess shame lagging
            disconnected disconnection stolen fraud bug ужас позор грубый грубо
            сломаться сломанный задержка задерживать опоздать опоздание опаздывать грязный
            грязно претензия""",
        0.35: "problem problems issue issues unable failed",
        0.3: """poor bad missing cancelled canceled missed wrong
            error errors expired slow late sadly unfortunately nobody seriously
            проблема ошибка долго дорого многовато маловато сломать грязь""",
    },
    "praise": {
        0.6: "thank thanks thx thankyou kudos спасибо благодарить благодарность благодарный дякую",
        0.5: "appreciate appreciated grateful молодец рекомендовать восторг",
        0.4: """awesome amazing excellent fantastic wonderful brilliant superb outstanding
            helpful courteous понравиться порадовать превосходный изумительный
            великолепный""",
        0.3: """great best love perfect friendly impressed respect отличный замечательный
            прекрасный шикарный вкусный вкусно уютный уютно вежливый внимательный
            внимательно профессионально профессиональный довольный качественно
            качественный суперски лучший неприхотливый надежный вместительный
            изысканный""",
        0.2: "good nice хороший хорошо приятный неплохой супер просторный любимый",
    },
}
_ON_NEGATION = {"praise": "complaint"}  # "не вкусно", "not helpful"; negated gripes vanish
NEGATED_WEIGHT = 0.45


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_LAWYER_MOVES = _set(
    """свяжется свяжутся займется займутся подаст подадут направит направят подготовит
    подготовят готовит изучает разберется will"""
)
_NEEDS_SUBJECT = _set(
    """will shall going gonna ready prepared considering pursuing contacting filing reporting
    calling escalating taking disputing"""
)
_SUBJECTS = _set("i i'm im we we're you you're u")  # "you will be hearing from my lawyer"
_ULTIMATUM_SUBJECTS = _set("я мы i i'll i'm we we'll you u")
_THEIR = _set("ваш ваша вашего вашей вашу ваши ваших вашим вашему вашими your")
_FOR = _set("for для")  # "a statement for my lawyer" is paperwork
_INVERTED = _set("you u i we it this that the my your they he she there a an")
_INTENSIFIERS = _set("очень слишком совсем особо так very so too that really")
_IMPERATIVE_ENDINGS = ("ите", "йте", "ьте")
_INFINITIVE_ENDINGS = ("ть", "ти", "ться", "тись")
_PAST_ENDINGS = ("л", "ла", "ло", "ли", "лся", "лась", "лись")  # "вернули деньги": done

# --- Phrase patterns, matched on the lower-cased text (ё as е) ---
# (label, weight, triggers, pattern): a pattern is tried only when one of its trigger words
# (as written or as a lemma) is in the text, which keeps a message to a handful of searches.
# "*" marks the few patterns anchored on symbols rather than words.
_START = r"(?:^|[.!?;:\n]\s*)(?:xuser\s+|\d+/\d+\s+)*"  # a sentence start, after mentions
_NT = r"(?: ?n[o']t| not)"  # "didn't", "didnt", "did not"
_PHRASES: tuple[tuple[str, float, str, str], ...] = (
    # complaint
    ("complaint", 0.5, "never", r"\bnever (?:again|fly(?:ing)?\b.{0,20}\bagain)"),
    ("complaint", 0.45, "not",
     r"\bnot (?:happy|great|good|ok|okay|acceptable|impressed|satisfied)\b"),
    ("complaint", 0.5, "work works working worked",
     rf"\b(?:does{_NT}|did{_NT}|is{_NT}|not|stopped|wo ?n't|will not) work"),
    ("complaint", 0.5, "doesn't doesnt didn't didnt won't wont does did will",
     rf"\b(?:does{_NT}|did{_NT}|wo ?n'?t|will not) (?:help|play|load|open|sync|connect|arrive)\b"),
    ("complaint", 0.45, "still",
     r"\bstill (?:not|no|the same|waiting|nothing|broken|have ?n'?t)\b"),
    ("complaint", 0.45, "same", r"\bsame (?:problem|issue|thing|exact problem)\b"),
    ("complaint", 0.45, "no",
     r"\bno (?:help|answers?|response|reply|audio|sound|signal|wifi|service"
     r"|one (?:helps|cares|answers))\b"),
    ("complaint", 0.4, "hold hung won't wont logged longer",
     r"\bon hold\b|\bhung up\b|\bwo ?n'?t let me\b|\blogged out\b|\bno longer\b"),
    ("complaint", 0.5, "charged duplicate extra",
     r"\bcharged (?:twice|a fee|me|extra|double)|\bduplicate charge|\bextra charges?"),
    ("complaint", 0.5, "didn't didnt did never",
     rf"\b(?:did{_NT}|never) (?:make|authori[sz]e|receive[d]?|do|withdraw|order|request)\b"),
    ("complaint", 0.45, "haven't havent have never",
     rf"\b(?:have{_NT}|never) (?:received|got|gotten)\b"),
    ("complaint", 0.5, "can't cant cannot couldn't couldnt unable",
     r"\b(?:ca ?n'?t|cannot|could ?n'?t|unable to) (?:log|listen|play|check|get|find|access"
     r"|download|use|verify|hear|see|exchange|purchase|pay|transfer|withdraw)"),
    ("complaint", 0.4, "hrs hr hours hour mins min minutes minute days day",
     r"\b\d+\s*(?:hrs?|hours?|mins?|minutes?|days?)\b.{0,15}\b(?:late|delay|hold|wait|layover)"),
    ("complaint", 0.45, "thanks thank", r"\bthanks? (?:you )?for nothing\b"),
    ("complaint", 0.4, "*", r"#\w{0,30}?(?:fail|worst|bad|poor)|[☹😢😥😔😡😠🤬😤]"),
    ("complaint", 0.5, "работать прийти приходить доставить привезти вернуть отвечать дозвониться "
     "устраивать",
     r"\bне (?:работает|работают|работал[аио]?|пришл[аио]?|приходит|приходят|пришел|доставили"
     r"|привезли|вернули|отвечает|отвечают|отвечаете|дозвонит|могу дозвон|устраивает)"),
    ("complaint", 0.5, "ждать",
     r"\bжд(?:у|ем|ал[аи]?) (?:уже )?(?:\d+ |больше |целый |целую |третий |второй |пятый )?"
     r"(?:день|дня|дней|недел|месяц|час|сутки)|\b(?:уже|третий|второй|пятый) (?:день|неделю"
     r"|месяц) жд"),
    ("complaint", 0.35, "смочь мочь", r"\bне смог(?:ла|ли)? \w+ть\b|\bне могу \w+ть\b"),
    ("complaint", 0.35, "снова опять",
     r"\bснов[аы]? (?:вылетел|сломал|завис|не )|\bопять (?:вылетел|сломал|завис|не )"),
    ("complaint", 0.35, "очень так", r"\bне очень\b|\bтак себе\b"),
    # question
    ("question", 0.5, "how what why where when which who",
     _START + r"(?:how|what|why|where|when|which|who)\b(?! a relief| a joke| a mess)"),
    ("question", 0.5, "is are am can could do does did will would should has have may",
     _START + r"(?:is|are|am|can|could|do|does|did|will|would|should|has|have|may) (?:you|u|i"
     r"|we|it|there|my|the|this|that|they|he|she|your|other|someone|anyone|a|an)\b"),
    ("question", 0.55, "know sure need like want wondering any anyone",
     r"\b(?:i do ?n'?t know|not sure) (?:how|what|where|why|if|whether)\b"
     r"|\bi(?:'d| would)? (?:need|like|want) to know\b|\bwondering\b"
     r"|\bany (?:update|news|idea|info)\b|\banyone know\b"),
    ("question", 0.55, "tell show explain",
     r"\b(?:tell|show) me (?:how|what|where|why|if|when)\b|\bexplain (?:how|why|what)\b"),
    ("question", 0.4, "как сколько где когда почему зачем кто какой каков можно есть чем куда "
     "откуда шо че что",
     _START + r"(?:(?:а|и|ну|так) )?(?:как(?! же| бы| будто| хорошо| жаль| здорово| приятно"
     r"| круто| классно)|сколько|где|когда|почему|зачем|кто|какой|какая|какое|какие|каков"
     r"|можно ли|есть ли|чем|куда|откуда|шо|че|что такое)\b"),
    ("question", 0.6, "подсказать сказать объяснить знать",
     r"\bподскажите\b|\bне подскажете\b|\bскажите\b|\bобъясните\b|\bкто[- ]?нибудь знает\b"
     r"|\bкто знает\b|\bне знаете\b"),
    # request
    ("request", 0.6, "help delete cancel freeze refund fix send dm call give change remove unblock "
     "unlock close stop reverse block fire put reset reply respond contact issue credit waive "
     "rebook return replace activate get explain",
     _START + r"(?:please\s+|pls\s+|plz\s+|kindly\s+)?(?:help me|help us|delete|cancel|freeze"
     r"|refund|fix|send|dm|call|give|change|remove|unblock|unlock|close|stop|reverse|block|fire"
     r"|put|reset|reply|respond|contact|issue|credit|waive|rebook|return|replace|activate|get me"
     r"|explain)\b"),
    ("request", 0.5, "please pls plz kindly",
     r"\b(?:please|pls|plz|kindly)\b(?! (?:let me know|tell me|show me|explain|advise))"),
    ("request", 0.55, "can could would will",
     r"(?<!how )(?<!when )(?<!why )(?<!what )\b(?:can|could|would|will) (?:you|u|ya|someone"
     r"|somebody|anyone)(?: guys| please| pls| kindly)*+ (?!tell|explain|believe|imagine"
     r"|let me know|be\b)[a-z]+"),
    ("request", 0.6, "want need like demand expect request",
     r"\b(?:i|we) (?:just )?(?:want|need|would like|'d like|demand|expect|request)(?: a| an| my"
     r"| our| the| some| to)? (?:full )?(?:refund|money back|my money|compensation|to speak"
     r"|to talk|someone|a human|human|an? agent|manager|help|to cancel|to close|to delete"
     r"|to change|transaction|answers?|explanation|response|code|call back|callback"
     r"|it (?:fixed|reversed|refunded|cancel+ed)|to be (?:refunded|compensated|contacted|called))"),
    ("request", 0.6, "delete close cancel remove deactivate",
     r"\b(?:trying|want|need|would like|'d like) to (?:delete|close|cancel|remove|deactivate)"
     r" (?:my|our|the)"),
    ("request", 0.55, "help about refunded refund dm get put",
     r"\bhelp[?!]|\bneed (?:some |your )?help\b|\bhow about (?:some|a|an)\b|\bjust refunded\b"
     r"|\brefund (?:me|us|my)\b|\bdm (?:me|us)\b|\b(?:get|put) (?:me|us) on\b"
     r"|\bcan (?:i|we) get\b"),
    ("request", 0.6, "прошу просим требую требуем",
     r"\b(?:прошу|просим|требую|требуем)\b(?! прощени)"),
    ("request", 0.4, "пожалуйста", r"\bпожалуйста\b"),
    ("request", 0.5, "пусть",
     r"\bпусть (?:\w+ )?(?:примет|примут|перезвон|свяж|верн|исправ|разбер|ответ|позвон|сделают"
     r"|уберут|накажут|уволят)"),
    # praise
    ("praise", 0.55, "you you're youre ur rock respect care great well good shout shoutout",
     r"\byou(?:'re| are|r)? (?:so |really )?(?:good|great|awesome|amazing|the best|rock|stars?"
     r"|legends?|heroes?)\b|\byou (?:guys |all )?rock\b|\bnothing but (?:respect|love)\b"
     r"|\b(?:really|truly) (?:does|do) care\b|\bgreat (?:job|work|service|experience)\b"
     r"|\bwell done\b|\bgood job\b|\bshout ?out\b"),
    ("praise", 0.55, "вы держать советовать понравиться весь",
     r"\bвы (?:лучшие|молодцы|супер|классные|крутые)\b|\bтак держать\b|\bвсем советую\b"
     r"|\bвс[её] (?:понравилось|было (?:отлично|супер|вкусно|замечательно))"),
    # suggestion
    ("suggestion", 0.6, "you would it'd",
     r"\byou (?:guys |all |folks )?(?:should|could|need to|ought to) (?!be\b|have\b|know\b|feel\b)"
     r"|\b(?:it )?would be (?:nice|great|good|cool|awesome|helpful|better|amazing|useful)\b"
     r"|\bit'd be (?:nice|great|good|cool)\b"),
    ("suggestion", 0.6, "add adding not don't dont need needs happen bring feature wish see "
     "suggest suggestion suggested",
     r"\b(?:please |pls |can you |could you )add\b|\bwhy not\b|\bwhy do ?n'?t you\b"
     r"|\bneeds? to happen\b|\bconsider adding\b|\bbring back\b|\bfeature request\b"
     r"|\bi wish (?:you|there|it|they)\b|\bwould (?:really )?(?:like|love) to see\b"
     r"|\bhow about adding\b|\badd (?:an? |the )?(?:option|feature|button|ability|setting|way)\b"
     r"|\bsuggest"),
    ("suggestion", 0.55, "make let", _START + r"(?:make (?:a|an|it)|let us)\b"),
    ("suggestion", 0.6, "добавить сделать предлагать быть хотеться почему помешать стоить "
     "можно неплохо ввести расширить пусть",
     r"\bдобавьте\b|\bдобавить бы\b|\bсделайте (?:возможность|функци|опци|кнопк|чтобы|так"
     r"|доставк|скидк)|\bпредлагаю\b|\bбыло бы (?:здорово|хорошо|неплохо|классно|круто|удобно"
     r"|отлично|замечательно|супер|прекрасно|логично|правильно)|\bхотелось бы,? (?:чтобы"
     r"|видеть|больше)|\bпочему бы (?:не|вам)\b|\bне помешал[оа]? бы\b|\bстоит (?:добавить"
     r"|сделать|ввести)\b|\bможно было бы\b|\bнеплохо бы\b|\bвведите\b|\bрасширьте\b"
     r"|\bпусть (?:добавят|сделают|будет)\b"),
    # purchase
    ("purchase", 0.6, "buy buying purchase purchasing order ordering book booking subscribe "
     "upgrade upgrading register sign premium",
     r"\b(?:i|we)(?: really)?(?: would like|'d like| want| wanna| am| 'm|'m| need| plan| try"
     r"| tried)?(?: looking| interested| keen| trying| planning)?(?: to| in)? (?:buy|buying"
     r"|purchase|purchasing|order|ordering|book|booking|subscribe|upgrade|upgrading|register"
     r"|sign up|get premium)\b"),
    ("purchase", 0.6, "buy purchase order book subscribe upgrade sign premium redeem "
     "interested keen stock sell ship",
     r"\b(?:how|where|when) (?:do|can|could|would|should) (?:i|we) (?:buy|purchase|order|book a"
     r"|subscribe|upgrade|sign up|get premium|redeem)\b|\bcan (?:i|we) (?:buy|purchase|order"
     r"|book a|redeem|upgrade|subscribe)\b|\binterested in (?:buying|purchasing|ordering"
     r"|booking|upgrading|premium)\b|\bkeen to buy\b|\bupgrade to premium\b|\bin stock\b"
     r"|\bdo you (?:sell|ship to)\b"),
    ("purchase", 0.55, "much price",
     r"\bhow much (?:is|are|does|do|for|would|will)\b.{0,30}\b(?:ticket|seat|upgrade|premium"
     r"|subscription|plan|membership|flight)|\bwhat(?:'s| is) the price\b"),
    ("purchase", 0.6, "сколько почем почём цена стоимость прайс наличие заказать купить "
     "приобрести записаться забронировать",
     r"\bсколько (?:стоит|стоят|будет стоить)|\bпоч[её]м\b|\bкакая (?:цена|стоимость)"
     r"|\bкакова (?:цена|стоимость)|\bцена вопроса|\bпрайс|\bесть ли в наличии|\bв наличии\?"
     r"|\b(?:как|где) (?:можно )?(?:заказать|купить|приобрести|записаться|забронировать"
     r"|оформить заказ)"),
    # spam
    ("spam", 0.5, "promo promocode discount coupon code referral giveaway giving enter "
     "sweepstakes",
     r"\bpromo ?code|\bdiscount code|\bcoupon|\buse (?:my )?code\b|\breferral (?:code|link)"
     r"|\bgiveaway|\bgiving away|\benter to win|\bsweepstakes"),
    ("spam", 0.45, "follow check subscribe link click visit",
     r"\bfollow (?:us|me|my)\b|\bcheck out (?:my|our)\b|\bsubscribe to (?:my|our)\b"
     r"|\blink in (?:my )?bio\b|\bclick (?:the |this )?link\b|\bvisit (?:our|my) (?:site"
     r"|website|store|shop)\b"),
    ("spam", 0.5, "earn make work passive investment crypto forex followers dm",
     r"\bearn \$?\d|\bmake (?:\$|money|cash)\b|\bwork from home\b|\bpassive income\b"
     r"|\binvestment opportunit|\bcrypto signals?\b|\bforex\b|\bfree followers\b"
     r"|\bdm (?:me )?for\b"),
    ("spam", 0.4, "limited buy order shop act off free best",
     r"\blimited (?:time|offer)|\b(?:buy|order|shop|act) now\b|\b\d+% off\b|\bfree shipping\b"
     r"|\bbest prices?\b"),
    ("spam", 0.35, "заработок заработать доход вложение удаленный удалённый дом",
     r"\bзаработ(?:ок|ка|ать|аешь|ай|ком)\b|\bдоход\w*|\bбез вложений|\bудал[её]нн\w+ работ"
     r"|\bработа на дому"),
    ("spam", 0.5, "писать пиши пишите пассивный",
     r"\bпиш(?:и|ите) (?:мне )?в (?:лс|личку|личные|директ|вотсап|телеграм|тг)\b"
     r"|\bпассивн\w+ доход"),
    ("spam", 0.45, "подписываться подписаться переходить ссылка розыгрыш разыгрывать",
     r"\bподписыва(?:йся|йтесь)\b|\bподпиш(?:ись|итесь)\b|\bпереходи(?:те)? по ссылке"
     r"|\bссылка в (?:профиле|шапке|описании|био)|\bрозыгрыш\w*|\bразыгрываем\b"),
    ("spam", 0.3, "промокод промо скидка акция распродажа дарить бесплатно бесплатный",
     r"\bпромо-?код\w*|\bскидк\w*|\bакци[яию]\b|\bраспродаж\w*|\bдарим\b|\bбесплатн\w*"),
    ("spam", 0.4, "успеть спешить сегодня заказывать покупать",
     r"\bуспей(?:те)?\b|\bспеши(?:те)?\b|\bтолько сегодня\b|\bзаказывайте\b|\bпокупайте\b"),
    ("spam", 0.3, "остаться оптом комплект доставка цена",
     r"\bосталось (?:всего|буквально|пару|\d)|\bоптом\b|\bв комплекте\b"
     r"|\bдоставка по (?:всей )?(?:росси|рф|город)|\bцена\b"),
    ("spam", 0.45, "вакансия требоваться набор",
     r"\bваканси[яи]\b|\bтребуются\b|\bтребуется (?:менеджер|сотрудник|продавец|курьер|оператор)"
     r"|\bнабор (?:сотрудников|персонала)"),
    ("spam", 0.45, "цена рубль руб р грн",
     r"\bцен[аы]\W{0,3}(?:за (?:вс[её]|шт\w*)\W*)?[₽$€]?\s*\d|\d[\d\s.,]{0,12}(?:руб\w*|р\.|грн)"),
    ("spam", 0.45, "*", r"\d\s*₽|₽\s*\d"),
    ("spam", 0.5, "казино ставка букмекер накрутка",
     r"\bказино\b|\bставки на спорт|\bбукмекер|\bнакрутк\w*"),
    ("spam", 0.4, "*", r"(?:\+7|\b8)[\s(-]*9\d\d[\s)-]*\d{3}[\s-]*\d{2}[\s-]*\d{2}\b"),
    # threat: phrases that carry their own framing
    ("threat", 0.85, "see", r"\bsee you in court\b"),
    ("threat", 0.6, "complaint",
     r"\b(?:file|filing|filed|lodge|lodging|submit|submitting|make|making) (?:a |an )?(?:formal"
     r" |official )?complaint (?:with|to) (?:the )?(?:dot|faa|ftc|fcc|cfpb|bbb|better business"
     r"|attorney general|consumer|department of|authorities|regulator|ombudsman)"),
    ("threat", 0.7, "report reporting reported",
     r"\b(?:report|reporting|reported) (?:you|u|this|it|them|your \w+) to (?:the )?(?:bbb|dot|faa"
     r"|ftc|cfpb|fcc|better business|attorney general|consumer|authorities|regulator)"),
    ("threat", 0.7, "dispute disputing disputed",
     r"\bdisput(?:e|ing|ed) (?:the|this|it|these|that) (?:charges? |transaction |payment )?"
     r"(?:with|through) (?:my|the) (?:bank|credit card|card company|paypal|amex|visa|mastercard)"),
    ("threat", 0.7, "пусть предать опозорить ославить огласка гласность",
     r"\bпусть вс[ие] узнают|\bпредам\w* (?:гласности|огласке)|\bопозорю\b|\bославлю\b"),
    ("threat", 0.7, "оспорить",
     r"\bоспор\w+ (?:платеж|списание|операци\w*|оплат\w*) через (?:свой )?банк"),
    ("threat", 0.75, "пусть",
     r"\bпусть (?:с (?:вами|этим) )?(?:разбира|занима)\w* (?:суд|прокуратур|полици"
     r"|роспотребнадзор)"),
)
# Levers spelled as phrases; like the lever words they count only when the author acts
# ("I'll", "I'm filing") or sets a condition somewhere in the message.
_FRAMED_PHRASES: tuple[tuple[str, float, str, str], ...] = (
    ("threat", 0.85, "sue suing take",
     r"\b(?:sue|suing) (?:you|u|y'?all|your)\b|\btake (?:you|this|it|them|this matter) to court\b"),
    ("threat", 0.65, "узнать огласка интернет страна",
     r"\bвс[ие] узнают\b|\bогласк\w+|\bна весь интернет\b|\bна всю страну\b"),
    ("threat", 0.75, "transportation bureau general consumer claims action standards fraud "
     "charges",
     r"\b(?:department of transportation|better business bureau|attorney general"
     r"|consumer (?:protection|affairs|rights)|small claims|legal action|class action"
     r"|trading standards|action fraud|press charges)\b"),
    ("threat", 0.65, "news media press reporter reporters journalist journalists tv everyone "
     "everybody world followers public viral",
     r"\b(?:contact|call|tell|alert|go(?:ing)? to|email|write to|reach out to|tip off)\w* (?:the "
     r"|my |a |local |every )*(?:news|media|press|reporters?|journalists?|tv)\b"
     r"|\b(?:make sure|let) (?:everyone|everybody|the world|all my followers|the public)\b"
     r"|\beveryone will (?:know|see|hear)\b|\b(?:make|making) (?:this|it|that|you) go viral\b"),
)
# fmt: on
# Taking a dispute to one's bank is leverage against a merchant only when there is a grievance.
_MY_BANK = re.compile(
    r"\b(?:contact|call|tell|ask|go to|through|with) my (?:bank|credit card company|card issuer"
    r"|card company)\b(?! card| account| app| statement| details)"
)
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
    _weigh_context(scan.seen, sentiment, negative, hits)
    _threats(scan, low, hits)
    return _result(text, low, hits, sentiment, negative)


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
    if len(_WORD_INFO) >= CACHE_SIZE:
        _WORD_INFO.clear()  # bounded like the analyzer's own cache; refilled from hot words
    _WORD_INFO[token.surface] = info = (flags, cues, triggers)
    return info


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

    def near(self, i: int, cls: int, reach: int) -> bool:
        tags = self.tags
        return any(tags[j] & cls for j in range(max(0, i - reach), min(len(tags), i + reach + 1)))


def _threats(scan: _Scan, low: str, hits: list[Hit]) -> None:
    """Levers (authority, court, media, reviews, chargeback, violence) framed by the author."""
    framed = scan.triggers & _FRAMED_MASK
    if not (scan.seen & LEVERS or framed or " my " in low):
        return
    actors, conditions = _actors(scan), _conditions(scan)
    found: list[Hit] = []
    if actors or conditions:
        _match_phrases(low, framed, found)
    demand = bool(conditions) or _score(hits, "request") >= THRESHOLD
    grievance = _score(hits, "complaint") >= THRESHOLD
    frame = _Frame(
        scan.tokens,
        scan.tags,
        actors,
        conditions,
        demand=demand,
        pressure=demand or grievance,
        grievance=grievance,
        stolen=bool(scan.seen & STOLEN),
    )
    if (actors or conditions) and frame.pressure and (bank := _MY_BANK.search(low)):
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


def _actors(scan: _Scan) -> list[int]:
    """Positions of the author's own future, present or announced action, not negated."""
    tokens, tags, found = scan.tokens, scan.tags, []
    first = next((i for i, token in enumerate(tokens) if token.surface != "xuser"), 0)
    for i in scan.marked:
        flags, word = tags[i], tokens[i].surface
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
            if not (negated or asking or (word in _NEEDS_SUBJECT and not subject)):
                found.append(i)
        elif i == first or any(tags[j] & PERSON for j in range(max(0, i - 3), i)):
            found.append(i)  # "я уже написала", "I've filed"; not "жительница написала"
    return found


def _conditions(scan: _Scan) -> list[int]:
    """Positions of ultimatums: "иначе", "если не ...", "или я", "unless", "if you don't"."""
    tokens, tags, found = scan.tokens, scan.tags, []
    for i in scan.marked:
        if not tags[i] & COND:
            continue
        word = tokens[i].surface
        following = _word_at(tokens, i + 1)
        if word in ("если", "if", "пока"):
            ultimatum = any(flags & NEG for flags in tags[i + 1 : i + 6])
        elif word in ("или", "or", "otherwise", "until"):
            ultimatum = following in _ULTIMATUM_SUBJECTS
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
        personal = frame.near(i, PERSONAL, 3) and (frame.pressure or conditioned)
        return [("threat", 0.8, cue)] if armed and (frame.near(i, TARGET, 3) or personal) else []
    if flags & LAWYER and i and tags[i - 1] & POSS and _word_at(tokens, i - 2) not in _FOR:
        # "Мой адвокат свяжется с вами" vs "my lawyer friend recommended you".
        moving = at is not None or frame.grievance or _word_at(tokens, i + 1) in _LAWYER_MOVES
        return [("threat", 0.7 if moving else 0.45, f"{tokens[i - 1].surface} {word}")]
    if flags & (AUTH | CHARGEBACK | CLAIM) and (at is not None or (conditioned and flags & ~CLAIM)):
        return [("threat", 0.8 if at is not None else 0.6, cue)]
    if at is None:
        return []
    found: list[Hit] = []
    if flags & EXPOSE:
        # "Напишу журналистам" is plain; "I'll be on TV" needs a grievance to be leverage.
        speaking = tags[at] & SPEAK and not word.isascii()
        found += [("threat", 0.65 if speaking else 0.45, cue)]
        found += [("threat", 0.4 if frame.pressure else 0.0, "")]
    if flags & POLICE and not frame.stolen:
        # "I reported it to the police" is a stolen card; "я вызову полицию" is leverage.
        aimed = (frame.near(i, TARGET, WINDOW) and not tags[at] & ACT_PAST) or conditioned
        found += [("threat", 0.45, cue), ("threat", 0.35 if aimed else 0.0, "")]
    if flags & REVIEW:
        everywhere = frame.near(i, EVERY, WINDOW)
        found += [
            ("threat", 0.35, cue),
            ("threat", 0.45 if everywhere or frame.demand else 0.0, ""),
        ]
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
