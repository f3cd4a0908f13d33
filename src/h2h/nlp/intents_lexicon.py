"""The cue data of ``h2h.nlp.intents``: lexicons, word lists and phrase pattern tables.

Word classes (bit flags such as ``AUTH`` or ``ACT``) and the words in each, word pairs that
add a class, single-word cues of the other labels with their weights, closed word sets and
inflection endings for the verb rules, and the phrase patterns (label, weight, trigger
words, regex) that ``intents`` compiles into its lookup tables. It is data only: the rules
that read it live in ``intents``. The words, weights and patterns were tuned on the dev
annotations only (``dev_*.jsonl``); the held-out test and challenge sets were not consulted.
"""

from __future__ import annotations

# fmt: off
# --- Word lexicons: surfaces and lemmas (Russian by pymorphy3 lemma, English light forms) ---
# Word classes for the threat and request rules, as bit flags on each token.
AUTH, CLAIM, POLICE, EXPOSE, REVIEW, EVERY, CHARGEBACK = 1, 2, 4, 8, 16, 32, 64
ACT, ACT_PAST, PERSON, POSS, LAWYER, NEG, TARGET = 128, 256, 512, 1024, 2048, 4096, 8192
VIOLENT, DESIRE, REQ_VERB, BUY_VERB, CONTEXT, CLEAR = 2**14, 2**15, 2**16, 2**17, 2**18, 2**19
BUY_DESIRE, SPEAK, COND, PERSONAL, TAIL, MONEY = 2**20, 2**21, 2**22, 2**23, 2**24, 2**25
STOLEN, LEVER_VERB, FORMAL = 2**26, 2**27, 2**28
LEVERS = AUTH | CLAIM | POLICE | EXPOSE | REVIEW | CHARGEBACK | VIOLENT

_CLASSES: dict[int, str] = {  # a word may be in several classes: the flags are OR-ed
    # Regulators, courts and lawyers; "претензия" is separate: only a verb right next to it
    # makes it the formal legal claim ("направлю претензию") rather than a gripe.
    AUTH: """роспотребнадзор потребнадзор прокуратура генпрокуратура прокурор фас цб центробанк
        минздрав росздравнадзор ростехнадзор роскомнадзор ространснадзор росавиация
        трудинспекция гострудинспекция инспекция инстанция надзорный правоохранительный фнс
        налоговая налоговую налоговой мвд омбудсмен финомбудсмен зпп озпп суд суду иск исковый
        досудебный повестка госуслуга госуслуги позов судиться засудить арбитраж
        court courts lawsuit lawsuits litigation sue suing bbb ftc faa fcc cfpb dot ombudsman
        regulator regulators authorities plaintiff""",
    AUTH | LAWYER: """адвокат юрист юрисконсульт lawyer lawyers attorney attorneys solicitor
        solicitors""",
    CLAIM: "претензия",
    POLICE: "полиция милиция участковый полицейский поліція поліцію поліції police cops",
    # A theft sends the author to the police about someone else, not as leverage on us.
    STOLEN: "украсть кража вор ограбить stolen steal stole theft robbed robbery pickpocketed",
    EXPOSE: """сми журналист журналистка блогер блогерша блоггер телевидение тв телеканал
        пресса газета редакция ютуб тикток пикабу соцсеть паблик телеграм подписчик
        антиреклама инстаграм фейсбук твиттер вконтакте
        media press journalist journalists reporter reporters tv viral youtube tiktok news
        twitter facebook instagram reddit followers public thread""",
    REVIEW: "отзыв отзовик 2гис фламп гугл review reviews yelp trustpilot tripadvisor google star",
    EVERY: "везде всюду повсюду площадка ресурс отзовик everywhere every platforms sites websites",
    CHARGEBACK: "чарджбэк чарджбек диспут chargeback chargebacks dispute",
    CHARGEBACK | ACT: "disputing",
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
        встретимся вынуждаете вынудите будет i'll we'll you'll will gonna going shall
        considering pursuing ready prepared contacting filing reporting calling escalating
        taking leaving posting writing sending telling talking speaking opening getting
        reaching drafting submitting lodging""",
    # The lever as the subject of what comes: "FAA will hear about this", "Прокуратура
    # разберется с вами", "lawsuit incoming".
    LEVER_VERB: """hear interested incoming coming узнать разобраться заняться
        заинтересоваться скажет скажут""",
    # A formal complaint as a noun: "жалоба в прокуратуру уже готова", "complaint to the DOT".
    FORMAL: "жалоба заявление обращение complaint complaints report claim",
    AUTH | ACT: "засужу засудим",
    # Announcing a step already taken counts only with a person marker near it, so news
    # ("жительница написала заявление") does not.
    ACT_PAST | SPEAK: """написал написала написали обратился обратилась обратились отправил
        отправила направил направила пожаловался пожаловалась пожаловались""",
    ACT_PAST: """подал подала подали заявил заявила contacted filed reported called escalated
        disputed""",
    PERSON: "я мы уже вчера сегодня тоже i i've i'm im we we've we're already just have",
    POSS: "мой наш my our",
    NEG: """не ни нет без никакой not never no don't won't wouldn't didn't isn't aren't doesn't
        can't haven't hasn't wasn't weren't dont doesnt isnt didnt wont""",
    TARGET: """вас вам вами ваш вашего вашей вашу ваши ваших вашим вашему
        компания контора магазин офис курьер менеджер директор сотрудник продавец
        you your u y'all yall staff store office manager employee employees driver""",
    # Violence against a person ("я тебя убью") is mostly banter unless there is a grievance.
    PERSONAL: "тебя тебе твой его ее их him her them his",
    COND: """иначе противном unless если if пока или or otherwise until else before далее потом
        затем then keep""",
    VIOLENT: """убью убьем прибью урою зарежу пристрелю застрелю взорву сожгу подожгу покалечу
        изобью закопаю придушу разобью разнесу проколю kill hurt shoot stab punch burn bomb smash
        slash""",
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
        airline plane reservation phone hold money transaction food meal drink drinks soup
        table waiter waitress room hotel package parcel box driver price prices product item
        items checkout store restaurant shop
        ремонт запись мастер телефон звонок поездка соус ролл пицца суши счет чек посылка
        клиника регистратура врач номер отель""",
}
_BIGRAMS: dict[tuple[str, str], int] = {  # (previous word, word) -> extra classes of word
    ("право", "потребитель"): AUTH, ("защита", "потребитель"): AUTH,
    ("следственный", "комитет"): AUTH, ("small", "claims"): AUTH, ("small", "claim"): AUTH,
    ("consumer", "protection"): AUTH, ("consumer", "affairs"): AUTH,
    ("trading", "standards"): AUTH, ("business", "bureau"): AUTH, ("legal", "action"): AUTH,
    ("class", "action"): AUTH, ("legal", "team"): AUTH | LAWYER,
    ("legal", "department"): AUTH | LAWYER, ("legal", "counsel"): AUTH | LAWYER,
    ("charge", "back"): CHARGEBACK, ("paypal", "claim"): CHARGEBACK,
    ("paypal", "dispute"): CHARGEBACK, ("health", "department"): AUTH,
    ("health", "inspector"): AUTH, ("labor", "board"): AUTH, ("labour", "board"): AUTH,
    ("state", "board"): AUTH, ("labor", "department"): AUTH,
    ("food", "court"): CLEAR,  # an airport food court is not a court
    ("суд", "да"): CLEAR,  # "пока суд да дело"
}

# Single-word cues of the other labels: label -> weight -> words (surface or lemma).
_WORD_CUES: dict[str, dict[float, str]] = {
    "complaint": {
        0.6: """worst unacceptable pathetic disgusting disgraceful incompetent nightmare
            unhelpful unreliable deceptive отвратительный отвратительно безобразие хамство нахамить
            бракованный невкусный невкусно отстой""",
        0.5: """terrible horrible awful ridiculous disappointed disappointing frustrated
            frustrating upset angry furious useless rude scam sucks overcharged stranded
            pointless annoying annoyed ignored ignoring unauthorized ужасный ужасно кошмар
            кошмарный хамить хам грубить обман обмануть обманывать мошенник
            мошенничество разочарование разочаровать разочарованный недовольный
            жалоба игнорировать глюк глючить лагать таракан complaint тухлый просроченный
            испорченный хамский лживый махинация незаконно""",
        0.4: """joke lost delayed delay delays glitch crash crashes crashed crashing freezes
            freezing failing
            fails failure broken stuck poorly sigh ugh wtf mess shame lagging
            disconnected disconnection stolen fraud bug broke crushed declined damaged
            refuse refused refuses buggy forgot ужас позор грубый грубо
            сломаться сломанный задержка задерживать опоздать опоздание опаздывать грязный
            грязно претензия остыть черствый конкурент дважды трижды вечно обидно""",
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


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_LAWYER_MOVES = _set(
    """свяжется свяжутся займется займутся подаст подадут направит направят подготовит
    подготовят готовит изучает разберется will"""
)
_NEEDS_SUBJECT = _set(
    """will shall going gonna ready prepared considering pursuing contacting filing reporting
    calling escalating taking disputing leaving posting writing sending telling talking speaking
    opening getting reaching drafting submitting lodging"""
)
_SUBJECTS = _set("i i'm im we we're you you're u be am are")  # "you will be hearing from my lawyer"
_ULTIMATUM_SUBJECTS = _set("я мы i i'll i'm we we'll you u")
_THEIR = _set("ваш ваша вашего вашей вашу ваши ваших вашим вашему вашими your")
_FOR = _set("for для")  # "a statement for my lawyer" is paperwork
_INVERTED = _set("you u i we it this that the my your they he she there a an")
_INTENSIFIERS = _set("очень слишком совсем особо так very so too that really")
_IMPERATIVE_ENDINGS = ("ите", "йте", "ьте")
_INFINITIVE_ENDINGS = ("ть", "ти", "ться", "тись")
_PAST_ENDINGS = ("л", "ла", "ло", "ли", "лся", "лась", "лись")  # "вернули деньги": done
_FIRST_PERSON_ENDINGS = ("у", "ю", "ем", "им", "емся", "имся", "усь", "юсь")
_VERB_LEMMA_ENDINGS = ("ть", "ти", "чь", "ться", "тись", "чься")
# "-ью" is a noun ("частью"), the rest are participles ("управляющую", "оплаченным").
_NOT_FIRST = (
    *("ью", "ую", "юю", "щим", "щем", "ным", "ном", "мым", "мом", "тым", "том", "шим", "шем"),
)
# Being somewhere or knowing something is not an act: "я работаю в Роспотребнадзоре".
_STATIVE = _set(
    """работать жить знать думать любить хотеть видеть смотреть читать слышать понимать
    верить надеяться помнить находиться сидеть стоять учиться служить состоять числиться"""
)
_THIRD_PERSON_ENDINGS = ("ет", "ит", "ут", "ют", "ат", "ят", "ется", "ится", "утся", "ются")
_SECOND_PLURAL_ENDINGS = ("ете", "ите")
_WEAK_ACTORS = _set("будет will")  # "будет жалоба в ФАС" needs someone addressed or a grievance
_LAWYER_SAYS = _set("says said thinks advised говорит сказал сказала уже already")

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
    ("threat", 0.85, "see", r"\bsee you in (?:court|small claims)\b"),
    # Ultimatums that name no lever: the consequence is left to the imagination.
    ("threat", 0.65, "пенять предупреждение мужски место regret chance test incoming",
     r"\bпеняйте на себя|\bпоследнее предупреждение|\bпо-мужски\b|\b(?:разговаривать|говорить"
     r"|общаться|поговорим|продолжим) (?:будем )?(?:уже )?в другом месте|\byou(?:'ll| will) regret"
     r"|\blast chance\b|\bdo ?n'?t test me\b|\blawsuits? (?:is )?incoming\b"),
    ("threat", 0.75, "досудебный", r"\bдосудебн\w* претензи"),
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
     r"\bпусть (?:вс[ие]|люди|народ|город) (?:узнают|знают|видят)|\bпредам\w* (?:гласности"
     r"|огласке)|\bопозорю\b|\bославлю\b|\bузна(?:ет|ют) (?:весь|вся|все) (?:город|интернет"
     r"|страна|район|мир)"),
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
    ("threat", 0.65, "узнать огласка интернет страна весь следовать надо орган",
     r"\bвс[ие] узнают\b|\bогласк\w+|\bна весь интернет\b|\bна всю страну\b"
     r"|\bвсем (?:расскажу|расскажем|напишу|покажу)|\b(?:расскажу|расскажем|покажу) всем\b"),
    ("threat", 0.75, "следовать надо орган",
     r"\bкуда (?:следует|надо|нужно)\b|\b(?:в|во) (?:соответствующие|компетентные|все|надзорные)"
     r" (?:органы|инстанции)"),
    ("threat", 0.75, "transportation bureau general consumer claims action standards fraud "
     "charges",
     r"\b(?:department of transportation|better business bureau|attorney general"
     r"|consumer (?:protection|affairs|rights)|small claims|legal action|class action"
     r"|trading standards|action fraud|press charges)\b"),
    ("threat", 0.65, "news media press reporter reporters journalist journalists tv everyone "
     "everybody world followers public viral",
     r"\b(?:contact|call|tell|alert|go(?:ing)? to|email|write to|reach out to|tip off)\w* (?:the "
     r"|my |a |local |every )*(?:news|media|press|reporters?|journalists?|tv)\b"
     r"|\b(?:make sure|let) (?:everyone|everybody|every single|the world|all my followers"
     r"|the public|nobody|no one)\b|\beveryone will (?:know|see|hear)\b"
     r"|\b(?:make|making) (?:this|it|that|you) go viral\b|\bgo(?:ing)? public\b"
     r"|\btell(?:ing)? (?:everyone|everybody|all my followers)\b"),
)
# fmt: on
