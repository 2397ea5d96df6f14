"""Every number that decides how the answering core behaves, in one place, with how it was chosen.

    from chat.policy import POLICY
    POLICY.margin, POLICY.relevance_label(0.55)

"dev" below means tests/data/qa/dev.jsonl (114 questions over the two shipped articles and ten written for the
purpose), searched with `python benchmarks/fit_policy.py` (a grid search over the dev set that prints the
dev metrics of each candidate); tests/data/qa/test.jsonl was never used to choose any of them. "FAQ" means
corpus/faq.jsonl. A value edited by hand to make one question pass does not belong here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    # --- sentence scoring: score = cosine·w_cosine + coverage·w_coverage + bonuses − penalties -------------
    # cosine: MiniLM similarity of question and sentence; coverage: IDF-weighted share of the question's words
    # (or their expansions / synonyms) in the sentence. 3:1 kept from the FAQ-tuned answerer; confirmed on dev.
    w_cosine: float = 0.75
    w_coverage: float = 0.25
    # A sentence that holds a figure when the question asks for one ("how much", "what rate", a metric).
    figure_bonus: float = 0.04
    # The answer paragraph of an FAQ question of the article that matches the question (cosine ≥ faq_match).
    faq_bonus: float = 0.15
    faq_match: float = 0.7
    rank_penalty: float = 0.03  # per retrieval rank of the sentence's passage
    paragraph_bonus: float = 0.05  # for the other sentences of the best sentence's paragraph
    # A passage must name at least this share of the question's names (that the corpus knows) to answer it.
    name_share: float = 0.5

    # --- choosing sentences (fact, explanation) ------------------------------------------------------
    min_score: float = 0.33  # no sentence under this answers anything
    margin: float = 0.08  # sentences within this of the best one join the answer
    cross_margin: float = 0.15  # the best sentence of another article joins when within this of the best
    max_sentences: int = 4
    max_words: int = 110
    duplicate_cosine: float = 0.85  # two sentences this close say the same thing: keep one

    # --- lists, points, comparisons, summaries ---------------------------------------------------------
    list_margin: float = 0.15  # sentences holding items of the asked kind, within this of the best such one
    list_max_sentences: int = 6
    list_article_chunks: int = 40  # a list question about named articles reads them whole up to this many chunks
    points_passages: int = 8  # passages searched for a several-points question
    points_margin: float = 0.16
    points_max: int = 5
    points_redundancy: float = 0.72  # a point this close (cosine) to a chosen one adds nothing
    cue_weight: float = 0.06  # risk / driver words in a sentence, for "what could go wrong" / "what drives"
    side_sentences: int = 2  # per article or entity of a comparison
    side_margin: float = 0.12
    summary_sentences: int = 4  # per article; 3 each when several articles are summarised
    summary_lead_weight: float = 0.15  # LexRank centrality + this × (1 − position share) + title similarity
    summary_title_weight: float = 0.3

    # --- answer or refuse (chat.refusal) ---------------------------------------------------------------
    # A passage is relevant when its MiniLM cosine to the question reaches MIN_RELEVANCE (a setting, 0.30:
    # on-topic questions reach 0.57–0.82, off-topic ones 0.08–0.24 on the shipped corpus), or when it holds
    # this share of the question's IDF-weighted words and figures (MiniLM scores long chunks low).
    coverage_relevant: float = 0.6
    # The best sentence must address the question at least this much (score as above) to be an answer.
    min_answer_score: float = 0.36

    # --- how well an answer addresses the question (Answer.relevance) ------------------------------------
    relevance_direct: float = 0.55
    relevance_partial: float = 0.42

    def relevance_label(self, relevance: float) -> str:
        if relevance >= self.relevance_direct:
            return "direct"
        if relevance >= self.relevance_partial:
            return "partial"
        return "weak"


POLICY = Policy()
