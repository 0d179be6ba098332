"""Regenerate config/samples/ from tests/data/seeds (the repository's copies of the seed documents) and the texts below (run from the repo root)."""

import json
from pathlib import Path

SEEDS = Path("tests/data/seeds")
OUT = Path("config/samples")
REPO = "did:plc:av64nrsc7sczp26nmabnikse"
DEMO = "did:plc:feedbotsamples7xq2kdemo"


def record(uri: str, value: dict) -> dict:
    return {"uri": uri, "value": value}


def write(name: str, data: object) -> None:
    (OUT / name).write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    seed = json.loads((SEEDS / "standard-site-document.json").read_text(encoding="utf-8"))
    write(
        "vlast-kazakhstan-russia.json",
        record(f"at://{REPO}/site.standard.document/3mmvxd4hxnk2s", seed),
    )

    scraped = (SEEDS / "scraped-article.txt").read_text(encoding="utf-8")
    write(
        "scraped-putin-kazakhstan.json",
        record(
            f"at://{DEMO}/site.standard.document/3mmx2b7kqcs2a",
            {
                "$type": "site.standard.document",
                "site": f"at://{DEMO}/site.standard.publication/3mmwzzzzpub2a",
                "path": "/en/putin-arrived-in-kazakhstan",
                "title": "Putin arrived in Kazakhstan, trying to restore friendship",
                "publishedAt": "2024-11-27T09:30:00.000Z",
                "textContent": scraped,
            },
        ),
    )
    write(
        "publications.json",
        [
            record(
                f"at://{DEMO}/site.standard.publication/3mmwzzzzpub2a",
                {
                    "$type": "site.standard.publication",
                    "url": "https://eurasia-notes.example",
                    "name": "Eurasia Notes",
                    "description": "A demo publication for feedbot's sample records.",
                },
            )
        ],
    )
    for name, value in TEXTS.items():
        write(
            f"{name}.json", record(f"at://{DEMO}/site.standard.document/{value.pop('rkey')}", value)
        )


def doc(rkey: str, title: str, path: str, published: str, text: str, **extra: object) -> dict:
    return {
        "rkey": rkey,
        "$type": "site.standard.document",
        "site": f"at://{DEMO}/site.standard.publication/3mmwzzzzpub2a",
        "path": path,
        "title": title,
        "publishedAt": published,
        "textContent": text.strip(),
        **extra,
    }


TEXTS = {
    "ru-long-baikal": doc(
        "3mn2a4rbtes2c",
        "Байкал теряет лёд: что показали зимние наблюдения",
        "/ru/baikal-led",
        "2026-03-14T08:00:00.000Z",
        """
Лёд на Байкале этой зимой встал на три недели позже обычного, а его толщина в южной части озера к середине марта не превысила 60 сантиметров. Об этом сообщили сотрудники Лимнологического института СО РАН по итогам зимнего сезона наблюдений.

По данным учёных, ещё в 1990-х годах средняя толщина льда в марте составляла около метра. Сокращение ледового покрова связывают с потеплением: среднегодовая температура воздуха в регионе за последние полвека выросла примерно на 1,5 °C.

«Лёд для Байкала — это не просто крышка над водой. Под ним развивается целое сообщество водорослей, которые кормят рачков-эпишур, а те, в свою очередь, — омуля и нерпу», — пояснил руководитель экспедиции Д. С. Петров. Он добавил, что при тонком и рыхлом льде света под ним становится больше, но сами водоросли развиваются хуже.

Исследователи отмечают и другие изменения. В прибрежной зоне всё чаще находят скопления спирогиры — нитчатой водоросли, которая раньше почти не встречалась на открытых участках. Её разрастание учёные связывают со стоками из посёлков, где нет современных очистных сооружений, т.е. с деятельностью человека, а не только с климатом.

Байкальская нерпа, единственный пресноводный тюлень России, рожает детёнышей в снежных логовах на льду. Если лёд становится ненадёжным, самкам приходится искать новые места, и смертность детёнышей растёт. Пока, по словам специалистов, численность нерпы остаётся стабильной и оценивается примерно в 100 тыс. особей.

Туристический сезон на льду в этом году также сократился. Власти Иркутской области закрыли несколько ледовых переправ уже 5 марта, почти на месяц раньше, чем в 2020 г. Спасатели напоминают, что выезжать на лёд на автомобилях опасно, даже если по нему уже проложены колеи.

Учёные планируют продолжить наблюдения и летом: в июне на озеро выйдет научное судно, которое возьмёт пробы воды на 40 станциях от Слюдянки до Северобайкальска. Итоги сезона институт обещает опубликовать в открытом доступе до конца года.
""",
        tags=["Байкал", "климат", "наука"],
        description="Лёд встал на три недели позже и стал тоньше; учёные объясняют, что это значит для озера.",
    ),
    "uk-tags-library": doc(
        "3mn3c7hq5lk2d",
        "У Львові відкрили бібліотеку, що працює цілодобово",
        "/uk/lviv-biblioteka",
        "2026-04-02T10:15:00.000Z",
        """
У Львові запрацювала перша в місті бібліотека, відкрита двадцять чотири години на добу. Вона розташована в колишньому приміщенні друкарні на вулиці Городоцькій і має понад 40 тисяч книжок.

Читати можна безкоштовно, а для того, щоб узяти книжку додому, достатньо зареєструватися через застосунок міської ради. Вночі бібліотека працює в режимі самообслуговування: відвідувачі самі сканують книжки на автоматичних стійках.

«Ми бачимо, що багато людей працюють позмінно або навчаються вночі. Для них звичайний графік з дев'ятої до шостої просто не підходить», — розповіла директорка закладу Олена Гнатюк.

Окрема зала призначена для дітей, а в підвалі облаштували укриття на 200 осіб, де також є книжкові полиці та доступ до інтернету. Проєкт коштував місту 18 млн грн, частину витрат покрили міжнародні партнери.
""",
        tags=["Львів", "бібліотеки", "#культура", "освіта"],
    ),
    "en-short-note": doc(
        "3mn4d2kxw7s2e",
        "Quick note: the bot now posts in threads",
        "/notes/threads",
        "2026-05-01T12:00:00.000Z",
        "Short one today. Every new article now goes out as a thread, with the summary split across posts and a link back at the end. Tell us what you think.",
    ),
    "emoji-title-launch": doc(
        "3mn5f8pzc2k2f",
        "🚀 Запуск «Ангары» 🇷🇺 и 宇宙 news: 👩‍🚀 экипаж готов",
        "/ru/angara-zapusk",
        "2026-06-10T06:45:00.000Z",
        """
Ракета «Ангара-А5» стартовала с космодрома Восточный в 06:12 по московскому времени и вывела на орбиту новый грузовой корабль. Запуск прошёл в штатном режиме, сообщили в пресс-службе госкорпорации.

Корабль доставит на станцию около двух тонн грузов, в том числе оборудование для экспериментов по выращиванию растений в невесомости. Стыковка запланирована на 12 июня.

Экипаж станции из трёх человек уже готовится к приёму груза. Японские партнёры передали для эксперимента семена риса, выведенные специально для выращивания в космосе 🌾.
""",
        tags=["космос", "Ангара"],
    ),
}

if __name__ == "__main__":
    main()
