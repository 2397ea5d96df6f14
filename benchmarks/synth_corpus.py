"""Deterministic synthetic financial-news corpus for the ingest benchmark.

    from benchmarks.synth_corpus import write_corpus
    stats = write_corpus(Path("/tmp/corpus"), docs=1000, seed=0)

Articles are varied (earnings, M&A, analyst calls, IPOs, dividends/buybacks, market wraps, explainers with an FAQ)
about fictional companies with tickers and sectors, with figures and dates drawn from a seeded RNG, 300-900 words
each. About 60% are Markdown with YAML front matter and `##` headings; the rest are plain-text web captures with
page chrome (menus, share buttons, related links, footer) that `ingest.clean` has to strip, described by a
`metadata.json` sidecar like the real corpus. The same (docs, seed) always gives byte-identical files.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass
from pathlib import Path

from benchmarks.synth_tables import (
    ANALYST_FIRMS,
    CITIES,
    FIRST,
    FIRST_NAMES,
    HEADINGS,
    INDEXES,
    KINDS,
    LAST_NAMES,
    MONTHS,
    PUBLISHERS,
    QUARTERS,
    SECTORS,
)


@dataclass(frozen=True)
class Company:
    name: str
    ticker: str
    sector: str
    exchange: str
    city: str


def companies(seed: int, n: int = 150) -> list[Company]:
    rng = random.Random(f"companies-{seed}")
    out: list[Company] = []
    names: set[str] = set()
    tickers: set[str] = set()
    sectors = list(SECTORS)
    while len(out) < n:
        sector = rng.choice(sectors)
        name = f"{rng.choice(FIRST)} {rng.choice(SECTORS[sector]['suffix'])}"
        if name in names:
            continue
        letters = "".join(w[0] for w in name.split()) + "".join(
            rng.choice("ABCDEFGHIKLMNOPRSTUVWXZ") for _ in range(rng.randint(1, 2))
        )
        ticker = letters.upper()[:4]
        if ticker in tickers:
            continue
        names.add(name)
        tickers.add(ticker)
        out.append(Company(name, ticker, sector, rng.choice(["NYSE", "Nasdaq"]), rng.choice(CITIES)))
    return out


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


class Writer:
    """One article's random figures and sentences."""

    def __init__(self, rng: random.Random, co: Company, peers: list[Company], day: dt.date) -> None:
        self.r = rng
        self.co = co
        self.peers = peers
        self.day = day
        self.vocab = SECTORS[co.sector]
        self.ceo = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        self.cfo = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        self.quarter = rng.choice(QUARTERS)
        self.revenue = round(rng.uniform(0.08, 12.0), 2)  # $ billions
        self.growth = round(rng.uniform(-12, 35), 1)
        self.eps = round(rng.uniform(-0.4, 4.5), 2)
        self.price = round(rng.uniform(6, 420), 2)

    # --- small helpers --------------------------------------------------------------------------------------
    def pick(self, items):
        return self.r.choice(items)

    def pct(self, lo: float = 0.5, hi: float = 15.0) -> str:
        return f"{self.r.uniform(lo, hi):.1f}%"

    def money(self, lo: float, hi: float, unit: str = "million") -> str:
        v = self.r.uniform(lo, hi)
        return f"${v:,.1f} {unit}" if v < 100 else f"${v:,.0f} {unit}"

    def peer(self) -> Company:
        return self.pick([p for p in self.peers if p != self.co] or self.peers)

    def date_text(self, d: dt.date | None = None) -> str:
        d = d or self.day
        return f"{MONTHS[d.month - 1]} {d.day}, {d.year}"

    def who(self) -> str:
        return self.pick(
            [
                f"{self.co.name}",
                f"the {self.co.city}-based company",
                f"{self.co.ticker}",
                f"the {self.co.sector.lower()} group",
            ]
        )

    def rev(self) -> str:
        return f"${self.revenue:.2f} billion" if self.revenue >= 1 else f"${self.revenue * 1000:.0f} million"

    # --- sentence pools --------------------------------------------------------------------------------------
    def earnings(self) -> list[str]:
        est = round(self.eps - self.r.uniform(-0.3, 0.3), 2)
        beat = "beat" if self.eps >= est else "missed"
        g_lo = round(self.revenue * self.r.uniform(3.6, 4.4), 2)
        return [
            f"{self.co.name} ({self.co.exchange}: {self.co.ticker}) reported {self.quarter}-quarter revenue of {self.rev()}, "
            f"{'up' if self.growth >= 0 else 'down'} {abs(self.growth):.1f}% from a year earlier.",
            f"Adjusted earnings per share came in at ${self.eps:.2f}, which {beat} the consensus estimate of ${est:.2f} "
            f"compiled by {self.pick(['LSEG', 'FactSet', 'Visible Alpha', 'Zacks'])}.",
            f"Gross margin {self.pick(['expanded', 'contracted', 'held steady at'])} {self.pct(25, 72)} as "
            f"{self.pick(self.vocab['driver'])} {self.pick(['improved', 'softened', 'stabilised', 'accelerated'])}.",
            f"Sales of {self.pick(self.vocab['product'])} rose {self.pct(2, 48)} and now account for "
            f"{self.pct(12, 65)} of the total.",
            f"Management guided full-year revenue to between ${g_lo:.2f} billion and ${g_lo * 1.06:.2f} billion, "
            f"{self.pick(['above', 'below', 'roughly in line with'])} what analysts had pencilled in.",
            f"Operating cash flow was {self.money(20, 2400)} for the quarter, and the company ended the period with "
            f"{self.money(50, 5000)} in cash and equivalents.",
            f'"{self.pick(["Demand for", "Our pipeline in", "Customer interest in"])} '
            f'{self.pick(self.vocab["product"])} remains strong," chief executive {self.ceo} said on the call.',
            f"Chief financial officer {self.cfo} told analysts that {self.pick(self.vocab['driver'])} should "
            f"{self.pick(['remain a tailwind', 'normalise in the second half', 'weigh on margins for two more quarters'])}.",
            f"Operating expenses rose {self.pct(1, 22)} year over year, driven mostly by "
            f"{self.pick(['research and development', 'sales hiring', 'integration costs', 'higher wages'])}.",
            f"The company repurchased {self.r.randint(1, 40) / 10:.1f} million shares during the quarter at an average "
            f"price of ${self.price * self.r.uniform(0.85, 1.1):.2f}.",
        ]

    def stock_move(self) -> list[str]:
        move = round(self.r.uniform(-18, 22), 1)
        return [
            f"Shares of {self.co.ticker} {'rose' if move >= 0 else 'fell'} {abs(move):.1f}% to ${self.price:.2f} "
            f"in {self.pick(['early', 'afternoon', 'late', 'extended'])} trading on {self.date_text()}.",
            f"The stock has {self.pick(['gained', 'lost'])} {self.pct(3, 60)} so far this year, compared with a "
            f"{self.pct(1, 25)} move in the {self.pick(INDEXES)}.",
            f"Trading volume was about {self.r.uniform(1.2, 6.5):.1f} times the 30-day average.",
            f"At the current price the shares trade at {self.r.uniform(6, 48):.1f} times forward earnings, versus "
            f"{self.r.uniform(12, 26):.1f} times for the sector.",
            f"Options markets had implied a move of roughly {self.pct(3, 14)} in either direction ahead of the report.",
        ]

    def deal(self) -> list[str]:
        target = self.peer()
        value = self.r.uniform(0.3, 28)
        premium = self.pct(12, 65)
        return [
            f"{self.co.name} agreed to acquire {target.name} ({target.ticker}) in a "
            f"{self.pick(['cash', 'cash-and-stock', 'all-stock'])} deal valuing the target at ${value:.1f} billion "
            f"including debt.",
            f"The offer of ${self.r.uniform(8, 140):.2f} per share represents a premium of {premium} to "
            f"{target.ticker}'s closing price on {self.date_text(self.day - dt.timedelta(days=1))}.",
            f"The companies expect annual cost synergies of {self.money(15, 900)} by the end of the "
            f"{self.pick(['second', 'third'])} year after closing.",
            f"The transaction is expected to close in the {self.pick(QUARTERS)} quarter of "
            f"{self.day.year + self.r.randint(0, 1)}, subject to regulatory approvals and a shareholder vote.",
            f"{self.pick(ANALYST_FIRMS)} and {self.pick(ANALYST_FIRMS)} are advising {self.co.name}, while "
            f"{self.pick(ANALYST_FIRMS)} advised {target.name}.",
            f"The combined company would have pro forma revenue of about ${self.r.uniform(1, 40):.1f} billion and "
            f"{self.r.randint(2, 90) * 100:,} employees.",
            f"Antitrust lawyers said the overlap in {self.pick(self.vocab['product'])} could draw scrutiny from the "
            f"{self.pick(['FTC', 'Justice Department', 'European Commission'])}.",
            f"{self.co.name} plans to fund the cash portion with {self.money(0.2, 9, 'billion')} of new debt, lifting "
            f"net leverage to {self.r.uniform(1.5, 4.2):.1f} times EBITDA.",
        ]

    def analyst(self) -> list[str]:
        firm = self.pick(ANALYST_FIRMS)
        old_t = self.price * self.r.uniform(0.7, 1.3)
        new_t = old_t * self.r.uniform(0.75, 1.35)
        rating = self.pick(["upgraded", "downgraded", "initiated coverage of"])
        return [
            f"{firm} {rating} {self.co.name} {self.pick(['to buy', 'to neutral', 'to outperform', 'to underweight', 'with a hold rating'])} "
            f"and moved its price target to ${new_t:.0f} from ${old_t:.0f}.",
            f"Analyst {self.pick(FIRST_NAMES)} {self.pick(LAST_NAMES)} wrote that {self.pick(self.vocab['driver'])} "
            f"is {self.pick(['underappreciated', 'already priced in', 'at an inflection point', 'peaking'])}.",
            f"The new target implies {self.pct(-20, 45)} upside from the last close of ${self.price:.2f}.",
            f"Of the {self.r.randint(6, 32)} analysts covering the stock, {self.r.randint(2, 20)} rate it a buy, "
            f"according to {self.pick(['LSEG', 'FactSet', 'Bloomberg'])} data.",
            f"The note flagged {self.pick(self.vocab['risk'])} as the main risk to the thesis.",
            f"{firm} raised its {self.day.year + 1} EPS estimate to ${self.eps * self.r.uniform(1.0, 1.4):.2f} from "
            f"${self.eps:.2f}.",
        ]

    def ipo(self) -> list[str]:
        lo = self.r.randint(8, 40)
        px = lo + self.r.randint(-2, 6)
        return [
            f"{self.co.name} priced its initial public offering at ${px} a share, "
            f"{self.pick(['above', 'at the top of', 'within', 'below'])} the marketed range of ${lo} to ${lo + 3}.",
            f"The company sold {self.r.uniform(5, 60):.1f} million shares, raising about {self.money(80, 2400)} and "
            f"valuing it at roughly ${self.r.uniform(0.5, 18):.1f} billion.",
            f"The stock opened at ${px * self.r.uniform(0.85, 1.6):.2f} on the {self.co.exchange} under the ticker "
            f"{self.co.ticker}.",
            f"Proceeds will be used to repay debt and expand {self.pick(self.vocab['product'])}.",
            f"It is the {self.pick(['largest', 'second-largest', 'first'])} {self.co.sector.lower()} listing of "
            f"{self.day.year}, according to Renaissance Capital.",
        ]

    def payout(self) -> list[str]:
        div = round(self.r.uniform(0.05, 2.4), 2)
        return [
            f"The board raised the quarterly dividend {self.pct(2, 15)} to ${div:.2f} per share, payable on "
            f"{self.date_text(self.day + dt.timedelta(days=self.r.randint(20, 50)))}.",
            f"{self.co.name} also authorised a new share buyback of up to {self.money(0.1, 15, 'billion')}.",
            f"The dividend yield at the current price is {self.r.uniform(0.4, 6.5):.2f}%.",
            f"The payout ratio stands near {self.pct(20, 85)} of free cash flow, management said.",
            f"It is the {_ordinal(self.r.randint(2, 40))} consecutive year of dividend increases.",
        ]

    def macro(self) -> list[str]:
        idx, other = self.r.sample(INDEXES, 2)
        return [
            f"The {idx} {self.pick(['rose', 'fell', 'ended little changed,'])} {self.pct(0.1, 2.8)} on {self.date_text()}, "
            f"while the {other} {self.pick(['gained', 'slipped'])} {self.pct(0.1, 2.2)}.",
            f"The 10-year Treasury yield {self.pick(['climbed', 'eased'])} to {self.r.uniform(3.2, 5.1):.2f}% after "
            f"{self.pick(['consumer price data', 'a jobs report', 'Federal Reserve minutes', 'retail sales figures'])} "
            f"came in {self.pick(['hotter', 'cooler'])} than expected.",
            f"Fed funds futures now price {self.r.randint(0, 4)} rate {self.pick(['cuts', 'moves'])} by the end of "
            f"{self.day.year}, according to CME FedWatch.",
            f"The dollar index {self.pick(['strengthened', 'weakened'])} {self.pct(0.1, 1.2)}, and Brent crude traded at "
            f"${self.r.uniform(58, 98):.2f} a barrel.",
            f"{self.co.sector} stocks {self.pick(['led', 'lagged'])} the market, with {self.co.name} "
            f"{self.pick(['among the top performers', 'among the biggest decliners'])}.",
            f"Small caps have {self.pick(['outperformed', 'underperformed'])} large caps by {self.pct(0.5, 12)} over "
            f"the past {self.r.randint(2, 12)} months.",
            f"Breadth was {self.pick(['strong', 'weak', 'mixed'])}: advancing issues outnumbered decliners by "
            f"{self.r.uniform(0.5, 3.5):.1f} to 1 on the NYSE.",
            f"Inflation ran at {self.r.uniform(1.8, 4.6):.1f}% year over year in {self.pick(MONTHS)}, and core prices rose "
            f"{self.r.uniform(0.1, 0.5):.1f}% on the month.",
        ]

    def context(self) -> list[str]:
        p = self.peer()
        return [
            f"{self.co.name} competes with {p.name} ({p.ticker}) in {self.pick(self.vocab['product'])}.",
            f"Investors have focused on {self.pick(self.vocab['driver'])} as the key swing factor for "
            f"{self.co.sector.lower()} companies this year.",
            f"The main risk, according to the company's annual report, is {self.pick(self.vocab['risk'])}.",
            f"{_cap(self.who())} employs about {self.r.randint(3, 180) * 100:,} people and is headquartered in "
            f"{self.co.city}.",
            f"Over the last five years, revenue has grown at a compound annual rate of {self.pct(1, 28)}.",
            f"Net debt stood at {self.money(0.1, 12, 'billion')} at the end of the quarter, or "
            f"{self.r.uniform(0.2, 4.5):.1f} times trailing EBITDA.",
            f"Short interest in {self.co.ticker} is about {self.pct(1, 18)} of the free float.",
            f"{p.name} reported results {self.r.randint(1, 20)} days earlier, with revenue "
            f"{self.pick(['up', 'down'])} {self.pct(0.5, 20)}.",
            f"Institutional investors own roughly {self.pct(45, 96)} of the shares outstanding.",
            f"The company has {self.pick(['beaten', 'missed', 'met'])} earnings estimates in "
            f"{self.r.randint(2, 8)} of the last 8 quarters.",
        ]

    def faq(self) -> list[tuple[str, str]]:
        p = self.peer()
        return [
            (
                f"Why did {self.co.ticker} stock move after the news?",
                " ".join(self.r.sample(self.stock_move(), 2) + self.r.sample(self.context(), 1)),
            ),
            (
                f"How does {self.co.name} compare with {p.name}?",
                f"{self.co.name} trades at {self.r.uniform(6, 40):.1f} times forward earnings against "
                f"{self.r.uniform(6, 40):.1f} times for {p.name}. " + " ".join(self.r.sample(self.context(), 2)),
            ),
            (
                f"What are the main risks for {self.co.sector.lower()} investors?",
                "Analysts most often cite {} and {}. ".format(*self.r.sample(self.vocab["risk"], 2))
                + " ".join(self.r.sample(self.macro(), 2)),
            ),
            (f"Is {self.co.ticker} a dividend stock?", " ".join(self.r.sample(self.payout(), 3))),
            (
                f"What is driving {self.pick(self.vocab['product'])} demand?",
                "Mostly {}, with {} a secondary factor. ".format(*self.r.sample(self.vocab["driver"], 2))
                + " ".join(self.r.sample(self.earnings(), 2)),
            ),
        ]


def _title(w: Writer, kind: str) -> str:
    co = w.co
    return w.pick(
        {
            "earnings": [
                f"{co.name} {w.quarter}-quarter revenue {'rises' if w.growth >= 0 else 'falls'} "
                f"{abs(w.growth):.1f}% on {w.pick(w.vocab['product'])}",
                f"{co.ticker} {'beats' if w.eps > 1 else 'misses'} estimates as {w.pick(w.vocab['driver'])} shifts",
            ],
            "deal": [
                f"{co.name} to buy {w.peer().name} in ${w.r.uniform(0.3, 28):.1f} billion deal",
                f"{co.ticker} agrees takeover to expand in {w.pick(w.vocab['product'])}",
            ],
            "analyst": [
                f"{w.pick(ANALYST_FIRMS)} turns {w.pick(['bullish', 'cautious'])} on {co.name}",
                f"Why analysts are rethinking {co.ticker}",
            ],
            "ipo": [
                f"{co.name} prices IPO, valued at ${w.r.uniform(0.5, 18):.1f} billion",
                f"{co.sector} IPO: {co.name} debuts on the {co.exchange}",
            ],
            "payout": [f"{co.name} lifts dividend and adds buyback", f"{co.ticker} raises payout for income investors"],
            "macro": [
                f"Stocks {w.pick(['edge higher', 'slip', 'rally', 'wobble'])} as yields {w.pick(['rise', 'fall'])}; "
                f"{co.ticker} in focus",
                f"Market wrap, {w.date_text()}: {co.sector.lower()} {w.pick(['leads', 'lags'])}",
            ],
            "explainer": [
                f"What {co.name} means for {co.sector.lower()} investors",
                f"{co.ticker} explained: {w.pick(w.vocab['driver'])} and {w.pick(w.vocab['risk'])}",
            ],
        }[kind]
    )


def _sections(w: Writer, kind: str, target_words: int) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """[(heading, [paragraph, ...]), ...] with about `target_words` words, plus key-takeaway bullets."""
    main = {
        "earnings": w.earnings,
        "deal": w.deal,
        "analyst": w.analyst,
        "ipo": w.ipo,
        "payout": w.payout,
        "macro": w.macro,
        "explainer": w.context,
    }[kind]
    pools = [main, main, w.stock_move, w.context, w.macro if kind != "macro" else w.earnings]
    headings = list(HEADINGS[kind]) + ["Context", "Market reaction", "Outlook", "Risks"]
    w.r.shuffle(headings[1:])
    sections: list[tuple[str, list[str]]] = []
    words = 0
    h = 0
    while words < target_words:
        paras = []
        for _ in range(w.r.randint(1, 3)):
            pool = w.r.choice(pools)()
            sentences = w.r.sample(pool, min(len(pool), w.r.randint(2, 5)))
            para = " ".join(sentences)
            paras.append(para)
            words += len(para.split())
            if words >= target_words:
                break
        sections.append((headings[h % len(headings)], paras))
        h += 1
    bullets = [s for s in w.r.sample(main(), 3)]
    return sections, bullets


def _trim(sections: list[tuple[str, list[str]]], max_words: int) -> list[tuple[str, list[str]]]:
    out, words = [], 0
    for heading, paras in sections:
        kept = []
        for p in paras:
            n = len(p.split())
            if words + n > max_words and words >= min(300, max_words):
                break
            kept.append(p)
            words += n
        if kept:
            out.append((heading, kept))
        if len(kept) < len(paras):
            break
    return out


def article(rng: random.Random, cos: list[Company], i: int) -> dict:
    co = cos[rng.randrange(len(cos))]
    peers = [c for c in cos if c.sector == co.sector] or cos
    day = dt.date(2023, 1, 2) + dt.timedelta(days=rng.randrange(0, 1275))
    w = Writer(rng, co, peers, day)
    kind = rng.choice(KINDS)
    faq = w.faq() if kind == "explainer" or rng.random() < 0.15 else []
    faq = rng.sample(faq, min(len(faq), rng.randint(2, 4))) if faq else []
    extra = sum(len(q.split()) + len(ans.split()) for q, ans in faq)
    target = max(rng.randint(300, 860) - extra, 150)
    sections, bullets = _sections(w, kind, target)
    extra += sum(len(b.split()) for b in bullets)  # bullets appear in some renderings only; count them anyway
    sections = _trim(sections, max(820 - extra, 200))  # + title, headings and page chrome: at most ~900 words
    publisher = rng.choice(PUBLISHERS)
    author = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    title = _title(w, kind)
    slug = "-".join("".join(ch if ch.isalnum() else " " for ch in title.lower()).split())[:60].strip("-")
    return {
        "i": i,
        "company": co,
        "kind": kind,
        "day": day,
        "title": title,
        "slug": slug,
        "publisher": publisher,
        "author": author,
        "sections": sections,
        "bullets": bullets,
        "faq": faq,
    }


def render_markdown(a: dict, rng: random.Random) -> str:
    co: Company = a["company"]
    front = [
        "---",
        f"title: {json.dumps(a['title'])}",
        f"date: {a['day'].isoformat()}",
        f"source: {json.dumps(a['publisher'])}",
        f"author: {json.dumps(a['author'])}",
        f"url: https://{a['publisher'].lower().replace(' ', '').replace('&', 'and')}.example.com/{a['day']:%Y/%m}/{a['slug']}",
        f"tickers: [{co.ticker}]",
        f"sector: {json.dumps(co.sector)}",
        "---",
        "",
    ]
    body: list[str] = []
    if rng.random() < 0.5:
        body += [f"# {a['title']}", ""]
    if rng.random() < 0.6:
        body += ["## Key takeaways", ""] + [f"- {b}" for b in a["bullets"]] + [""]
    for n, (heading, paras) in enumerate(a["sections"]):
        if n or rng.random() < 0.5:
            body += [f"## {heading}", ""]
        for p in paras:
            body += [p, ""]
    if a["faq"]:
        body += ["## Frequently asked questions", ""]
        for q, ans in a["faq"]:
            body += [q, "", ans, ""]
    return "\n".join(front + body).rstrip() + "\n"


def render_capture(a: dict, rng: random.Random) -> str:
    """A select-all copy of the article page: chrome around the article that the cleaner must drop."""
    co: Company = a["company"]
    nav = ["Home", "Markets", "Stocks", "Economy", "Earnings", "Tech", "Personal Finance", "Newsletters", "Sign In"]
    lines = [a["publisher"], *rng.sample(nav, rng.randint(4, len(nav))), "Search", ""]
    if rng.random() < 0.5:  # a ticker strip
        lines += [
            f"{t} {rng.uniform(10, 500):.2f} {rng.choice('+-')}{rng.uniform(0.1, 4):.2f}%"
            for t in rng.sample(["SPX", "NDX", "RUT", "DJI", "VIX", "TNX", "DXY", co.ticker], 5)
        ] + [""]
    lines += [
        a["title"],
        "",
        f"By {a['author']}",
        "",
        f"{a['day']:%B} {a['day'].day}, {a['day'].year} {rng.randint(6, 11)}:{rng.randint(0, 59):02d} AM ET",
        "",
        "Share",
        "Facebook",
        "Twitter",
        "LinkedIn",
        "Copy link",
        "",
    ]
    for n, (heading, paras) in enumerate(a["sections"]):
        if n and rng.random() < 0.6:
            lines += [heading, ""]
        for p in paras:
            lines += [p, ""]
    if a["faq"]:
        lines += ["Frequently Asked Questions", ""]
        for q, ans in a["faq"]:
            lines += [q, "", ans, ""]
    lines += ["Related news", ""]
    lines += [
        f"{rng.choice(PUBLISHERS)}: {rng.choice(['Stocks to watch', 'Earnings preview', 'Fed watch', 'IPO pipeline'])} "
        f"{rng.randint(1, 28)} {rng.choice(MONTHS)}"
        for _ in range(rng.randint(2, 5))
    ]
    lines += [
        "",
        "Comments (0)",
        "Sign in to comment",
        "",
        f"© {a['day'].year} {a['publisher']}. All rights reserved.",
        "Privacy Policy",
        "Terms of Use",
        "Cookie Settings",
    ]
    return "\n".join(lines) + "\n"


def render_html(a: dict, rng: random.Random) -> str:
    """A saved article web page: navigation, cookie banner, related links and footer around <article>."""
    from html import escape as e

    host = a["publisher"].lower().replace(" ", "").replace("&", "and")
    url = f"https://{host}.example.com/{a['day']:%Y/%m}/{a['slug']}"
    nav = "".join(
        f'<a href="/{x.lower()}">{x}</a> '
        for x in ["Home", "Markets", "Stocks", "Economy", "Earnings", "Crypto", "Newsletters", "Sign in"]
    )
    body = [
        f"<h1>{e(a['title'])}</h1>",
        f'<p class="byline">By {e(a["author"])} · '
        f'<time datetime="{a["day"].isoformat()}">{a["day"]:%B} {a["day"].day}, {a["day"].year}</time></p>',
    ]
    if a["bullets"] and rng.random() < 0.5:
        body += ["<h2>Key takeaways</h2><ul>"] + [f"<li>{e(b)}</li>" for b in a["bullets"]] + ["</ul>"]
    for n, (heading, paras) in enumerate(a["sections"]):
        if n:
            body.append(f"<h2>{e(heading)}</h2>")
        body += [f"<p>{e(p)}</p>" for p in paras]
    if a["faq"]:
        body.append("<h2>Frequently asked questions</h2>")
        for q, ans in a["faq"]:
            body += [f"<h3>{e(q)}</h3>", f"<p>{e(ans)}</p>"]
    related = "".join(
        f'<li><a href="/news/{i}">{e(rng.choice(PUBLISHERS))}: '
        f"{rng.choice(['Stocks to watch', 'Earnings preview', 'Fed watch', 'IPO pipeline'])}</a></li>"
        for i in range(rng.randint(3, 6))
    )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{e(a["title"])} | '
        f'{e(a["publisher"])}</title><meta property="og:site_name" content="{e(a["publisher"])}">'
        f'<meta name="author" content="{e(a["author"])}"><meta property="article:published_time" '
        f'content="{a["day"].isoformat()}T{rng.randint(6, 20):02d}:{rng.randint(0, 59):02d}:00Z">'
        f'<link rel="canonical" href="{url}"></head><body><header><nav>{nav}</nav></header>'
        '<div class="cookie-banner"><p>We use cookies to improve your experience and for marketing. By clicking '
        '"Accept all" you agree to our use of cookies.</p><button>Accept all</button><button>Settings</button>'
        f"</div><main><article>{''.join(body)}</article><aside><h3>Related news</h3><ul>{related}</ul></aside>"
        f'</main><footer><p>© {a["day"].year} {e(a["publisher"])}. All rights reserved.</p><a href="/privacy">'
        'Privacy Policy</a> <a href="/terms">Terms of Use</a></footer></body></html>\n'
    )


def write_corpus(
    folder: Path, *, docs: int = 1000, seed: int = 0, md_share: float = 0.5, html_share: float = 0.2
) -> dict:
    """Write `docs` articles (and `metadata.json` for the captures) into `folder`; returns simple stats.

    About `md_share` are Markdown with front matter, `html_share` saved web pages, the rest plain-text captures."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    cos = companies(seed)
    sidecar: dict[str, dict[str, str]] = {}
    words = 0
    md = 0
    sub = ["", "earnings/", "markets/", "deals/"]
    html = 0
    for i in range(docs):
        a = article(rng, cos, i)
        pick = rng.random()
        name = (
            f"{sub[i % len(sub)]}{a['day']:%Y-%m-%d}-{a['company'].ticker.lower()}-{a['slug'][:40].rstrip('-')}-{i:05d}"
        )
        if pick < md_share:
            text, name = render_markdown(a, rng), name + ".md"
            md += 1
        elif pick < md_share + html_share:
            text, name = render_html(a, rng), name + ".html"
            html += 1
        else:
            text, name = render_capture(a, rng), name + ".txt"
            sidecar[name] = {
                "title": a["title"],
                "publisher": a["publisher"],
                "author": a["author"],
                "published": a["day"].isoformat(),
            }
        words += sum(len(p.split()) for _, paras in a["sections"] for p in paras)
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (folder / "metadata.json").write_text(json.dumps(sidecar, indent=1, sort_keys=True), encoding="utf-8")
    return {
        "docs": docs,
        "markdown": md,
        "html": html,
        "captures": docs - md - html,
        "body_words": words,
        "mean_words": round(words / max(docs, 1)),
    }


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(
        description="Write N deterministic distractor financial-news articles "
        "(.md with front matter, .html pages, .txt captures with page chrome)."
    )
    ap.add_argument("--docs", type=int, default=1000)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(json.dumps(write_corpus(args.out, docs=args.docs, seed=args.seed)))


if __name__ == "__main__":  # python benchmarks/synth_corpus.py --docs N --out DIR [--seed S]
    main()
