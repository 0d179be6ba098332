"""Function words for en, ru and uk: they carry no topic, so scoring ignores them.

Short hand-made lists (the few hundred most frequent words) rather than a dependency:
scoring only needs the words that would otherwise dominate overlap counts.
"""

from __future__ import annotations


def _words(words: str) -> frozenset[str]:
    return frozenset(words.split())


STOPWORDS: dict[str, frozenset[str]] = {
    "en": _words(
        "a about above after again against all also am an and any are as at be because been "
        "before being below between both but by can could did do does doing down during each "
        "few for from further had has have having he her here hers herself him himself his how "
        "i if in into is it its itself just me more most my myself no nor not now of off on "
        "once only or other our ours ourselves out over own same she should so some such than "
        "that the their theirs them themselves then there these they this those through to too "
        "under until up very was we were what when where which while who whom why will with "
        "would you your yours yourself yourselves said says say told according one two new "
        "would also could may might must shall us s t don didn isn wasn mr mrs ms year years "
        "last first like get got make made many much even well back still way since however"
    ),
    "ru": _words(
        "и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только "
        "ее её мне было вот от меня еще ещё нет о из ему теперь когда даже ну вдруг ли если уже "
        "или ни быть был него до вас нибудь опять уж вам ведь там потом себя ничего ей может они "
        "тут где есть надо ней для мы тебя их чем была сам чтоб без будто чего раз тоже себе "
        "под будет ж тогда кто этот того потому этого какой совсем ним здесь этом один почти "
        "мой тем чтобы нее сейчас были куда зачем всех никогда можно при наконец два об другой "
        "хоть после над больше тот через эти нас про всего них какая много разве три эту моя "
        "впрочем хорошо свою этой перед иногда лучше чуть том нельзя такой им более всегда "
        "конечно всю между это также которые который которая которое которых которым году года "
        "заявил заявила сообщил сообщила отметил отметила сказал сказала словам её также являются "
        "является время однако кроме того"
    ),
    "uk": _words(
        "і й та в у на з із зі до від за по про для при без над під між через що як це цей ця ці "
        "той та те ті він вона воно вони його її їх їм йому ми ви я ти нас вас мене тебе собі "
        "себе бути був була було були є буде будуть не ні так але або чи а же ж вже ще теж також "
        "тільки лише навіть якщо коли де куди там тут тоді потім після перед який яка яке які "
        "якого якої яких котрий всі все весь вся усі усе кожен інший інші може можна треба "
        "має мають року році році заявив заявила повідомив повідомила зазначив зазначила сказав "
        "сказала словами однак проте крім того більш більше дуже"
    ),
}
