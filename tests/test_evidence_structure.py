"""How an article's structure carries meaning across sentences, and the answers that depend on it:

- a sentence that opens with a pronoun ("Its backlog reached …") is about what the sentence before it named;
- the sentences of a quotation belong to whoever the paragraph says spoke them;
- an article that counts its points ("First, … Second, … Third, …") has made the list an answer needs;
- a side of a comparison that no passage names is a gap, not another side's sentences under its label;
- the rows of a table are listed whole when a question asks what the table holds.

The articles are written here for the purpose (none is in corpus/ or tests/data/qa); the answers come from the
real MiniLM model and an embedded Chroma index.

    python -m pytest tests/test_evidence_structure.py -q
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import assistant_over
from langchain_core.documents import Document

from chat.selection import complete_runs
from chat.sentences import passage_units

PUMPS = """Harrow Tribune, 2026-04-02

Pump makers are the quiet winners of the data-center boom

Brightfield Pumps (BFPX), a maker of valves and cooling pumps for water utilities, trades at 12.4 times forward earnings. Its backlog reached a record $2.7 billion at the end of March.

Tessaly Motors, a maker of electric delivery vans, reported a wider loss in the first quarter.

"Cooling is the bottleneck nobody priced in," Marta Quell, portfolio manager at Oxmoor Funds, said. "Every new hall of servers needs three times the water flow of an office tower. That is a decade of orders for the pump makers."

Not everyone is convinced. Dev Anand, an analyst at Pellham Research, rates the stock neutral.
"""

COPPER = """Harrow Tribune, 2026-04-09

Copper climbs to a two-year high

Copper rose 3.1% to $11,240 a tonne on Thursday, its highest price in two years. Three forces are behind the move, according to traders.

First, mine output in Chile fell 6% in February after floods closed two pits. Second, warehouse stocks tracked by the London Metal Exchange dropped to 92,000 tonnes, the lowest since 2023. Third, grid spending in China rose 14% in the first quarter, lifting demand for cable.

Aluminum slipped 0.4%, and nickel was little changed.
"""


BANKS = """---
title: "Regional lenders lead as deposit costs ease"
publisher: "Harrow Tribune"
published: 2026-04-16
---
# Regional lenders lead as deposit costs ease

Regional bank stocks rose for a third week as deposit costs eased and loan growth picked up, the Harrow Tribune's
quarterly survey of lenders found.

| Bank | Ticker | Loan growth | Return since March 1 |
|---|---|---|---|
| Copperfield Bancorp | CPFB | 6.1% | +9.8% |
| Lindenmoor Financial | LNMF | 5.4% | +8.9% |
| Ashgrove Savings | ASGV | 4.9% | +8.1% |
| Quarrytown Bank | QTWB | 4.2% | +7.7% |
| Elmstead Trust | ELMT | 3.8% | +7.2% |

Analysts expect loan growth to slow in the second half as commercial real-estate lending stays tight.
"""


def test_a_pronoun_sentence_knows_what_the_sentence_before_named():
    units = passage_units(1, Document(page_content=PUMPS, metadata={"source": "pumps.txt"}))
    backlog = next(u for u in units if u.text.startswith("Its backlog"))
    assert "Brightfield Pumps" in backlog.context
    tessaly = next(u for u in units if u.text.startswith("Tessaly"))
    assert tessaly.context == ""  # names its own subject


def test_the_sentences_of_a_quotation_belong_to_the_speaker():
    units = passage_units(1, Document(page_content=PUMPS, metadata={"source": "pumps.txt"}))
    for start in ('"Cooling is', '"Every new hall', "That is a decade"):
        unit = next(u for u in units if u.text.startswith(start))
        assert "Marta Quell" in unit.context, unit.text
    assert "Marta Quell" not in next(u for u in units if u.text.startswith("Dev Anand")).context


def test_a_counted_run_of_points_is_completed_in_order():
    units = passage_units(1, Document(page_content=COPPER, metadata={"source": "copper.txt"}))
    first = next(i for i, u in enumerate(units) if u.text.startswith("First"))
    third = next(i for i, u in enumerate(units) if u.text.startswith("Third"))
    lead = next(i for i, u in enumerate(units) if u.text.startswith("Copper rose"))
    scores = np.linspace(1.0, 0.1, len(units))
    out = complete_runs(units, scores, [lead, third], limit=5)
    assert [units[i].text.split(",")[0] for i in out] == ["Copper rose 3.1% to $11", "First", "Second", "Third"]
    assert complete_runs(units, scores, [lead], limit=5) == [lead]  # no item of the run chosen: nothing added
    assert complete_runs(units, scores, [first], limit=2) == [first]  # a run longer than the answer's room


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, model_path, embedder):
    return assistant_over(
        {
            "harrow-pumps-2026-04-02.txt": PUMPS,
            "harrow-copper-2026-04-09.txt": COPPER,
            "harrow-banks-2026-04-16.md": BANKS,
        },
        tmp_path_factory.mktemp("structure"),
        model_path,
        embedder,
    )


def test_a_figure_given_in_a_pronoun_sentence_answers_a_question_about_its_antecedent(assistant):
    answer = assistant.ask("How big is the Brightfield Pumps order backlog?")
    assert not answer.refused
    assert "$2.7 billion" in answer.text


def test_a_misspelt_speaker_is_still_the_speaker(assistant):
    answer = assistant.ask("Why is Marta Quelle so upbeat on pump makers?")
    assert not answer.refused
    assert "Cooling is the bottleneck" in answer.text or "three times the water flow" in answer.text


def test_drivers_an_article_counts_out_are_all_given(assistant):
    answer = assistant.ask("What is pushing copper prices up?")
    assert not answer.refused
    for item in ("First, mine output", "Second, warehouse stocks", "Third, grid spending"):
        assert item in answer.text
    assert answer.text.index("First,") < answer.text.index("Second,") < answer.text.index("Third,")


def test_a_side_no_passage_names_is_reported_as_a_gap(assistant):
    answer = assistant.ask("Contrast how pump makers and shipbuilders traded")
    assert not answer.refused
    assert "shipbuilders: nothing on this" in answer.text
    assert all(c.source == "harrow-pumps-2026-04-02.txt" for c in answer.citations)


def test_a_list_of_what_a_table_holds_gives_every_row(assistant):
    """Table rows read alike ("X: Ticker …; Loan growth …"): none may be dropped as a near-duplicate of another."""
    answer = assistant.ask("Which banks are in the Harrow Tribune's loan growth table?")
    assert not answer.refused
    for bank in (
        "Copperfield Bancorp",
        "Lindenmoor Financial",
        "Ashgrove Savings",
        "Quarrytown Bank",
        "Elmstead Trust",
    ):
        assert bank in answer.text, answer.text
