"""What a kept answer sentence must be (chat.claims) and how a generation is stopped (chat.generative.Guard).

The sentences below are the kinds a real small model wrote (issue: the generative path against SmolLM2-135M):
a question said back, an invented definition, a repeated sentence, a fragment cut by the token cap.

    python -m pytest tests/test_claims.py -q
"""

from __future__ import annotations

import pytest
from conftest import CORPUS, indexed_assistant

from chat.claims import (
    DUPLICATE,
    ECHO,
    FRAGMENT,
    UNSUPPORTED_WORDS,
    _duplicates,
    headings_of,
    is_echo,
    is_fragment,
    novel_words,
    prompt_words,
    screen,
    unsupported,
)
from chat.generative import INSTRUCTION_WORDS, SYSTEM_PROMPT, Guard, parse_generated
from chat.policy import POLICY
from chat.schema import Claim

VALUATION = (
    "1. The Valuation Gap\n\nThe most compelling argument for small caps is price. Large-cap stocks have been bid up "
    "to premium valuations, while small caps were left behind.\n\nAccording to Barron's, the S&P Small Cap 600 trades "
    "at approximately 15.6 times 2026 earnings estimates. In stark contrast, the S&P 500 trades at 22.6 times. This "
    '31% discount provides a significant "margin of safety" for value-oriented investors.'
)
DOLLAR_Q = "How does a strong dollar affect small caps?"


# --- complete sentences --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["(Small Caps Show.", "Yes.", "Small caps rose.", "and the rally", "Small caps [1"])
def test_pieces_that_are_not_sentences_are_fragments(text):
    assert is_fragment(text)


def test_the_unfinished_tail_of_a_cut_generation_is_a_fragment_but_a_finished_one_is_not():
    assert is_fragment('The "Maturity Wall" is a key', cut_tail=True)
    assert not is_fragment('The "Maturity Wall" is a key factor for small caps.', cut_tail=True)
    assert not is_fragment('The "Maturity Wall" is a key factor for small caps', cut_tail=False)


def test_article_sentences_are_complete_even_lowercase_captures_of_lost_links():
    assert not is_fragment("Small caps trade at 15.6 times 2026 earnings (a 31% discount).")
    assert not is_fragment(
        "and other financial analysts often point out that small caps are more reliant on "
        "floating-rate debt, whereas large caps typically lock in low rates."
    )


# --- echoes ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Question: How does a strong dollar affect small caps?",
        "Q: How does a strong dollar affect small caps",
        "Why is information inefficiency an advantage for small-cap investors?",
        "A strong dollar affects small caps.",  # the question said back
        "Yes, a strong dollar does affect small caps.",
        "The passage does not provide any information about how a strong dollar affects small caps.",
        "The answer to this question is: small caps.",
    ],
)
def test_questions_and_the_question_said_back_are_echoes(text):
    assert is_echo(text, DOLLAR_Q, [], frozenset())


def test_a_heading_of_the_passages_or_a_title_is_an_echo():
    heads = headings_of(
        [VALUATION], ["Small-Cap Resurgence 2026: Why the Russell 2000 is Finally Outpacing the S&P 500"]
    )
    assert "The Valuation Gap" in heads
    assert is_echo("The Valuation Gap.", "What is the valuation gap?", heads, frozenset())
    assert is_echo(
        "Small-Cap Resurgence 2026: Why the Russell 2000 is Finally Outpacing the S&P 500.",
        DOLLAR_Q,
        heads,
        frozenset(),
    )


def test_the_prompt_said_back_is_an_echo_and_the_example_inside_it_does_not_count():
    assert is_echo(
        "Every sentence must be supported by the passages, with the passage number in square brackets.",
        DOLLAR_Q,
        [],
        INSTRUCTION_WORDS,
    )
    assert "earn" not in prompt_words(SYSTEM_PROMPT)  # "Small caps trade at 15.6 times earnings [2]." is an example
    assert not is_echo("Small caps trade at 15.6 times 2026 earnings estimates.", DOLLAR_Q, [], INSTRUCTION_WORDS)


def test_a_real_answer_is_no_echo_even_when_it_repeats_the_question_words():
    question = "At what multiple of 2026 earnings does the S&P Small Cap 600 trade, compared with the S&P 500?"
    assert not is_echo(
        "The S&P Small Cap 600 trades at about 15.6 times 2026 earnings, against 22.6 times for the S&P 500.",
        question,
        headings_of([VALUATION]),
        INSTRUCTION_WORDS,
    )


# --- duplicates ------------------------------------------------------------------------------------------------------


def test_near_repeats_are_duplicates_but_rows_with_their_own_figures_are_not():
    first = "The Maturity Wall is a key factor in determining whether a small cap stock is worth investing in."
    assert _duplicates(
        "The Maturity Wall is a key factor in determining whether a stock is worth investing in.", first, 0.5
    )
    assert _duplicates("Totally different words here.", first, 0.95)  # the embedding says it is the same
    assert not _duplicates(
        "Agree Realty: Ticker ADC; Property type Net-lease retail; Dividend yield 4.2%.",
        "Realty Income: Ticker O; Property type Net-lease retail; Dividend yield 5.6%.",
        0.97,
    )


# --- unsupported content -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped(tmp_path_factory, model_path, embedder):
    return indexed_assistant(CORPUS, tmp_path_factory.mktemp("claims"), model_path, embedder)


def test_an_invented_definition_carries_words_its_passage_lacks(shipped):
    novel, total = novel_words(
        "The Valuation Gap refers to the difference between the price of a stock and its intrinsic value.",
        VALUATION,
        shipped.lexicon,
    )
    assert "intrinsic" in novel and unsupported(novel, total)


@pytest.mark.parametrize(
    "text",
    [
        "According to Barron's, the S&P Small Cap 600 trades at about 15.6 times 2026 earnings estimates.",
        "Small caps trade at a 31% discount to the S&P 500, a margin of safety for value investors.",
        "Small-cap stocks are cheaper than large-cap stocks, which were bid up to premium valuations.",  # a synonym
        "Large caps were bid up to premium valuations and small caps were left behind, the article says.",
    ],
)
def test_a_faithful_paraphrase_is_supported(shipped, text):
    novel, total = novel_words(text, VALUATION, shipped.lexicon)
    assert not unsupported(novel, total), novel


def test_screen_gives_each_claim_its_rule_in_order(shipped):
    claims = [
        Claim("Question: What is the valuation gap?", 1, cited=[1]),
        Claim("The S&P Small Cap 600 trades at approximately 15.6 times 2026 earnings estimates.", 1, cited=[1]),
        Claim("The S&P Small Cap 600 trades at approximately 15.6 times 2026 earnings estimates.", 1, cited=[1]),
        Claim(
            "The Valuation Gap refers to the difference between the price of a stock and its intrinsic value.",
            1,
            cited=[1],
        ),
        Claim("(Small Caps Show.", 1, cited=[1]),
        Claim("Large-cap stocks have been bid up to premium", 1, cited=[1]),
    ]
    got = screen(
        claims, "What is the valuation gap?", [VALUATION], lexicon=shipped.lexicon, embed=shipped.embed, truncated=True
    )
    assert [reason for reason, _ in got] == [ECHO, None, DUPLICATE, UNSUPPORTED_WORDS, FRAGMENT, FRAGMENT]
    assert "intrinsic" in got[3][1]


# --- stopping a generation -------------------------------------------------------------------------------------------


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def feed(guard: Guard, text: str):
    for word in text.split(" "):
        stop = guard.feed(word + " ")
        if stop:
            return stop
    return None


def test_a_repeated_sentence_stops_the_generation_before_the_repeat():
    guard = Guard(max_tokens=400, seconds=30)
    text = (
        "Small caps trade at 15.6 times earnings [1]. They are cheap. "
        "Small caps trade at 15.6 times earnings [1]. More words follow here."
    )
    stop = feed(guard, text)
    assert stop is not None and stop.reason == "repetition"
    assert guard.text[: stop.keep].strip() == "Small caps trade at 15.6 times earnings [1]. They are cheap."


def test_the_token_cap_and_the_time_budget_stop_the_generation():
    stop = feed(Guard(max_tokens=5, seconds=30), "one two three four five six seven eight")
    assert stop is not None and stop.reason == "tokens"
    clock = Clock()
    guard = Guard(max_tokens=400, seconds=2.0, clock=clock)
    assert guard.feed("Small ") is None
    clock.now = 2.5
    stop = guard.feed("caps ")
    assert stop is not None and stop.reason == "time" and stop.keep == len("Small caps ")


def test_answer_labels_are_not_part_of_the_sentence_and_a_cut_draft_says_so():
    draft = parse_generated(
        "A: Small caps trade at 15.6 times earnings [1].\nAnswer: They are cheap [1]", truncated=True
    )
    assert [c.text for c in draft.claims] == ["Small caps trade at 15.6 times earnings.", "They are cheap"]
    assert draft.stopped == "cut"


def test_thresholds_are_named_in_the_policy():
    for name in (
        "min_claim_words",
        "echo_new_words",
        "echo_prompt_share",
        "duplicate_overlap",
        "max_novel_words",
        "max_novel_share",
        "min_claim_relevance",
    ):
        assert hasattr(POLICY, name)
