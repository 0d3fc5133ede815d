"""Everything derived from the order flow: purchasing and stock, reviews, content, the audit trail, reports.

Stock is a ledger: ``stock_movements`` (opening balances, receipts, sales, returns, stock-take
adjustments, the transfer out of the closed Berlin store) adds up to ``warehouse_stock``, and no
balance ever goes negative. The cross-cutting tables come last because every domain writes them:
``audit_log``, ``notes`` and ``attachments`` point back at rows of many other tables.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from operator import itemgetter

from workbench.sample import words
from workbench.sample.context import DAY, NOW, Context, day, moment, money, ts
from workbench.sample.world import Rows, World

_NOTIFY_SINCE = moment(2020)  # e-mail notifications from 2020
_SHIP_MAIL_SINCE = moment(2022)  # shipping e-mails from 2022


def purchasing(ctx: Context, w: World) -> Iterator[tuple[str, Rows]]:
    """purchase_orders, purchase_order_lines, GoodsReceipt; receipts become stock movements."""
    rng = ctx.rng("purchasing")
    st = w.status
    starts = sorted(ctx.busy_time(rng, 20 * DAY, NOW - DAY) for _ in range(ctx.n(2000, minimum=5)))
    po_rows: Rows = []
    line_rows: Rows = []
    receipts: list[tuple[int, int, int, int, str | None]] = []
    receipt_lines: list[tuple[int, int, int, int, int]] = []  # (po id, po line id, product, qty, warehouse)
    for t in starts:
        t = ctx.office_time(rng, t // DAY * DAY, t // DAY * DAY + DAY)
        supplier = w.suppliers[rng.randrange(len(w.suppliers))]
        products = [p for p in w.supplier_products[supplier] if w.products[p - 1].created <= t
                    and (w.products[p - 1].discontinued is None or t < (w.products[p - 1].discontinued or 0))]
        warehouses = [x for x in w.open_warehouses(t) if x.code != "ST-BER"]
        if not products or not warehouses:
            continue
        po_id = len(po_rows) + 1
        wh = warehouses[rng.randrange(len(warehouses))].id
        lead = rng.randint(7, 45) * DAY
        cancelled = rng.random() < 0.03
        received = ctx.office_time(rng, t + lead, t + lead + 2 * DAY)
        arrived = not cancelled and received < NOW
        partial = arrived and rng.random() < 0.08
        status = "CANCELLED" if cancelled else ("OPEN" if not arrived else ("PARTIAL" if partial else "RECEIVED"))
        total = 0
        chosen = rng.sample(products, min(len(products), rng.randint(3, 20)))
        for pid in chosen:
            qty = rng.choice((12, 24, 24, 48, 50, 100, 120, 200))
            got = qty if not partial or rng.random() < 0.6 else qty * rng.randint(5, 9) // 10
            got = got if arrived else 0
            cost = int(w.products[pid - 1].cost_cents * rng.uniform(0.95, 1.15))
            total += qty * cost
            line_rows.append((len(line_rows) + 1, po_id, pid, qty, got, money(cost)))
            if got:
                receipt_lines.append((po_id, len(line_rows), pid, got, wh))
        buyer = w.staff_at(rng, 3, t)
        po_rows.append((po_id, f"PO-{ts(t)[:4]}-{po_id:06d}", supplier, wh, st[("PO", status)], ts(t),
                        day((t + lead) // DAY), "EUR", money(total), buyer))
        w.purchase_orders.append((po_id, t))
        w.audit.append((t, "purchase_orders", po_id, "INSERT", buyer, f'{{"status":"{status}"}}'))
        if arrived:
            receipts.append(
                (
                    received,
                    po_id,
                    wh,
                    w.staff_at(rng, 2, received),
                    "Short delivery" if partial else (None if rng.random() < 0.8 else "Pallet damaged, counted OK"),
                )
            )
    receipts.sort()
    receipt_id = {}
    gr_rows: Rows = []
    for rid, (when, po_id, wh, by, note) in enumerate(receipts, start=1):
        receipt_id[po_id] = (rid, when, by)
        gr_rows.append((rid, po_id, wh, ts(when), by, note))
        w.audit.append((when, "GoodsReceipt", rid, "INSERT", by, f'{{"PurchaseOrderID":{po_id}}}'))
    for po_id, _line_id, pid, qty, wh in receipt_lines:
        rid, when, by = receipt_id[po_id]
        w.stock_moves.append((when, wh, pid, "RECEIPT", qty, "GoodsReceipt", rid, by))
    yield "purchase_orders", po_rows
    yield "purchase_order_lines", line_rows
    yield "GoodsReceipt", gr_rows


def stock(ctx: Context, w: World) -> Iterator[tuple[str, Rows]]:
    """stock_movements and warehouse_stock: opening balances sized so no balance ever dips below zero."""
    rng = ctx.rng("stock")
    moves = w.stock_moves
    keys = sorted({(m[1], m[2]) for m in moves})
    for _ in range(ctx.n(5000, minimum=5)):  # stock-take corrections
        wh, pid = keys[rng.randrange(len(keys))]
        warehouse = w.warehouses[wh - 1]
        start = max(warehouse.opened, w.products[pid - 1].created) + DAY
        end = warehouse.closed or NOW
        if start < end:
            when = ctx.office_time(rng, start, end)
            moves.append(
                (when, wh, pid, "ADJUST", rng.choice((-2, -1, -1, 1, 2, 3)), None, None, w.staff_at(rng, 2, when))
            )
    by_key: dict[tuple[int, int], list[tuple[int, int, int, str, int, str | None, int | None, int | None]]] = (
        defaultdict(list)
    )
    for m in moves:
        by_key[(m[1], m[2])].append(m)

    def opening(key: tuple[int, int]) -> None:
        items = sorted(by_key[key])
        running = low = 0
        for m in items:
            running += m[4]
            low = min(low, running)
        wh, pid = key
        when = max(w.warehouses[wh - 1].opened, w.products[pid - 1].created)
        if items:
            when = min(when, items[0][0] - 1)
        qty = -low + rng.randint(0, 40)
        by_key[key].append((when, wh, pid, "OPENING", qty, None, None, None))

    store = next(x for x in w.warehouses if x.code == "ST-BER")
    hub = next(x for x in w.warehouses if x.code == "DC-HAM")
    for key in sorted(k for k in by_key if k[0] == store.id):
        opening(key)
        left = sum(m[4] for m in by_key[key])
        if store.closed is not None and left > 0:
            by_key[key].append((store.closed - 3600, store.id, key[1], "TRANSFER", -left, "warehouses", hub.id, None))
            by_key[(hub.id, key[1])].append(
                (store.closed + DAY, hub.id, key[1], "TRANSFER", left, "warehouses", store.id, None)
            )
    for key in sorted(k for k in by_key if k[0] != store.id):
        opening(key)

    all_moves = sorted((m for items in by_key.values() for m in items), key=itemgetter(0, 1, 2, 3))
    move_rows: Rows = [(i, wh, pid, kind, qty, ref_type, ref_id, ts(when), by)
                       for i, (when, wh, pid, kind, qty, ref_type, ref_id, by) in enumerate(all_moves, start=1)]
    yield "stock_movements", move_rows
    stock_rows: Rows = []
    for key in sorted(set(by_key) | set(w.reserved)):
        items = by_key.get(key, [])
        on_hand = sum(m[4] for m in items)
        last = max((m[0] for m in items), default=NOW - DAY)
        stock_rows.append((key[0], key[1], on_hand, w.reserved.get(key, 0), rng.choice((5, 10, 20, 50)),
                           f"{chr(65 + key[1] % 20)}-{key[1] % 50:02d}-{key[1] % 7}", ts(last)))
    yield "warehouse_stock", stock_rows


def catalog_feedback(ctx: Context, w: World) -> Iterator[tuple[str, Rows]]:
    """product_reviews written by customers some days after delivery."""
    rng = ctx.rng("reviews")
    seen: set[tuple[int, int]] = set()
    pending: list[tuple[int, int, int, int, int]] = []
    if w.delivered_lines:
        for _ in range(ctx.n(8000, minimum=5)):
            oid, cid, pid, delivered = w.delivered_lines[rng.randrange(len(w.delivered_lines))]
            when = delivered + rng.randint(2, 60) * DAY + rng.randrange(DAY)
            if when < NOW and (cid, pid) not in seen:
                seen.add((cid, pid))
                pending.append((when, pid, cid, oid, rng.choice((5, 5, 5, 5, 4, 4, 4, 3, 2, 1, 1))))
    pending.sort()
    rows: Rows = []
    titles = {5: "Excellent", 4: "Very good", 3: "OK for the price", 2: "Disappointing", 1: "Broke after a week"}
    for i, (when, pid, cid, oid, rating) in enumerate(pending, start=1):
        approved = when < NOW - 2 * DAY and rng.random() < 0.9
        rows.append(
            (
                i,
                pid,
                cid,
                oid,
                rating,
                titles[rating],
                f"{titles[rating]}. Would {'' if rating >= 3 else 'not '}buy again.",
                ts(when),
                approved,
                w.staff_at(rng, 8, when) if approved else None,
            )
        )
    yield "product_reviews", rows


def content(ctx: Context, w: World) -> Iterator[tuple[str, Rows]]:
    """cms_pages and notifications (order confirmations from 2020, shipping e-mails from 2022)."""
    rng = ctx.rng("content")
    pages: Rows = []
    for i, slug in enumerate(words.CMS_PAGES, start=1):
        published = ctx.office_time(rng, 0, NOW - 30 * DAY)
        pages.append((i, slug, slug.replace("-", " ").title(), f"<h1>{slug.replace('-', ' ').title()}</h1><p>...</p>",
                      rng.choice(("en", "en", "de")), ts(published), w.staff_at(rng, 8, published),
                      ts(ctx.office_time(rng, published, NOW))))
    yield "cms_pages", pages
    pending: list[tuple[int, int, int, int | None]] = []
    oid: int | None
    for oid, cid, t, _status, channel, *_ in w.orders:
        if t >= _NOTIFY_SINCE and channel in ("WEB", "PHONE"):
            pending.append((t + rng.randint(5, 120), cid, w.templates["ORDER_CONFIRMATION"], oid))
    for _sid, oid, cid, shipped in w.shipments:
        if shipped >= _SHIP_MAIL_SINCE:
            pending.append((shipped + rng.randint(600, 7200), cid, w.templates["ORDER_SHIPPED"], oid))
    pending.sort()
    rows: Rows = []
    for i, (when, cid, tpl, oid) in enumerate(pending, start=1):
        r = rng.random()
        status = "BOUNCED" if r < 0.02 else ("OPENED" if r < 0.45 else "SENT")
        opened = when + rng.randint(60, 3 * DAY) if status == "OPENED" else None
        rows.append((i, cid, tpl, "SMS" if (when >= _SHIP_MAIL_SINCE and r > 0.92) else "EMAIL", oid, ts(when),
                     ts(opened) if opened is not None and opened < NOW else None, status))
    yield "notifications", rows


def platform(ctx: Context, w: World) -> Iterator[tuple[str, Rows]]:
    """notes, attachments, audit_log, settings, sequences: the tables every domain writes."""
    rng = ctx.rng("platform")
    targets: dict[str, list[tuple[int, int]]] = {
        "order": [(o[0], o[2]) for o in w.orders],
        "customer": [(c.id, c.created) for c in w.customers],
        "return": [(r[0], r[2]) for r in w.returns],
        "supplier": [(s, 0) for s in w.suppliers],
        "product": [(p.id, p.created) for p in w.products],
        "purchase_order": list(w.purchase_orders),
        "invoice": list(w.invoices),
    }
    note_staff = {"order": 1, "customer": 1, "return": 1, "supplier": 3, "product": 8, "purchase_order": 3}
    pending_notes: list[tuple[int, str, int, str, int]] = []
    kinds = ("order",) * 10 + ("customer",) * 4 + ("return",) * 2 + ("supplier", "product", "product", "purchase_order")
    for _ in range(ctx.n(8000, minimum=5)):
        kind = rng.choice(kinds)
        if not targets[kind]:
            continue
        eid, since = targets[kind][rng.randrange(len(targets[kind]))]
        when = ctx.office_time(rng, since + 600, min(NOW, since + 400 * DAY))
        pending_notes.append(
            (when, kind, eid, rng.choice(words.NOTE_TEXTS[kind]), w.staff_at(rng, note_staff[kind], when))
        )
    pending_notes.sort()
    yield (
        "notes",
        [(i, kind, eid, text, by, ts(when)) for i, (when, kind, eid, text, by) in enumerate(pending_notes, start=1)],
    )

    files = {
        "invoice": ("invoice.pdf", "application/pdf"),
        "purchase_order": ("po-confirmation.pdf", "application/pdf"),
        "return": ("photo.jpg", "image/jpeg"),
        "product": ("spec-sheet.pdf", "application/pdf"),
        "supplier": ("contract.pdf", "application/pdf"),
    }
    att_kinds = ("invoice",) * 5 + ("purchase_order",) * 2 + ("return", "product", "supplier")
    pending_att: list[tuple[int, str, int, str, str, int, int | None]] = []
    for _ in range(ctx.n(5000, minimum=5)):
        kind = rng.choice(att_kinds)
        if not targets[kind]:
            continue
        eid, since = targets[kind][rng.randrange(len(targets[kind]))]
        when = since + 60 if kind == "invoice" else ctx.office_time(rng, since + 600, min(NOW, since + 200 * DAY))
        by = None if kind == "invoice" else w.staff_at(rng, note_staff.get(kind, 1), when)
        name, mime = files[kind]
        pending_att.append((when, kind, eid, name, mime, rng.randint(20_000, 4_000_000), by))
    pending_att.sort()
    yield (
        "attachments",
        [
            (i, kind, eid, f"{kind}-{eid}-{name}", mime, size, f"/srv/files/{kind}/{eid}/{i}-{name}", by, ts(when))
            for i, (when, kind, eid, name, mime, size, by) in enumerate(pending_att, start=1)
        ],
    )

    for c in w.customers:
        w.audit.append((c.created, "customers", c.id, "INSERT", None, None))
        if c.approved is not None:
            w.audit.append(
                (
                    c.approved,
                    "wholesale_accounts",
                    c.account_id or 0,
                    "UPDATE",
                    w.staff_at(rng, 7, c.approved),
                    '{"status":"APPROVED"}',
                )
            )
    for p in w.products:
        w.audit.append((p.created, "products", p.id, "INSERT", w.staff_at(rng, 8, p.created), None))
        for when, cents in p.prices[1:]:
            w.audit.append(
                (
                    when + 9 * 3600,
                    "products",
                    p.id,
                    "UPDATE",
                    w.staff_at(rng, 3, when),
                    f'{{"list_price":"{money(cents)}"}}',
                )
            )
    w.audit.sort(key=itemgetter(0, 1, 2, 3))
    yield "audit_log", [(i, table, row, action, by, ts(when), details)
                        for i, (when, table, row, action, by, details) in enumerate(w.audit, start=1)]
    yield "settings", [(key, value, ts(ctx.office_time(rng, 0, NOW))) for key, value in sorted(words.SETTINGS)]
    yield "sequences", sorted([
        ("order_number", len(w.orders) + 1, 1), ("invoice_number", w.counters["invoices"] + 1, 1),
        ("po_number", len(w.purchase_orders) + 1, 1), ("rma_number", len(w.returns) + 1, 1),
        ("customer_number", len(w.customers) + 1, 1), ("fax_order_number", 1042, 1),
    ])


def reports(ctx: Context, w: World) -> Iterator[tuple[str, Rows]]:
    """rpt_daily_sales and rpt_customer_ltv, as last night's refresh left them (up to yesterday)."""
    cutoff = NOW - DAY
    daily: dict[tuple[str, str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for _oid, cid, t, status, channel, cur, total, units in w.orders:
        if status == "CANCELLED" or t >= cutoff:
            continue
        cell = daily[(day(t // DAY), w.customers[cid - 1].country, channel, cur)]
        cell[0] += 1
        cell[1] += units
        cell[2] += total
    yield "rpt_daily_sales", [(d, country, channel, cur, n, units, money(revenue))
                              for (d, country, channel, cur), (n, units, revenue) in sorted(daily.items())]
    rows: Rows = []
    for cid in sorted(w.order_eur):
        orders = [o for o in w.order_eur[cid] if o[1] < cutoff]
        if not orders:
            continue
        c = w.customers[cid - 1]
        ltv = sum(o[2] for o in orders)
        first, last = min(o[1] for o in orders), max(o[1] for o in orders)
        segment = ("dormant" if last < NOW - 730 * DAY else "vip" if ltv >= 200_000 else "loyal" if len(orders) >= 5
                   else "regular" if len(orders) >= 2 else "new")
        rows.append((cid, c.email, c.country, ts(first), ts(last), len(orders), money(ltv), segment))
    yield "rpt_customer_ltv", rows
