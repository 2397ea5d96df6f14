"""The extractive answerer: answers with the articles' own sentences, chosen the way the question type needs.

    answerer = ExtractiveAnswerer(embed, lexicon, embed_query=retriever.embed_query)
    draft = answerer.draft(question, evidence)      # a Draft of cited claims, checked next by chat.verify

Every sentence is scored against the question (chat.policy: MiniLM cosine, IDF-weighted word coverage with
abbreviations and synonyms, a figure bonus, the article's own FAQ, retrieval rank), then:
- fact / explanation: the best sentence and those close to it, the next sentence when it completes a figure
  or name, and the best sentence of another article that also answers;
- list (chat.listing): the names of the asked kind (funds, indices, companies, people, sectors, countries) in
  the best sentences that hold any, one bullet per sentence, each cited;
- summary (chat.summaries): the article's own key-takeaway bullets when it opens with them, otherwise its most
  central sentences (LexRank over sentence embeddings, with a lead and title prior), in reading order;
- comparison (chat.comparison): the best sentences of each side, grouped under the side;
- points: distinct sentences across passages (MMR), with risk or driver words counted for "what could go
  wrong" / "what is driving" questions and sentences about a risk going away held back;
- advice: what the articles tell investors to do or weigh (words of guidance count) and the facts around it,
  plus a note that this is not investment advice;
- a comparison of articles (chat.comparison): each article's own answer to the question, grouped under the article.
Nothing is written that is not in an article, apart from the framing line and notes (no figures in them).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import numpy as np
from langchain_core.documents import Document

from chat.comparison import comparison
from chat.embeddings import EmbeddingCache
from chat.evidence import Evidence
from chat.glossary import (
    ADVICE_WORDS,
    CAUSAL_WORDS,
    DRIVER_WORDS,
    RISK_REMOVED_WORDS,
    RISK_WORDS,
)
from chat.lexicon import Lexicon
from chat.listing import listing
from chat.policy import POLICY, Policy
from chat.questions import (
    ADVICE,
    COMPARISON,
    EXPLANATION,
    FACT,
    LIST,
    POINTS,
    SUMMARY,
    Question,
)
from chat.schema import Claim, Draft
from chat.selection import (
    EXPLAIN_PART,
    asked_count,
    complete_runs,
    continues_quote,
    elaborate,
    split_parts,
)
from chat.sentences import (
    DIGIT,
    ENUMERATED,
    FEATURES,
    FIGURE_QUESTION,
    NUMBERED,
    Unit,
    cue_share,
    figure_near,
    passage_units,
)
from chat.summaries import summary
from chat.text import tokenize

# --- the answerer ----------------------------------------------------------------------------------


class ExtractiveAnswerer:
    """Drafts answers from the evidence's own sentences; deterministic, offline, nothing invented."""

    mode = "extractive"
    live = False  # nothing worth streaming before verification

    def __init__(
        self,
        embed: EmbeddingCache,
        lexicon: Lexicon,
        *,
        embed_query: Callable[[str], np.ndarray] | None = None,
        policy: Policy = POLICY,
    ) -> None:
        self.embed = embed
        self.lexicon = lexicon
        self.embed_query = embed_query or (lambda q: np.asarray(embed.embeddings.embed_query(q), dtype=np.float32))
        self.policy = policy

    # --- scoring ---------------------------------------------------------------------------------------

    def features(
        self, q: Question, units: list[Unit], passages: list[Document], query: str | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The FEATURES of each unit (rows) for answering `q`, and the unit vectors."""
        qvec = self.embed_query(query or q.normalized.text)
        asked = sorted({u.asked for u in units if u.asked})
        headings = sorted({u.heading for u in units if u.heading})
        vecs = self.embed([u.text for u in units] + asked + headings)
        unit_vecs = vecs[: len(units)]
        sims = unit_vecs @ qvec
        qsims = dict(zip(asked, vecs[len(units) : len(units) + len(asked)] @ qvec))
        hsims = dict(zip(headings, vecs[len(units) + len(asked) :] @ qvec))
        terms = q.normalized.terms if query is None else self.lexicon.terms(query)
        wants_figure = bool(FIGURE_QUESTION.search(q.text)) or q.metric is not None
        named = [
            forms for forms in (self.lexicon.name_forms(n.text) for n in q.names if n.text not in q.unknown) if forms
        ]
        sources = q.sources
        dated = {a.source for a in q.dated}
        X = np.zeros((len(units), len(FEATURES)), dtype=np.float32)
        for i, (u, sim) in enumerate(zip(units, sims)):
            meta = passages[u.n - 1].metadata
            words = set(tokenize(f"{u.text} {u.context}"))
            headed = f"{u.heading}. {u.text}"  # cue words count in the section heading too
            X[i] = (
                float(sim),
                self.lexicon.coverage(terms, f"{u.text} {u.context}" if u.context else u.text),
                float(meta.get("dense_score", 0.0) or 0.0),
                1.0 / float(meta.get("rank", u.n) or u.n),
                1.0 if wants_figure and DIGIT.search(u.text) else 0.0,
                float(qsims.get(u.asked, 0.0)) if u.asked else 0.0,
                # (a sentence under a heading of risks or drivers — "Risks", "What drove the quarter" — is one)
                (cue_share(headed, RISK_WORDS) - 2 * cue_share(u.text, RISK_REMOVED_WORDS) if q.risk else 0.0),
                # (a sentence under a heading of risks — "What could derail the rally" — is not a driver, though
                # it is worth weighing for a "should I…" question)
                (
                    cue_share(headed, DRIVER_WORDS)
                    - (2 * cue_share(u.heading, RISK_WORDS) if q.type == POINTS else 0.0)
                    if q.type in (POINTS, ADVICE) and not q.risk
                    else 0.0
                ),
                1.0 if u.bullet or ENUMERATED.match(u.text) or NUMBERED.match(u.heading) else 0.0,
                float(hsims.get(u.heading, 0.0)),
                cue_share(u.text, CAUSAL_WORDS) if q.type == EXPLANATION else 0.0,
                sum(any(f <= words for f in forms) for forms in named) / len(named) if named else 0.0,
                1.0 if (sources and u.source in sources) or u.source in dated else 0.0,
                figure_near(terms, u.text, self.lexicon.idf) if wants_figure else 0.0,
                cue_share(headed, ADVICE_WORDS) if q.type == ADVICE else 0.0,
            )
        return X, unit_vecs

    def score(
        self, q: Question, units: list[Unit], passages: list[Document], query: str | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each unit's probability of answering `q` (logistic over FEATURES, weights in chat.policy), and the unit
        vectors."""
        X, vecs = self.features(q, units, passages, query)
        z = self.policy.intercept + X @ np.asarray(self.policy.weights, dtype=np.float32)
        return (1.0 / (1.0 + np.exp(-z))).astype(np.float32), vecs

    def units(self, q: Question, passages: list[Document], numbers: list[int] | None = None) -> list[Unit]:
        """The sentences of the passages (only of `numbers` when given) that may answer `q`: a question that
        names things the corpus knows is answered only from passages that name enough of them."""
        # A comparison's sides are filtered by side (chat.comparison), not by all of its names.
        named = (
            [] if numbers is not None else [self.lexicon.name_forms(n.text) for n in q.names if n.text not in q.unknown]
        )
        named = [forms for forms in named if forms]
        out = []
        for n, doc in enumerate(passages, 1):
            if numbers is not None and n not in numbers:
                continue
            if named:
                words = set(
                    tokenize(
                        " ".join([doc.page_content, doc.metadata.get("title", ""), doc.metadata.get("publisher", "")])
                    )
                )
                share = sum(any(form <= words for form in forms) for forms in named) / len(named)
                if share < self.policy.name_share:
                    continue
            out.extend(passage_units(n, doc))
        return out

    # --- drafts by type ----------------------------------------------------------------------------------

    def draft(self, q: Question, evidence: Evidence) -> Draft:
        if not evidence.passages:
            return Draft([])
        if q.type == SUMMARY and evidence.articles:
            return summary(self, q, evidence)
        if q.type == COMPARISON and evidence.sides and not (q.sides and self._faq_answers(q, evidence)):
            return comparison(self, q, evidence)
        if q.type == LIST and q.list_kind:
            draft = listing(self, q, evidence)
            if draft.claims or draft.unlisted:
                return draft
        if q.type in (POINTS, ADVICE, SUMMARY) and not (q.type != SUMMARY and self._faq_answers(q, evidence)):
            return self.points(q, evidence)
        # (An article that asks this very question in its FAQ answers it there, in one paragraph: the facts path
        # takes that paragraph whole.)
        return self.facts(q, evidence)

    def stream(self, q: Question, evidence: Evidence) -> Iterator[str]:
        """The draft as text with [n] markers (what a generative answerer would have written)."""
        for claim in self.draft(q, evidence).claims:
            yield f"{claim.text} [{claim.n}] "

    def _faq_answers(self, q: Question, evidence: Evidence) -> bool:
        """Whether an article asks this very question in its FAQ (its answer paragraph is then the answer)."""
        return self._faq_match(q, self.units(q, evidence.passages)) is not None

    def _faq_match(self, q: Question, units: list[Unit]) -> str | None:
        """The FAQ question of these units closest to `q`, when it is this very question (cosine ≥ faq_match)."""
        asked = sorted({u.asked for u in units if u.asked})
        if not asked:
            return None
        sims = self.embed(asked) @ self.embed_query(q.normalized.text)
        best = int(np.argmax(sims))
        return asked[best] if float(sims[best]) >= self.policy.faq_match else None

    def facts(self, q: Question, evidence: Evidence) -> Draft:
        """The best sentence and those nearly as likely to answer, the next sentence when it completes a figure or
        name the question asks about, and the best sentence of another article that also answers. A question
        that asks two things ("What are its net assets, and what's its expense ratio?") is answered part by part."""
        parts = split_parts(q.text) if q.two_part else []
        if len(parts) < 2 or self._faq_answers(q, evidence):
            return self.facts_in(q, evidence)  # (an article that asks the whole question answers both parts)
        subject = " ".join(n.text for n in q.names)
        claims: list[Claim] = []
        for part in parts:
            text = part if not subject or subject.lower() in part.lower() else f"{part} ({subject})"
            sub = dataclasses.replace(
                q,
                text=text,
                normalized=self.lexicon.normalize(text),
                two_part=False,
                type=EXPLANATION if EXPLAIN_PART.match(part) else FACT,
            )
            for claim in self.facts_in(sub, evidence).claims:
                if claim.text not in {c.text for c in claims}:
                    claims.append(claim)
        claims.sort(key=lambda c: c.n or 0)
        return Draft(claims[: self.policy.max_sentences + 2])

    def facts_in(self, q: Question, evidence: Evidence, numbers: list[int] | None = None) -> Draft:
        """The facts path for one question (one part of a two-part one) over the passages, only `numbers` when
        given (chat.comparison answers each compared article with it)."""
        p = self.policy
        units = self.units(q, evidence.passages, numbers)
        if not units:
            return Draft([])
        scores, vecs = self.score(q, units, evidence.passages)
        top = int(np.argmax(scores))
        best = float(scores[top])
        if best < p.min_probability:
            return Draft([])
        max_sentences = p.max_sentences
        match = self._faq_match(q, units)
        if match is not None:
            # The article asks this very question in its FAQ: its answer paragraph is the answer, whole, whether
            # or not its sentences score best on their own.
            top = max((i for i, u in enumerate(units) if u.asked == match), key=lambda i: scores[i])
            same = [i for i, u in enumerate(units) if (u.n, u.paragraph) == (units[top].n, units[top].paragraph)]
            scores[same] = np.maximum(scores[same], best)
            max_sentences = max(max_sentences, len(same))
        chosen: list[int] = []
        words = 0

        def take(i: int) -> None:
            nonlocal words
            if any(float(vecs[i] @ vecs[j]) > p.duplicate_cosine for j in chosen):
                return  # the same fact twice (overlapping chunks, both articles) reads badly
            length = len(units[i].text.split())
            if chosen and words + length > p.max_words:
                return
            chosen.append(i)
            words += length

        ratio = p.explanation_ratio if q.type == EXPLANATION else p.fact_ratio
        order = [int(i) for i in np.argsort(-scores)]
        for i in order:
            if len(chosen) >= max_sentences or scores[i] < max(p.min_probability, ratio * best):
                break
            take(i)
        # The sentence right after the best one, when it holds a figure or name of the question that none of
        # the chosen ones has: "... trades at 15.6 times 2026 earnings." + "In stark contrast, the S&P 500
        # trades at 22.6 times." (a plain word such as "compared" is not enough).
        wanted = {t.token for t in q.normalized.terms if t.token[0].isdigit()} | {t for n in q.names for t in n.tokens}
        have = set().union(*(set(tokenize(units[i].text)) for i in chosen)) if chosen else set()
        for i, u in enumerate(units):
            if (
                (u.n, u.paragraph, u.position) == (units[top].n, units[top].paragraph, units[top].position + 1)
                and i not in chosen
                and len(chosen) < max_sentences
                and (set(tokenize(u.text)) & wanted) - have
            ):
                take(i)
        # The sentence after the best one goes on with its point ("… gives less weight to shelter." + "She
        # expects the index to rise 0.3% on core."), when it is itself likely enough, or when it goes on with
        # the best one's quotation ('"…," said Achterberg.' + '"Now both are buying at once."').
        for i, u in enumerate(units):
            if (
                (u.n, u.paragraph, u.position) == (units[top].n, units[top].paragraph, units[top].position + 1)
                and i not in chosen
                and len(chosen) < max_sentences
                and (scores[i] >= p.next_ratio * best or continues_quote(units[top].text, u.text))
            ):
                take(i)
        # The best sentence of each other article that also speaks to the question, so that a question both
        # articles answer is not answered from one of them only.
        covered = {units[i].source for i in chosen}
        for i in order:
            if len(chosen) >= max_sentences or scores[i] < max(p.min_probability, p.cross_ratio * best):
                break
            if units[i].source not in covered:
                take(i)
                covered.add(units[i].source)
        chosen.sort(key=lambda i: (units[i].n, units[i].position))
        return Draft([Claim(units[i].text, units[i].n, score=float(scores[i])) for i in chosen])

    def points(self, q: Question, evidence: Evidence) -> Draft:
        """Distinct relevant sentences across passages (MMR), as bullets."""
        p = self.policy
        units = self.units(q, evidence.passages)
        if not units:
            return Draft([])
        scores, vecs = self.score(q, units, evidence.passages)
        top = int(np.argmax(scores))
        best = float(scores[top])
        if best < p.min_probability:
            return Draft([])
        # The points of a list the article makes: when the best sentence is one item of a bullet list or of a
        # "First, … Second, …" run, its siblings are points too.
        if units[top].bullet or ENUMERATED.match(units[top].text):
            for i, u in enumerate(units):
                if (
                    u.source == units[top].source
                    and u.heading == units[top].heading
                    and (u.bullet or ENUMERATED.match(u.text))
                    and abs(u.order[1] - units[top].order[1]) <= 12
                ):
                    scores[i] = max(scores[i], p.sibling_ratio * best)
        # Points come from the articles that speak to the question: an article whose three best sentences are
        # far less likely than the best article's is left out (unless the question asks what all the articles say).
        if not q.all_articles:
            strength: dict[str, float] = {}
            for src in {u.source for u in units}:
                mine = sorted((float(scores[i]) for i, u in enumerate(units) if u.source == src), reverse=True)[:3]
                strength[src] = sum(mine) / 3
            strongest = max(strength.values())
            for i, u in enumerate(units):
                if strength[u.source] < min(p.points_cross_ratio, 1.0) * strongest:
                    scores[i] = 0.0
        pool = [int(i) for i in np.argsort(-scores) if scores[i] >= max(p.min_probability, p.points_ratio * best)]
        chosen: list[int] = []
        while pool and len(chosen) < p.points_max:
            i = pool.pop(0)
            if any(float(vecs[i] @ vecs[j]) > p.points_redundancy for j in chosen):
                continue
            chosen.append(i)
        picked = set(chosen)
        chosen = complete_runs(units, scores, chosen, self.policy.points_max, asked_count(q.text))
        chosen = elaborate(units, chosen, p.points_max + p.elaborations)
        lead = "From the articles:" if len(chosen) > 1 else ""
        return Draft(
            [
                Claim(
                    units[i].text, units[i].n, bullet=len(chosen) > 1, score=float(scores[i]), follows=i not in picked
                )
                for i in chosen
            ],
            lead=lead,
        )
