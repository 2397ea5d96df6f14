"""Word tables of the answering core, kept apart from the rules that use them (chat.lexicon, chat.questions,
chat.extractive). Finance usage, not the wording of any one article or question: extend a table, not a rule.

    from chat.glossary import ABBREVIATIONS, SYNONYMS, LIST_KINDS, METRICS
"""

from __future__ import annotations

# fmt: off
# Shorthand → what it stands for. The expansion is added to the question (never replaces what was typed), so
# "How many bps did the Fed cut?" also searches "basis points" and "Federal Reserve". Keys are lowercase and
# matched as whole words; values are plain text.
ABBREVIATIONS: dict[str, str] = {
    "fed": "Federal Reserve", "fomc": "Federal Reserve", "the fed": "the Federal Reserve",
    "bps": "basis points", "bp": "basis points", "bips": "basis points", "bbl": "barrel",
    "yoy": "year over year", "y/y": "year over year", "qoq": "quarter over quarter", "q/q": "quarter over quarter",
    "mom": "month over month", "ytd": "year to date", "yr": "year", "yrs": "years", "mo": "month",
    "p/e": "price-to-earnings ratio", "pe": "price-to-earnings ratio", "p/e ratio": "price-to-earnings ratio",
    "pe ratio": "price-to-earnings ratio", "eps": "earnings per share", "p/b": "price-to-book",
    "m&a": "mergers and acquisitions", "aum": "assets under management net assets",
    "ipo": "initial public offering", "ipos": "initial public offerings",
    "cre": "commercial real estate", "fx": "currency exchange rate", "em": "emerging markets",
    "ems": "emerging markets", "dm": "developed markets", "cb": "central bank", "cbs": "central banks",
    "reit's": "real estate investment trust", "hyg": "high yield", "jnk": "high yield",
    "boj": "Bank of Japan", "ecb": "European Central Bank", "boe": "Bank of England", "pboc": "People's Bank of China",
    "reit": "real estate investment trust", "reits": "real estate investment trusts",
    "cpi": "consumer price index inflation", "ppi": "producer price index", "pce": "inflation",
    "gdp": "gross domestic product economy", "ceo": "chief executive", "cfo": "chief financial officer",
    "cio": "chief investment officer", "div": "dividend", "divs": "dividends", "mkt": "market",
    "mcap": "market capitalization", "market cap": "market capitalization", "mkt cap": "market capitalization",
    "q1": "first quarter", "q2": "second quarter", "q3": "third quarter", "q4": "fourth quarter",
    "h1": "first half", "h2": "second half", "fy": "fiscal year", "bn": "billion", "mn": "million", "mln": "million",
    "10y": "10-year", "10yr": "10-year", "10-yr": "10-year", "2y": "2-year", "2yr": "2-year", "2-yr": "2-year",
    "30y": "30-year", "30yr": "30-year", "ust": "Treasury", "usts": "Treasuries", "tsy": "Treasury",
    "smallcaps": "small caps", "smallcap": "small cap", "small-caps": "small caps", "midcaps": "mid caps",
    "midcap": "mid cap", "largecaps": "large caps", "largecap": "large cap", "megacaps": "mega caps",
    "rut": "Russell 2000", "r2k": "Russell 2000", "iwm": "iShares Russell 2000 ETF", "spx": "S&P 500",
    "spy": "S&P 500", "sp500": "S&P 500", "sp 500": "S&P 500", "s&p500": "S&P 500", "ndx": "Nasdaq 100", "qqq": "Nasdaq 100",
    "mag 7": "Magnificent Seven", "mag7": "Magnificent Seven", "mag seven": "Magnificent Seven",
    "magnificent 7": "Magnificent Seven", "opec+": "OPEC", "wti": "oil", "ai": "AI artificial intelligence",
    "ev": "electric vehicle", "evs": "electric vehicles", "usd": "dollar", "greenback": "dollar",
    "jpy": "yen", "eur": "euro", "cny": "yuan", "hy": "high yield", "ig": "investment grade",
    "tl;dr": "summary", "tldr": "summary", "eli5": "explain simply", "imo": "", "btw": "", "pls": "", "plz": "",
    "govt": "government", "gov't": "government", "intl": "international", "avg": "average", "approx": "about",
    "pct": "percent", "ppt": "percentage points", "pts": "points", "ttm": "trailing twelve months",
    "fwd": "forward", "est": "estimate", "ests": "estimates", "guid": "guidance", "bbg": "", "adj": "adjusted",
    "op": "operating", "rev": "revenue", "yld": "yield", "px": "price", "vol": "volatility", "ccy": "currency",
    "jan": "January", "feb": "February", "mar": "March", "apr": "April", "jun": "June", "jul": "July",
    "aug": "August", "sep": "September", "sept": "September", "oct": "October", "nov": "November",
    "dec": "December", "mgmt": "management", "ex": "excluding", "incl": "including", "bbls": "barrels",
    "e&p": "exploration and production", "e&ps": "exploration and production companies",
    "mbpd": "million barrels per day", "bpd": "barrels per day", "b/d": "barrels per day", "boe/d": "barrels per day",
}

# Words that mean the same thing to a reader of financial news. Each group is searched together (at a lower
# weight than the words typed): "Which lenders…" also finds "regional banks", "How cheap…" finds "discount".
SYNONYM_GROUPS: list[list[str]] = [
    ["cheap", "cheaper", "inexpensive", "undervalued", "discount", "bargain", "valuation", "attractive"],
    ["expensive", "pricey", "overvalued", "overvaluation", "premium", "rich", "stretched", "valuation"],
    ["valuation", "multiple", "multiples", "price-to-earnings", "p/e", "times earnings", "ratio"],
    ["risk", "risks", "danger", "downside", "threat", "worry", "worries", "concern", "concerns", "headwind",
     "headwinds", "fear", "fears", "wrong", "pitfall", "vulnerable", "vulnerability"],
    ["driver", "drivers", "driving", "drive", "catalyst", "catalysts", "tailwind", "tailwinds", "reason",
     "reasons", "factor", "factors", "fuel", "fueling", "behind", "boost", "powering", "power", "powered",
     "propel", "propelling", "propelled", "spark", "sparked", "spur", "spurred"],
    ["rally", "rallied", "surge", "surged", "jump", "jumped", "climb", "climbed", "gain", "gained", "rise", "rose",
     "soar", "soared", "outperform", "outperformed", "outperforming", "outpace", "beat", "up"],
    ["drop", "dropped", "fall", "fell", "decline", "declined", "slump", "slumped", "plunge", "plunged", "slide",
     "slid", "sell-off", "selloff", "tumble", "tumbled", "lose", "lost", "down", "underperform"],
    ["bank", "banks", "lender", "lenders", "banking"],
    ["company", "companies", "firm", "firms", "business", "businesses", "corporation", "issuer"],
    ["stock", "stocks", "share", "shares", "equity", "equities", "cap", "caps", "companies", "names"],
    ["takeover", "takeovers", "acquisition", "acquisitions", "merger", "mergers", "buyout", "buyouts", "deal",
     "deals", "consolidation", "m&a"],
    ["rate", "rates", "borrowing", "interest"],
    ["cut", "cuts", "lower", "lowered", "ease", "easing", "reduce", "reduced", "decrease", "decreased"],
    ["hike", "hikes", "raise", "raised", "tighten", "tightening", "increase", "increased"],
    ["profit", "profits", "earnings", "income", "profitable", "bottom-line"],
    ["revenue", "revenues", "sales", "top-line", "turnover"],
    ["dollar", "greenback", "usd", "currency"],
    ["inflation", "prices", "cpi"],
    ["forecast", "forecasts", "projection", "projected", "outlook", "estimate", "estimates", "expected", "expects",
     "predict", "predicts", "guidance"],
    ["streak", "run", "consecutive", "straight", "row"],
    ["size", "net assets", "assets", "aum", "biggest", "largest"],
    ["job", "jobs", "employment", "payrolls", "labor"],
    ["recession", "slowdown", "downturn", "contraction"],
    ["investor", "investors", "buyers", "traders"],
    ["advantage", "edge", "benefit", "benefits", "upside", "opportunity", "opportunities"],
    ["small", "smaller", "little"],
    ["emerging", "developing", "emerging-market", "developing-market"],
    ["trust", "trusts", "reit", "reits"],
    ["large", "larger", "big", "bigger", "mega"],
    ["chairman", "chair", "head", "leader", "leadership"],
    ["debt", "borrowing", "loans", "leverage"],
    ["dividend", "dividends", "payout", "yield"],
]

# Kinds of things a "which …" question may ask to list: the words that ask for the kind, and words that mark a
# name of that kind ("… ETF", "… Fund"). Names of people are told by the role words around them.
LIST_KINDS: dict[str, dict[str, tuple[str, ...]]] = {
    "fund": {"asks": ("etf", "etfs", "fund", "funds", "vehicle", "vehicles", "product", "products", "trust"),
             "marks": ("etf", "fund", "trust", "spdr", "ishares", "vanguard", "invesco", "portfolio")},
    "index": {"asks": ("index", "indices", "indexes", "benchmark", "benchmarks", "gauge", "gauges"),
              "marks": ("index", "russell", "s&p", "nasdaq", "dow", "nikkei", "topix", "ftse", "msci", "stoxx",
                        "dax", "kospi", "hang", "composite")},
    "person": {"asks": ("who", "whom", "people", "person", "persons", "analyst", "analysts", "strategist",
                        "strategists", "expert", "experts", "economist", "economists", "manager", "managers",
                        "executive", "executives", "ceo", "ceos", "official", "officials", "individuals",
                        "commentator", "commentators", "spokesperson", "quoted", "sources", "member", "members",
                        "policymaker", "policymakers", "dissenter", "dissenters", "governor", "governors",
                        "banker", "bankers", "trader", "traders", "founder", "founders"),
               "marks": ("said", "says", "notes", "noted", "told", "according", "strategist", "analyst", "economist",
                         "manager", "ceo", "chief", "president", "chairman", "chair", "director", "head", "partner",
                         "founder", "officer", "governor", "professor", "minister", "secretary", "portfolio",
                         "executive", "trader", "adviser", "advisor", "spokesperson", "wrote", "argues", "expects")},
    "sector": {"asks": ("sector", "sectors", "industry", "industries", "area", "areas", "theme", "themes", "group",
                        "groups"),
               "marks": ()},
    "country": {"asks": ("country", "countries", "region", "regions", "economy", "economies", "nation", "nations",
                         "market", "markets"),
                "marks": ()},
    "institution": {"asks": ("central bank", "central banks", "regulator", "regulators", "agency", "agencies",
                             "institution", "institutions", "authorities", "authority", "bodies", "governments",
                             "government", "ministries", "ministry", "exchanges", "exchange"),
                    "marks": ("bank", "reserve", "authority", "ministry", "agency", "commission", "fund", "board",
                              "council", "treasury", "department", "office", "institute", "organization", "opec",
                              "imf", "exchange", "government", "federation", "union")},
    "named": {"asks": ("segment", "segments", "division", "divisions", "unit", "units", "product", "products",
                       "business line", "business lines", "lines", "program", "programs", "programme", "project",
                       "projects", "customer", "customers", "client", "clients", "contract", "contracts",
                       "event", "events", "report", "reports", "indicator", "indicators", "data", "measures"),
              "marks": ()},
    "company": {"asks": ("stock", "stocks", "company", "companies", "firm", "firms", "name", "names", "business",
                         "businesses", "share", "shares", "equity", "equities", "pick", "picks", "idea", "ideas",
                         "contender", "contenders", "bank", "banks", "lender", "lenders", "miner", "miners",
                         "reit", "reits", "producer", "producers", "issuer", "issuers", "ticker", "tickers",
                         "holding", "holdings", "player", "players", "brand", "brands", "major", "majors",
                         "producer", "producers", "driller", "drillers", "carmaker", "carmakers", "automaker",
                         "automakers", "insurer", "insurers", "retailer", "retailers", "exporter", "exporters"),
                "marks": ("inc", "corp", "corporation", "co", "ltd", "plc", "group", "holdings", "technologies",
                          "systems", "bank", "bancorp", "financial", "energy", "pharmaceuticals", "therapeutics",
                          "logistics", "realty", "properties", "reit", "mining", "resources", "partners")},
}

# Roles a "which analysts / board members …" question asks for, and the words that give a person that role.
ROLES: dict[str, tuple[str, ...]] = {
    "analyst": ("analyst", "strategist", "economist", "researcher"),
    "strategist": ("strategist", "analyst"),
    "economist": ("economist",),
    "executive": ("executive", "ceo", "cfo", "chief", "president", "founder", "chairman", "chairwoman"),
    "ceo": ("ceo", "chief executive"),
    "official": ("official", "governor", "member", "policymaker", "minister", "secretary"),
    "member": ("member", "board", "policymaker", "dissent", "dissented", "governor"),
    "policymaker": ("policymaker", "member", "board", "governor", "official"),
    "dissenter": ("dissent", "dissented", "dissenter"),
    "governor": ("governor",),
    "manager": ("manager",),
    "banker": ("banker",),
    "trader": ("trader",),
    "founder": ("founder",),
    "investor": ("investor",),
}

# Sectors and industries as analysts write them (lowercase); a list question about sectors looks for these.
SECTORS: tuple[str, ...] = (
    "industrials", "financials", "healthcare", "health care", "technology", "tech", "communications",
    "communication services", "energy", "utilities", "materials", "real estate", "consumer discretionary",
    "consumer staples", "information technology", "semiconductors", "software", "biotech", "biotechnology",
    "pharmaceuticals", "banks", "banking", "regional banking", "regional banks", "insurance", "insurers",
    "waste management", "retail", "retailers", "transportation", "transports", "logistics", "airlines", "autos",
    "homebuilders", "housing", "mining", "miners", "gold miners", "oil and gas", "oil", "gas", "chemicals",
    "defense", "aerospace", "media", "telecom", "telecoms", "data centers", "cybersecurity", "cloud", "ai",
    "infrastructure", "construction", "shipping", "restaurants", "travel", "leisure", "apparel", "agriculture",
    "office", "industrial", "residential", "healthcare reits", "data center", "towers", "self-storage",
    "hotels", "casinos", "tobacco", "beverages", "food", "machinery", "electric utilities", "renewables",
    "solar", "clean energy", "crypto", "exporters", "manufacturing", "capital goods", "brokers", "asset managers",
)

# Countries and regions (lowercase) for list questions about countries or markets.
COUNTRIES: tuple[str, ...] = (
    "united states", "u.s.", "us", "america", "canada", "mexico", "brazil", "argentina", "chile", "colombia",
    "peru", "united kingdom", "uk", "britain", "germany", "france", "italy", "spain", "netherlands",
    "switzerland", "sweden", "norway", "poland", "turkey", "russia", "ukraine", "israel", "saudi arabia",
    "uae", "qatar", "egypt", "south africa", "nigeria", "kenya", "india", "china", "japan", "south korea",
    "korea", "taiwan", "hong kong", "singapore", "indonesia", "malaysia", "thailand", "vietnam",
    "philippines", "australia", "new zealand", "europe", "euro area", "eurozone", "asia", "latin america",
    "emerging markets", "middle east", "africa", "gulf", "iraq", "iran", "kuwait", "kazakhstan", "algeria", "oman",
    "libya", "venezuela", "united arab emirates", "angola", "ecuador", "azerbaijan", "bahrain", "brunei", "sudan",
    "gabon", "congo", "equatorial guinea", "belgium", "austria", "denmark", "finland", "ireland", "portugal",
    "greece", "czech republic", "hungary", "romania", "pakistan", "bangladesh", "sri lanka", "morocco", "ghana",
    "ethiopia", "uruguay", "paraguay", "bolivia", "panama", "costa rica", "guatemala", "jamaica", "iceland",
    "luxembourg", "cyprus", "malta", "estonia", "latvia", "lithuania", "slovakia", "slovenia", "croatia",
    "serbia", "bulgaria", "belarus", "georgia", "armenia", "mongolia", "myanmar", "cambodia", "laos", "nepal",
)

# Figures and details people ask about a named fund, company or person. When the question asks for one of these
# about something the articles name, and no passage about it gives any of its forms, the articles name the thing
# but not the detail ("… mention the iShares Russell 2000 ETF but give no expense ratio").
METRICS: dict[str, tuple[str, ...]] = {
    "expense ratio": ("expense ratio", "expense ratios", "fee", "fees", "management fee"),
    "dividend yield": ("dividend yield", "dividend", "dividends", "distribution yield"),
    "payout ratio": ("payout ratio", "payout ratios"),
    "price range": ("price range", "range of", "marketed at", "priced at"),
    "index level": ("closed at", "close at", "closing level", "record close", "ended at", "finished at"),
    "revenue": ("revenue", "revenues", "sales", "top line", "turnover"),
    "profit": ("profit", "profits", "net income", "net profit", "profitable", "profitability", "margin", "margins"),
    "market capitalization": ("market capitalization", "market cap", "market value"),
    "ticker": ("ticker", "symbol", "ticker symbol"),
    "chief executive": ("ceo", "chief executive", "boss", "founder", "founded by"),
    "headquarters": ("headquarters", "headquartered", "based in", "hq"),
    "number of employees": ("employees", "staff", "workforce", "headcount"),
    "founding date": ("founded", "established", "inception"),
    "price target": ("price target", "target price"),
    "net assets": ("net assets", "assets under management", "aum"),
    "holdings": ("holdings", "constituents", "top holdings"),
    "share price": ("share price", "stock price", "priced at"),
    "rating": ("credit rating", "rating", "ratings", "rated"),
    "price-to-earnings ratio": ("price-to-earnings", "p/e", "times earnings", "earnings multiple"),
    "production": ("barrels a day", "barrels per day", "production", "output", "bpd"),
}

# Ways of asking for a detail that are not the detail's own words ("How much money is in the fund?").
# Details that are figures: a passage gives one only with a number beside it ("closed at a record high" names the
# record, not its level).
FIGURE_METRICS = frozenset({"expense ratio", "dividend yield", "payout ratio", "revenue", "profit",
                            "market capitalization", "number of employees", "price target", "net assets", "holdings",
                            "share price", "price-to-earnings ratio", "production", "price range", "index level"})

METRIC_QUESTIONS: dict[str, tuple[str, ...]] = {
    "net assets": ("how much money", "money invested", "money is invested", "size of the fund", "how big is the fund",
                   "fund size", "how large is the fund"),
    "number of employees": ("how many people work", "how many people does"),
    "founding date": ("when was", "how old is"),
    "production": ("how much oil", "how many barrels", "pumping", "producing"),
    "index level": ("what level", "which level", "level did", "level was"),
}

# Words that make a sentence about risks (what could go wrong), and words that say a risk is going away: a
# "what could go wrong" answer wants the first and not the second.
RISK_WORDS: tuple[str, ...] = (
    "risk", "risks", "risky", "fear", "fears", "concern", "concerns", "worry", "worries", "volatility",
    "volatile", "headwind", "headwinds", "bubble", "overvaluation", "overvalued", "decline", "declines", "fell",
    "fall", "falls", "drop", "drops", "suffer", "suffered", "hurt", "hurts", "pressure", "pressures", "squeeze",
    "squeezed", "threat", "threatens", "uncertainty", "uncertain", "sell-off", "selloff", "zombie", "unprofitable",
    "default", "defaults", "insolvency", "recession", "slowdown", "downgrade", "loss", "losses", "weak", "weaker",
    "weakness", "miss", "missed", "not be repeated", "may not", "could", "caution", "cautious", "warn", "warns",
    "warned", "skeptic", "skeptics", "danger", "dangers", "vulnerable", "exposure", "exposed", "stress",
    "delinquencies", "losses", "downside", "interrupted", "expensive", "inflation", "hotter", "tariff", "tariffs",
    "disappoint", "disappointing", "challenge", "challenges", "strain", "costly", "higher volatility", "burden",
    "cost more", "costs more", "more expensive", "higher fees", "drag", "lag", "lags", "lagged", "trail", "trailed",
    "underperformed", "worse", "penalty", "taxable", "tax bill", "concentration", "exposed to", "slide", "slowdown",
    "derail", "pullback", "pullbacks", "correction",
)
RISK_REMOVED_WORDS: tuple[str, ...] = (
    "removing", "removed", "remove", "insulated", "eased", "easing", "no longer", "relief", "advantage",
    "tailwind", "benefit", "benefits", "boosting", "protects", "protected", "shielded", "immune", "margin of safety",
)
# fmt: on
# What a risk question's second search adds to its topic: the words articles write their risks with ("Skeptics
# might attribute…", "zombie companies", "may not be repeated"), so that those passages are found even when the
# topic alone ("small caps") retrieves the bullish ones.
RISK_QUERY = "risks skeptics concerns downside volatility zombie unprofitable may not be repeated headwinds warn"
# fmt: off
CAUSAL_WORDS: tuple[str, ...] = (
    "pointed to", "cited", "citing", "arguing", "argued", "reflecting",
    "because", "since", "as a result", "due to", "thanks to", "driven by", "which means", "meaning", "so that",
    "therefore", "thus", "leads to", "led to", "causes", "caused", "results in", "resulting in", "allows", "allowing",
    "makes", "making", "reliant", "rely", "relies", "depend", "depends", "sensitive", "exposed", "when", "while",
    "whereas", "in turn", "this means", "that means", "reason", "explains", "helps", "hurts", "lifts", "boosting",
)
DRIVER_WORDS: tuple[str, ...] = (
    "pointed to", "points to", "cited", "citing", "credited", "credits", "attributed", "reflecting", "reflects",
    "as a result of", "on the back of", "helped by", "thanks in part",
    "driver", "drivers", "driving", "drive", "driven", "tailwind", "tailwinds", "boost", "boosting", "fuel",
    "fueled", "catalyst", "support", "supported", "benefit", "benefits", "spur", "lift", "lifted", "because",
    "due to", "thanks to", "as a result", "led", "leading", "incentivize", "compelling", "argument", "favorable",
    "resilient", "attractive", "rotation", "cuts", "lower", "inflows", "demand", "growth", "advantage",
)

# Words of guidance: what an article (or the advisers it quotes) tells an investor to do or to weigh ("cautioned
# against chasing the highest yields", "look for payout ratios below 80%", "use equal weight as a complement rather
# than a replacement", "many strategists prefer factor-based ETFs"). A "should I…" question wants these sentences.
ADVICE_WORDS: tuple[str, ...] = (
    "should", "consider", "considering", "recommend", "recommends", "recommended", "recommendation", "advise",
    "advises", "advised", "adviser", "advisers", "advisor", "advisors", "suggest", "suggests", "suggested", "caution",
    "cautioned", "cautions", "cautioned against", "against chasing", "chasing", "chase", "avoid", "avoiding",
    "look for", "instead", "rather than", "alternatively", "approach", "strategy", "strategists", "prefer",
    "preferred", "allocation", "allocate", "portfolio", "complement", "diversify", "diversified", "diversification",
    "selective", "filter out", "quality", "for investors", "investors who", "those who", "might want", "may want",
    "worth", "better suited", "suited", "default", "option", "options", "opportunity", "opportunities",
    "stock pickers", "active management", "hedge", "hedged", "unhedged", "lag", "outperform", "underperform",
    "payout", "balance sheet", "balance sheets", "wait", "patient", "long term", "long-term", "entry point",
)
# fmt: on


def synonym_map() -> dict[str, set[str]]:
    """word → the other words of its groups (lowercase, as written)."""
    out: dict[str, set[str]] = {}
    for group in SYNONYM_GROUPS:
        for word in group:
            out.setdefault(word, set()).update(w for w in group if w != word)
    return out
