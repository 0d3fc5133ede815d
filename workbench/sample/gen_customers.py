"""Customers and their footprint: accounts, addresses, wholesale accounts, web sessions, searches, newsletter.

Sign-ups follow the business's growth; addresses are added as people move (ids in insertion
order, so a customer's later address has a much higher id); wholesale customers may only order
once their account is approved. ``web_sessions``, ``search_log`` and ``newsletter_subscriptions``
carry ``customer_id`` columns with no constraint: the web team's tables never got foreign keys.
"""

from __future__ import annotations

from collections.abc import Iterator

from workbench.sample import words
from workbench.sample.context import DAY, NOW, Context, cumulative, moment, money, pick_weighted, ts
from workbench.sample.world import Customer, Rows, World

_GBP_SINCE = moment(2013, 4)  # GBP checkout from 2013-04 (price list RETAIL_GBP)
_USD_SINCE = moment(2016, 9)  # USD checkout from 2016-09 (price list RETAIL_USD)
_AGENTS = (
    (2011, "Mozilla/5.0 (Windows NT 6.1) Firefox/4.0"),
    (2011, "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1)"),
    (2013, "Mozilla/5.0 (iPhone; CPU iPhone OS 7_0) Safari/9537"),
    (2015, "Mozilla/5.0 (Windows NT 10.0) Chrome/46.0"),
    (2017, "Mozilla/5.0 (Linux; Android 7.0) Chrome/60.0 Mobile"),
    (2019, "Mozilla/5.0 (Macintosh) Safari/605.1.15"),
    (2021, "Mozilla/5.0 (iPhone; CPU iPhone OS 15_0) Mobile/15E148"),
    (2023, "Mozilla/5.0 (Windows NT 10.0) Chrome/118.0"),
)


def _clean(text: str) -> str:
    return text.lower().replace(" ", "").replace("'", "")


def customers(ctx: Context, w: World) -> Iterator[tuple[str, Rows]]:
    """customers, addresses, wholesale_accounts, web_sessions, search_log, newsletter_subscriptions."""
    rng = ctx.rng("customers")
    market_cum = cumulative(w.market_weights)
    n = ctx.n(16000, minimum=100)
    created = sorted(ctx.busy_time(rng, 3 * DAY, NOW - DAY) for _ in range(n))
    cust_rows: list[list[object]] = []
    pending_addresses: list[
        tuple[int, int, str, str, str, str, str]
    ] = []  # (created, customer, type, line1, city, postcode, country)
    accounts: list[tuple[int, Customer, int | None, str]] = []
    for cid, made in enumerate(created, start=1):
        wholesale = int(cid * 0.06) != int((cid - 1) * 0.06)  # every ~17th sign-up is a business
        country = w.markets[pick_weighted(rng, market_cum)]
        local = w.country_currency[country]
        currency = (
            "GBP"
            if local == "GBP" and made >= _GBP_SINCE
            else "USD"
            if local == "USD" and made >= _USD_SINCE
            else "EUR"
        )
        first, last = rng.choice(words.FIRST_NAMES), rng.choice(words.LAST_NAMES)
        email = f"{_clean(first)}.{_clean(last)}{cid}@{rng.choice(words.EMAIL_DOMAINS)}"
        group = (
            rng.choice(w.wholesale_groups) if wholesale
            else w.retail_groups[0] if rng.random() < 0.9 else w.retail_groups[1 if rng.random() < 0.8 else 2]
        )
        closed = None
        status = "ACTIVE"
        r = rng.random()
        if r < 0.03:
            end = made + rng.randint(30, 3000) * DAY
            if end < NOW - DAY:
                closed, status = end, "CLOSED"
        elif r < 0.035:
            status = "BLOCKED"
        customer = Customer(cid, made, country, currency, email, wholesale, group, closed=closed)
        w.customers.append(customer)
        prefix = next(c[3] for c in words.COUNTRIES if c[0] == country)
        phone1 = f"{prefix} {rng.randrange(10**8, 10**9)}" if rng.random() < 0.85 else None
        phone2 = f"{prefix} {rng.randrange(10**8, 10**9)}" if phone1 and rng.random() < 0.2 else None
        cust_rows.append([
            cid, group, email, first, last, phone1, phone2, country, currency, None, w.status[("CUSTOMER", status)],
            wholesale, rng.random() < 0.35, ts(made), ts(closed if closed else made), None,
        ])
        cities = next(c[6] for c in words.COUNTRIES if c[0] == country)
        moves = 1 + (rng.random() < 0.35) + (rng.random() < 0.12)
        when = made
        for k in range(moves):
            if k:
                when = when + rng.randint(60, 2000) * DAY
                if when >= (closed or NOW):
                    break
            kinds = ("billing", "shipping") if (k == 0 and rng.random() < 0.25) else ("shipping",)
            street = (f"{rng.randint(1, 240)} "
                      f"{rng.choice(('Main', 'Station', 'Church', 'Park', 'Mill', 'Market', 'Garden'))} Street")
            postcode = f"{rng.randrange(10000, 99999)}"
            city = rng.choice(cities)
            for kind in kinds:
                pending_addresses.append((when, cid, kind, street, city, postcode, country))
        if wholesale:
            applied = made + rng.randrange(3 * DAY)
            approved_at = applied + rng.randint(2, 14) * DAY
            accounts.append((applied, customer, approved_at if approved_at < NOW else None,
                             f"{last} {rng.choice(('Handel', 'Retail', 'Trading', 'Supplies', 'Store'))}"))

    pending_addresses.sort(key=lambda a: (a[0], a[1]))
    addr_rows: list[list[object]] = []
    for aid, (when, cid, kind, street, city, postcode, country) in enumerate(pending_addresses, start=1):
        c = w.customers[cid - 1]
        if kind == "shipping":
            c.addresses.append((aid, when))
        deleted = False
        addr_rows.append([aid, cid, kind, street, None, city, postcode, country, deleted, ts(when)])
    for c, row in zip(w.customers, cust_rows, strict=True):
        row[9] = c.addresses[0][0]  # default_address_id: the first shipping address (FK cycle)
        for aid, _ in c.addresses[:-1]:  # moved away: older addresses soft-deleted
            if rng.random() < 0.5:
                addr_rows[aid - 1][8] = True
    yield "addresses", [tuple(r) for r in addr_rows]

    acc_rows: Rows = []
    accounts.sort(key=lambda a: (a[0], a[1].id))
    for acc_id, (applied, c, approved, company) in enumerate(accounts, start=1):
        c.account_id = acc_id
        c.terms_days = rng.choice((14, 30, 30, 45, 60))
        status = "APPLIED" if approved is None else ("SUSPENDED" if rng.random() < 0.05 else "APPROVED")
        if status == "SUSPENDED":
            c.closed = max(approved or 0, NOW - rng.randint(30, 700) * DAY)
        acc_rows.append((acc_id, c.id, company, f"{c.country}{rng.randrange(10**8, 10**9)}",
                         money(rng.choice((5000, 10000, 25000, 50000, 100000)) * 100), c.terms_days,
                         w.staff_at(rng, 7, applied), w.status[("ACCOUNT", status)], ts(applied),
                         None if approved is None else ts(approved)))
        if approved is not None:
            c.approved = approved
            w.wholesale.append(c)
    w.wholesale.sort(key=lambda c: (c.approved or 0, c.id))
    w.wholesale_created = [c.approved or 0 for c in w.wholesale]
    w.customer_created = [c.created for c in w.customers]
    yield "wholesale_accounts", acc_rows

    sessions, searches, last_login = _sessions(ctx, w)
    for cid, t in last_login.items():
        cust_rows[cid - 1][15] = ts(t)
    yield "customers", [tuple(r) for r in cust_rows]
    yield "web_sessions", sessions
    yield "search_log", searches
    yield "newsletter_subscriptions", _newsletter(ctx, w, cust_rows)


def _sessions(ctx: Context, w: World) -> tuple[Rows, Rows, dict[int, int]]:
    rng = ctx.rng("web_sessions")
    starts = sorted(ctx.busy_time(rng, 0, NOW - 3600) for _ in range(ctx.n(30000, minimum=50)))
    sessions: Rows = []
    searches: Rows = []
    last_login: dict[int, int] = {}
    pages = ("/", "/", "/sale", "/c/kitchen", "/c/garden", "/c/electronics", "/search", "/account", "/p/")
    for sid, start in enumerate(starts, start=1):
        customer = w.pick_customer(rng, start) if rng.random() < 0.55 else None
        cid = customer.id if customer else None
        if cid is not None:
            last_login[cid] = start
        length = rng.randint(30, 3600)
        year = 2011 + start // (365 * DAY)
        agents = [a for y, a in _AGENTS if y <= year]
        ended = None if rng.random() < 0.05 else ts(start + length)
        sessions.append((sid, f"{rng.getrandbits(128):032x}", cid, ts(start), ended,
                         f"{rng.randint(2, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randint(1, 254)}",
                         rng.choice(agents[-4:]), rng.choice(pages)))
        w.sessions.append((sid, cid, start))
        if rng.random() < 0.3:
            for _ in range(rng.randint(1, 3)):
                searches.append((sid, cid, rng.choice(words.SEARCH_TERMS), rng.choice((0, 3, 12, 40, 120, 480)),
                                 ts(start + rng.randrange(length))))
    searches.sort(key=lambda r: (r[4], r[0]))
    return sessions, searches, last_login


def _newsletter(ctx: Context, w: World, cust_rows: list[list[object]]) -> Rows:
    rng = ctx.rng("newsletter")
    pending: list[tuple[int, str, int | None, int | None, str, str]] = []
    for c, row in zip(w.customers, cust_rows, strict=True):
        if row[12]:  # marketing_opt_in
            when = c.created + rng.randrange(3600)
            left = when + rng.randint(30, 3000) * DAY if rng.random() < 0.2 else None
            pending.append((when, c.email, c.id, left if left and left < NOW else None, "checkout", "en"))
    for k in range(ctx.n(6000, minimum=5)):
        when = ctx.busy_time(rng, 0, NOW - DAY)
        pending.append((when, f"reader{k + 1}@{rng.choice(words.EMAIL_DOMAINS)}", None, None,
                        rng.choice(("footer", "popup", "footer", "event")), rng.choice(("en", "de", "fr", "nl"))))
    pending.sort(key=lambda p: (p[0], p[1]))
    return [(i, email, cid, ts(when), None if left is None else ts(left), source, lang)
            for i, (when, email, cid, left, source, lang) in enumerate(pending, start=1)]
