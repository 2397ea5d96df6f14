"""What a kept answer sentence must be, beyond "its figures are in the cited passage" (chat.verify).

    reasons = screen(claims, question, passages, lexicon=..., embed=..., truncated=False)
    # one entry per claim: None (keep) or the rule that drops it

The same rules hold for both answerers; an extractive sentence, copied whole from its passage, passes them by
construction, and a model's sentence must earn its place:

- ``fragment``: not a complete sentence: under ``min_claim_words`` words, brackets that do not close
  ("(Small Caps Show."), a lowercase start on a short piece, or the unfinished tail of a generation that was cut
  (token cap or time budget);
- ``echo``: a question ("…?", "Q: …"), the question asked said back ("Yes, small-cap ETFs are sufficient, or
  should investors pick individual stocks."), a heading or title of the passages, the system prompt's rules, or
  a statement about the passages rather than from them ("The passage does not provide any information about …");
- ``duplicate``: says what a kept sentence already says (word overlap or MiniLM cosine);
- ``unsupported_words``: carries content words its cited passages lack ("intrinsic value"), beyond
  ``max_novel_words`` and ``max_novel_share`` of its words. Stems, abbreviations and the synonyms chat.glossary
  knows count as present; function words and the words about the documents themselves (chat.text.STOPWORDS) do
  not count; figures are chat.verify's job;
- ``off_question``: addresses the question less than ``min_claim_relevance`` (chat.vetting scores relevance;
  the rule is applied there, after scoring).

Thresholds live in chat.policy with how they were chosen (`python benchmarks/fit_claims.py`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from chat.lexicon import Lexicon
from chat.policy import POLICY, Policy
from chat.schema import Claim
from chat.text import content_words, split_sentences, tokenize

FRAGMENT = "fragment"
ECHO = "echo"
DUPLICATE = "duplicate"
UNSUPPORTED_WORDS = "unsupported_words"
OFF_QUESTION = "off_question"
INJECTION = "injection"
# Every reason a sentence can be dropped for, with chat.verify's own (no_citation, missing_numbers, low_support).
DROP_REASONS = (
    "no_citation",
    "missing_numbers",
    "low_support",
    INJECTION,
    FRAGMENT,
    ECHO,
    DUPLICATE,
    UNSUPPORTED_WORDS,
    OFF_QUESTION,
)

_WORD = re.compile(r"[^\W_]+(?:['’.,&-][^\W_]+)*%?", re.UNICODE)
_LABEL = re.compile(r"^\s*(?:Q|Question|Query)\s*[:.)-]\s*", re.I)
_TERMINAL = re.compile(r"[.!?:;%)\]\"'”’]\s*$")
_PAIRS = (("(", ")"), ("[", "]"), ("{", "}"))
# A statement about the passages instead of from them: "The passage does not provide any information about …".
_ABOUT_PASSAGES = re.compile(
    r"\b(?:passages?|articles?|the text|the context|the sources?)\b[^.]{0,40}?\b(?:do(?:es)?|did|is|are)(?:n't| not)\b"
    r"|(?:not|n't) (?:mentioned|stated|provided|specified|discussed|covered|given) (?:in|by) the "
    r"(?:passages?|articles?|text|context|sources?)\b|\bno (?:information|mention|data|details?) (?:on|about|of|regarding)\b"
    r"|^(?:the |my )?answer (?:to (?:this|the|your) question )?is\b"
    r"|^(?:they|it) (?:do(?:es)?|did)(?:n't| not) (?:mention|specify|say)\b",
    re.I,
)


def prompt_words(*texts: str) -> frozenset[str]:
    """The content words of the instructions a model was given (examples inside quotes left out: they hold
    words a real answer may use)."""
    return frozenset(w for t in texts for w in content_words(re.sub(r'"[^"]*"', " ", t)))


def is_fragment(text: str, *, cut_tail: bool = False, policy: Policy = POLICY) -> bool:
    """Not a complete sentence: too short, brackets that do not close, a short piece starting in lowercase, or
    (`cut_tail`) the last words of a generation that was stopped before the sentence ended."""
    words = _WORD.findall(text)
    if len(words) < policy.min_claim_words:
        return True
    if any(text.count(a) != text.count(b) for a, b in _PAIRS):
        return True
    first = text.lstrip(" \"'“‘*-•")[:1]
    if first.islower() and len(words) < 8:
        return True
    return cut_tail and not _TERMINAL.search(text)


def is_echo(
    text: str, question: str, headings: Sequence[str], instructions: frozenset[str], policy: Policy = POLICY
) -> bool:
    """A question, the question said back, a heading or title of the passages, or the prompt's rules."""
    if text.rstrip(" *\"'”").endswith("?") or _LABEL.match(text) or _ABOUT_PASSAGES.search(text):
        return True
    words = set(tokenize(text))
    if not words:
        return False
    if len(words - set(tokenize(question))) <= policy.echo_new_words:
        return True
    if any(words <= set(tokenize(h)) for h in headings if h):
        return True
    mine = content_words(text)
    return len(mine) >= 3 and len(mine & instructions) >= policy.echo_prompt_share * len(mine)


def novel_words(text: str, passage: str, lexicon: Lexicon) -> tuple[list[str], int]:
    """The content words of `text` that `passage` does not hold in any form the lexicon knows (stem,
    abbreviation expansion, synonym), and how many content words `text` has. Figures are left to chat.verify."""
    from chat.figures import parse_numbers  # figures with their units ("15.6 times", "75 basis points")

    present = set(tokenize(passage))
    terms = [t for t in lexicon.terms(parse_numbers(text)[1]) if not t.token[:1].isdigit()]
    novel = [t.typed or t.token for t in terms if not (t.forms & present)]
    return list(dict.fromkeys(novel)), len({t.token for t in terms})


def unsupported(novel: list[str], total: int, policy: Policy = POLICY) -> bool:
    return bool(novel) and (len(novel) > policy.max_novel_words or len(novel) > policy.max_novel_share * total)


def headings_of(passages: Sequence[str], titles: Sequence[str] = ()) -> list[str]:
    """The lines of the passages that are headings (short, no sentence end), and the titles given."""
    out = [t for t in titles if t]
    for p in passages:
        for line in p.splitlines():
            line = re.sub(r"^\s*(?:#{1,6}|\d{1,2}[.)])\s*", "", line).strip()
            if (
                line
                and len(line.split()) <= 14
                and not re.search(r"[.!]\s*$", line)
                and len(split_sentences(line)) == 1
            ):
                out.append(line)
    return out


def screen(
    claims: Sequence[Claim],
    question: str,
    passages: Sequence[str],
    *,
    lexicon: Lexicon,
    embed: Callable[[list[str]], np.ndarray],
    titles: Sequence[str] = (),
    truncated: bool = False,
    instructions: frozenset[str] = frozenset(),
    policy: Policy = POLICY,
) -> list[tuple[str | None, list[str]]]:
    """For each claim (already verified: `cited` holds the passages that support it), None to keep it or the
    rule that drops it, and the content words its passages lack. Claims are screened in order; a duplicate is
    one of an earlier kept claim."""
    heads = headings_of(passages, titles)
    vecs = embed([c.text for c in claims]) if claims else np.zeros((0, 1))
    kept: list[int] = []
    out: list[tuple[str | None, list[str]]] = []
    for i, c in enumerate(claims):
        cited = [passages[k - 1] for k in (c.cited or ([c.n] if c.n else [])) if 1 <= k <= len(passages)]
        meta = " ".join(titles)
        novel, total = novel_words(c.text, " ".join(cited + [meta]), lexicon)
        reason: str | None = None
        if is_fragment(c.text, cut_tail=truncated and i == len(claims) - 1, policy=policy):
            reason = FRAGMENT
        elif is_echo(c.text, question, heads, instructions, policy):
            reason = ECHO
        elif any(_duplicates(c.text, claims[j].text, float(vecs[i] @ vecs[j]), policy) for j in kept):
            reason = DUPLICATE
        elif unsupported(novel, total, policy):
            reason = UNSUPPORTED_WORDS
        if reason is None:
            kept.append(i)
        out.append((reason, novel))
    return out


def _duplicates(new: str, old: str, cosine: float, policy: Policy = POLICY) -> bool:
    """`new` says what `old` says: their content words overlap (Jaccard) by `duplicate_overlap` or their MiniLM
    cosine reaches `duplicate_cosine`, and `new` brings no figure of its own (table rows read alike by design:
    "Agree Realty: … yield 4.2%" is not "VICI Properties: … yield 5.8%")."""
    x, y = set(tokenize(new)), set(tokenize(old))
    if {w for w in x if w[:1].isdigit()} - y:
        return False
    overlap = len(x & y) / len(x | y) if x and y else 0.0
    return overlap >= policy.duplicate_overlap or cosine >= policy.duplicate_cosine


def audit(answer, question: str, lexicon: Lexicon) -> dict[str, list[str]]:
    """What a final `Answer` (chat.schema) keeps that it should not, read from the answer alone (its kept
    sentences and the quotes of their citations), apart from the code that kept them: echoes, duplicates,
    fragments, figures no cited passage holds, and (a softer signal) any content word no cited passage holds.
    Used by benchmarks/generative.py and the real-model tests."""
    from chat.figures import numbers_supported

    quotes = {c.n: c.quote for c in answer.citations}
    found: dict[str, list[str]] = {"echo": [], "duplicate": [], "fragment": [], "figure": [], "novel_words": []}
    if answer.refused:
        return found  # a refusal's sentence is ours ("The articles mention X but give no Y."), not the model's
    seen: list[set[str]] = []
    for s in answer.sentences:
        cited = [quotes[n] for n in s.citations if n in quotes]
        words = set(tokenize(s.text))
        if is_echo(s.text, question, [], frozenset()):
            found["echo"].append(s.text)
        if any(words and len(words & w) / len(words | w) >= 0.9 for w in seen):
            found["duplicate"].append(s.text)
        seen.append(words)
        if is_fragment(s.text):
            found["fragment"].append(s.text)
        ok, missing = numbers_supported(s.text, cited)
        if not ok:
            found["figure"].append(f"{s.text} (missing {', '.join(missing)})")
        titles = " ".join(f"{c.title} {c.publisher}" for c in answer.citations if c.n in s.citations)
        novel, _ = novel_words(s.text, " ".join(cited + [titles]), lexicon)
        if novel:
            found["novel_words"].append(f"{s.text}  → not in its passage: {', '.join(novel)}")
    return found
