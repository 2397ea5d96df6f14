"""One test per class of failure an analyst found, on wordings of our own (none of them in tests/data/qa):
lists, summaries, comparisons, several points, wording (names written differently, shorthand, misspellings,
synonyms, other languages), near misses, two-part questions, advice, and honest trust signals.

Real parts: the bundled MiniLM model and an embedded Chroma index of the two shipped articles.

    python -m pytest tests/test_answer_types.py -q
"""

from __future__ import annotations

import re
import shutil

import pytest
from conftest import CORPUS, assistant_over, indexed_assistant

from chat.schema import Answer

AINVEST = "ainvest-small-cap-resurgence-2026-01-12.txt"
COINMELA = "coinmela-small-caps-strong-start-2026-01-27.txt"
MARKER = re.compile(r"\[(\d+)\]")


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, model_path, embedder):
    tmp = tmp_path_factory.mktemp("types")
    corpus = tmp / "corpus"
    corpus.mkdir()
    for name in (AINVEST, COINMELA, "metadata.json"):
        shutil.copyfile(CORPUS / name, corpus / name)
    return indexed_assistant(corpus, tmp, model_path, embedder)


def sources(answer: Answer) -> set[str]:
    return {c.source for c in answer.citations}


def bullets(answer: Answer) -> list[str]:
    return [line for line in answer.text.splitlines() if line.startswith("- ")]


def every_claim_is_cited(answer: Answer) -> None:
    """Each bullet and each prose sentence ends in markers that point at citations of the answer."""
    valid = {c.n for c in answer.citations}
    for line in bullets(answer):
        marks = [int(n) for n in MARKER.findall(line)]
        assert marks and set(marks) <= valid, f"uncited bullet: {line}"
    for s in answer.sentences:
        assert s.citations and set(s.citations) <= valid


# --- lists ---------------------------------------------------------------------------------------------


def test_a_list_question_gets_the_names_as_cited_bullets(assistant):
    answer = assistant.ask("What funds does the CoinMela article recommend for small-cap exposure?")
    assert answer.question_type == "list" and not answer.refused
    for fund in ("iShares Russell 2000 ETF", "Vanguard Russell 2000 Growth ETF", "Vanguard Russell 2000 Value ETF"):
        assert fund in answer.text
    assert sources(answer) == {COINMELA}
    assert len(bullets(answer)) >= 2
    every_claim_is_cited(answer)


def test_a_list_of_people_has_people_only(assistant):
    answer = assistant.ask("Name the experts the AInvest article quotes")
    assert "Peter Roy" in answer.text and "Samuel Rines" in answer.text
    assert not any(line.startswith(("- Barron", "- WisdomTree", "- AInvest")) for line in bullets(answer))


def test_a_list_of_a_role_the_articles_do_not_name_is_refused_honestly(assistant):
    answer = assistant.ask("Which Fed governors does CoinMela quote?")
    assert answer.refused and "name" in answer.text


# --- summaries -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question,source",
    [
        ("Sum up the CoinMela story in a few bullets", COINMELA),
        ("What is the first article about?", AINVEST),
        ("tl;dr of the piece published on January 27", COINMELA),
    ],
)
def test_a_summary_covers_the_named_article_only(assistant, question, source):
    answer = assistant.ask(question)
    assert answer.question_type == "summary" and not answer.refused, answer.text
    assert sources(answer) == {source}
    assert 3 <= len(bullets(answer)) <= 5
    every_claim_is_cited(answer)
    positions = [
        next(c for c in answer.citations if c.n == int(MARKER.findall(b)[0])).start_char for b in bullets(answer)
    ]
    assert positions == sorted(positions), "key points are in reading order"


def test_a_summary_of_both_articles_groups_them(assistant):
    answer = assistant.ask("Summarize both articles")
    assert sources(answer) == {AINVEST, COINMELA}
    assert "AInvest" in answer.text and "CoinMela" in answer.text


# --- comparisons -----------------------------------------------------------------------------------


def test_a_comparison_of_the_two_articles_cites_both_grouped_by_article(assistant):
    answer = assistant.ask("Where do AInvest and CoinMela differ on small-cap valuations?")
    assert answer.question_type == "comparison"
    assert sources(answer) == {AINVEST, COINMELA}
    heads = [line for line in answer.text.splitlines() if line.endswith(":")]
    assert any("AInvest" in h for h in heads) and any("CoinMela" in h for h in heads)
    every_claim_is_cited(answer)


def test_a_comparison_of_two_things_gives_each_side(assistant):
    answer = assistant.ask("Russell 2000 ETF versus the S&P 500: how do their P/E ratios compare?")
    assert "19.5" in answer.text and "28" in answer.text


# --- several points ----------------------------------------------------------------------------------


def test_risks_are_real_risks_not_risks_going_away(assistant):
    answer = assistant.ask("What are the dangers of betting on small caps right now?")
    assert answer.question_type == "points" and not answer.refused
    assert len(bullets(answer)) >= 2
    text = answer.text.lower()
    assert any(word in text for word in ("volatility", "zombie", "unprofitable", "may not be repeated", "decline"))
    assert "removing a major insolvency fear" not in text and "insulated" not in text


def test_drivers_come_from_several_places(assistant):
    answer = assistant.ask("What is powering the small-cap comeback?")
    assert len(bullets(answer)) >= 3
    assert len({c.chunk_id for c in answer.citations}) >= 2


# --- wording ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question,fact",
    [
        ("What did coin mela say about the ishares russell 2000 etf's net assets?", "$75 billion"),  # split, lower
        ("What forward multiple does the S&P SmallCap600 trade at?", "15.6"),  # joined
        ("How much did the Fed lower rates, in bps?", "75 basis points"),  # shorthand
        ("What does Innodatta do?", "data-labeling"),  # misspelt name
        ("How much have smallcaps risen over the last six months?", "17%"),  # joined common words
        ("By how much are small firms cheaper than the S&P 500?", "31%"),  # synonyms: firms, cheaper
    ],
)
def test_names_shorthand_misspellings_and_synonyms_find_the_fact(assistant, question, fact):
    answer = assistant.ask(question)
    assert not answer.refused, answer.text
    assert fact in answer.text


@pytest.mark.parametrize(
    "question,language",
    [
        ("¿Por qué están subiendo las acciones de pequeña capitalización?", "Spanish"),
        ("Warum sind Nebenwerte gerade so gefragt?", "German"),
    ],
)
def test_a_question_in_another_language_is_told_the_articles_are_in_english(assistant, question, language):
    answer = assistant.ask(question)
    assert answer.refused and answer.refusal_reason == "not_english"
    assert language in answer.text and "English" in answer.text
    assert "Por" not in answer.text and "mention" not in answer.text  # never "the articles don't mention Por"


# --- near misses, two parts, advice -----------------------------------------------------------------


def test_a_detail_the_articles_do_not_give_about_a_thing_they_name(assistant):
    answer = assistant.ask("What fee does the iShares Russell 2000 ETF charge?")
    assert answer.refused and answer.refusal_reason == "partly_covered"
    assert "iShares Russell 2000 ETF" in answer.text and "expense ratio" in answer.text
    assert sources(answer) == {COINMELA}  # it points at where the fund is named


def test_a_two_part_question_answers_one_part_and_says_what_is_missing(assistant):
    answer = assistant.ask("How big is the iShares Russell 2000 ETF, and what dividend does it pay?")
    assert not answer.refused
    assert "$75 billion" in answer.text
    assert "do not give" in answer.text and "dividend" in answer.text


def test_advice_gets_facts_and_a_note(assistant):
    answer = assistant.ask("Would it be wise to move my savings into small caps this year?")
    assert answer.question_type == "advice" and not answer.refused
    assert "not investment advice" in answer.text
    assert answer.citations


# --- trust signals -----------------------------------------------------------------------------------


def test_relevance_is_separate_from_support(assistant):
    direct = assistant.ask("What are the net assets of the iShares Russell 2000 ETF?")
    assert direct.relevance_label == "direct" and direct.citations[0].support >= 0.9
    loose = assistant.ask("What do the articles say about small-cap shareholders?")
    assert not loose.refused
    # quotes copied from the articles are fully supported whatever they answer; relevance is what differs
    assert min(c.support for c in loose.citations) >= 0.9
    assert loose.relevance < direct.relevance
    assert direct.to_dict()["relevance_label"] == "direct"


# --- classes found on the first test run (new wordings again) ---------------------------------------------


def test_a_figure_named_but_not_given_is_a_near_miss(assistant):
    answer = assistant.ask("What was the Russell 2000's closing level at its January record?")
    assert answer.refused and answer.refusal_reason == "partly_covered"
    assert "Russell 2000" in answer.text


def test_how_things_turned_out_after_the_newest_article_is_not_covered(assistant):
    answer = assistant.ask("How did small caps finish 2027?")
    assert answer.refused and answer.refusal_reason == "not_covered" and "2026-01-27" in answer.text
    assert not assistant.ask("What do forecasts for 2026 say about more Fed cuts?").refused


def test_a_persons_firm_is_the_organisation_named_beside_them(assistant):
    answer = assistant.ask("Which company does Samuel Rines work for?")
    assert not answer.refused and "WisdomTree" in answer.text
    answer = assistant.ask("Which fund does Peter Roy run?")  # the article names none
    assert answer.refused and "Barron" not in answer.text


def test_warning_signs_are_several_points_about_risk(assistant):
    answer = assistant.ask("What warning signs do the articles mention for the small-cap rally?")
    assert answer.question_type == "points" and not answer.refused
    assert "removing a major insolvency fear" not in answer.text


def test_a_comparison_is_about_what_it_compares(assistant):
    answer = assistant.ask("AInvest vs CoinMela: which P/E figures does each give?")
    assert sources(answer) == {AINVEST, COINMELA}
    assert "15.6" in answer.text and ("19.5" in answer.text or "28" in answer.text)


def test_who_fills_a_role_the_articles_mention_but_never_fill_is_a_near_miss(assistant):
    answer = assistant.ask("who will be the new Fed chairman in May?")
    assert answer.refused and answer.refusal_reason == "partly_covered"
    assert "do not say who" in answer.text and sources(answer) == {COINMELA}
    named = assistant.ask("Who is the portfolio manager cited by Barron's?")
    assert not named.refused and "Peter Roy" in named.text  # a person named beside the role answers it


def test_who_fills_a_role_only_the_passages_mention_is_a_near_miss_too(assistant):
    """No kept sentence mentions the chairman; the retrieved passages do, naming nobody in the role."""
    answer = assistant.ask("Who is going to be the next chairman of the Federal Reserve?")
    assert answer.refused and answer.refusal_reason == "partly_covered", answer.text
    assert "do not say who" in answer.text


@pytest.fixture(scope="module")
def earnings_story(tmp_path_factory, model_path, embedder):
    """One company's earnings story (Larkspur, from the written corpus) alone."""
    tmp = tmp_path_factory.mktemp("earnings")
    corpus = tmp / "corpus"
    corpus.mkdir()
    extra = CORPUS.parent / "tests" / "data" / "qa" / "corpus" / "extra"
    shutil.copyfile(extra / "meridian-larkspur-logistics-q4-earnings-2026-02-05.md", corpus / "larkspur.md")
    return indexed_assistant(corpus, tmp, model_path, embedder)


def test_a_detail_of_the_story_s_own_subject_counts_without_its_name_in_the_sentence(earnings_story):
    """'"…," Chief Executive Renata Oduya said' in the Larkspur story is Larkspur's chief executive: no near miss."""
    answer = earnings_story.ask("who's the chief exec at Larkspur Logistics?")
    assert not answer.refused, answer.text
    assert "Renata Oduya" in answer.text
    missing = earnings_story.ask("How many employees does Larkspur have?")  # a detail the story never gives
    assert missing.refused and missing.refusal_reason == "partly_covered"


# --- how people type (new wordings of this round's classes) ---------------------------------------------------


def test_a_framing_word_that_opens_the_question_is_not_a_name(assistant):
    """ "Main drivers…" asks for drivers; "Main" is not a company the articles fail to mention."""
    answer = assistant.ask("Main drivers of the small-cap rally per AInvest?")
    assert not answer.refused, answer.text
    assert sources(answer) == {AINVEST}


def test_a_question_without_apostrophes_is_read_like_one_with_them(assistant):
    answer = assistant.ask("whats the 2nd article about")
    assert answer.question_type == "summary" and not answer.refused
    assert sources(answer) == {COINMELA}


def test_shorthand_for_a_name_the_articles_never_use_is_not_covered(assistant):
    """ "BoE" stands for the Bank of England, which neither article names (one word of it, "bank", is not enough)."""
    answer = assistant.ask("Where's the BoE's bank rate these days?")
    assert answer.refused and answer.refusal_reason == "not_covered", answer.text


def test_two_things_the_articles_never_mention_are_not_answered_as_a_comparison(assistant):
    answer = assistant.ask("any view on copper prices or gold miners in these pieces?")
    assert answer.refused, answer.text


# --- lists an article makes, points it makes in two sentences, answers from the article that names the subject ---

PINECREST = """---
title: Pinecrest Foods tops forecasts as snack volumes recover
publisher: Larchmont Ledger
published: 2026-02-18
---

# Pinecrest Foods tops forecasts as snack volumes recover

Pinecrest Foods (NYSE: PNCF) rose 6.2% on Wednesday after the snack maker reported fourth-quarter sales of $2.41 billion, ahead of the $2.33 billion analysts expected.

## What drove the quarter

Management pointed to three factors:

- **Pricing.** List prices rose 4% on average in October, and shoppers mostly kept buying.
- **Club stores.** Sales through warehouse clubs grew 11%, helped by larger multipacks.
- **Lower freight.** Trucking costs fell 9% from a year earlier as the company consolidated routes.

## Capital returns

Pinecrest bought back 2.1 million shares in the quarter and raised its dividend by 5%.

## Risks

Margins are not safe, though. Cocoa prices have climbed about 40% since September, and the company has hedged only half of its needs for 2026.

Chief Financial Officer Lena Marsh said the company would not raise prices again before the summer.
"""

HARLOW = """---
title: Harlow Bank authorizes record buyback as loan growth slows
publisher: Quayside Banking Journal
published: 2026-02-20
---

# Harlow Bank authorizes record buyback as loan growth slows

Harlow Bank said on Friday that its board had authorized a $500 million share buyback, the largest in its history, as loan growth slowed to 2% in the fourth quarter.

The buyback is worth about 6% of the bank's market value, and executives said purchases would begin in March.

Net interest margin narrowed to 3.05% from 3.21% a year earlier as deposit costs rose.
"""


@pytest.fixture(scope="module")
def two_companies(tmp_path_factory, model_path, embedder):
    return assistant_over(
        {"pinecrest.md": PINECREST, "harlow.md": HARLOW}, tmp_path_factory.mktemp("companies"), model_path, embedder
    )


def test_a_list_the_article_makes_is_given_whole(two_companies):
    """The article lists the three factors under a lead-in: the answer gives all three, not one of them."""
    answer = two_companies.ask("What three things did Pinecrest's management credit for the quarter?")
    assert not answer.refused, answer.text
    for factor in ("Pricing", "Club stores", "Lower freight"):
        assert factor in answer.text, answer.text
    assert sources(answer) == {"pinecrest.md"}


def test_a_risk_under_a_risks_heading_answers_what_could_go_wrong(two_companies):
    """ "Cocoa prices have climbed about 40%…" names no risk word and is far from the question in MiniLM's eyes; it
    sits under "## Risks", which is what makes it an answer (and keeps it from being dropped as off the question)."""
    answer = two_companies.ask("What could go wrong for Pinecrest?")
    assert not answer.refused, answer.text
    assert "Cocoa prices have climbed about 40%" in answer.text, answer.text
    assert not any("Cocoa" in d.text for d in answer.dropped)


def test_a_question_about_a_named_company_is_answered_from_the_article_that_names_it(two_companies):
    """Both articles speak of buybacks; only Pinecrest's says how many of its shares it bought."""
    answer = two_companies.ask("How many shares did Pinecrest buy back?")
    assert not answer.refused, answer.text
    assert "2.1 million shares" in answer.text
    assert sources(answer) == {"pinecrest.md"}


def test_a_short_topic_sentence_comes_with_the_sentence_that_makes_its_point(two_companies):
    """ "Margins are not safe, though." says nothing by itself: the sentence after it is the point."""
    from chat.selection import elaborate
    from chat.sentences import Unit

    def unit(position: int, text: str) -> Unit:
        return Unit(1, 3, position, text, "", False, "Risks", "pinecrest.md", (1, position))

    units = [
        unit(0, "Margins are not safe, though."),
        unit(1, "Cocoa prices have climbed about 40% since September."),
        unit(2, "Shares rose 6.2% on Wednesday after the results."),
    ]
    assert elaborate(units, [0], limit=5) == [0, 1]
    assert elaborate(units, [2], limit=5) == [2]  # a sentence with a figure makes its own point
    assert elaborate(units, [0, 2], limit=2) == [0, 2]  # no room left


def test_a_why_or_how_question_keeps_its_figure_but_asks_no_detail(assistant):
    """ "How did lower rates help small caps' margins?" is about margins (their figures score higher), yet it does not
    ask for a margin figure the articles must give, as "What margin…?" does (a near miss when none is given)."""
    from chat.questions import analyze

    how = analyze("How did lower rates help small caps' margins?", assistant.lexicon)
    what = analyze("What margins do small caps earn?", assistant.lexicon)
    assert how.metric is not None and how.metrics == []
    assert what.metrics and what.metric == what.metrics[0] == how.metric


# --- advice, drivers and risks in other words ------------------------------------------------------------

UTILITIES = """---
title: Utilities extend their rally as bond yields ease
publisher: Harbourline Markets
published: 2026-04-09
---

# Utilities extend their rally as bond yields ease

Utility stocks rose for a sixth straight week on Thursday, and the Utilities Select Sector SPDR Fund (XLU) is now up 14% this year, ahead of every other sector of the S&P 500.

## Why the sector is rallying

Falling bond yields have made the sector's dividends more attractive: the 10-year Treasury yield has dropped to 3.9% from 4.6% in January. Power demand from data centers is the second support, with U.S. electricity use expected to grow 3% a year through 2030. Regulators in Texas and Virginia have also approved rate increases that lift earnings.

## What could end the run

Much of the rally has been driven by hopes of further rate cuts that may never come. The sector now trades at 19 times forward earnings, above its ten-year average of 16 times. A rebound in yields would hurt the group, and several of its members carry heavy debt that must be refinanced at higher rates by 2028.

## How to own them

Marisol Ortega, a portfolio manager at Brightwater Advisors, cautioned against buying on dividend size alone. "The fattest payouts are often the ones about to be cut," she said. "Look for payout ratios under 70% and a regulator that lets the company raise rates." Investors who want broad exposure can consider a fund such as XLU instead of a single name.
"""


@pytest.fixture(scope="module")
def utilities(tmp_path_factory, model_path, embedder):
    return assistant_over({"utilities.md": UTILITIES}, tmp_path_factory.mktemp("utilities"), model_path, embedder)


def test_should_i_is_answered_with_what_the_article_tells_investors_to_weigh(utilities):
    """The guidance ("cautioned against…", "Look for payout ratios…") shares few words with the question; the
    sector's bullish facts share more. Advice words are what make it the answer."""
    answer = utilities.ask("Is it smart to just grab the utility with the fattest dividend?")
    assert answer.question_type == "advice" and not answer.refused, answer.text
    assert "cautioned against buying on dividend size alone" in answer.text, answer.text
    assert "payout ratios under 70%" in answer.text, answer.text
    assert "not investment advice" in answer.text
    every_claim_is_cited(answer)


def test_a_driver_question_is_not_answered_from_the_risks_section(utilities):
    """ "Much of the rally has been driven by…" uses driver words but sits under "What could end the run"."""
    answer = utilities.ask("What's behind the utility rally?")
    assert answer.question_type == "points" and len(bullets(answer)) >= 3, answer.text
    assert "data centers" in answer.text and "Falling bond yields" in answer.text, answer.text
    assert "may never come" not in answer.text, answer.text


@pytest.mark.parametrize("question", ["What could trip up utility stocks?", "what might upend the utilities trade?"])
def test_other_wordings_of_what_could_go_wrong_get_the_risks(utilities, question):
    answer = utilities.ask(question)
    assert answer.question_type == "points", answer.text
    assert "A rebound in yields would hurt the group" in answer.text, answer.text


@pytest.mark.parametrize(
    "question", ["Why might the utility rally fizzle out?", "why could the utility rally run out of steam?"]
)
def test_why_something_might_end_is_answered_with_its_risks(utilities, question):
    """ "Why might X fizzle out" asks what could end it (risks, as points), not why a fact is so."""
    answer = utilities.ask(question)
    assert answer.question_type == "points" and len(bullets(answer)) >= 2, answer.text
    assert "A rebound in yields would hurt the group" in answer.text, answer.text


def test_what_is_lifting_asks_for_several_drivers(utilities):
    answer = utilities.ask("What is lifting utilities?")
    assert answer.question_type == "points" and len(bullets(answer)) >= 2, answer.text


@pytest.mark.parametrize(
    "question",
    [
        "what are the dangers for someone piling into small caps today?",
        "What could go sideways for small-cap buyers right now?",
    ],
)
def test_a_risk_in_words_the_question_never_uses_is_kept(assistant, question):
    """ "they also include zombie companies" shares no word with the question; it is a risk of small caps all the
    same, read against the topic in the words risks are written in, and is not dropped as off the question."""
    answer = assistant.ask(question)
    assert answer.question_type == "points" and not answer.refused, answer.text
    assert "zombie companies" in answer.text, (answer.text, [d.text for d in answer.dropped])


def test_each_article_of_a_comparison_answers_the_question_itself(assistant):
    """Article against article: each side is that article's own answer (its best sentences and the ones that
    complete them), so the mechanism one gives and the figures the other gives both appear."""
    answer = assistant.ask("Do AInvest and CoinMela tell the same story about rate cuts and small caps?")
    assert answer.question_type == "comparison" and sources(answer) == {AINVEST, COINMELA}, answer.text
    ainvest, coinmela = answer.text.split("CoinMela, ")
    assert "floating-rate debt" in ainvest or "cost of capital" in ainvest, answer.text
    assert "75 basis points" in coinmela or "one more cut" in coinmela, answer.text
