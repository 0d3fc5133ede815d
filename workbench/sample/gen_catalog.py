"""Catalog, pricing and suppliers: what is sold, at which price over time, and who supplies it.

Prices move every one to four years with inflation; the EUR retail list is the master, wholesale
is 70 % of it and the GBP/USD lists are converted at checkout (a legacy shortcut the pricing
tables do not show). The 2011-2013 ERP price import survives as ``price_history_import``: no key,
joined by SKU, some batches imported twice.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from workbench.sample import words
from workbench.sample.context import DAY, NOW, Context, cumulative, day, money, ts
from workbench.sample.world import Product, Rows, World

_SUPPLIER_COUNTRIES = ("CN", "CN", "CN", "TW", "VN", "IN", "TR", "DE", "DE", "PL", "IT", "CZ", "PT", "JP", "KR")


def catalog(ctx: Context, w: World) -> Iterator[tuple[str, Rows]]:
    """brands, categories, products, product_categories, product_images, product_prices, price_history_import."""
    rng = ctx.rng("catalog")
    n_brands = min(len(words.BRAND_PARTS[0]) * len(words.BRAND_PARTS[1]), ctx.n(150, minimum=5))
    brand_names = sorted({a + b for a in words.BRAND_PARTS[0] for b in words.BRAND_PARTS[1]})
    brand_names = rng.sample(brand_names, n_brands)
    countries = [c[0] for c in words.COUNTRIES]
    yield "brands", [(i, name, rng.choice(countries), f"https://{name.lower()}.example")
                     for i, name in enumerate(brand_names, start=1)]

    cat_rows: Rows = []
    leaves: list[tuple[int, str, str]] = []  # (category id, top name, leaf name)
    clearance_id = 0
    for top_order, (top, children) in enumerate(words.CATEGORY_TREE, start=1):
        top_id = len(cat_rows) + 1
        cat_rows.append((top_id, None, top, top.lower().replace(" ", "-"), top_order * 10, True))
        if not children:
            clearance_id = top_id
        for child_order, child in enumerate(children, start=1):
            cid = len(cat_rows) + 1
            slug = f"{top}/{child}".lower().replace(" & ", "-").replace(" ", "-")
            cat_rows.append((cid, top_id, child, slug, child_order * 10, child != "Filing"))
            leaves.append((cid, top, child))
    yield "categories", cat_rows

    n_products = ctx.n(6000, minimum=30)
    launch = [0 if rng.random() < 0.35 else None for _ in range(n_products)]
    created = sorted(
        (2 * DAY + rng.randrange(5 * DAY)) if at_launch is not None else ctx.office_time(rng, 7 * DAY, NOW - 5 * DAY)
        for at_launch in launch
    )
    product_rows: list[list[object]] = []
    pc_rows: Rows = []
    img_rows: Rows = []
    price_rows: Rows = []
    weights: list[float] = []
    retail, wholesale = w.price_lists["RETAIL_EUR"], w.price_lists["WHOLESALE_EUR"]
    for pid, made in enumerate(created, start=1):
        cat_id, top, leaf = leaves[rng.randrange(len(leaves))]
        brand_id = rng.randrange(n_brands) + 1
        noun = rng.choice(words.CATEGORY_NOUNS[leaf])
        name = (f"{brand_names[brand_id - 1]} {rng.choice(words.PRODUCT_ADJECTIVES)} {noun} "
                f"{chr(65 + rng.randrange(26))}{rng.randrange(10, 999)}")
        euros = min(1999.0, max(1.99, math.exp(rng.gauss(3.2, 0.9))))
        cents = int(euros) * 100 + (99 if euros >= 5 else 49)
        prices = [(made, cents)]
        t = made
        while True:
            t += rng.randint(365, 1460) * DAY
            if t >= NOW - 30 * DAY:
                break
            cents = max(149, int(cents * (1 + rng.uniform(-0.05, 0.12))) // 100 * 100 + 99)
            prices.append((t // DAY * DAY, cents))
        draft = made > NOW - 40 * DAY and rng.random() < 0.5
        discontinued = None
        if not draft and rng.random() < 0.28:
            end = made + rng.randint(300, 3000) * DAY
            discontinued = end // DAY * DAY if end < NOW - 2 * DAY else None
        tax_class = "reduced" if top in ("Office", "Toys") and rng.random() < 0.3 else "standard"
        weight = max(20, int(math.exp(rng.gauss(6.5, 1.1))))
        cost = int(prices[0][1] * rng.uniform(0.35, 0.6))
        supplier = 0  # filled in by suppliers()
        sku = f"{top[:3].upper()}-{pid:06d}"
        product = Product(pid, sku, made, made if draft else discontinued, prices, tax_class, weight, supplier, cost)
        w.products.append(product)
        weights.append(0.0 if draft else min(50.0, rng.paretovariate(1.3)))
        status = "DRAFT" if draft else ("DISCONTINUED" if discontinued is not None else "ACTIVE")
        product_rows.append(
            [
                pid,
                sku,
                name,
                brand_id,
                cat_id,
                f"{name}. {rng.choice(('Durable', 'Popular', 'Award-winning', 'Practical', 'Best-selling'))} "
                f"{noun.lower()} "
                f"from {brand_names[brand_id - 1]}.",
                weight,
                tax_class,
                money(prices[-1][1]),
                money(cost),
                "EUR",
                w.status[("PRODUCT", status)],
                None,
                discontinued is not None,
                None if discontinued is None else day(discontinued // DAY),
                ts(made),
                ts(prices[-1][0] if len(prices) > 1 else made),
            ]
        )
        pc_rows.append((pid, cat_id, True))
        if discontinued is not None and rng.random() < 0.5:
            pc_rows.append((pid, clearance_id, False))
        elif rng.random() < 0.15:
            other = leaves[rng.randrange(len(leaves))][0]
            if other != cat_id:
                pc_rows.append((pid, other, False))
        for k in range(rng.randint(1, 4)):
            img_rows.append((len(img_rows) + 1, pid, f"https://img.example/p/{pid}/{k + 1}.jpg",
                             f"{noun} view {k + 1}", k + 1))
        for j, (start, value) in enumerate(prices):
            until = None if j + 1 == len(prices) else day(prices[j + 1][0] // DAY - 1)
            price_rows.append((retail, pid, money(value), day(start // DAY), until))
            price_rows.append((wholesale, pid, money(value * 70 // 100), day(start // DAY), until))
    w.product_created = created
    w.product_cum = cumulative(weights)
    suppliers_rows = list(_suppliers(ctx, w, product_rows))
    yield "products", [tuple(r) for r in product_rows]
    yield "product_categories", sorted(pc_rows)
    yield "product_images", img_rows
    price_rows.sort(key=lambda r: (r[0], r[1], r[3]))
    yield "product_prices", [(i, *r) for i, r in enumerate(price_rows, start=1)]
    yield from suppliers_rows
    yield "price_history_import", _price_import(ctx, w)


def _price_import(ctx: Context, w: World) -> Rows:
    """The ERP's price export, imported nightly 2011-2013 and never cleaned up."""
    rng = ctx.rng("price_history_import")
    rows: Rows = []
    cutoff = 3 * 365 * DAY
    candidates = [p for p in w.products if p.created < cutoff]
    for _ in range(ctx.n(12000, minimum=10)):
        p = candidates[rng.randrange(len(candidates))]
        when = ctx.office_time(rng, p.created, cutoff)
        old = p.price_at(when)
        new = max(99, int(old * rng.uniform(0.9, 1.12)))
        batch = 1 + when // (7 * DAY)
        list_code = rng.choice(("VK1", "VK1", "VK1", "GH2"))  # the ERP's own price list codes
        factor = 70 if list_code == "GH2" else 100
        rows.append((p.sku, list_code, money(old * factor // 100), money(new * factor // 100),
                     day(when // DAY), batch, ts((when // DAY + 1) * DAY + 2 * 3600 + rng.randrange(1800))))
        if rng.random() < 0.08:  # the batch that ran twice
            rows.append(rows[-1])
    rows.sort(key=lambda r: (r[6], r[0]))
    return rows


def _suppliers(ctx: Context, w: World, product_rows: list[list[object]]) -> Iterator[tuple[str, Rows]]:
    """tblSupplier, SupplierContact, supplier_products; sets each product's preferred supplier."""
    rng = ctx.rng("suppliers")
    n = ctx.n(180, minimum=5)
    sup_rows: Rows = []
    contact_rows: Rows = []
    sup_created: list[int] = []
    for sid in range(1, n + 1):
        country = rng.choice(_SUPPLIER_COUNTRIES)
        name = (f"{rng.choice(words.BRAND_PARTS[0])}{rng.choice(words.BRAND_PARTS[1])} "
                f"{rng.choice(words.SUPPLIER_SUFFIXES)}")
        created = 0 if sid <= max(2, n // 3) else ctx.office_time(rng, 30 * DAY, NOW - 400 * DAY)
        sup_created.append(created)
        sup_rows.append((sid, name, country, f"{country}{rng.randrange(10**8, 10**9)}", rng.choice((30, 45, 60, 90)),
                         rng.random() < 0.85, ts(created + 10 * 3600)))
        for k in range(rng.randint(1, 3)):
            first, last = rng.choice(words.FIRST_NAMES), rng.choice(words.LAST_NAMES)
            contact_rows.append((len(contact_rows) + 1, sid, first, last,
                                 f"{first}.{last}@supplier{sid}.example".lower().replace(" ", ""),
                                 f"+{rng.randrange(10, 99)} {rng.randrange(10**7, 10**8)}", k == 0))
        w.suppliers.append(sid)
    since = dict(zip(range(1, n + 1), sup_created, strict=True))  # supplier id -> created
    links: Rows = []
    for row, p in zip(product_rows, w.products, strict=True):
        eligible = [s for s in w.suppliers if since[s] <= p.created] or [1]
        chosen = [eligible[rng.randrange(len(eligible))]]
        if rng.random() < 0.2:
            other = eligible[rng.randrange(len(eligible))]
            if other != chosen[0]:
                chosen.append(other)
        p.supplier_id = chosen[0]
        row[12] = chosen[0]  # products.supplier_id: by naming convention only
        for k, sid in enumerate(chosen):
            w.supplier_products[sid].append(p.id)
            links.append(
                (
                    sid,
                    p.id,
                    f"S{sid}-{rng.randrange(10**5, 10**6)}",
                    money(int(p.cost_cents * rng.uniform(0.95, 1.1))),
                    rng.choice((14, 21, 30, 45, 60)),
                    k == 0,
                )
            )
    yield "tblSupplier", sup_rows
    yield "SupplierContact", contact_rows
    yield "supplier_products", sorted(links)


def promotions(ctx: Context, w: World) -> Iterator[tuple[str, Rows]]:
    """promotions and promotion_products; coupon campaigns are recorded for the order generator."""
    rng = ctx.rng("promotions")
    n = ctx.n(300, minimum=10)
    starts = sorted(ctx.office_time(rng, 60 * DAY, NOW - 3 * DAY) for _ in range(n))
    promo_rows: Rows = []
    link_rows: set[tuple[int, int]] = set()
    coupon_id = 0
    for pid, start in enumerate(starts, start=1):
        start = start // DAY * DAY
        kind = rng.choice(("SEASONAL", "SEASONAL", "CLEARANCE", "FLASH", "COUPON"))
        length = {"FLASH": rng.randint(1, 3), "COUPON": rng.randint(14, 60)}.get(kind, rng.randint(7, 30))
        end = start + length * DAY - 1
        pct = rng.choice((5, 10, 10, 15, 20, 25, 30, 40) if kind != "COUPON" else (5, 10, 15))
        season = ("Winter", "Spring", "Summer", "Autumn")[int(ts(start)[5:7]) % 12 // 3]
        name = f"{season} {kind.title()} {ts(start)[:4]} #{pid}"
        promo_rows.append((pid, name, kind, f"{pct:.2f}", ts(start), ts(end), w.staff_at(rng, 5, start), end >= NOW))
        if kind == "COUPON":
            codes = list(range(coupon_id + 1, coupon_id + 1 + rng.randint(3, 12)))
            coupon_id = codes[-1]
            w.coupon_promotions.append((start, end, pid, pct, codes))
            continue
        for _ in range(rng.randint(5, 30)):
            product = w.pick_product(rng, start)
            if (pid, product.id) not in link_rows:
                link_rows.add((pid, product.id))
                w.promotions_by_product[product.id].append((start, end, pid, pct))
    goodwill = n + 1
    promo_rows.append(
        (
            goodwill,
            "Goodwill voucher (customer service)",
            "GOODWILL",
            "10.00",
            ts(0),
            ts(NOW + 5 * 365 * DAY),
            w.staff_at(rng, 1, 0),
            True,
        )
    )
    w.goodwill_promotion = goodwill
    w.next_coupon_id = coupon_id + 1
    yield "promotions", promo_rows
    yield "promotion_products", sorted(link_rows)
