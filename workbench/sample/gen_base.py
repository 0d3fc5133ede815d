"""Reference data, staff and the small fixed lookups (price lists, groups, methods, carriers, warehouses).

These barely scale: a retailer has a few dozen countries and statuses whatever its size; only the
head count follows ``scale``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from workbench.sample import words
from workbench.sample.context import DAY, DAYS, NOW, Context, day, moment, ts
from workbench.sample.world import Rows, StaffMember, Warehouse, World


def _day_index(y: int, m: int, d: int = 1) -> int:
    return moment(y, m, d) // DAY


def reference(ctx: Context, w: World) -> Iterator[tuple[str, Rows]]:
    """currencies, countries, exchange_rates, status_codes, tax_rates."""
    yield "currencies", [(c, n, s, dec) for c, n, s, dec, _ in words.CURRENCIES]
    yield "countries", [(c, n, cur, ph, eu, market) for c, n, cur, ph, eu, market, _ in words.COUNTRIES]
    w.country_currency = {c: cur for c, _, cur, *_ in words.COUNTRIES}
    w.markets = [c for c, *_, market, _ in words.COUNTRIES if market]
    big = {"DE": 30.0, "GB": 12.0, "FR": 9.0, "NL": 8.0, "AT": 6.0, "IT": 5.0, "ES": 4.0, "US": 4.0}
    w.market_weights = [big.get(c, 2.0) for c in w.markets]

    rng = ctx.rng("exchange_rates")
    rates: Rows = []
    weeks = (DAYS - 2) // 7 + 1
    drift = {"TRY": -0.0035, "GBP": -0.0002, "CHF": 0.0003, "PLN": -0.0001}
    for code, _, _, _, start in words.CURRENCIES:
        if code == "EUR":
            continue
        value, series = math.log(start), []
        for k in range(weeks):
            value += drift.get(code, 0.0) + rng.gauss(0, 0.008)
            text = f"{math.exp(value):.8f}"
            series.append(float(text))
            rates.append((code, day(2 + 7 * k), text))
        w.rates[code] = series
    yield "exchange_rates", sorted(rates)

    status_rows: Rows = []
    order_in_entity: dict[str, int] = {}
    for i, (entity, code, label, final) in enumerate(words.STATUS_CODES, start=1):
        order_in_entity[entity] = order_in_entity.get(entity, 0) + 10
        status_rows.append((i, entity, code, label, final, order_in_entity[entity]))
        w.status[(entity, code)] = i
    yield "status_codes", status_rows

    # VAT history: Germany's temporary cut of the second half of 2020, Switzerland's two changes.
    special: dict[str, list[tuple[int, int | None, float, float]]] = {
        "DE": [(0, _day_index(2020, 6, 30), 19.0, 7.0), (_day_index(2020, 7, 1), _day_index(2020, 12, 31), 16.0, 5.0),
               (_day_index(2021, 1, 1), None, 19.0, 7.0)],
        "CH": [(0, _day_index(2017, 12, 31), 8.0, 2.5), (_day_index(2018, 1, 1), _day_index(2023, 12, 31), 7.7, 2.5),
               (_day_index(2024, 1, 1), None, 8.1, 2.6)],
    }
    tax_rows: Rows = []
    for country in w.markets:
        std, red = words.VAT[country]
        periods = special.get(country, [(0, None, std, red)])
        for start, end, s, r in periods:
            for cls, pct in (("standard", s), ("reduced", r)):
                tax_rows.append(
                    (len(tax_rows) + 1, country, cls, f"{pct:.2f}", day(start), None if end is None else day(end))
                )
                w.tax.setdefault((country, cls), []).append((start, end, round(pct * 100)))
    yield "tax_rates", tax_rows


def staff(ctx: Context, w: World) -> Iterator[tuple[str, Rows]]:
    """departments, staff, roles, staff_roles: heads since day one, the rest hired and leaving over time."""
    rng = ctx.rng("staff")
    total = ctx.n(260, minimum=3 * len(words.DEPARTMENTS))
    people: list[tuple[int, int, int | None]] = []  # (hired, department, left)
    for dept, (_, _, share) in enumerate(words.DEPARTMENTS):
        people.append((0, dept, None))  # the head, never leaves
        for _ in range(max(2, round(total * share)) - 1):
            hired = ctx.office_time(rng, 0, NOW) // DAY * DAY
            left = None
            if rng.random() < 0.4:
                left_t = hired + rng.randint(200, 3500) * DAY
                left = left_t if left_t < NOW else None
            people.append((hired, dept, left))
    people.sort(key=lambda p: (p[0], p[1]))
    heads: dict[int, int] = {}
    staff_rows: Rows = []
    for sid, (hired, dept, left) in enumerate(people, start=1):
        member = StaffMember(sid, dept, hired, left)
        w.staff.append(member)
        w.staff_by_department[dept].append(member)
        if hired == 0 and dept not in heads:
            heads[dept] = sid
    for member in w.staff:
        first, last = rng.choice(words.FIRST_NAMES), rng.choice(words.LAST_NAMES)
        dept_name = words.DEPARTMENTS[member.department][0]
        is_head = heads[member.department] == member.id
        manager = (None if member.department == 0 else heads[0]) if is_head else heads[member.department]
        title = (
            f"Head of {dept_name}"
            if is_head
            else rng.choice(("Specialist", "Coordinator", "Associate", "Senior Specialist"))
        )
        staff_rows.append(
            (
                member.id,
                member.department + 1,
                manager,
                first,
                last,
                f"{first}.{last}.{member.id}@staff.example".lower().replace(" ", ""),
                title if is_head else f"{dept_name} {title}",
                "GB" if member.department == 2 and rng.random() < 0.15 else "DE",
                day(member.hired // DAY),
                None if member.left is None else day(member.left // DAY),
                member.left is None,
            )
        )
    w.department_names = [d[0] for d in words.DEPARTMENTS]
    yield "departments", [(i + 1, name, cc, heads[i]) for i, (name, cc, _) in enumerate(words.DEPARTMENTS)]
    yield "staff", staff_rows
    yield "roles", [(i + 1, name, desc) for i, (name, desc) in enumerate(words.ROLES)]
    role_id = {name: i + 1 for i, (name, _) in enumerate(words.ROLES)}
    grants: Rows = []
    for member in w.staff:
        main, extra = words.DEPARTMENT_ROLES[member.department]
        grants.append((member.id, role_id[main], ts(member.hired + 9 * 3600)))
        if heads[member.department] == member.id or rng.random() < 0.25:
            grants.append((member.id, role_id[extra], ts(member.hired + (30 + rng.randrange(400)) * DAY + 10 * 3600)))
    yield "staff_roles", sorted(grants)





def lookups(ctx: Context, w: World) -> Iterator[tuple[str, Rows]]:
    """price_lists, customer_groups, payment_methods, carriers, warehouses, email_templates."""
    rng = ctx.rng("lookups")
    pl_rows: Rows = []
    for i, (code, name, cur, wholesale, since) in enumerate(words.PRICE_LISTS, start=1):
        pl_rows.append((i, code, name, cur, wholesale, since))
        w.price_lists[code] = i
    yield "price_lists", pl_rows
    groups: Rows = []
    for i, (name, wholesale, pl, pct) in enumerate(words.CUSTOMER_GROUPS, start=1):
        groups.append((i, name, wholesale, w.price_lists[pl], f"{pct:.2f}"))
        (w.wholesale_groups if wholesale else w.retail_groups).append(i)
    yield "customer_groups", groups
    methods: Rows = []
    for i, (code, name, provider, active) in enumerate(words.PAYMENT_METHODS, start=1):
        methods.append((i, code, name, provider, active))
        w.payment_methods[code] = i
    yield "payment_methods", methods
    yield "carriers", [(i, name, url, i != 5) for i, (name, url) in enumerate(words.CARRIERS, start=1)]
    w.carriers = list(range(1, len(words.CARRIERS) + 1))
    wh_rows: Rows = []
    for i, (code, name, country, city, (y, m)) in enumerate(words.WAREHOUSES, start=1):
        opened = _day_index(y, m) * DAY
        closed = _day_index(2020, 3, 31) * DAY if code == "ST-BER" else None
        w.warehouses.append(Warehouse(i, code, country, opened, closed))
        manager = w.staff_at(rng, 2, opened)
        wh_rows.append((i, code, name, country, city, closed is None, day(opened // DAY),
                        None if closed is None else day(closed // DAY), manager))
    yield "warehouses", wh_rows
    tpl: Rows = []
    for i, (code, subject) in enumerate(words.EMAIL_TEMPLATES, start=1):
        tpl.append((i, code, subject, f"<p>{subject}</p><p>Kind regards, the shop team</p>", "en",
                    ts(ctx.office_time(rng, _day_index(2019, 6, 1) * DAY, NOW))))
        w.templates[code] = i
    yield "email_templates", tpl
