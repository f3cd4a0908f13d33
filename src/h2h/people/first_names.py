"""Common Russian first names with their diminutives, spellings and English equivalents.

One line per name: the full form, then what the same person may be called or may write
("Саша", "Alex", "Aleksandr"). Cyrillic forms are transliterated by ``names``, so only
Latin spellings that our transliteration would not produce need listing. A diminutive
shared by several names ("Саша": Александр and Александра, "Слава") belongs to each.
Written by hand for identity resolution; corrections welcome.
"""

from __future__ import annotations

FIRST_NAMES = """
Александр: Саша, Саня, Санёк, Шура, Шурик, Алекс, Alexander, Alex, Aleksander, Alec
Александра: Саша, Саня, Шура, Сандра, Alexandra, Aleksandra, Alex, Sasha, Sandra
Алексей: Лёша, Лёха, Алёша, Алекс, Alexey, Alexei, Aleksei, Aleksey, Alexis, Alex, Lesha, Alyosha
Анатолий: Толя, Толик, Anatoly, Anatoliy, Tolya
Андрей: Андрюша, Андрюха, Andrey, Andrei, Andrew, Andy, Andrej
Антон: Антоша, Тоша, Anton, Anthony, Tony
Аркадий: Аркаша, Arkady, Arkadiy
Арсений: Арсен, Сеня, Arseny, Arseniy, Arsenii
Артём: Артемий, Тёма, Artem, Artyom, Artemy, Tyoma
Артур: Arthur, Artur
Богдан: Bogdan
Борис: Боря, Борька, Boris, Borya
Вадим: Вадик, Vadim
Валентин: Валя, Valentin, Valentine
Валерий: Валера, Valery, Valeriy, Valerii
Василий: Вася, Vasily, Vasiliy, Vasilii, Basil, Vasya
Вениамин: Веня, Veniamin, Benjamin, Venya
Виктор: Витя, Victor, Viktor, Vitya
Виталий: Виталик, Vitaly, Vitaliy, Vitalii
Владимир: Вова, Володя, Вовка, Влад, Vladimir, Volodya, Vova, Vlad
Владислав: Влад, Владик, Слава, Vladislav, Vlad, Slava
Всеволод: Сева, Vsevolod, Seva
Вячеслав: Слава, Славик, Vyacheslav, Viacheslav, Slava
Гавриил: Гаврила, Gavriil, Gabriel
Геннадий: Гена, Gennady, Gennadiy, Gena
Георгий: Жора, Гоша, Гога, Georgy, Georgiy, George, Zhora, Gosha
Герман: German, Herman, Hermann
Глеб: Gleb
Григорий: Гриша, Grigory, Grigoriy, Gregory, Grisha
Давид: Давид, David, Dave
Даниил: Данила, Даня, Данил, Daniil, Daniel, Danila, Danny, Dan
Денис: Дениска, Denis, Dennis
Дмитрий: Дима, Митя, Димка, Dmitry, Dmitriy, Dmitrii, Dimitri, Dimitry, Dima, Mitya
Евгений: Женя, Женёк, Evgeny, Evgeniy, Yevgeny, Eugene, Zhenya, Gene
Егор: Егорка, Egor, Yegor
Ефим: Фима, Efim, Yefim
Захар: Захарка, Zakhar, Zahar
Иван: Ваня, Ванечка, Ivan, Vanya
Игнат: Ignat
Игорь: Игорёк, Igor
Илья: Илюша, Ilya, Ilia, Ilja, Elijah
Иосиф: Ося, Iosif, Joseph, Josef
Кирилл: Кирюша, Kirill, Kiril, Cyril
Константин: Костя, Kostya, Konstantin, Constantine
Лев: Лёва, Lev, Leo, Lyova
Леонид: Лёня, Leonid, Lenya
Макар: Makar
Максим: Макс, Максимка, Maxim, Maksim, Max
Марк: Mark, Marc
Матвей: Мотя, Matvey, Matvei, Matthew
Михаил: Миша, Мишка, Mikhail, Michael, Mike, Misha
Мирон: Miron
Назар: Nazar
Никита: Nikita
Николай: Коля, Колян, Nikolay, Nikolai, Nicholas, Nick, Kolya
Олег: Олежка, Oleg
Павел: Паша, Pavel, Paul, Pasha
Пётр: Петя, Petr, Pyotr, Peter, Petya
Платон: Platon, Plato
Прохор: Prokhor, Prohor
Родион: Родя, Rodion
Роман: Рома, Roman, Roma
Ростислав: Ростик, Слава, Rostislav, Slava
Руслан: Ruslan
Рустам: Rustam
Савва: Savva, Sava
Святослав: Свят, Слава, Svyatoslav, Sviatoslav, Slava
Семён: Сеня, Semyon, Semen, Simon
Сергей: Серёжа, Серёга, Sergey, Sergei, Sergej, Serge, Seryozha
Станислав: Стас, Слава, Stanislav, Stas
Степан: Стёпа, Stepan, Stephen, Steven, Styopa
Тарас: Taras
Тимофей: Тима, Тимоша, Timofey, Timofei, Timothy, Tim
Тимур: Тима, Timur
Тихон: Tikhon
Фёдор: Федя, Fedor, Fyodor, Theodore, Fedya
Феликс: Felix, Feliks
Филипп: Филя, Philip, Philipp, Filipp, Phil
Эдуард: Эдик, Eduard, Edward, Ed
Эмиль: Emil
Эрик: Eric, Erik
Юлиан: Julian, Yulian
Юрий: Юра, Yury, Yuriy, Yuri, Iurii, George, Yura
Яков: Яша, Yakov, Iakov, Jacob, Yasha
Ярослав: Ярик, Слава, Yaroslav, Iaroslav, Slava
Агата: Agata, Agatha
Алина: Alina
Алиса: Alisa, Alice
Алла: Alla
Алёна: Алена, Alyona, Alena, Alyona
Альбина: Albina
Анастасия: Настя, Настёна, Ася, Anastasia, Anastasiya, Nastya, Nastia, Stacy
Ангелина: Геля, Angelina
Анжела: Анжелика, Anzhela, Angela, Angelika
Анна: Аня, Анечка, Нюра, Anna, Ann, Anne, Annie, Anya, Ania
Антонина: Тоня, Antonina, Tonya
Арина: Arina
Белла: Bella
Валентина: Валя, Valentina, Valya
Валерия: Лера, Valeria, Valeriya, Valerie, Lera
Варвара: Варя, Varvara, Barbara, Varya
Василиса: Вася, Vasilisa
Вера: Верочка, Vera
Вероника: Ника, Veronika, Veronica, Nika
Виктория: Вика, Viktoria, Victoria, Viktoriya, Vika, Vicky
Виолетта: Violetta, Violet
Галина: Галя, Galina, Galya
Дарья: Даша, Дарина, Darya, Daria, Dariya, Dasha
Диана: Diana
Дина: Dina
Ева: Eva, Eve
Евгения: Женя, Evgenia, Evgeniya, Eugenia, Zhenya
Екатерина: Катя, Катюша, Катерина, Yekaterina, Catherine, Katherine, Kate, Katia, Kathy
Елена: Лена, Алёна, Elena, Yelena, Helen, Helena, Lena
Елизавета: Лиза, Elizaveta, Elizabeth, Elisabeth, Liza, Lisa, Beth
Жанна: Zhanna, Jeanne, Jane
Зинаида: Зина, Zinaida, Zina
Зоя: Zoya, Zoe
Илона: Ilona
Инна: Inna
Ирина: Ира, Иришка, Irina, Irene, Ira
Карина: Karina
Кира: Kira
Кристина: Kristina, Christina, Kristi, Tina
Ксения: Ксюша, Kseniya, Ksenia, Xenia, Ksusha, Oksana
Лариса: Лара, Larisa, Larissa, Lara
Лидия: Лида, Lidia, Lidiya, Lydia, Lida
Лилия: Лиля, Lilia, Liliya, Lily, Lilya
Любовь: Люба, Lyubov, Lubov, Luba, Lyuba
Людмила: Люда, Мила, Ludmila, Lyudmila, Luda, Mila
Майя: Майя, Maya, Maiya, Maia
Маргарита: Рита, Margarita, Margaret, Rita
Марина: Marina
Мария: Маша, Маня, Машенька, Maria, Mariya, Mary, Marie, Masha
Милана: Milana
Надежда: Надя, Nadezhda, Nadia, Nadya
Наталья: Наталия, Наташа, Natalia, Natalya, Nataliya, Natalie, Natasha
Нина: Nina
Оксана: Ксана, Oksana, Oxana
Олеся: Олеся, Olesya, Olesia, Lesya
Ольга: Оля, Olga, Olya, Olia
Полина: Поля, Polina, Pauline, Polly
Раиса: Рая, Raisa, Raya
Регина: Regina
Римма: Rimma
Светлана: Света, Лана, Svetlana, Sveta, Lana
Серафима: Сима, Serafima
Снежана: Snezhana
Софья: София, Соня, Sofia, Sofya, Sophia, Sophie, Sonya
Таисия: Тася, Taisia, Taisiya
Тамара: Tamara
Татьяна: Таня, Tatiana, Tatyana, Tatjana, Tanya, Tania
Ульяна: Уля, Ulyana, Uliana
Эвелина: Evelina, Evelyn
Элеонора: Eleonora, Eleanor
Эльвира: Elvira
Эмилия: Emilia, Emily
Юлия: Юля, Yulia, Yuliya, Julia, Iuliia, Julie, Yulya
Яна: Yana, Iana, Jana
Ярослава: Слава, Yaroslava, Slava
"""
