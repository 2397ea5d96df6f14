"""chat.text, chat.language: the one tokenizer, stemmer, name finder and language guess every part of the core uses.

python -m pytest tests/test_text.py -q        # no model, no index
"""

from __future__ import annotations

import pytest

from chat.language import language
from chat.markers import marker_numbers
from chat.text import content_words, name_spans, split_sentences, stem, tokenize


@pytest.mark.parametrize(
    "words",
    [
        ("trades", "traded", "trading", "trade"),
        ("companies", "company"),
        ("caps", "cap"),
        ("valuation", "valuations"),
        ("rallied", "rally", "rallies"),
    ],
)
def test_one_stemmer_meets_word_forms(words):
    assert len({stem(w) for w in words}) == 1


def test_tokenize_keeps_figures_as_bare_numbers_and_splits_hyphens():
    assert tokenize("$75 billion, 31% and 15.6x; 2,000 stocks") == ["75", "billion", "31", "15.6", "2000", "stock"]
    assert tokenize("small-cap") == tokenize("small cap")
    assert tokenize("Tesla's revenue") == ["tesla", "revenu"]
    assert tokenize("S & P 500") == tokenize("S&P 500") == ["s&p", "500"]
    assert "us" in tokenize("the U.S. economy")  # a dotted abbreviation is a name, not the pronoun


def test_stopwords_and_question_framing_carry_no_content():
    assert tokenize("What does the article say about it, please?") == []
    assert content_words("The ETF trades at 19.5 times.") == {"etf", "trade", "time"}


@pytest.mark.parametrize(
    "text,names",
    [
        ("What is the expense ratio of the iShares Russell 2000 ETF?", ["iShares Russell 2000 ETF"]),
        (
            "What did Peter Roy say about the Bank of Japan and S&P Small Cap 600?",
            ["Peter Roy", "Bank of Japan", "S&P Small Cap 600"],
        ),
        ("what did Redcliff's Omar Haddad raise his forecast to", ["Redcliff", "Omar Haddad"]),
        ("Why did it fall?", []),
        ("Recap the story about small caps", []),  # an imperative is not a name
        ("WHAT IS THE BEST ETF TO BUY", []),  # capitals say nothing when everything is capitalised
    ],
)
def test_name_spans(text, names):
    assert [n.text for n in name_spans(text)] == names


@pytest.mark.parametrize(
    "text,lang",
    [
        ("¿Por qué suben las small caps?", "es"),
        ("Warum steigen Small Caps?", "de"),
        ("Quelle est la valeur du ratio cours/bénéfice?", "fr"),
        ("O que diz o artigo sobre as small caps?", "pt"),
        ("What is the P/E of Innodata?", "en"),
        ("Why are small caps outperforming?", "en"),
        ("Russell 2000?", "en"),
    ],
)
def test_language(text, lang):
    assert language(text) == lang


def test_sentence_splitter_keeps_markers_and_abbreviations():
    assert split_sentences("The U.S. Treasury rose [1]. Small caps fell. [2] Next one.") == [
        "The U.S. Treasury rose [1].",
        "Small caps fell. [2]",
        "Next one.",
    ]


def test_marker_numbers_expand_ranges_and_lists():
    assert marker_numbers("a [1] b [2, 3] c [4-6] d [100]") == ["1", "2", "3", "4", "5", "6", "100"]


def test_stemming_is_safe_from_many_threads():
    """Requests are answered in parallel: a shared Snowball stemmer mixed up words (IndexError under load)."""
    import random
    import threading

    from chat.text import stem

    words = [
        f"{w}{s}"
        for w in ("trade", "rate", "yield", "inflat", "market", "rall", "cut", "valu", "earn")
        for s in ("s", "ed", "ing", "ings", "ation", "ational", "ies", "ness", "ly")
    ]
    expected = {w: stem.__wrapped__(w) for w in words}
    errors = []

    def work(seed: int) -> None:
        rnd = random.Random(seed)
        for _ in range(3000):
            w = rnd.choice(words)
            try:
                got = stem.__wrapped__(w)  # the uncached path, where the stemmer object is used
            except Exception as e:  # noqa: BLE001 - collected for the assertion
                errors.append(repr(e))
                return
            if got != expected[w]:
                errors.append(f"{w}: {got} != {expected[w]}")
                return

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_number_words_are_their_figures():
    """ "two-year" and "2-year" are the same note; "three rate cuts" and "3 rate cuts" the same count."""
    assert tokenize("the two-year note") == tokenize("the 2-year note")
    assert tokenize("three rate cuts") == tokenize("3 rate cuts")
    assert tokenize("one of the largest") != tokenize("1 of the largest")  # "one of…" counts nothing
