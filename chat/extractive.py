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
- advice: the facts the articles give, plus a note that this is not investment advice.
Nothing is written that is not in an article, apart from the framing line and notes (no figures in them).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
from langchain_core.documents import Document

from chat.embeddings import EmbeddingCache
from chat.evidence import Evidence, article_label
from chat.glossary import COUNTRIES, DRIVER_WORDS, LIST_KINDS, METRICS, RISK_REMOVED_WORDS, RISK_WORDS, SECTORS
from chat.lexicon import Lexicon
from chat.policy import POLICY, Policy
from chat.questions import ADVICE, COMPARISON, EXPLANATION, FACT, LIST, POINTS, SUMMARY, Question
from chat.schema import Claim, Draft
from chat.text import name_spans, normalize, split_sentences, tokenize

log = logging.getLogger(__name__)

ADVICE_NOTE = ("This is not investment advice: the articles report facts and views, not what is right for your "
               "money.")
_FIGURE_QUESTION = re.compile(
    r"\b(?:how (?:much|many|big|large|high|low|long|far|fast|cheap|expensive)|what (?:percentage|percent|share|"
    r"level|rate|price|multiple|ratio|yield|number|amount|figure|size|value|return|margin|growth)|by how much|"
    r"what (?:was|is|were|are) the (?:\w+ ){0,3}(?:rate|price|level|yield|ratio|multiple|return|growth|margin|size|"
    r"value|amount|number|share|percentage|target|estimate|forecast|discount|premium|gap|spread|count))\b", re.I)
_NUMBER = re.compile(r"\d")
_TAKEAWAYS = re.compile(r"\b(?:key (?:takeaways?|points|facts)|takeaways|highlights|at a glance|in brief|summary|"
                        r"tl;?dr|what (?:you need|to know)|the bottom line|quick take)\b", re.I)
_LABELLED = re.compile(r"^(?P<label>[A-Z][\w&'’/ .-]{1,40}?):\s+(?P<rest>\S.*)$")


@dataclass
class Unit:
    """One sentence of a passage, with where it sits."""

    n: int  # passage number (1-based)
    paragraph: int
    position: int  # sentence index within the passage
    text: str
    asked: str  # the FAQ question ("Q: …?") that this sentence's paragraph answers, if any
    bullet: bool
    heading: str  # the heading it sits under in its passage ("" before the first)
    source: str
    order: tuple[int, int]  # (chunk index, position): reading order within the article


def passage_units(n: int, doc: Document) -> list[Unit]:
    """Answerable sentences of a passage: no headings, no questions, no fragments; FAQ answers know their Q."""
    units: list[Unit] = []
    asked = ""
    heading = ""
    source = str(doc.metadata.get("source", ""))
    chunk = int(doc.metadata.get("chunk_index", 0) or 0)
    for para_no, para in enumerate(re.split(r"\n\s*\n", doc.page_content)):
        para = para.strip()
        if not para:
            continue
        if re.match(r"^#{1,6}\s", para):
            heading = re.sub(r"^#{1,6}\s+", "", para.splitlines()[0]).strip()
            para = "\n".join(para.splitlines()[1:]).strip()
            if not para:
                continue
        if para.endswith("?") and "\n" not in para:  # an FAQ question line: remember it for the answer below
            asked = re.sub(r"^\s*(?:\*\*)?Q:?\s*(?:\*\*)?\s*", "", para)
            continue
        for line in para.splitlines():
            bullet = bool(re.match(r"^\s*(?:[-*•]\s+|\d{1,2}[.)]\s+)", line))
            line = re.sub(r"^\s*(?:[-*•]\s+|\d{1,2}[.)]\s+|(?:\*\*)?[QA]:(?:\*\*)?\s+)", "", line)
            line = line.replace("**", "")
            if line.startswith("|"):
                continue  # table rows are not sentences
            for sentence in split_sentences(line):
                sentence = sentence.strip()
                # A lowercase start is a fragment whose subject was a link the capture lost.
                if len(sentence.split()) >= 5 and not sentence.endswith("?") and not sentence[0].islower():
                    units.append(Unit(n, para_no, len(units), sentence, asked, bullet, heading, source,
                                      (chunk, len(units))))
        asked = ""
    return units


def _phrase_in(phrase: str, text: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", text) is not None


def cue_share(text: str, words: tuple[str, ...]) -> float:
    """How many of the cue words or phrases a sentence uses (0, then 1, 2, 3+ → up to 1)."""
    low = " " + normalize(text).lower() + " "
    return min(1.0, sum(1 for w in words if _phrase_in(w, low)) / 2)


# --- list items ------------------------------------------------------------------------------------

_GENERIC = {"etf", "etfs", "fund", "funds", "index", "indic", "exchang", "trade", "trust", "stock", "share",
            "compani", "firm", "sector", "market", "ai", "ipo", "the", "us", "u.s", "ceo", "new", "york"}
_NOT_COMPANY = {"feder", "reserv", "fed", "treasuri", "congress", "senat", "white", "hous", "governor", "central",
                "bank", "ministri", "govern", "depart", "offic", "commiss", "sec", "imf", "opec", "magnific", "seven",
                "wall", "street", "journal", "barron", "reuter", "bloomberg", "cnbc", "presid", "chairman"}
_ORG_WORDS = _NOT_COMPANY | {"etf", "fund", "index", "inc", "corp", "group", "capit", "advisor", "partner", "research",
                             "asset", "manag", "secur", "invest", "llc", "ltd", "plc", "co", "associ", "market"}


def list_items(text: str, kind: str, exclude: set[tuple[str, ...]]) -> list[str]:
    """The names of `kind` in a sentence ("fund", "index", "company", "person", "sector", "country")."""
    low = " " + normalize(text).lower() + " "
    if kind in ("sector", "country"):
        table = SECTORS if kind == "sector" else COUNTRIES
        found = [w for w in sorted(table, key=len, reverse=True) if _phrase_in(w, low)]
        out: list[str] = []
        for w in found:
            if not any(w in longer for longer in out) and tuple(tokenize(w)) not in exclude:
                m = re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", normalize(text), re.I)
                if kind == "country" and w == "us" and (not m or m.group() != "US"):
                    continue
                out.append(m.group() if m else w)
        return out
    marks = set(LIST_KINDS.get(kind, {}).get("marks", ()))
    sentence_words = set(re.findall(r"[a-z]+", low))
    items = []
    for name in name_spans(text, title_case_ok=True):
        toks = set(name.tokens)
        if tuple(name.tokens) in exclude or not (toks - _GENERIC):
            continue
        words = set(re.findall(r"[a-z&]+", name.text.lower()))
        is_fund = bool(words & {"etf", "fund", "trust", "spdr"}) or (words & {"ishares", "vanguard", "invesco"} and len(words) > 1)
        is_index = not is_fund and bool(words & {"index", "russell", "s&p", "nasdaq", "dow", "nikkei", "topix", "ftse",
                                                 "msci", "stoxx", "dax", "kospi", "composite"})
        parts = name.text.split()
        is_person = (not is_fund and not is_index and 2 <= len(parts) <= 4
                     and all(p[:1].isupper() and p[1:].islower() for p in parts if p.isalpha())
                     and not (toks & _ORG_WORDS) and bool(sentence_words & set(LIST_KINDS["person"]["marks"])))
        if kind == "fund" and is_fund:
            items.append(name.text)
        elif kind == "index" and is_index:
            items.append(name.text)
        elif kind == "person" and is_person:
            items.append(name.text)
        elif kind == "company" and not (is_fund or is_index or is_person) and not (toks & _NOT_COMPANY) \
                and not any(name.text.lower() == s for s in SECTORS + COUNTRIES) and len(name.text) > 2 \
                and (sentence_words & (set(marks) | {"company", "companies", "provider", "maker", "firm", "stock",
                                                      "shares", "specializing", "contender", "option", "pick",
                                                      "lender", "bank", "producer", "miner", "operator", "reit",
                                                      "owner", "developer", "group", "brand", "retailer", "name",
                                                      "names", "including", "such", "like", "rose", "fell", "jumped",
                                                      "gained", "climbed", "slid", "dropped", "rallied", "led"})
                     or re.search(rf"{re.escape(name.text)}\s*\((?:NYSE|NASDAQ|Nasdaq|TSX|LSE)?:?\s*[A-Z]{{1,5}}\)", text)):
            items.append(name.text)
    return list(dict.fromkeys(items))


# --- the answerer ----------------------------------------------------------------------------------


class ExtractiveAnswerer:
    """Drafts answers from the evidence's own sentences; deterministic, offline, nothing invented."""

    mode = "extractive"
    live = False  # nothing worth streaming before verification

    def __init__(self, embed: EmbeddingCache, lexicon: Lexicon, *,
                 embed_query: Callable[[str], np.ndarray] | None = None, policy: Policy = POLICY) -> None:
        self.embed = embed
        self.lexicon = lexicon
        self.embed_query = embed_query or (lambda q: np.asarray(embed.embeddings.embed_query(q), dtype=np.float32))
        self.policy = policy

    # --- scoring ---------------------------------------------------------------------------------------

    def score(self, q: Question, units: list[Unit], query: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Each unit's score for answering `q` (see chat.policy), and the unit vectors."""
        p = self.policy
        qvec = self.embed_query(query or q.normalized.text)
        asked = sorted({u.asked for u in units if u.asked})
        vecs = self.embed([u.text for u in units] + asked)
        sims = vecs[: len(units)] @ qvec
        qsims = dict(zip(asked, vecs[len(units):] @ qvec)) if asked else {}
        terms = q.normalized.terms if query is None else self.lexicon.terms(query)
        wants_figure = bool(_FIGURE_QUESTION.search(q.text)) or q.metric is not None
        scores = np.zeros(len(units), dtype=np.float32)
        for i, (u, sim) in enumerate(zip(units, sims)):
            s = p.w_cosine * float(sim) + p.w_coverage * self.lexicon.coverage(terms, u.text)
            if wants_figure and _NUMBER.search(u.text):
                s += p.figure_bonus
            if u.asked and qsims.get(u.asked, 0.0) >= p.faq_match:
                s += p.faq_bonus
            scores[i] = s - p.rank_penalty * (u.n - 1)
        return scores, vecs[: len(units)]

    def units(self, q: Question, passages: list[Document], numbers: list[int] | None = None) -> list[Unit]:
        """The sentences of the passages (only of `numbers` when given) that may answer `q`: a question that
        names things the corpus knows is answered only from passages that name enough of them."""
        named = [self.lexicon.name_forms(n.text) for n in q.names if n.text not in q.unknown]
        named = [forms for forms in named if forms]
        out = []
        for n, doc in enumerate(passages, 1):
            if numbers is not None and n not in numbers:
                continue
            if named:
                words = set(tokenize(" ".join([doc.page_content, doc.metadata.get("title", ""),
                                               doc.metadata.get("publisher", "")])))
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
        if q.type == COMPARISON and evidence.sides:
            return self.comparison(q, evidence)
        if q.type == LIST and q.list_kind:
            draft = self.listing(q, evidence)
            if draft.claims:
                return draft
        if q.type in (POINTS, ADVICE, SUMMARY):
            draft = self.points(q, evidence)
            if q.type == ADVICE and draft.claims:
                draft.notes.append(ADVICE_NOTE)
            return draft
        return self.facts(q, evidence)

    def stream(self, q: Question, evidence: Evidence) -> Iterator[str]:
        """The draft as text with [n] markers (what a generative answerer would have written)."""
        for claim in self.draft(q, evidence).claims:
            yield f"{claim.text} [{claim.n}] "

    def facts(self, q: Question, evidence: Evidence) -> Draft:
        p = self.policy
        units = self.units(q, evidence.passages)
        if not units:
            return Draft([])
        scores, vecs = self.score(q, units)
        top = int(np.argmax(scores))
        if scores[top] < p.min_score:
            return Draft([])
        same_paragraph = [i for i, u in enumerate(units) if (u.n, u.paragraph) == (units[top].n, units[top].paragraph)]
        qvec = self.embed_query(q.normalized.text)
        faq_hit = units[top].asked and float(self.embed([units[top].asked])[0] @ qvec) >= p.faq_match
        if faq_hit:
            # The article asks this very question in its FAQ: its answer paragraph is the answer, whole.
            scores[same_paragraph] = np.maximum(scores[same_paragraph], scores[top])
        else:
            scores[[i for i in same_paragraph if i != top]] += p.paragraph_bonus
        best = float(scores[top])
        chosen: list[int] = []
        words = 0
        max_sentences = p.max_sentences

        def take(i: int) -> None:
            nonlocal words
            if any(float(vecs[i] @ vecs[j]) > p.duplicate_cosine for j in chosen):
                return  # the same fact twice (overlapping chunks, both articles) reads badly
            length = len(units[i].text.split())
            if chosen and words + length > p.max_words:
                return
            chosen.append(i)
            words += length

        order = [int(i) for i in np.argsort(-scores)]
        for i in order:
            if len(chosen) >= max_sentences or scores[i] < max(p.min_score, best - p.margin):
                break
            take(i)
        # The sentence right after the best one, when it holds a figure or name of the question that none of
        # the chosen ones has: "... trades at 15.6 times 2026 earnings." + "In stark contrast, the S&P 500
        # trades at 22.6 times." (a plain word such as "compared" is not enough).
        wanted = {t.token for t in q.normalized.terms if t.token[0].isdigit()} | {t for n in q.names for t in n.tokens}
        have = set().union(*(set(tokenize(units[i].text)) for i in chosen)) if chosen else set()
        for i, u in enumerate(units):
            if ((u.n, u.paragraph, u.position) == (units[top].n, units[top].paragraph, units[top].position + 1)
                    and i not in chosen and scores[i] >= p.min_score
                    and len(chosen) < max_sentences and (set(tokenize(u.text)) & wanted) - have):
                take(i)
        # The best sentence of each other article that also speaks to the question, so that a question both
        # articles answer is not answered from one of them only.
        covered = {units[i].source for i in chosen}
        for i in order:
            if len(chosen) >= max_sentences or scores[i] < max(p.min_score, best - p.cross_margin):
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
        scores, vecs = self.score(q, units)
        exclude = {n.tokens for n in q.names}
        items = [list_items(u.text, q.list_kind or "", exclude) for u in units]
        holding = [i for i in range(len(units)) if items[i]]
        if not holding:
            return Draft([])
        # "Which people does the AInvest piece quote?" asks for every name of the kind in the article; "Which
        # sectors is the Russell 2000 weighted toward?" for those of the sentences that answer it.
        every = bool(q.articles) and not _topic_words(q)
        best = max(float(scores[i]) for i in holding)
        if best < p.min_score and not every:
            return Draft([])
        chosen: list[int] = []
        seen: set[str] = set()
        for i in sorted(holding, key=lambda i: -scores[i]):
            if (scores[i] < best - p.list_margin and not every) or len(chosen) >= p.list_max_sentences:
                break
            fresh = [x for x in items[i] if x.lower() not in seen]
            if not fresh or any(float(vecs[i] @ vecs[j]) > p.duplicate_cosine for j in chosen):
                continue
            seen.update(x.lower() for x in fresh)
            items[i] = fresh
            chosen.append(i)
        chosen.sort(key=lambda i: (units[i].source, units[i].order))
        noun = _asked_noun(q)
        where = (" and ".join(a.label for a in q.articles) + (" articles" if len(q.articles) > 1 else " article")
                 if q.articles else "The articles")
        lead = f"{'The ' if q.articles else ''}{where} name{'s' if len(q.articles) == 1 else ''} these {noun}:"
        return Draft([Claim(units[i].text, units[i].n, bullet=True, label=", ".join(items[i]), score=float(scores[i]))
                      for i in chosen], lead=lead)

    def points(self, q: Question, evidence: Evidence) -> Draft:
        """Distinct relevant sentences across passages (MMR), as bullets."""
        p = self.policy
        units = self.units(q, evidence.passages)
        if not units:
            return Draft([])
        topic = q.topic if len(tokenize(q.topic)) >= 2 else None
        scores, vecs = self.score(q, units, topic)
        if q.risk:
            scores += np.array([p.cue_weight * (cue_share(u.text, RISK_WORDS) - cue_share(u.text, RISK_REMOVED_WORDS))
                                for u in units], dtype=np.float32)
        elif q.type == POINTS:
            scores += np.array([p.cue_weight * cue_share(u.text, DRIVER_WORDS) for u in units], dtype=np.float32)
        best = float(scores.max())
        if best < p.min_score:
            return Draft([])
        pool = [i for i in np.argsort(-scores) if scores[i] >= max(p.min_score, best - p.points_margin)]
        chosen: list[int] = []
        while pool and len(chosen) < p.points_max:
            i = pool.pop(0)
            if any(float(vecs[i] @ vecs[j]) > p.points_redundancy for j in chosen):
                continue
            chosen.append(int(i))
        lead = "From the articles:" if len(chosen) > 1 else ""
        return Draft([Claim(units[i].text, units[i].n, bullet=len(chosen) > 1, score=float(scores[i]))
                      for i in chosen], lead=lead)

    def comparison(self, q: Question, evidence: Evidence) -> Draft:
        """The best sentences of each side, grouped under the side."""
        p = self.policy
        claims: list[Claim] = []
        used: set[str] = set()
        gaps = []
        for label, numbers in evidence.sides:
            units = self.units(q, evidence.passages, numbers)
            side_tokens = set(tokenize(label)) if q.sides else set()
            if side_tokens:
                units = [u for u in units if len(side_tokens & set(tokenize(u.text))) * 2 >= len(side_tokens)] or units
            if not units:
                gaps.append(label)
                continue
            scores, vecs = self.score(q, units, evidence.query or None)
            best = float(scores.max())
            if best < p.min_score:
                gaps.append(label)
                continue
            taken: list[int] = []
            for i in np.argsort(-scores):
                if len(taken) >= p.side_sentences or scores[i] < best - p.side_margin:
                    break
                if units[i].text in used or any(float(vecs[i] @ vecs[j]) > p.duplicate_cosine for j in taken):
                    continue
                taken.append(int(i))
            taken.sort(key=lambda i: units[i].order)
            for i in taken:
                used.add(units[i].text)
                claims.append(Claim(units[i].text, units[i].n, bullet=True, group=label, score=float(scores[i])))
        draft = Draft(claims)
        draft.gaps = [f"The articles say nothing on this about {g}." for g in gaps] if claims else []
        return draft

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
            chosen = self._takeaways(units) or self._central(units, article.title, per_article)
            for u in chosen[:max(per_article, len(chosen) if len(chosen) <= 5 else per_article)]:
                claims.append(Claim(u.text, u.n, bullet=True, group=label if len(sides) > 1 else "", score=1.0))
        if len(sides) == 1 and evidence.articles:
            art = evidence.articles[0]
            lead = f"Key points of “{art.title}” ({article_label(art)}):"
        else:
            lead = "Key points of each article:"
        return Draft(claims, lead=lead)

    @staticmethod
    def _takeaways(units: list[Unit]) -> list[Unit]:
        """The bullets an article opens with (or lists under a "Key takeaways" heading), when there are 3–6."""
        headed = [u for u in units if u.bullet and _TAKEAWAYS.search(u.heading)]
        if 3 <= len({u.paragraph for u in headed} | {u.position for u in headed}) and len(headed) <= 6:
            return headed
        opening: list[Unit] = []
        for u in units[:12]:
            if u.bullet:
                opening.append(u)
            elif opening:
                break
            elif len(u.text.split()) > 25:
                break  # prose came first: no opening bullets
        labelled = [u for u in opening if _LABELLED.match(u.text)]
        return opening if 3 <= len(opening) <= 6 and len(labelled) * 2 >= len(opening) else []

    def _central(self, units: list[Unit], title: str, k: int) -> list[Unit]:
        """LexRank centrality over sentence embeddings, plus a lead and a title prior; k diverse sentences."""
        p = self.policy
        vecs = self.embed([u.text for u in units])
        sim = np.clip(vecs @ vecs.T, 0.0, 1.0)
        np.fill_diagonal(sim, 0.0)
        rows = sim.sum(axis=1, keepdims=True)
        walk = np.divide(sim, rows, out=np.full_like(sim, 1.0 / len(units)), where=rows > 0)
        rank = np.full(len(units), 1.0 / len(units))
        for _ in range(50):
            new = 0.15 / len(units) + 0.85 * walk.T @ rank
            if np.abs(new - rank).sum() < 1e-6:
                rank = new
                break
            rank = new
        rank = rank / rank.max()
        position = np.arange(len(units)) / max(1, len(units) - 1)
        title_sim = vecs @ self.embed_query(title) if title else np.zeros(len(units))
        score = rank + p.summary_lead_weight * (1 - position) + p.summary_title_weight * title_sim
        chosen: list[int] = []
        for i in np.argsort(-score):
            if len(chosen) >= k:
                break
            if any(float(vecs[i] @ vecs[j]) > p.points_redundancy for j in chosen):
                continue
            chosen.append(int(i))
        return [units[i] for i in sorted(chosen)]


def _topic_words(q: Question) -> set[str]:
    """What a list question asks about besides the kind of thing and the article ("weighted", "ripe takeover")."""
    kind_words = {t for spec in LIST_KINDS.values() for w in spec["asks"] for t in tokenize(w)}
    framing = set(tokenize("named name quoted cited mention mentioned highlighted highlight single out feature "
                           "featured discuss discussed individual specific which what list all every any other"))
    own = {t for a in q.articles for t in tokenize(f"{a.publisher} {a.title}")}
    return {t for t in tokenize(q.topic) if t not in kind_words | framing | own}


def _asked_noun(q: Question) -> str:
    """The plural noun the question used for what it lists ("ETFs", "stocks", "sectors")."""
    kind = q.list_kind or ""
    asks = LIST_KINDS.get(kind, {}).get("asks", ())
    for word in re.findall(r"[A-Za-z&]+", q.text):
        if word.lower() in asks and word.lower() not in ("who", "whom", "name", "names", "quoted", "sources"):
            w = word if word.isupper() or word[-1] == "s" else word + ("s" if not word.endswith("y") else "")
            return w if not w.endswith("ys") or w.lower().endswith(("eys", "ays", "oys")) else w[:-2] + "ies"
    return {"fund": "funds", "index": "indices", "person": "people", "sector": "sectors", "country": "countries",
            "company": "companies"}.get(kind, "names")


def metric_present(metric: str, text: str) -> bool:
    """Whether a text gives any form of a detail from glossary.METRICS: all the (stemmed) words of one of its
    forms, in any order ("15.6 times 2026 earnings" gives a price-to-earnings ratio: "times earnings")."""
    words = set(tokenize(text))
    for form in (metric,) + METRICS.get(metric, ()):
        toks = set(tokenize(form))
        if toks and toks <= words:
            return True
    return False
