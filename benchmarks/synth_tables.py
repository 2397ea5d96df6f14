"""The word tables the synthetic corpus is written from (benchmarks/synth_corpus.py): names, places, publishers,
indexes, months and the section headings of each kind of article. Data only."""

# fmt: off
FIRST = ("Apex Northwind Bluewater Crescent Granite Harbor Ironwood Juniper Keystone Lumen Meridian Nova Orion "
         "Pinnacle Quantum Redwood Summit Titan Vertex Willow Cobalt Silverline Evergreen Falcon Horizon Atlas "
         "Beacon Cascade Delta Ember Frontier Glacier Helix Indigo Jasper Kestrel Lakeshore Magnolia Nimbus "
         "Oakridge Prairie Quarry Ridgeline Sable Tidewater Umber Vanguard Westbrook Yarrow Zenith Alder "
         "Brightwater Copperline Driftwood Eastgate Foxglove Goldcrest Highland").split()
SECTORS: dict[str, dict[str, list[str]]] = {
    "Technology": {
        "suffix": ["Systems", "Software", "Semiconductor", "Networks", "Analytics", "Cloud", "Micro"],
        "product": ["data-center chips", "cloud subscriptions", "cybersecurity software", "networking gear",
                    "AI inference servers", "analytics platform", "memory modules", "enterprise licences"],
        "driver": ["AI infrastructure spending", "enterprise IT budgets", "hyperscaler capex", "PC replacement cycles",
                   "subscription renewals", "chip inventory normalisation"],
        "risk": ["export controls", "customer concentration", "pricing pressure from larger rivals",
                 "a slowdown in cloud migrations"],
    },
    "Healthcare": {
        "suffix": ["Therapeutics", "Biosciences", "Health", "Medical", "Pharma", "Diagnostics"],
        "product": ["obesity drugs", "oncology pipeline", "diagnostic kits", "surgical robots", "generic injectables",
                    "gene therapy candidates", "home dialysis systems"],
        "driver": ["GLP-1 prescriptions", "procedure volumes", "Medicare reimbursement", "clinical trial readouts",
                   "hospital capital budgets"],
        "risk": ["drug-pricing legislation", "a failed phase 3 trial", "FDA approval delays", "patent expiries"],
    },
    "Financials": {
        "suffix": ["Bancorp", "Financial", "Capital", "Insurance", "Trust", "Lending"],
        "product": ["commercial loans", "deposit franchise", "wealth management", "credit cards",
                    "property and casualty policies", "mortgage servicing"],
        "driver": ["net interest margin", "loan growth", "deposit costs", "fee income", "credit quality"],
        "risk": ["commercial real estate exposure", "deposit outflows", "rising charge-offs", "capital rules"],
    },
    "Energy": {
        "suffix": ["Energy", "Resources", "Petroleum", "Renewables", "Midstream"],
        "product": ["shale oil output", "natural gas pipelines", "solar farms", "LNG export capacity",
                    "offshore drilling rigs"],
        "driver": ["crude prices", "natural gas demand", "refining margins", "OPEC+ supply decisions",
                   "power demand from data centers"],
        "risk": ["a drop in oil prices", "permitting delays", "windfall taxes", "hurricane disruptions"],
    },
    "Industrials": {
        "suffix": ["Industries", "Aerospace", "Logistics", "Machinery", "Engineering", "Rail"],
        "product": ["jet engine parts", "freight services", "construction equipment", "factory automation",
                    "defense electronics", "HVAC systems"],
        "driver": ["freight volumes", "airline fleet orders", "infrastructure spending", "reshoring of manufacturing",
                   "defense budgets"],
        "risk": ["supply-chain bottlenecks", "labour shortages", "tariffs on steel", "a manufacturing slowdown"],
    },
    "Consumer": {
        "suffix": ["Brands", "Foods", "Retail", "Apparel", "Restaurants", "Home"],
        "product": ["private-label groceries", "athletic footwear", "fast-casual restaurants", "home furnishings",
                    "beauty products", "e-commerce marketplace"],
        "driver": ["consumer spending", "same-store sales", "holiday demand", "promotional activity",
                   "foot traffic"],
        "risk": ["weaker discretionary spending", "higher freight costs", "shrink and theft",
                 "competition from discount chains"],
    },
    "Utilities": {
        "suffix": ["Power", "Utilities", "Electric", "Water"],
        "product": ["regulated electricity", "transmission lines", "water networks", "gas distribution"],
        "driver": ["rate-case approvals", "load growth", "data-center power contracts", "grid investment"],
        "risk": ["wildfire liabilities", "unfavourable rate decisions", "higher borrowing costs"],
    },
    "Real Estate": {
        "suffix": ["Realty", "Properties", "REIT", "Residential"],
        "product": ["industrial warehouses", "apartment communities", "office towers", "self-storage sites",
                    "cell towers"],
        "driver": ["occupancy", "rent growth", "cap rates", "leasing spreads"],
        "risk": ["office vacancies", "refinancing at higher rates", "new supply", "tenant bankruptcies"],
    },
    "Materials": {
        "suffix": ["Materials", "Chemicals", "Mining", "Steel", "Metals"],
        "product": ["copper concentrate", "lithium hydroxide", "specialty chemicals", "steel coil", "gold output"],
        "driver": ["copper prices", "EV battery demand", "construction activity", "Chinese demand"],
        "risk": ["commodity price swings", "mine disruptions", "environmental permits", "cheap imports"],
    },
    "Communication Services": {
        "suffix": ["Media", "Telecom", "Interactive", "Broadcasting", "Studios"],
        "product": ["streaming subscriptions", "fibre broadband", "digital advertising", "mobile plans",
                    "video games"],
        "driver": ["subscriber growth", "advertising demand", "average revenue per user", "churn"],
        "risk": ["cord-cutting", "ad-market softness", "spectrum costs", "content spending"],
    },
}
PUBLISHERS = ["Market Ledger", "Wire Street Journal", "FinPulse", "The Capital Review", "Ticker Daily",
              "Northbridge Research", "Equity Desk", "Harbor Financial News", "Bullion & Bond", "The Small-Cap Report"]
FIRST_NAMES = ("Maria James Aisha Tomas Priya Daniel Chen Sofia Liam Fatima Noah Elena Omar Grace Kenji Laura "
               "Mateo Hannah Ravi Ines").split()
LAST_NAMES = ("Alvarez Brennan Chowdhury Dubois Eriksen Fischer Gupta Haddad Ito Jensen Kowalski Larsen Moreau "
              "Nakamura Okafor Petrov Quinn Rossi Schmidt Tanaka Ueda Varga Weber Xu Yilmaz Zhang").split()
INDEXES = ["S&P 500", "Nasdaq Composite", "Dow Jones Industrial Average", "Russell 2000", "S&P MidCap 400",
           "S&P SmallCap 600"]
ANALYST_FIRMS = ["Morgan Hale", "Brookline Securities", "Carter & Finch", "Stonebridge Partners", "Leland Capital Markets",
                 "Ashford Research", "Pemberton Equity"]
# fmt: on
QUARTERS = ["first", "second", "third", "fourth"]
# fmt: off
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
# fmt: on
# fmt: off
CITIES = ["Austin", "Denver", "Charlotte", "Boston", "Minneapolis", "Phoenix", "Atlanta", "Columbus", "Pittsburgh",
          "San Diego", "Nashville", "Raleigh", "Salt Lake City", "Tampa", "Portland", "Houston", "Chicago"]
# fmt: on
KINDS = ["earnings", "deal", "analyst", "ipo", "payout", "macro", "explainer"]
# fmt: off
HEADINGS = {
    "earnings": ["Quarterly results", "Guidance", "What management said", "Segment performance"],
    "deal": ["Deal terms", "Strategic rationale", "Regulatory path", "Financing"],
    "analyst": ["The call", "Valuation", "What the bulls and bears say"],
    "ipo": ["The offering", "First-day trading", "The business"],
    "payout": ["Capital returns", "Balance sheet", "Income investors"],
    "macro": ["Markets at a glance", "Rates and the Fed", "Sector moves"],
    "explainer": ["Background", "By the numbers", "The bigger picture"],
}
# fmt: on
