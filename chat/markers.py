"""The `[n]` citation marker grammar: how an answer written with markers ("… $75 billion [2].") is read back.

    from chat.markers import MARKER_RE, parse_markers, strip_markers
    parse_markers("Small caps rallied [1][3]. Rates fell [7].", n_passages=5)   # ([1, 3], ['[7]'])
    strip_markers("Small caps rallied [1][3].")                                  # 'Small caps rallied.'

A generated answer is parsed with it (chat.generative), verified against it (chat.verify) and split into sentences
with it (chat.text keeps a marker with the sentence it follows). Lenient on purpose: models write "[1, 2]",
"[1-3]", "【1†source】", "[Passage 2]"; every form that names passage numbers is read, anything else in brackets
is left as text. Passage numbers are 1-based: `[1]` is the first passage.
"""

from __future__ import annotations

import re

__all__ = ["MARKER_PATTERN", "MARKER_RE", "marker_numbers", "parse_markers", "strip_markers"]

# One template, two compilations: MARKER_RE needs the ``body`` group to parse
# the numbers, while the sentence splitter embeds the pattern inside a larger
# regex where a named group would collide.
_MARKER_TEMPLATE = r"""
    [\[【［〔]
    \s*\^?\s*
    (?i:(?:passages?|sources?|docs?|documents?|refs?|references?|citations?|chunks?)\s*[:#]?\s*)?
    {open}
        [-−]?\d+(?:\.\d+)?
        (?:\s*(?:,|;|&|\band\b|\bto\b|[-–—−])\s*\^?[-−]?\d+(?:\.\d+)?)*
    {close}
    (?:\s*[†‡:][^\]】］〕\n]{{0,40}})?
    \s*
    [\]】］〕]
"""
MARKER_RE = re.compile(_MARKER_TEMPLATE.format(open="(?P<body>", close=")"), re.X)
MARKER_PATTERN = _MARKER_TEMPLATE.format(open="(?:", close=")")

_MARKER_ITEM_SPLIT_RE = re.compile(r"\s*(?:,|;|&|\band\b)\s*")
_MARKER_SINGLE_RE = re.compile(r"\^?(-?\d+(?:\.\d+)?)")
_MARKER_RANGE_RE = re.compile(r"\^?(\d+)\s*(?:-|to)\s*\^?(\d+)")


def parse_markers(text: str, n_passages: int) -> tuple[list[int], list[str]]:
    """Valid 1-based passage numbers (ordered, unique) and the invalid items of all markers in ``text``."""
    cited: list[int] = []
    invalid: list[str] = []
    for m in MARKER_RE.finditer(text):
        body = m.group("body").replace("−", "-").replace("–", "-").replace("—", "-")
        for item in _MARKER_ITEM_SPLIT_RE.split(body.strip()):
            item = item.strip()
            if not item:
                continue
            numbers: list[int] = []
            ok = True
            if single := _MARKER_SINGLE_RE.fullmatch(item):
                raw = single.group(1)
                if "." in raw:
                    ok = False  # "[1.5]" is a malformed citation, not passage 1
                else:
                    numbers = [int(raw)]
            elif rng := _MARKER_RANGE_RE.fullmatch(item):
                lo, hi = int(rng.group(1)), int(rng.group(2))
                if lo > hi:
                    ok = False
                else:
                    # Clamp before expanding so "[1-100000]" cannot blow up.
                    numbers = list(range(max(lo, 1), min(hi, n_passages) + 1))
                    ok = lo >= 1 and hi <= n_passages
            else:
                ok = False
            for k in numbers:
                if 1 <= k <= n_passages:
                    if k not in cited:
                        cited.append(k)
                else:
                    ok = False
            if not ok:
                label = f"[{item.lstrip('^')}]"
                if label not in invalid:
                    invalid.append(label)
    return cited, invalid


def strip_markers(text: str) -> str:
    """Remove markers and tidy the whitespace/punctuation they leave behind."""
    out = MARKER_RE.sub(" ", text)
    out = re.sub(r"\(\s*\)", " ", out)  # "rates ([1])." leaves an empty pair
    out = re.sub(r"\s+", " ", out)
    out = re.sub(r"\s+([.,;:!?)\]。！？，、])", r"\1", out)
    out = re.sub(r"\(\s+", "(", out)
    return out.strip()


def marker_numbers(text: str) -> list[str]:
    """Every citation item of every `[n]` marker in `text`, as written ("1", "3", "1.5", ...); ranges expanded."""
    items: list[str] = []
    for m in MARKER_RE.finditer(text or ""):
        body = re.sub(r"[−–—]", "-", m.group("body"))
        for item in _MARKER_ITEM_SPLIT_RE.split(body.strip()):
            item = item.strip().lstrip("^")
            if not item:
                continue
            rng = re.fullmatch(r"(\d+)\s*(?:-|to)\s*\^?(\d+)", item)
            if rng and int(rng.group(1)) <= int(rng.group(2)) and int(rng.group(2)) - int(rng.group(1)) < 50:
                items.extend(str(n) for n in range(int(rng.group(1)), int(rng.group(2)) + 1))
            else:
                items.append(item)
    return items
