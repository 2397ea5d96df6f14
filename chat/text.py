"""The one text toolkit of the answering core: every module that reads words uses these functions.

    from chat.text import tokenize, split_sentences, name_spans
    tokenize("Small caps traded at a 31% discount")   # ['small', 'cap', 'trade', '31', 'discount']

- `tokenize`: lowercased content tokens, Snowball-stemmed ("trades", "traded", "trading" → "trade"), figures kept
  as bare numbers ("$75" → "75", "2,000" → "2000", "31%" → "31"), hyphenated words split ("small-cap" →
  "small", "cap"), possessives dropped ("Tesla's" → "tesla"), one stopword list. BM25, coverage, name matching,
  verification and the evaluation all use it, so a word matches itself everywhere.
- `split_sentences`: finance-aware sentence splitter that keeps `[n]` markers (chat.markers) with their sentence.
- `name_spans`: the capitalised names of a text ("iShares Russell 2000 ETF", "Peter Roy", "S&P 500").
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

from chat.markers import MARKER_PATTERN, MARKER_RE

# fmt: off
__all__ = [
    "NUMBER_WORDS", "STOPWORDS", "Name", "content_words", "name_spans", "normalize", "only_punctuation",
    "split_sentences", "stem", "surface_words", "tokenize",
]
# fmt: on

# ---------------------------------------------------------------------------
# Sentence splitting
# ---------------------------------------------------------------------------

# fmt: off
# Never a sentence end, whatever follows.
_NEVER_END = frozenset({
    "mr", "mrs", "ms", "dr", "prof", "sen", "rep", "gov", "gen", "lt", "col", "capt", "sgt", "st", "mt",
    "vs", "v", "e.g", "i.e", "cf", "approx", "esp", "viz", "al", "ca",
})
# Not an end when a number follows ("No. 5", "Jan. 23"); otherwise ambiguous.
_BEFORE_DIGIT = frozenset({
    "no", "nos", "vol", "fig", "p", "pp", "sec", "ch", "art",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
})
# Can end a sentence ("...listed in the U.S. The Fed ...") but usually do not
# ("U.S. Treasury", "Apple Inc. shares", "4 p.m. ET").
_AMBIGUOUS = frozenset({
    "inc", "corp", "co", "ltd", "llc", "plc", "bros", "jr", "sr", "etc", "est",
    "u.s", "u.k", "u.n", "e.u", "a.m", "p.m", "n.y", "d.c", "l.p", "s.a",
})
# fmt: on
_DOTTED_RE = re.compile(r"(?:[a-z]\.)+[a-z]")
# fmt: off
# After an ambiguous abbreviation, a capitalised word from this list is taken
# as the start of a new sentence; any other capitalised word (a name, "Treasury")
# as the continuation of the current one.
_STARTERS = frozenset("""
    a an the this that these those it its it's in on at as but however meanwhile also and or so yet for with while
    although though after before since because if when where there here they we he she i you our their his her
    analysts investors shares stocks according overall moreover furthermore additionally still despite by from what
    which who how why some many most all both each one such other another not no yes then thus therefore instead
    similarly finally first second third last over under during earlier later now today recently currently given
    separately notably importantly likewise nevertheless nonetheless indeed
""".split())
# fmt: on

_TERMINAL_RE = re.compile(
    rf"""
    (?P<p>\.{{2,}}|…+|[.!?]+|[。！？]+)
    (?P<close>["'”’»)]*)
    (?P<marks>(?:\s*{MARKER_PATTERN})*)
    """,
    re.X,
)
_BULLET_RE = re.compile(r"(?:[-*+•▪‣◦·–—>]+|\d{1,3}[.)]|#{1,6})\s+")
_NEXT_WORD_RE = re.compile(r"[\"'“‘(\[]*([A-Za-z]+)")
_LAST_TOKEN_RE = re.compile(r"(\S+)$")


def _starts_sentence(rest: str) -> bool:
    if rest[:1] in "—–-":
        return False  # "U.S. — Oil prices …": a dash goes on with the sentence
    m = _NEXT_WORD_RE.match(rest)
    if not m:
        # "U.S. 10-year yields": a digit continues; anything non-Latin we cannot judge, so split.
        return not rest[:1].isdigit()
    return m.group(1).lower() in _STARTERS


def _is_boundary(block: str, m: re.Match[str]) -> bool:
    p = m.group("p")
    if p[0] in "。！？":
        return True
    end = m.end()
    if end < len(block) and not block[end].isspace():
        return False  # "15.6x", "$2.5", "U.S" inner dot, "rates.The"
    rest = block[end:].lstrip()
    if not rest:
        return True
    if ".." in p or "…" in p:
        return False  # an ellipsis elides words inside a quoted sentence
    if re.search(r"[\]】]\s*$", block[: m.start()]) and MARKER_RE.search(block[max(0, m.start() - 24) : m.start()]):
        return True  # "...$75 billion [2]. the fund": a citation closes its sentence whatever follows
    if rest[0].islower():
        return False
    if p != ".":
        return True
    tok_m = _LAST_TOKEN_RE.search(block, 0, m.start())
    if not tok_m:
        return True
    tok = tok_m.group(1).lstrip("([{\"'“‘").lower()
    if tok in _NEVER_END:
        return False
    if tok in _BEFORE_DIGIT:
        return False if rest[0].isdigit() else _starts_sentence(rest)
    if tok in _AMBIGUOUS or _DOTTED_RE.fullmatch(tok) or (len(tok) == 1 and tok.isalpha()):
        return _starts_sentence(rest)
    return True


def _ends_terminal(line: str) -> bool:
    s = MARKER_RE.sub("", line).rstrip().rstrip("\"'”’»)").rstrip()
    return s.endswith((".", "!", "?", "…", "。", "！", "？"))


def _blocks(text: str) -> list[str]:
    """Lines grouped into blocks: blank lines and bullets always separate, a
    lowercase line continuing an unterminated line is a hard-wrapped sentence."""
    blocks: list[str] = []
    current: list[str] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.strip()
        if not line:
            if current:
                blocks.append(" ".join(current))
                current = []
            continue
        if bullet := _BULLET_RE.match(line):
            if current:
                blocks.append(" ".join(current))
            content = line[bullet.end() :].strip()
            current = [content] if content else []
            continue
        if current and line[0].islower() and not _ends_terminal(current[-1]):
            current.append(line)
            continue
        if current:
            blocks.append(" ".join(current))
        current = [line]
    if current:
        blocks.append(" ".join(current))
    return blocks


def _split_block(block: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    for m in _TERMINAL_RE.finditer(block):
        if _is_boundary(block, m):
            piece = block[start : m.end()].strip()
            if piece:
                pieces.append(piece)
            start = m.end()
    tail = block[start:].strip()
    if tail:
        pieces.append(tail)
    return pieces


def only_punctuation(text: str) -> bool:
    # Emoji and other symbols count as text: "🚀🚀 [2]." is a (contentless) sentence, not a stray marker.
    return all(ch.isspace() or unicodedata.category(ch).startswith("P") for ch in text)


def _is_marker_only(piece: str) -> bool:
    return bool(MARKER_RE.search(piece)) and only_punctuation(MARKER_RE.sub("", piece))


def split_sentences(text: str) -> list[str]:
    """Split English finance prose into sentences.

    Markers stay with the sentence they follow ("rates.[2] Next" -> "rates.[2]",
    "Next"); lines, blank lines and bullet items are boundaries and bullet /
    list prefixes are removed.  A fragment that is nothing but markers (a
    marker wrapped onto its own line) is appended to the preceding sentence.
    """
    if not text or not text.strip():
        return []
    out: list[str] = []
    for block in _blocks(text):
        for piece in _split_block(block):
            if out and _is_marker_only(piece):
                out[-1] = f"{out[-1]} {piece}"
            else:
                out.append(piece)
    return out


# ---------------------------------------------------------------------------
# Words
# ---------------------------------------------------------------------------

# fmt: off
# Function words, question framing and words about the documents themselves ("according to the article"): none
# of them tells one passage from another, and an answer sentence needs no support for them.
STOPWORDS = frozenset("""
    a about above across after again against all almost also although am among an and another any anybody anyone
    anything are around as at be because been before being below between both but by can cannot could did do does
    doing done down during each either else even ever every few for from further had has have having he her here
    hers herself him himself his how however i if in into is it its itself just least less let like me might more
    most much must my myself no nor not now of off often on once only onto or other others otherwise our ours
    ourselves out over own per perhaps quite rather really same shall she should since so some such than that the
    their theirs them themselves then there therefore these they this those though through thus to too toward
    towards under until up upon us very via was we well were what whatever when where whether which while who whom
    whose why will with within without would yet you your yours yourself many
    dont doesnt didnt isnt arent wasnt werent wont cant couldnt shouldnt wouldnt hasnt havent hadnt im ive youre
    whats hows whys wheres whos thats theres lets
    eg ie etc vs versus
    tell explain describe please give show list name names named mention mentions mentioned discuss discussed say
    says said talk talks talked state stated note noted according cite cites cited quote quotes quoted write wrote
    written
    article articles piece pieces story stories post text passage passages source sources document documents
    author authors writer context
    ok okay hey hi hello thanks thank pls plz kindly wait um uh hmm lol yeah yep nope thing things stuff anymore
    actually basically kinda sorta gonna wanna
    approximately roughly circa nearly estimated
""".split())
# fmt: on
# A Snowball stemmer keeps the word it works on in the object: one per thread (requests are served in parallel).
_STEMMERS = threading.local()
# A word: letters with inner apostrophes, "&" (S&P, M&A) or dots (U.S.); a figure: digits with "," or ".".
_TOKEN_RE = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:['’&.][^\W\d_]+)*", re.UNICODE)
_SPACED_AMP = re.compile(r"\b([A-Z])\s*&\s*([A-Z])\b")  # "S & P" → "S&P"


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball (Porter 2) stem of a lowercased word; words with "&" or digits are kept as they are."""
    if not word.isalpha() or not word.isascii():
        return word
    stemmer = getattr(_STEMMERS, "english", None)
    if stemmer is None:
        stemmer = _STEMMERS.english = snowballstemmer.stemmer("english")
    return stemmer.stemWord(word)


def normalize(text: str) -> str:
    """Unicode-normalised text with typographic quotes and dashes made plain ("S & P" → "S&P")."""
    text = unicodedata.normalize("NFKC", text or "")
    text = text.translate(str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "−": "-"}))
    return _SPACED_AMP.sub(r"\1&\2", text)


# fmt: off
# Number words are their figures: "two-year" and "2-year" (and a question's "2y") are the same note, "three
# rate cuts" and "3 rate cuts" the same count. ("one" is left alone: "one of the…" counts nothing.)
NUMBER_WORDS = {"two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8",
                 "nine": "9", "ten": "10", "eleven": "11", "twelve": "12"}
# fmt: on


def _raw_tokens(text: str) -> list[str]:
    return list(_raw_token_tuple(text))


# A question reads the same sentences many times over (features, coverage, claims, verification): the tokens of the
# last texts are kept. Pure functions of the text, returned as fresh lists.
@functools.lru_cache(maxsize=32768)
def _raw_token_tuple(text: str) -> tuple[str, ...]:
    out = []
    for tok in _TOKEN_RE.findall(normalize(text).lower()):
        tok = NUMBER_WORDS.get(tok, tok)
        if tok[0].isdigit():
            out.append(tok.replace(",", "").rstrip("."))
            continue
        if tok.endswith("'s"):
            tok = tok[:-2]  # "Tesla's" is about Tesla
        dotted = "." in tok
        tok = tok.replace("'", "").replace(".", "")
        if tok and (dotted or tok not in STOPWORDS) and (len(tok) > 1 or tok.isdigit()):
            out.append(tok)
    return tuple(out)


def surface_words(text: str) -> list[str]:
    """Lowercased content words as written (not stemmed): the vocabulary that spelling correction matches against."""
    return [t for t in _raw_tokens(text) if not t[0].isdigit()]


def tokenize(text: str) -> list[str]:
    """Lowercased, stemmed content tokens in order, figures as bare numbers (see the module docstring)."""
    return list(_tokens(text))


@functools.lru_cache(maxsize=32768)
def _tokens(text: str) -> tuple[str, ...]:
    return tuple(t if t[0].isdigit() else stem(t) for t in _raw_token_tuple(text))


def content_words(text: str) -> set[str]:
    """The set of stemmed content words of a text (no figures): what lexical support compares."""
    return {t for t in tokenize(text) if not t[0].isdigit()}


# ---------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------

# Lowercase words that may sit inside a name: "Bank of Japan", "Procter & Gamble", "S&P Small Cap 600".
_NAME_GLUE = {"of", "&", "de", "for", "la", "du", "van", "von"}
_NAME_WORD = re.compile(r"[A-Za-z][\w&'.-]*|\d[\d,.]*%?|&")
# fmt: off
# Words that are capitalised because of where they stand, not because they are names.
_NOT_NAMES = STOPWORDS | {
    "is", "are", "was", "were", "do", "does", "did", "can", "could", "should", "would", "will", "has", "have", "had",
    "compare", "summarize", "summarise", "list", "give", "tell", "explain", "describe", "show", "name", "why", "how",
    "what", "which", "who", "when", "where", "whats", "yes", "no", "q", "a", "tl", "dr", "tldr", "eli5", "ok", "so",
    "please", "ignore", "forget", "disregard", "pretend", "act", "now", "then", "also", "and", "but", "or",
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "i", "im",
    # adjectives a question's framing starts with ("Key points on …", "Main risks?", "Quick summary of …")
    "key", "main", "major", "top", "big", "bigger", "biggest", "overall", "general", "current", "recent", "best",
    "worst", "important", "primary", "basic", "central", "core", "short", "simple", "rough", "roughly", "exact",
    # imperatives a question starts with
    "recap", "outline", "walk", "break", "sum", "detail", "clarify", "define", "contrast", "identify", "highlight",
    "provide", "share", "rank", "quote", "cite", "find", "check", "help", "analyze", "analyse", "assess", "evaluate",
    "review", "discuss", "elaborate", "expand", "simplify", "remind", "note", "pick", "make", "imagine", "suppose",
    "assume", "consider", "let", "say", "use", "lay", "spell", "run", "point", "quick", "brief", "any",
    "thinking", "wait", "hey", "hi", "hello", "thanks", "okay", "sure", "well", "just", "really",
    "according", "per", "based", "given", "if", "in", "on", "for", "from", "with", "after", "before", "since",
}
# fmt: on


@dataclass(frozen=True)
class Name:
    text: str  # as written: "iShares Russell 2000 ETF"
    tokens: tuple[str, ...]  # tokenize(text)
    start: int  # offset in the text it was found in


def _is_cap(word: str) -> bool:
    return word[:1].isupper() or any(c.isupper() for c in word[1:])  # "Tesla", "iShares", "eToro"


def name_spans(text: str, *, title_case_ok: bool = False) -> list[Name]:
    """Capitalised names in `text`, in order (see `_name_spans`); Names are frozen, the list is the caller's."""
    return list(_name_spans(text, title_case_ok))


@functools.lru_cache(maxsize=16384)
def _name_spans(text: str, title_case_ok: bool) -> tuple[Name, ...]:
    """Capitalised names in `text`, in order: runs of capitalised words, with figures that follow a name
    ("Russell 2000", "S&P 500") and glue words between two capitalised words ("Bank of Japan").

    A capitalised word that only starts a sentence is not a name when it is a common word ("What", "The", "Why").
    When the whole text is written in Title Case or capitals, capitals say nothing and no names are returned
    (unless `title_case_ok`).
    """
    text = normalize(text)
    words = [(m.group(), m.start()) for m in _NAME_WORD.finditer(text)]
    alpha = [w for w, _ in words if w[0].isalpha()]
    if not title_case_ok and len(alpha) >= 4 and sum(_is_cap(w) for w in alpha) / len(alpha) > 0.8:
        return ()
    spans: list[Name] = []
    run: list[tuple[str, int]] = []

    def close() -> None:
        while run and (run[-1][0].lower() in _NAME_GLUE):
            run.pop()
        if run:
            start = run[0][1]
            end = run[-1][1] + len(run[-1][0])
            surface = text[start:end].rstrip(".,'")
            toks = tuple(tokenize(surface))
            if toks and any(w[0][0].isalpha() for w in run):
                spans.append(Name(surface, toks, start))
        run.clear()

    for i, (word, pos) in enumerate(words):
        bare = word.rstrip(".,'").replace("'s", "")
        low = bare.lower()
        before = text[:pos].rstrip()
        sentence_start = not before or before[-1] in '.?!:;"(¿¡\n'
        if word[0].isalpha() and _is_cap(word) and not (low in _NOT_NAMES and (sentence_start or not run)):
            if sentence_start and run:
                close()
            run.append((bare, pos))
            if re.search(r"['’]s$", word) and i + 1 < len(words):
                close()  # "Redcliff's Omar Haddad": the owner and the owned are two names
        elif word[0].isdigit() and run and not run[-1][0][0].isdigit():
            run.append((word.rstrip(".,"), pos))  # "Russell 2000", "S&P 500", "Q3"
        elif (
            run
            and (low in _NAME_GLUE or word == "&")
            and i + 1 < len(words)
            and _is_cap(words[i + 1][0])
            and (word == "&" or (len(run[-1][0]) >= 3 and not run[-1][0].isupper()))
        ):
            run.append((word, pos))
        else:
            close()
    close()
    return tuple(spans)
