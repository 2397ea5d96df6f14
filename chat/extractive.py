"""The extractive answerer: answers with the articles' own sentences, chosen the way the question type needs.

    answerer = ExtractiveAnswerer(embed, lexicon, embed_query=retriever.embed_query)
    draft = answerer.draft(question, evidence)      # a Draft of cited claims, checked next by chat.verify

Every sentence is scored against the question (chat.policy: MiniLM cosine, IDF-weighted word coverage with
abbreviations and synonyms, a figure bonus, the article's own FAQ, retrieval rank), then:
- fact / explanation: the best sentence and those close to it, the next sentence when it completes a figure
  or name, and the best sentence of another article that also answers;
- list: the names of the asked kind (funds, indices, companies, people, sectors, countries) in the best
  sentences that hold any, one bullet per sentence, each cited;
- summary: the article's own key-takeaway bullets when it opens with them, otherwise its most central
  sentences (LexRank over sentence embeddings, with a lead and title prior), in reading order;
- comparison: the best sentences of each side, grouped under the side;
- points: distinct sentences across passages (MMR), with risk or driver words counted for "what could go
  wrong" / "what is driving" questions and sentences about a risk going away held back;
- advice: what the articles tell investors to do or weigh (words of guidance count) and the facts around it,
  plus a note that this is not investment advice;
- a comparison of articles: each article's own answer to the question, grouped under the article.
Nothing is written that is not in an article, apart from the framing line and notes (no figures in them).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator

import numpy as np
from langchain_core.documents import Document

from chat.embeddings import EmbeddingCache
from chat.evidence import Evidence, article_label
from chat.figures import extract_numbers
from chat.glossary import (
    ADVICE_WORDS,
    CAUSAL_WORDS,
    DRIVER_WORDS,
    RISK_REMOVED_WORDS,
    RISK_WORDS,
)
from chat.lexicon import Lexicon
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
    metrics_of,
)
from chat.schema import Claim, Draft
from chat.selection import (
    ASKS_HOW,
    EXPLAIN_PART,
    asked_count,
    asked_noun,
    asked_roles,
    complete_runs,
    continues_quote,
    elaborate,
    metric_present,
    person_like,
    split_parts,
    title_case,
    topic_words,
    with_gaps,
)
from chat.sentences import (
    DIGIT,
    ENUMERATED,
    FEATURES,
    FIGURE_QUESTION,
    NOT_COMPANY,
    NUMBERED,
    ORG_WORDS,
    Unit,
    cue_share,
    figure_near,
    list_items,
    passage_units,
    term_named,
)
from chat.sides import dimension_of
from chat.summaries import central, takeaways
from chat.text import name_spans, tokenize

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
        # A comparison's sides are filtered by side (chat.extractive.comparison), not by all of its names.
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
            return self.summary(q, evidence)
        if q.type == COMPARISON and evidence.sides and not (q.sides and self._faq_answers(q, evidence)):
            return self.comparison(q, evidence)
        if q.type == LIST and q.list_kind:
            draft = self.listing(q, evidence)
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
            return self._facts(q, evidence)  # (an article that asks the whole question answers both parts)
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
            for claim in self._facts(sub, evidence).claims:
                if claim.text not in {c.text for c in claims}:
                    claims.append(claim)
        claims.sort(key=lambda c: c.n or 0)
        return Draft(claims[: self.policy.max_sentences + 2])

    def _facts(self, q: Question, evidence: Evidence, numbers: list[int] | None = None) -> Draft:
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

    def listing(self, q: Question, evidence: Evidence) -> Draft:
        """One bullet per sentence that names things of the asked kind, the names first."""
        p = self.policy
        units = self.units(q, evidence.passages)
        if not units:
            return Draft([])
        scores, vecs = self.score(q, units, evidence.passages)
        exclude = {n.tokens for n in q.names}
        names = self.lexicon.refresh().names
        items = [
            [u.table]
            if u.table and u.table[:1].isupper() and not re.search(r"\d", u.table)
            else list_items(u.text, q.list_kind or "", exclude, names)
            for u in units
        ]
        # People the question names: "Peter Roy", or "Pryce" when the articles call someone "Dana Pryce".
        persons = {
            span.text for u in units for span in name_spans(u.text, title_case_ok=True) if person_like(span.text)
        }
        surnames = {name.split()[-1] for name in persons}
        # (also when typed in lowercase: "which companies does peter roy like?")
        people = [
            n
            for n in q.subjects
            if n.text not in q.unknown
            and (
                (n in q.names and (person_like(n.text) or n.text in surnames))
                or title_case(n.text) in persons
                or title_case(n.text) in surnames
            )
        ]
        if people:
            # "Which firm does Samuel Rines work for?": only what is said with him, and any organisation named
            # beside him is an answer ("WisdomTree macro strategist Samuel Rines"); "Peter Roy, a portfolio
            # manager cited by Barron's" names no firm of his.
            about = set()
            for i, u in enumerate(units):
                if any(set(n.tokens) <= set(tokenize(u.text)) for n in people) or (
                    i
                    and i - 1 in about
                    and (units[i - 1].n, units[i - 1].paragraph) == (u.n, u.paragraph)
                    and re.match(r"^(?:He|She|His|Her|They|Their)\b", u.text)
                ):
                    about.add(i)  # said with the person, or the next sentence about them ("He likes …")
            employer = bool(
                re.search(
                    r"\b(?:firm|company|employer|bank|house|shop|outfit|work(?:s|ed)? (?:for|at))\b", q.text, re.I
                )
            )

            def with_person(i: int, u: Unit, found: list[str]) -> list[str]:
                if i not in about:
                    return []
                if not employer:
                    if q.list_kind != "company":
                        return found
                    # what a person points to needs no "company" cue: "He pointed to Procter & Gamble, …"
                    own = {t for n in people for t in n.tokens}
                    named = [x for x in list_items(u.text, "named", exclude, names) if not set(tokenize(x)) & own]
                    # ...and the firm the person works at ("Alder Point Capital") is not one of their picks
                    return [
                        x
                        for x in dict.fromkeys(found + named)
                        if not set(tokenize(x)) & (ORG_WORDS - {"co", "group", "inc", "corp"})
                    ]
                if q.list_kind not in ("company", "institution", "named"):
                    return found
                own = {t for n in people for t in n.tokens}
                spans = {n.text for n in name_spans(u.text, title_case_ok=True) if " " not in n.text}
                beside = [
                    x
                    for x in list_items(u.text, "named", exclude, names, frozenset(spans)) + found
                    if not set(tokenize(x)) & own and not set(tokenize(x)) & NOT_COMPANY
                ]
                return list(dict.fromkeys(x for x in beside if len(x) > 2))

            items = [with_person(i, u, x) for i, (x, u) in enumerate(zip(items, units))]
        if q.list_kind == "person":
            # "Which BOJ board members dissented?" asks for people in that role, not anyone quoted.
            roles = asked_roles(q.text)
            if roles:
                items = [x if set(tokenize(u.text)) & roles else [] for x, u in zip(items, units)]
        holding = [i for i in range(len(units)) if items[i]]
        if not holding:
            # No name of the asked kind anywhere in the evidence: a list of other sentences would not answer.
            return Draft([], unlisted=asked_noun(q) if q.list_kind in ("person", "company", "fund") else "")
        # "Which people does the AInvest piece quote?" asks for every name of the kind in the article; "Which
        # sectors is the Russell 2000 weighted toward?" for those of the sentences that answer it.
        every = bool(q.articles) and not topic_words(q)
        if re.search(r"\btables?\b", q.text, re.I) and any(units[i].table for i in holding):
            # "Which REITs appear in Keystone's yield table?": the rows of the table, all of them.
            holding = [i for i in holding if units[i].table]
            every = True
        best = max(float(scores[i]) for i in holding)
        if best < p.min_probability and not every:
            return Draft([])
        chosen: list[int] = []
        seen: list[set[str]] = []
        limit = p.list_max_sentences if not all(units[i].table for i in holding) else 2 * p.list_max_sentences
        for i in sorted(holding, key=lambda i: -scores[i]):
            if (scores[i] < p.list_ratio * best and not every) or len(chosen) >= limit:
                break
            # A name already listed, or a shorter way of writing one ("Russell 2000 ETF" after "iShares Russell
            # 2000 ETF"), adds nothing. (Table rows read alike by design: only their names tell them apart.)
            fresh = [x for x in items[i] if not any(set(tokenize(x)) <= old or old <= set(tokenize(x)) for old in seen)]
            if not fresh or (not units[i].table and any(float(vecs[i] @ vecs[j]) > p.duplicate_cosine for j in chosen)):
                continue
            seen.extend(set(tokenize(x)) for x in fresh)
            items[i] = fresh
            chosen.append(i)
        chosen.sort(key=lambda i: (units[i].source, units[i].order))
        noun = asked_noun(q)
        where = (
            " and ".join(a.label for a in q.articles) + (" articles" if len(q.articles) > 1 else " article")
            if q.articles
            else "The articles"
        )
        lead = f"{'The ' if q.articles else ''}{where} name{'s' if len(q.articles) == 1 else ''} these {noun}:"
        return Draft(
            [
                Claim(units[i].text, units[i].n, bullet=True, label=", ".join(items[i]), score=float(scores[i]))
                for i in chosen
            ],
            lead=lead,
        )

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

    def comparison(self, q: Question, evidence: Evidence) -> Draft:
        """Each side's answer, grouped under the side: an article's own answer to the question when articles are
        compared, otherwise the best sentences that name the side."""
        if not q.sides:
            return self._article_comparison(q, evidence)
        p = self.policy
        claims: list[Claim] = []
        used: set[str] = set()
        gaps: list[str] = []
        covered: list[str] = []
        terms_of = {label: self.lexicon.terms(label) for label, _ in evidence.sides}
        for k, (label, numbers) in enumerate(evidence.sides):
            units = self.units(q, evidence.passages, numbers)
            query = evidence.side_queries[k] if k < len(evidence.side_queries) else (evidence.query or None)
            # A side is named by its words or their synonyms ("lenders" by "banks").
            # A side that is a name ("Realty Income") must be named whole; "income investors" is not it.
            side_terms = terms_of.get(label, [])
            whole = bool(name_spans(label, title_case_ok=True)) and label[:1].isupper()
            if side_terms:
                hits = [sum(term_named(t, set(tokenize(f"{u.text} {u.context}"))) for t in side_terms) for u in units]
                named = [u for u, h in zip(units, hits) if (1 if whole else 2) * h >= len(side_terms)]
                # No sentence names the side at all: the passages say nothing on it (a gap, not another side's
                # sentences under its label). A sentence that shares only its commonest word does not name it
                # either ("oil prices" is not named by "prices"), nor can any when the articles never use one of
                # its words in any form.
                rarest = max(side_terms, key=lambda t: self.lexicon.idf(t.token))
                if any(not any(self.lexicon.knows(f) for f in t.forms | t.synonyms) for t in side_terms):
                    units = []
                else:
                    units = named or [
                        u for u, h in zip(units, hits) if h and rarest.forms & set(tokenize(f"{u.text} {u.context}"))
                    ]
            if not units:
                gaps.append(label)
                continue
            # A sentence on what is compared ("P/E multiples", "sector makeup") before any other about the side,
            # and one that gives the figure asked for ("15.6 times 2026 earnings" is a P/E) before those.
            dimension = self.lexicon.terms(dimension_of(q)) if tokenize(dimension_of(q)) else []
            if dimension:
                on_it = [u for u in units if self.lexicon.coverage(dimension, u.text) > 0]
                units = on_it or units
            metrics = metrics_of(q.text)
            if metrics:
                giving = [
                    u for u in units if any(metric_present(m, u.text) and extract_numbers(u.text) for m in metrics)
                ]
                units = giving or units
            scores, vecs = self.score(q, units, evidence.passages, query)
            # A sentence another side already gave (one that names both) is not this side's own answer.
            fresh = [i for i in range(len(units)) if units[i].text not in used]
            best = max((float(scores[i]) for i in fresh), default=0.0)
            if best < p.min_probability:
                if not fresh:
                    covered.append(label)  # what this side says is in a sentence another side gave
                continue
            # A sentence nearly as likely that names the other side too compares them itself ("trades at a 31%
            # discount to the S&P 500 (15.6x vs. 22.6x)" for "the S&P SmallCap 600 vs the SPX"): it comes first.
            others = [terms for other, terms in terms_of.items() if other != label and terms]

            def names_another(i: int) -> bool:  # (called only in this iteration of the loop)
                words = set(tokenize(units[i].text))  # noqa: B023
                return any(all(term_named(t, words) for t in terms) for terms in others)  # noqa: B023

            both = [i for i in fresh if scores[i] >= p.side_ratio * best and names_another(i)]
            if both:
                scores[both] = best + 1e-3
                best += 1e-3
            taken: list[int] = []
            for i in sorted(fresh, key=lambda i: -scores[i]):
                if len(taken) >= p.side_sentences or scores[i] < p.side_ratio * best:
                    break
                if any(float(vecs[i] @ vecs[j]) > p.duplicate_cosine for j in taken):
                    continue
                taken.append(int(i))
            taken.sort(key=lambda i: units[i].order)
            for i in taken:
                used.add(units[i].text)
                claims.append(Claim(units[i].text, units[i].n, bullet=True, group=label, score=float(scores[i])))
        if covered and len({c.group for c in claims}) == 1:
            # One side's sentences speak for both ("trades at a 31% discount to the S&P 500 (15.6x vs. 22.6x)"):
            # a plain answer, not one side's heading over the other's figures.
            claims = [dataclasses.replace(c, group="", bullet=len(claims) > 1) for c in claims]
        return with_gaps(Draft(claims, lead="From the articles:" if covered and len(claims) > 1 else ""), gaps)

    def _article_comparison(self, q: Question, evidence: Evidence) -> Draft:
        """Article against article ("Do the two articles agree on how cheap small caps are?"): each article's answer
        to the question itself, chosen as a fact or why / how question is (its best sentences and the next one that
        completes them), under the article."""
        inner = dataclasses.replace(q, type=EXPLANATION if ASKS_HOW.search(q.text) else FACT, sides=[], two_part=False)
        claims: list[Claim] = []
        used: set[str] = set()
        gaps: list[str] = []
        for label, numbers in evidence.sides:
            side = self._facts(inner, evidence, numbers).claims
            if not side:
                gaps.append(label)
            for c in side:
                if c.text not in used:
                    used.add(c.text)
                    claims.append(dataclasses.replace(c, bullet=True, group=label))
        return with_gaps(Draft(claims), gaps)

    def summary(self, q: Question, evidence: Evidence) -> Draft:
        """Each article's key points: its own takeaway bullets, or its most central sentences, in reading order."""
        p = self.policy
        claims: list[Claim] = []
        sides = evidence.sides or [(article_label(evidence.articles[0]), list(range(1, len(evidence.passages) + 1)))]
        per_article = p.summary_sentences if len(sides) == 1 else max(2, p.summary_sentences - 1)
        for (label, numbers), article in zip(sides, evidence.articles):
            units: list[Unit] = []
            seen: set[str] = set()
            for n in numbers:
                for u in passage_units(n, evidence.passages[n - 1]):
                    if u.text not in seen:  # chunks overlap: a sentence can sit in two of them
                        seen.add(u.text)
                        units.append(u)
            units.sort(key=lambda u: u.order)
            if not units:
                continue
            chosen = takeaways(units) or self._central(units, article.title, per_article)
            for u in chosen[: max(per_article, len(chosen) if len(chosen) <= 5 else per_article)]:
                claims.append(Claim(u.text, u.n, bullet=True, group=label if len(sides) > 1 else "", score=1.0))
        if len(sides) == 1 and evidence.articles:
            art = evidence.articles[0]
            lead = f"Key points of “{art.title}” ({article_label(art)}):"
        else:
            lead = "Key points of each article:"
        return Draft(claims, lead=lead)

    def _central(self, units: list[Unit], title: str, k: int) -> list[Unit]:
        vecs = self.embed([u.text for u in units])
        title_sim = vecs @ self.embed_query(title) if title else np.zeros(len(units))
        return central(units, vecs, title_sim, k, self.policy)
