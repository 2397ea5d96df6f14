"""Tests for ingest.clean: the two real captures, hand-written captures of other sites, edge cases.

Run with:  .venv/bin/python -m pytest tests/test_clean.py -q
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

from ingest.clean import CleanedText, clean_capture  # noqa: E402

CAPTURES = Path(__file__).parent / "data" / "captures"


def _find_corpus_dir() -> Path | None:
    for cand in (ROOT / "corpus", Path("/work/shared/corpus")):
        if (cand / "ainvest-small-cap-resurgence-2026-01-12.txt").exists():
            return cand
    return None


CORPUS = _find_corpus_dir()
needs_corpus = pytest.mark.skipif(CORPUS is None, reason="source article captures not available")


def _ws(s: str) -> str:
    return " ".join(s.split())


def _lines(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.strip()]


@pytest.fixture(scope="module")
def ainvest_raw() -> str:
    assert CORPUS is not None
    return (CORPUS / "ainvest-small-cap-resurgence-2026-01-12.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def coinmela_raw() -> str:
    assert CORPUS is not None
    return (CORPUS / "coinmela-small-caps-strong-start-2026-01-27.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def ainvest(ainvest_raw: str) -> CleanedText:
    return clean_capture(ainvest_raw)


@pytest.fixture(scope="module")
def coinmela(coinmela_raw: str) -> CleanedText:
    return clean_capture(coinmela_raw)


# --------------------------------------------------------------------------
# Real captures
# --------------------------------------------------------------------------

# fmt: off
CHROME_DROPPED = [
    "Sign in to your account", "BTC", "$88,301", "Share This Article", "Popular News", "Leave a Reply",
    "Goldman Sachs Predicts", "Add a public comment", "Comentarios", "urlhttps3A2F", "Font Resizer",
    "© Coin Mela", "We use social media", "Your email address will not be published",
    "CoinMela News Desk brings you", "author avatar", "Sin comentarios", "Last updated",
    "Lost your password", "Ad image", "Advertisement", "Previous Article", "Bitget",
]
# fmt: on


@needs_corpus
@pytest.mark.parametrize("needle", CHROME_DROPPED)
def test_real_captures_drop_chrome(ainvest: CleanedText, coinmela: CleanedText, needle: str) -> None:
    assert needle not in ainvest.text
    assert needle not in coinmela.text


@needs_corpus
@pytest.mark.parametrize("nav_word", ["Altcoins", "Blockchain", "DeFi", "Advertise", "Web3", "Ethereum", "Home"])
def test_real_captures_drop_navigation_lines(coinmela: CleanedText, nav_word: str) -> None:
    assert nav_word not in _lines(coinmela.text)
    assert f"- {nav_word}" not in _lines(coinmela.text)
    assert not any(line.strip() == nav_word for line in coinmela.text.split("\n"))


@needs_corpus
def test_real_captures_chrome_substring_sanity(coinmela_raw: str, ainvest_raw: str) -> None:
    # The drop assertions above are only meaningful if the chrome was in the input.
    for needle in (
        "Sign in to your account",
        "BTC",
        "$88,301",
        "Share This Article",
        "Popular News",
        "Goldman Sachs Predicts",
        "urlhttps3A2F",
        "Font Resizer",
        "© Coin Mela",
    ):
        assert needle in coinmela_raw
    for needle in ("Add a public comment", "Comentarios", "author avatar"):
        assert needle in ainvest_raw


@needs_corpus
def test_ainvest_metadata(ainvest: CleanedText) -> None:
    assert ainvest.title == "Small-Cap Resurgence 2026: Why the Russell 2000 is Finally Outpacing the S&P 500"
    assert ainvest.published == "2026-01-12"
    assert ainvest.author == "AInvest News Editorial Team"
    # title is metadata, not the first line of the text
    assert not ainvest.text.startswith("Small-Cap Resurgence")
    assert "lunes" not in ainvest.text
    assert ainvest.dropped_lines >= 6


@needs_corpus
def test_coinmela_metadata(coinmela: CleanedText) -> None:
    assert coinmela.title == "Small Caps Show Strong Start in 2026, Outperforming S&P 500"
    assert coinmela.published == "2026-01-27"
    assert coinmela.author == "News Desk"
    assert coinmela.title not in coinmela.text
    assert coinmela.text.startswith("In a notable shift within the stock market")
    assert coinmela.dropped_lines > 100


@needs_corpus
def test_ainvest_key_points_bullets_kept(ainvest: CleanedText, ainvest_raw: str) -> None:
    bullets = [line.strip()[1:].strip() for line in ainvest_raw.splitlines() if line.strip().startswith("•")]
    assert len(bullets) == 8
    lines = _lines(ainvest.text)
    for b in bullets:
        assert f"- {b}" in lines, b


def _faq_answers(raw: str) -> list[str]:
    """Each A: paragraph of the raw capture, with widget breaks rejoined the simple way."""
    faq = raw[raw.index("Frequently Asked Questions") : raw.index("author avatar")]
    blocks = [b.strip() for b in re.split(r"\n\s*\n", faq) if b.strip()]
    answers: list[str] = []
    for b in blocks:
        if b.startswith("A:"):
            answers.append(_ws(b))
        elif answers and not b.startswith("Q:") and not answers[-1].endswith((".", "?", "!")):
            answers[-1] = _ws(answers[-1] + " " + b)
    return answers


@needs_corpus
def test_ainvest_faq_kept_in_full(ainvest: CleanedText, ainvest_raw: str) -> None:
    questions = [_ws(line) for line in ainvest_raw.splitlines() if line.startswith("Q:")]
    answers = _faq_answers(ainvest_raw)
    assert len(questions) == 4 and len(answers) == 4
    text = _ws(ainvest.text)
    for q in questions:
        assert q in text, q
    for a in answers:
        # the only change: footnote numbers glued to a sentence end (".6 Because") are dropped
        a = re.sub(r"(?<=[a-z)]\.)\d(?= [A-Z])", "", a)
        assert a in text, a
    assert "A: While ETFs like the (Russell 2000) offer broad exposure" in text
    assert "operating profit). Because the quality" in text and "foreign earnings. Small caps" in text
    assert "## Frequently Asked Questions (FAQ)" in ainvest.text


@needs_corpus
def test_ainvest_sentences_rejoined(ainvest: CleanedText) -> None:
    text = ainvest.text
    assert "According to recent data, the closed at a record high in mid-January" in text
    assert "As noted by, these stocks are often defined" in text
    assert "However, reports that in early 2026, the Russell 2000 extended" in text
    assert "described by where increased buying follows" in text
    assert "For chart enthusiasts, technical indicators show" in text
    assert 'According to "best-in-breed" Russell 2000 ideas' in text
    # a line ending with a period is never glued to the next one
    assert "regarding debt.\n\nand other financial analysts" in text


# fmt: off
FIGURES = [
    "15.6", "22.6", "31%", "15.4%", "14.8%", "$300 million", "$75 billion", "14 trading days", "19.5",
    "75 basis points", "nearly 2% on January 23", "Amplitude", "Innodata",
]
# fmt: on


@needs_corpus
@pytest.mark.parametrize("needle", FIGURES)
def test_real_captures_keep_figures(ainvest: CleanedText, coinmela: CleanedText, needle: str) -> None:
    assert needle in ainvest.text + "\n" + coinmela.text


@needs_corpus
def test_real_captures_keep_quotes_and_headings(ainvest: CleanedText, coinmela: CleanedText) -> None:
    both = ainvest.text + "\n" + coinmela.text
    assert (
        "Peter Roy, a portfolio manager cited by Barron's, notes that sectors like waste management and "
        "regional banking are ripe for takeover activity"
    ) in both
    assert (
        "WisdomTree macro strategist Samuel Rines notes, \"It's now more interesting to look at smaller "
        'companies that have been left behind."'
    ) in both
    lines = _lines(both)
    for heading in ("The Valuation Gap", "Interest Rate Dynamics", "Investment Strategies"):
        assert f"## {heading}" in lines, heading
    assert "## 1. The Valuation Gap" in lines
    assert "## The Great Divide: Small-Caps vs. The S&P 500" in lines
    assert "## Strategic Outlook: Is the Rally Sustainable?" in lines


@needs_corpus
def test_coinmela_every_article_paragraph_kept(coinmela: CleanedText, coinmela_raw: str) -> None:
    body = coinmela_raw[coinmela_raw.index("In a notable shift") : coinmela_raw.index("Goldman Sachs Predicts")]
    for para in (p.strip() for p in body.split("\n\n")):
        if para:
            expected = "## " + para[4:] if para.startswith("### ") else para
            assert expected in coinmela.text, para[:60]


# --------------------------------------------------------------------------
# Hand-written captures of other sites
# --------------------------------------------------------------------------

FIXTURES = sorted(p for p in CAPTURES.glob("*.txt"))


def test_enough_fixtures() -> None:
    assert len(FIXTURES) >= 6
    for p in FIXTURES:
        assert p.with_suffix(".expect.json").exists(), p.name
        n = len(p.read_text(encoding="utf-8").splitlines())
        assert 40 <= n <= 150, (p.name, n)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_fixture_capture(path: Path) -> None:
    raw = path.read_text(encoding="utf-8")
    expect = json.loads(path.with_suffix(".expect.json").read_text(encoding="utf-8"))
    result = clean_capture(raw)
    for needle in expect["keep"]:
        assert needle in result.text, f"missing: {needle!r}"
    for needle in expect["drop"]:
        assert needle in raw, f"drop needle not in the capture, test is vacuous: {needle!r}"
        assert needle not in result.text, f"not dropped: {needle!r}"
    assert result.title == expect["title"]
    assert result.published == expect["published"]
    if "author" in expect:
        assert result.author == expect["author"]
    if result.title:
        assert not result.text.startswith(result.title)
    if expect.get("keep_all_lines"):
        # clean input: every line except the title comes through
        for line in raw.splitlines():
            line = line.strip()
            if line and line != expect["title"]:
                assert line in result.text, f"clean line lost: {line!r}"
    assert result.dropped_lines >= 0


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_fixture_idempotent(path: Path) -> None:
    once = clean_capture(path.read_text(encoding="utf-8"))
    twice = clean_capture(once.text)
    assert twice.text == once.text
    assert twice.dropped_lines == 0
    if once.title:
        with_title = clean_capture(f"{once.title}\n\n{once.text}")
        assert with_title.text == once.text
        assert with_title.title == once.title


@needs_corpus
def test_real_captures_idempotent(ainvest: CleanedText, coinmela: CleanedText) -> None:
    for first in (ainvest, coinmela):
        again = clean_capture(first.text)
        assert again.text == first.text
        with_title = clean_capture(f"{first.title}\n\n{first.text}")
        assert with_title.text == first.text
        assert with_title.title == first.title


# --------------------------------------------------------------------------
# Line repair
# --------------------------------------------------------------------------


def test_rejoin_broken_sentences() -> None:
    raw = (
        "Markets rallied again on Monday as investors returned from the holiday break in a buying mood.\n\n"
        "According to recent data, the\n\n"
        "closed at a record high in mid-January, notching its longest streak since 2019.\n\n"
        "Smaller firms have outperformed for a week, as noted by\n\n"
        ", which tracks the sector closely and publishes a daily report.\n\n"
        "Investors who bought ETFs like the\n\n"
        "(Russell 2000) have done best, analysts said in a note on Tuesday.\n"
    )
    text = clean_capture(raw).text
    assert "According to recent data, the closed at a record high in mid-January" in text
    assert "as noted by, which tracks the sector closely" in text
    assert "ETFs like the (Russell 2000) have done best" in text
    assert len(text.split("\n\n")) == 4


def test_no_rejoin_after_sentence_end() -> None:
    raw = (
        "Small companies are structurally different from large companies regarding debt.\n\n"
        "and other financial analysts often point out that small caps rely more on floating-rate debt.\n\n"
        "Did the rally surprise anyone?\n\n"
        "not really, according to the strategists who had forecast it for months in their notes.\n"
    )
    text = clean_capture(raw).text
    assert "regarding debt.\n\nand other financial analysts" in text
    assert "regarding debt. and" not in text
    assert "anyone?\n\nnot really" in text


def test_rejoin_does_not_glue_headline_to_dateline() -> None:
    raw = (
        "Small Caps Beat Large Caps Again in January\n\nlunes, 12 de enero de 2026, 7:49 pm ET\n\n"
        "Small caps beat large caps again this month, extending a streak that began in the autumn.\n\n"
        "Analysts expect the trend to continue if rates keep falling through the spring.\n"
    )
    r = clean_capture(raw)
    assert r.title == "Small Caps Beat Large Caps Again in January"
    assert r.published == "2026-01-12"
    assert "lunes" not in r.text


def test_hard_wrapped_dump_is_unwrapped() -> None:
    para = (
        "The Russell 2000 index of small companies rose for a seventh straight session on Friday, "
        "its longest winning streak against the S&P 500 since January 2019, as investors bet that "
        "lower borrowing costs would help smaller firms more than the largest technology companies, "
        "which have led the market for most of the past three years and now trade at a large premium."
    )
    import textwrap

    raw = "\n\n".join(textwrap.fill(para, 72) for _ in range(4))
    text = clean_capture(raw).text
    assert text.split("\n\n") == [para] * 4


# --------------------------------------------------------------------------
# Metadata parsing
# --------------------------------------------------------------------------

BODY = (
    "Stocks of smaller companies rose sharply this week as investors priced in lower interest rates. "
    "The move was broad, with banks, builders and industrial firms all taking part in the rally."
)


@pytest.mark.parametrize(
    "dateline, iso",
    [
        ("Published: January 27, 2026", "2026-01-27"),
        ("lunes, 12 de enero de 2026, 7:49 pm ET4 min de lectura", "2026-01-12"),
        ("12 janvier 2026", "2026-01-12"),
        ("Publié le 1er février 2026 à 08h15", "2026-02-01"),
        ("2026-01-12", "2026-01-12"),
        ("Jan 12, 2026", "2026-01-12"),
        ("Sept. 3, 2025 at 4:00 p.m.", "2025-09-03"),
        ("12. Januar 2026, 14:32 Uhr", "2026-01-12"),
        ("3 de março de 2026", "2026-03-03"),
        ("Pubblicato il 15 febbraio 2026", "2026-02-15"),
        ("Updated Feb 3, 2026 · Published Jan 30, 2026", "2026-01-30"),
        ("14.01.2026", "2026-01-14"),
    ],
)
def test_published_date_formats(dateline: str, iso: str) -> None:
    raw = f"A Headline About Small Caps\n\n{dateline}\n\n{BODY}\n"
    r = clean_capture(raw)
    assert r.published == iso
    assert r.title == "A Headline About Small Caps"
    assert r.text == BODY


@pytest.mark.parametrize(
    "byline, author",
    [
        ("By News Desk", "News Desk"),
        ("ByNews Desk", "News Desk"),
        ("By Jane Doe and John Roe", "Jane Doe and John Roe"),
        ("Por Lucía Fernández", "Lucía Fernández"),
        ("Von Anna Berger", "Anna Berger"),
        ("Author: Mark Twain", "Mark Twain"),
    ],
)
def test_author_bylines(byline: str, author: str) -> None:
    raw = f"A Headline About Small Caps\n{byline}\nJanuary 5, 2026\n\n{BODY}\n"
    r = clean_capture(raw)
    assert r.author == author
    assert byline not in r.text
    assert r.text == BODY


def test_no_metadata_when_absent() -> None:
    r = clean_capture(BODY)
    assert r.text == BODY
    assert r.title is None and r.author is None and r.published is None
    assert r.dropped_lines == 0


def test_by_clicking_is_not_an_author() -> None:
    raw = (
        f"By clicking Accept all you agree to our use of cookies for advertising and analytics.\nAccept all\n\n{BODY}\n"
    )
    r = clean_capture(raw)
    assert r.author is None
    assert "clicking" not in r.text
    assert r.text == BODY


# --------------------------------------------------------------------------
# Region detection on unseen layouts
# --------------------------------------------------------------------------


def test_inline_related_box_does_not_split_article() -> None:
    raw = "\n".join(
        [
            "Menu",
            "Search",
            "Business",
            "Oil prices jump as supply worries return",
            "Sam Carter",
            "5 hours ago",
            "14 Comments",
            "Oil prices rose more than 3% on Monday after a drone attack hit a major export terminal.",
            "Brent crude futures climbed to $81.40 a barrel, while U.S. crude gained to $77.95.",
            "Related",
            "Oil giants post record buybacks despite lower prices",
            "OPEC+ agrees to extend output cuts into next year",
            "Analysts said the price spike could fade quickly if the terminal resumes loading within days.",
            "Still, the attack comes at a sensitive moment for a market that had become complacent.",
            "Refiners in Asia were already scrambling for alternative cargoes, traders said.",
            "Most Popular",
            "Stocks slide as tech sell-off deepens",
            "Gold hits a fresh record",
            "Fed officials signal patience on cuts",
        ]
    )
    r = clean_capture(raw)
    assert r.text.startswith("Oil prices rose more than 3% on Monday")
    assert r.text.endswith("traders said.")
    assert "Analysts said the price spike could fade" in r.text
    for chrome in ("Related", "Oil giants", "OPEC+", "Most Popular", "Gold hits", "14 Comments", "Menu"):
        assert chrome not in r.text
    assert r.title == "Oil prices jump as supply worries return"
    assert r.author == "Sam Carter"


def test_author_box_after_article_dropped() -> None:
    raw = "\n".join(
        [
            "Sign in",
            "Member-only story",
            "Small caps are cheap for a reason",
            "Rhea Kapoor",
            "Follow",
            "6 min read",
            "Jan 18, 2026",
            "212",
            "Listen",
            "Share",
            "Everyone has a chart showing small caps at their cheapest valuation in two decades. Few ask why.",
            "About 40% of the companies in the Russell 2000 lost money over the past twelve months.",
            "So I am not buying the index. I am buying quality small caps and waiting.",
            "212",
            "4",
            "Written by Rhea Kapoor",
            "1.2K Followers",
            "Former analyst turned writer. I cover markets, behavioural finance and the occasional chart crime.",
            "More from Rhea Kapoor",
            "Why I sold my bank stocks in December",
        ]
    )
    r = clean_capture(raw)
    assert r.text.endswith("I am buying quality small caps and waiting.")
    assert "Former analyst" not in r.text and "Followers" not in r.text and "Member-only" not in r.text
    assert r.published == "2026-01-18"
    assert r.author == "Rhea Kapoor"


def test_sentences_mentioning_chrome_words_are_kept() -> None:
    raw = (
        "That is what the CEO said.\n\n"
        "Getty Images reported record revenue in the quarter, beating estimates.\n\n"
        "Data provided by the ministry showed that inflation fell to 2.1% in December.\n\n"
        "Jane Smith is an analyst at Morgan Stanley, which raised its price target.\n\n"
        "Google said it would keep supporting third-party cookies in its Chrome browser.\n\n"
        "She agreed."
    )
    r = clean_capture(raw)
    assert r.text == raw
    assert r.dropped_lines == 0


def test_hard_separated_single_newline_capture() -> None:
    raw = "\n".join(
        [
            "Home",
            "Markets",
            "Economy",
            "Home",
            "Markets",
            "Economy",
            "Jobs report beats forecasts as hiring picks up in services",
            "By Ana Ruiz",
            "March 6, 2026",
            "Employers added 245,000 jobs in February, well above the 180,000 economists had expected.",
            "The unemployment rate held at 4.1%, and average hourly earnings rose 0.3% from January.",
            "We value your privacy",
            "We and our partners use cookies to store and access personal data such as browsing data.",
            "I Accept",
        ]
    )
    r = clean_capture(raw)
    assert r.text == (
        "Employers added 245,000 jobs in February, well above the 180,000 economists had expected.\n\n"
        "The unemployment rate held at 4.1%, and average hourly earnings rose 0.3% from January."
    )
    assert (r.title, r.author, r.published) == (
        "Jobs report beats forecasts as hiring picks up in services",
        "Ana Ruiz",
        "2026-03-06",
    )
    assert r.dropped_lines == 14 - 2


# --------------------------------------------------------------------------
# Robustness
# --------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["", "   ", "\n\n\t\n", "\r\n\r\n", "\u00a0\u200b"])
def test_empty_input(raw: str) -> None:
    r = clean_capture(raw)
    assert r.text == ""
    assert r.title is None and r.author is None and r.published is None
    assert r.dropped_lines == 0


def test_binary_junk_does_not_raise() -> None:
    rng = random.Random(1234)
    junk = bytes(rng.randrange(256) for _ in range(20000)).decode("latin-1")
    r = clean_capture(junk)
    assert isinstance(r, CleanedText)
    assert "\x00" not in r.text
    r2 = clean_capture("".join(chr(c) for c in range(0, 0x3000, 7)))
    assert isinstance(r2, CleanedText)


def test_whitespace_normalised_unicode_kept() -> None:
    raw = (
        "Die\u00a0Börse\tin Frankfurt schloss am Freitag mit einem deutlichen Plus von 1,2 Prozent.\r\n\r\n"
        "Les marchés européens ont suivi, portés par les valeurs bancaires et l’énergie.\r\n"
    )
    r = clean_capture(raw)
    assert r.text == (
        "Die Börse in Frankfurt schloss am Freitag mit einem deutlichen Plus von 1,2 Prozent.\n\n"
        "Les marchés européens ont suivi, portés par les valeurs bancaires et l’énergie."
    )


def test_one_giant_line() -> None:
    sentence = "Small caps rallied again as investors rotated out of the largest technology stocks. "
    raw = sentence * 20000  # ~1.7 MB on one line
    r = clean_capture(raw)
    assert r.text == raw.strip()


def test_five_megabyte_input_returns() -> None:
    block = (FIXTURES[0].read_text(encoding="utf-8") + "\n") if FIXTURES else BODY
    raw = block * (5_000_000 // len(block) + 1)
    assert len(raw) >= 5_000_000
    r = clean_capture(raw)
    assert isinstance(r, CleanedText)
    assert r.text


def test_non_string_input_does_not_raise() -> None:
    assert clean_capture(None).text == ""  # type: ignore[arg-type]
    assert clean_capture(BODY.encode("utf-8")).text == BODY  # type: ignore[arg-type]
