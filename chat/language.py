"""The language a question is written in: "en", or es, de, fr, pt, it, nl when its function words say so.

    from chat.language import language
    language("¿Por qué suben las small caps?")   # 'es'
    language("What is the P/E of Innodata?")     # 'en'

The articles are in English: a question in another language gets a reply saying so (chat.refusal, `not_english`)
rather than a false "unknown name" refusal. Short or mixed questions count as English.
"""

from __future__ import annotations

import re

from chat.text import STOPWORDS, normalize

__all__ = ["language"]

# fmt: off
# The most frequent function words of each language (none of them an English word).
_LANGUAGE_WORDS = {
    "es": "el la los las del que qué por porqué cómo como cuál cuáles cuánto cuánta cuántos es son está están "
          "una uno unos para con sobre según entre pero más muy también según qué artículo acciones tasa dónde "
          "quién quiénes hay este esta estos estas ese esa su sus ha han fue sido al lo se",
    "de": "der die das und ist sind nicht wie warum was welche welcher welches wer wo mit für auf aus dem den des "
          "ein eine einer eines im zum zur auch noch nach bei oder über laut artikel aktien zinsen hat haben wird "
          "werden sich es gibt",
    "fr": "le la les des du une est sont pourquoi comment quel quelle quels quelles qui que quoi où avec pour sur "
          "dans pas plus aussi selon entre leur leurs cette ces ce sont été être ont il elle ils elles au aux "
          "l'article d'après qu'est-ce",
    "pt": "o os as do da dos das que por porque porquê como qual quais quanto quanta é são está estão um uma uns "
          "umas para com sobre segundo entre mas mais muito também artigo ações taxa onde quem há este esta isso "
          "seu sua seus suas foi ao na no nos nas",
    "it": "il lo gli della delle dei degli che perché come quale quali quanto è sono sta stanno un una per con su "
          "secondo tra ma più molto anche articolo azioni tasso dove chi c'è questo questa nel nella",
    "nl": "de het een en is zijn niet hoe waarom wat welke wie waar met voor op uit van ook nog naar bij of over "
          "volgens artikel aandelen rente heeft hebben wordt",
}
_QUESTION_WORDS = {
    "es": {"qué", "cómo", "cuál", "cuáles", "cuánto", "cuántos", "dónde", "quién", "quiénes", "porqué"},
    "de": {"warum", "wie", "welche", "welcher", "welches", "wer", "wieso", "weshalb", "wieviel", "wo"},
    "fr": {"pourquoi", "comment", "quel", "quelle", "quels", "quelles", "combien", "où", "qu'est-ce"},
    "pt": {"porque", "porquê", "qual", "quais", "quanto", "quantos", "onde", "quem"},
    "it": {"perché", "quale", "quali", "quanti", "dove", "chi"},
    "nl": {"waarom", "hoe", "welke", "hoeveel"},
}
# fmt: on
_LANGUAGE_SETS = {lang: frozenset(words.split()) for lang, words in _LANGUAGE_WORDS.items()}
_ENGLISH_WORDS = STOPWORDS | {"is", "are", "the", "of", "and", "what", "why", "how", "do", "does"}
_LETTER_RE = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def language(text: str) -> str:
    """ "en", or the language whose function words clearly outnumber English ones ("¿Por qué…?" → "es").

    Names and figures are neutral, so "What is the P/E of Innodata?" is English and "Warum steigen Small Caps?"
    is German. Short or mixed questions count as English: a false "not English" reply is worse than trying.
    """
    words = [w.lower() for w in _LETTER_RE.findall(normalize(text))]
    if not words:
        return "en"
    english = sum(w in _ENGLISH_WORDS for w in words)
    scores = {lang: sum(w in vocab for w in words) for lang, vocab in _LANGUAGE_SETS.items()}
    # Words shared with English ("a", "die", "son", "plus") do not count for either side.
    best = max(scores, key=lambda k: scores[k])
    foreign = sum(w in _LANGUAGE_SETS[best] and w not in _ENGLISH_WORDS for w in words)
    if "¿" in text or "¡" in text:
        foreign += 2
        best = "es" if scores["es"] >= scores["pt"] else best
    # A short question that opens with another language's question word: "Warum steigen Small Caps?"
    opener = next((lang for lang, asks in _QUESTION_WORDS.items() if words[0] in asks), None)
    if opener and english == 0:
        return opener
    if foreign >= 2 and foreign > english:
        return best
    return "en"
