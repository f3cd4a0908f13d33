"""Word lists of ``h2h.people.liveness``: what business pages, bots and feeds call themselves.

Russian words are pymorphy3 lemmas (``ё`` written ``е``), so «Натяжных потолков» finds
``натяжной`` and ``потолок``; English words are compared by ``subjects.text.english_forms``
(``deliveries`` → ``delivery``). Handles are Latin, so they get a few transliterated stems
too. Written by hand and tuned on the dev half of ``tests/people/data/liveness.jsonl``.
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# fmt: off
BUSINESS = _words("""
    потолок натяжной ремонт отделка салон студия доставка магазин интернет-магазин клиника
    такси недвижимость агентство компания фирма центр сервис мебель окно дверь балкон
    строительство стройматериал строймаркет автосервис шиномонтаж автомойка автосалон
    запчасть кафе ресторан пиццерия суши ролл бар кофейня пекарня кондитерская торт цветы
    цветок маникюр ногтевой красота барбершоп парикмахерская фитнес школа курс тур
    турагентство туризм отель гостиница хостел аптека стоматология ветклиника юрист адвокат
    бухгалтерия кредит займ страхование аренда прокат грузоперевозка переезд клининг уборка
    химчистка ателье типография реклама маркетинг опт оптом скидка акция распродажа
    официальный производство завод склад ювелирный одежда обувь техника электроника
    кухня шкаф сантехника электрик установка изготовление монтаж дизайн фото фотостудия
    бюро услуга мастерская
    shop store studio clinic salon delivery repair official company agency service services
    group realty cafe restaurant bakery pizza sushi taxi cab hotel hostel travel tour tours
    beauty nails fitness gym academy school dental pharmacy motors auto marketing media
    solutions consulting boutique market outlet wholesale furniture flowers florist ceilings
    windows roofing plumbing cleaning sale sales deals discount store shopping brand
    coffee bar kitchen design print printing photo rental rent estate insurance loans
    """)
LEGAL_FORMS = _words("ооо ип ао зао оао пао нко тоо llc ltd inc gmbh corp plc llp")
FEED = _words("""
    новость новостной подслушать афиша объявление барахолка дайджест лента обзор подборка
    паблик мем цитата анекдот гороскоп
    news digest daily feed headlines memes quotes updates channel today weekly
    """)
BOT = _words("бот робот автоответчик уведомление рассылка bot robot autoreply notifications alerts")
# Email addresses of a role, not of a person.
ROLE_MAILBOXES = _words("""
    info sales office shop support hello contact admin zakaz order orders manager booking
    reception team marketing press hr billing help
    """)
MACHINE_MAILBOXES = _words(
    "noreply no-reply donotreply do-not-reply mailer-daemon notifications robot"
)
# Stems seen in Latin handles: "potolki73", "remont_kvartir", "best_deals_bot".
HANDLE_STEMS = (
    "potolk", "remont", "magazin", "dostavk", "nedvizh", "mebel", "salon", "studio", "studi",
    "shop", "store", "clinic", "klinik", "taxi", "taksi", "deal", "sale", "skidk", "official",
    "oficial", "market", "okna", "stroy", "servis", "service", "beauty", "nails", "krasot",
    "avto", "auto", "arenda", "rent", "tour", "hotel", "cafe", "pizza", "sushi", "flower",
    "cvet", "tsvet",
)
FEED_STEMS = ("news", "novost", "digest", "daily", "podslush", "afisha", "memes", "headline")
# Cities in Latin letters; Cyrillic ones are found by pymorphy3's "Geox" tag.
CITIES = _words("""
    moscow moskva msk spb petersburg kazan ulyanovsk samara saratov penza togliatti tolyatti
    novosibirsk ekaterinburg yekaterinburg krasnodar sochi omsk perm ufa voronezh rostov
    nizhny minsk kyiv kiev almaty tashkent london paris berlin york dubai
    """)
# Common English first names (Russian ones and their English forms come from ``first_names``).
ENGLISH_FIRST_NAMES = _words("""
    john james robert michael william david richard joseph thomas charles christopher daniel
    matthew mark paul steven kevin brian george edward jason ryan jacob gary tim timothy
    mary patricia jennifer linda elizabeth barbara susan jessica sarah karen nancy lisa
    betty margaret sandra ashley emily donna michelle carol amanda melissa deborah rebecca
    laura emma olivia sophie chloe lucy kate hannah grace amy rachel megan jack harry oliver
    charlie noah liam ethan lucas mia ava isabella
    """)
# fmt: on
