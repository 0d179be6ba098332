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
    "ja-sapporo-bus": doc(
        "3mn6g2hq4pk2g",
        "札幌市、雪道で自動運転バスの試験運行を開始",
        "/ja/sapporo-jidou-unten",
        "2026-12-01T03:00:00.000Z",
        """
札幌市は1日、積雪のある路上で自動運転バスの試験運行を始めた。市中心部と札幌駅北口を結ぶ約4.5キロの区間を1日8往復する。運賃は無料で、来年3月末まで続ける予定だ。

車両は定員20人の小型電気バスで、屋根に取り付けたセンサーが路面の凍結や周囲の歩行者を検知する。安全のため、運転席には当面、市の委託を受けた運転士が乗り込む。

市交通局によると、冬の北海道で公道を使った自動運転の長期試験は初めてという。担当者は「雪で車線が見えなくなっても、地図データと位置情報を組み合わせて走れるかを確かめたい。冬に走れなければ実用化はない」と話した。

背景には深刻な運転士不足がある。市内の路線バスは今年4月、運転士の確保が難しいとして12路線で減便した。市は2030年までに、利用者の少ない郊外路線の一部を自動運転に切り替える方針を示している。

初日は午前9時の始発に約30人が乗り込んだ。通勤で利用した会社員の女性（34）は「揺れが少なく、思ったより普通のバスだった。雪の日でも同じように走れるなら心強い」と話した。

試験の結果は来年夏にまとめ、国の補助事業の審査に使われる。市は利用者アンケートも実施し、停留所の位置や運行時間の見直しに生かすとしている。
""",
        tags=["札幌", "自動運転"],
    ),
    "pt-curitiba-onibus": doc(
        "3mn7h3jr5ql2h",
        "Curitiba coloca em operação a primeira linha de ônibus totalmente elétrica",
        "/pt/curitiba-onibus-eletricos",
        "2026-11-03T14:20:00.000Z",
        """
A Prefeitura de Curitiba colocou em operação nesta segunda-feira (3) a primeira linha de ônibus da cidade atendida apenas por veículos elétricos. Os 30 ônibus a bateria vão circular na linha Inter 2, que liga 28 bairros e transporta cerca de 45 mil passageiros por dia.

Segundo a Urbs, empresa que administra o transporte coletivo, cada veículo custou R$ 3,2 milhões, quase o dobro de um ônibus a diesel. A diferença deve ser compensada em oito anos com a economia de combustível e de manutenção, de acordo com a empresa.

"É uma mudança que o passageiro sente no primeiro dia: o ônibus é silencioso, não tem cheiro de fumaça e tem ar-condicionado", afirmou o prefeito durante a cerimônia no terminal do Cabral. Ele disse que a meta é substituir metade da frota até 2030.

Os ônibus têm autonomia de 250 quilômetros e são recarregados durante a madrugada na garagem do Boqueirão, que recebeu uma subestação de energia própria. Em horários de pico, um carregador rápido no terminal permite completar a carga em cerca de 40 minutos.

Especialistas ouvidos pela reportagem elogiaram a iniciativa, mas lembram que o sucesso depende da frequência. Na Inter 2, o intervalo entre os ônibus nos horários de pico é de seis minutos, e usuários reclamam de lotação desde a pandemia.

A tarifa continua em R$ 6, e os cartões de transporte atuais valem normalmente nos novos veículos. A Urbs informou que outras duas linhas devem receber ônibus elétricos no segundo semestre.
""",
        tags=["Curitiba", "mobilidade urbana"],
        description="A linha Inter 2 passa a circular com 30 ônibus a bateria; a prefeitura promete trocar metade da frota até 2030.",
    ),
}

if __name__ == "__main__":
    main()
