"""The order-to-cash flow: carts, orders, lines, discounts, payments, invoices, shipments, returns, refunds.

One pass over the orders in time order decides each order's fate, so every derived row agrees
with it: retail orders are paid before they ship, wholesale orders ship on account and are paid
against an invoice later; shipments follow payment, deliveries follow shipments, returns only
follow deliveries, refunds only follow received returns (or a cancellation after payment), and
captured payments add up to the order total. Rows created later in time (payments, shipments,
returns) are numbered in the order they happened, as an auto-increment column would.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from workbench.sample import words
from workbench.sample.context import DAY, NOW, Context, day, moment, money, ts, year_of
from workbench.sample.world import Customer, Rows, World

_STORE_CODE = "ST-BER"
_CARTS_SINCE = moment(2019)  # server-side carts from 2019
_TRACKING_SINCE = moment(2020)  # carrier tracking integration from 2020
_LOYALTY_SINCE = moment(2013, 3)  # loyalty programme from 2013-03


@dataclass(slots=True)
class _Line:
    id: int
    product: int
    qty: int
    net: int
    """Line total after discounts, in order currency cents."""
    unit: int
    tax_bp: int


@dataclass(slots=True)
class _Shipment:
    shipped: int
    order: int
    customer: int
    warehouse: int
    carrier: int | None
    delivered: int | None
    address: int
    lines: list[_Line]
    cost: int
    weight: int
    id: int = 0


@dataclass(slots=True)
class _Payment:
    attempted: int
    order: int
    method: int
    amount: int
    currency: str
    status: str
    captured: int | None
    id: int = 0


@dataclass
class _Flow:
    """Rows whose ids are assigned after the pass, in time order."""

    history: list[tuple[int, int, str, int | None, str | None]] = field(default_factory=list)
    payments: list[_Payment] = field(default_factory=list)
    invoices: list[tuple[int, int, int, int, int | None, int, int, str, int | None, list[_Line] | None]] = field(
        default_factory=list
    )
    shipments: list[_Shipment] = field(default_factory=list)
    returns: list[tuple[int, int, int, list[_Line], int, str]] = field(default_factory=list)
    cancel_refunds: list[tuple[int, int, int]] = field(default_factory=list)
    carts: list[tuple[int, int | None, int | None, str, int | None, list[tuple[int, int, int]]]] = field(
        default_factory=list
    )
    loyalty: list[tuple[int, int, int | None, int, str]] = field(default_factory=list)


def _method(rng: random.Random, w: World, country: str, t: int) -> int:
    year = year_of(t)
    if country == "NL" and rng.random() < 0.6:
        code = "IDEAL"
    else:
        options = ["CARD", "CARD", "CARD", "PAYPAL", "PAYPAL"]
        if year < 2015:
            options.append("COD")
        if year < 2019 and country in ("DE", "AT"):
            options += ["SOFORT", "SOFORT"]
        if year >= 2014:
            options += ["KLARNA", "KLARNA"]
        if year >= 2016 and rng.random() < 0.03:
            options = ["GIFTCARD"]
        code = rng.choice(options)
    return w.payment_methods[code]


def _warehouse(rng: random.Random, w: World, country: str, t: int, avoid: int | None = None) -> int:
    open_now = [x for x in w.open_warehouses(t) if x.code != _STORE_CODE and x.id != avoid]
    if not open_now:
        open_now = [x for x in w.open_warehouses(t) if x.code != _STORE_CODE]
    local = [x for x in open_now if x.country == country or (country in ("BE", "FR") and x.country == "NL")]
    if local and rng.random() < 0.8:
        return local[rng.randrange(len(local))].id
    return open_now[rng.randrange(len(open_now))].id


def _carrier(rng: random.Random, country: str, weight: int) -> int:
    if weight > 30_000:
        return 6
    if country == "GB":
        return rng.choice((4, 4, 2, 3))
    return rng.choice((1, 1, 1, 2, 3, 5))


def orders(ctx: Context, w: World) -> Iterator[tuple[str, Rows]]:
    """Everything from cart to refund; see the module docstring for the rules."""
    rng = ctx.rng("orders")
    st = w.status
    store = next(x for x in w.warehouses if x.code == _STORE_CODE)
    coupon_starts = [c[0] for c in w.coupon_promotions]
    flow = _Flow()
    order_rows: Rows = []
    line_rows: list[list[object]] = []
    discount_rows: Rows = []
    reservation_rows: Rows = []
    times = [ctx.busy_time(rng, 3 * DAY, NOW - 600) for _ in range(ctx.n(28000, minimum=150))]
    times += [NOW - rng.randint(900, 4 * 3600) for _ in range(3)]  # New Year's Eve orders, still open at the snapshot
    times.sort()
    line_id = 0
    for t in times:
        wholesale = rng.random() < 0.15
        customer = w.pick_customer(rng, t, wholesale=wholesale)
        if customer is None:
            wholesale = False
            customer = w.pick_customer(rng, t)
            if customer is None:
                continue
        oid = len(order_rows) + 1
        cur = customer.currency
        rate = w.rate(cur, t)
        address = w.address_at(rng, customer, t)
        if wholesale:
            channel = "EDI" if (year_of(t) >= 2015 and rng.random() < 0.5) else rng.choice(("PHONE", "WEB"))
        else:
            r = rng.random()
            in_store = store.opened <= t < (store.closed or NOW) and customer.country == "DE"
            channel = "STORE" if (in_store and r < 0.04) else ("PHONE" if r < 0.1 else "WEB")
        staff = w.staff_at(rng, 7 if wholesale else 1, t) if channel == "PHONE" else None

        coupon, coupon_pct, coupon_promo = None, 0, None
        if not wholesale and channel == "WEB":
            k = bisect.bisect_right(coupon_starts, t)
            for start, end, promo_id, pct, codes in w.coupon_promotions[max(0, k - 8):k]:
                if start <= t <= end and rng.random() < 0.25:
                    coupon, coupon_pct, coupon_promo = codes[rng.randrange(len(codes))], pct, promo_id
                    w.coupon_uses[coupon] += 1
                    break

        n_lines = rng.randint(3, 15) if wholesale else rng.choice((1, 1, 1, 2, 2, 2, 3, 3, 4, 5, 6, 7))
        seen: set[int] = set()
        lines: list[_Line] = []
        subtotal = discount = tax = 0
        units = 0
        weight = 0
        for _ in range(n_lines):
            product = w.pick_product(rng, t)
            if product.id in seen:
                continue
            seen.add(product.id)
            qty = rng.randint(5, 60) if wholesale else (1 if rng.random() < 0.8 else rng.randint(2, 4))
            eur = product.price_at(t)
            if wholesale:
                eur = eur * 70 // 100
            unit = max(1, round(eur / rate))
            total = unit * qty
            line_id += 1
            off = 0
            for start, end, promo, pct in w.promotions_by_product.get(product.id, ()):
                if start <= t <= end and not wholesale:
                    off = total * pct // 100
                    discount_rows.append((line_id, promo, money(off), ts(t)))
                    break
            if not off and coupon is not None:
                off = total * coupon_pct // 100
                discount_rows.append((line_id, coupon_promo, money(off), ts(t)))
            bp = w.tax_bp(customer.country, product.tax_class, t)
            net = total - off
            subtotal += total
            discount += off
            tax += net * bp // 10000
            units += qty
            weight += product.weight_g * qty
            lines.append(_Line(line_id, product.id, qty, net, unit, bp))
            line_rows.append(
                [line_id, oid, len(lines), product.id, qty, money(unit), money(total), f"{bp / 100:.2f}", None]
            )
        free = 50_000 if wholesale else 5_000
        shipping = (
            0
            if (subtotal - discount) * rate >= free or channel == "STORE"
            else round((2500 if wholesale else 495) / rate)
        )
        tax += shipping * w.tax_bp(customer.country, "standard", t) // 10000
        grand = subtotal - discount + shipping + tax

        status = _fate(ctx, rng, w, flow, customer, oid, t, wholesale, channel, lines, grand, tax, address, weight,
                       line_rows, staff, store.id)
        prefix = "WHS" if wholesale else {"WEB": "WEB", "PHONE": "TEL", "STORE": "STR"}[channel]
        order_rows.append(
            (
                oid,
                f"{prefix}-{ts(t)[:4]}-{oid:07d}",
                customer.id,
                customer.account_id if wholesale else None,
                address,
                address,
                st[("ORDER", status)],
                channel,
                cur,
                ts(t),
                money(subtotal),
                money(discount),
                money(shipping),
                money(tax),
                money(grand),
                coupon,
                staff,
                ts(max(h[0] for h in flow.history[-5:] if h[1] == oid)),
            )
        )
        w.audit.append((t, "orders", oid, "INSERT", staff, f'{{"status":"PENDING","total":"{money(grand)}"}}'))
        w.orders.append((oid, customer.id, t, status, channel, cur, grand, units))
        if status != "CANCELLED":
            w.order_eur[customer.id].append((oid, t, round(grand * rate)))
        if status in ("PENDING", "PAID"):
            for line in lines:
                wh = _warehouse(rng, w, customer.country, t)
                reservation_rows.append(
                    (len(reservation_rows) + 1, oid, line.id, line.product, wh, line.qty, ts(t), ts(t + 7 * DAY))
                )
                w.reserved[(wh, line.product)] += line.qty
        if channel == "WEB" and t >= _CARTS_SINCE and rng.random() < 0.15:
            flow.carts.append((t - rng.randint(120, 3600), customer.id, None, cur, oid,
                               [(ln.product, ln.qty, ln.unit) for ln in lines]))

    yield "orders", order_rows
    yield "order_lines", [tuple(r) for r in line_rows]
    yield "order_line_discounts", discount_rows
    yield "stock_reservations", reservation_rows
    yield from _emit(ctx, w, flow)


def _fate(
    ctx: Context,
    rng: random.Random,
    w: World,
    flow: _Flow,
    customer: Customer,
    oid: int,
    t: int,
    wholesale: bool,
    channel: str,
    lines: list[_Line],
    grand: int,
    tax: int,
    address: int,
    weight: int,
    line_rows: list[list[object]],
    staff: int | None,
    store_id: int,
) -> str:
    """Decide what happened to one order after it was placed; returns its status at the snapshot."""
    hist = flow.history
    hist.append((t, oid, "PENDING", staff, None))
    cur = customer.currency
    if not wholesale:
        method = w.payment_methods["CARD"] if channel == "STORE" else _method(rng, w, customer.country, t)
        attempt = t + rng.randint(20, 600)
        if rng.random() < 0.06:
            flow.payments.append(_Payment(attempt, oid, method, grand, cur, "FAILED", None))
            if rng.random() < 0.4 or attempt + 7200 >= NOW:
                cancel = t + DAY + rng.randrange(3600)
                if cancel < NOW:
                    hist.append((cancel, oid, "CANCELLED", None, "payment failed, auto-cancelled"))
                    return "CANCELLED"
                return "PENDING"
            attempt += rng.randint(300, 3600)
        flow.payments.append(_Payment(attempt, oid, method, grand, cur, "CAPTURED", attempt + rng.randint(1, 30)))
        paid = attempt + 30
        hist.append((paid, oid, "PAID", None, None))
        flow.invoices.append((paid, oid, customer.id, address, paid, tax, grand, cur, paid, None))
        if channel != "STORE" and rng.random() < 0.015:
            cancel = paid + rng.randint(600, 20 * 3600)
            if cancel < NOW:
                by = w.staff_at(rng, 1, cancel)
                hist.append((cancel, oid, "CANCELLED", by, "cancelled at customer request"))
                flow.cancel_refunds.append((ctx.office_time(rng, cancel, cancel + 2 * DAY), oid, grand))
                return "CANCELLED"
        ready = paid
    else:
        if rng.random() < 0.01:
            cancel = ctx.office_time(rng, t, t + 2 * DAY)
            if cancel < NOW:
                hist.append((cancel, oid, "CANCELLED", w.staff_at(rng, 7, cancel), "cancelled by account manager"))
                return "CANCELLED"
        ready = t

    if channel == "STORE":
        shipped = ready + rng.randint(120, 900)
        groups = [(shipped, store_id, lines)]
    else:
        shipped = ctx.office_time(rng, ready + 2 * 3600, ready + (5 if wholesale else 3) * DAY)
        if shipped >= NOW:
            return "PAID" if not wholesale else "PENDING"
        wh = _warehouse(rng, w, customer.country, shipped)
        if len(lines) >= 2 and rng.random() < 0.05:
            cut = rng.randint(1, len(lines) - 1)
            later = ctx.office_time(rng, shipped + DAY, shipped + 5 * DAY)
            groups = [(shipped, wh, lines[:cut])]
            if later < NOW:
                groups.append((later, _warehouse(rng, w, customer.country, later, avoid=wh), lines[cut:]))
            else:
                groups = [(shipped, wh, lines)]
        else:
            groups = [(shipped, wh, lines)]
    hist.append((shipped, oid, "SHIPPED", None, None))
    last_delivery: int | None = 0
    delivered: int | None
    for when, wh, part in groups:
        part_weight = weight * len(part) // len(lines)
        if channel == "STORE":
            carrier, delivered = None, when + rng.randint(60, 600)
        else:
            carrier = _carrier(rng, customer.country, part_weight)
            delivered = when + rng.randint(1, 6) * DAY + rng.randint(-4, 6) * 3600
            delivered = delivered if delivered < NOW else None
        flow.shipments.append(_Shipment(when, oid, customer.id, wh, carrier, delivered, address, part,
                                        0 if carrier is None else 300 + part_weight // 100, part_weight))
        for line in part:
            line_rows[line.id - 1][8] = wh
        if delivered is None or last_delivery is None:
            last_delivery = None
        else:
            last_delivery = max(last_delivery, delivered)
    if wholesale:
        issued = groups[0][0]
        due = issued + customer.terms_days * DAY
        pay = ctx.office_time(
            rng, issued + customer.terms_days * DAY // 2, issued + customer.terms_days * DAY * 13 // 10
        )
        paid_at = pay if pay < NOW else None
        if paid_at is not None:
            flow.payments.append(_Payment(pay, oid, w.payment_methods["BANK"], grand, cur, "CAPTURED", pay))
        flow.invoices.append((issued, oid, customer.id, address, due, tax, grand, cur, paid_at, lines))
    if last_delivery is None:
        return "SHIPPED"
    hist.append((last_delivery, oid, "DELIVERED", None, None))
    for line in lines:
        w.delivered_lines.append((oid, customer.id, line.product, last_delivery))
    if not wholesale and last_delivery >= _LOYALTY_SINCE:
        flow.loyalty.append((last_delivery, customer.id, oid, round(grand * w.rate(cur, t)) // 100, "ORDER"))
    if not wholesale and channel != "STORE" and rng.random() < 0.06:
        requested = last_delivery + rng.randint(1, 30) * DAY + rng.randrange(DAY)
        if requested < NOW:
            chosen = [ln for ln in lines if rng.random() < 0.6] or [lines[0]]
            flow.returns.append((requested, oid, customer.id, chosen, groups[0][1], cur))
    return "DELIVERED"


def _emit(ctx: Context, w: World, flow: _Flow) -> Iterator[tuple[str, Rows]]:
    """Number the time-ordered rows and derive their dependants."""
    rng = ctx.rng("order_aftermath")
    st = w.status
    flow.history.sort(key=lambda h: (h[0], h[1]))
    yield "order_status_history", [(i, oid, st[("ORDER", code)], ts(when), by, note)
                                   for i, (when, oid, code, by, note) in enumerate(flow.history, start=1)]

    flow.payments.sort(key=lambda p: (p.attempted, p.order))
    captured: dict[int, _Payment] = {}
    pay_rows: Rows = []
    for i, p in enumerate(flow.payments, start=1):
        p.id = i
        if p.status == "CAPTURED":
            captured[p.order] = p
        pay_rows.append(
            (
                i,
                p.order,
                p.method,
                money(p.amount),
                p.currency,
                st[("PAYMENT", p.status)],
                f"PSP-{rng.getrandbits(48):012x}",
                ts(p.attempted),
                None if p.captured is None else ts(p.captured),
            )
        )
        w.audit.append((p.attempted, "payments", i, "INSERT", None, f'{{"status":"{p.status}"}}'))
    yield "payments", pay_rows

    flow.invoices.sort(key=lambda v: (v[0], v[1]))
    inv_rows: Rows = []
    inv_line_rows: Rows = []
    for i, (issued, oid, cid, addr, due, tax, total, cur, paid, lines) in enumerate(flow.invoices, start=1):
        status = "PAID" if paid is not None else "OPEN"
        inv_rows.append((i, f"INV-{ts(issued)[:4]}-{i:07d}", oid, cid, addr, day(issued // DAY),
                         day(due // DAY) if due is not None else None, money(tax), money(total), cur,
                         st[("INVOICE", status)], None if paid is None else day(paid // DAY)))
        if lines is not None:  # wholesale invoices itemise; retail invoices are rendered from order_lines
            w.invoices.append((i, issued))
            for ln in lines:
                inv_line_rows.append((len(inv_line_rows) + 1, i, ln.id, f"Item of order line {ln.id}", ln.qty,
                                      money(ln.unit), money(ln.net), f"{ln.tax_bp / 100:.2f}"))
    w.counters["invoices"] = len(inv_rows)
    yield "invoices", inv_rows
    yield "invoice_lines", inv_line_rows

    flow.shipments.sort(key=lambda s: (s.shipped, s.order))
    ship_rows: Rows = []
    item_rows: Rows = []
    event_rows: list[tuple[int, int, str, str, str]] = []
    for i, s in enumerate(flow.shipments, start=1):
        s.id = i
        status = "DELIVERED" if s.delivered is not None else "IN_TRANSIT"
        tracking = None if s.carrier is None else f"{rng.choice('JZ1')}{rng.randrange(10**11, 10**12)}"
        ship_rows.append((i, s.order, s.warehouse, s.carrier, tracking, st[("SHIPMENT", status)], ts(s.shipped),
                          None if s.delivered is None else ts(s.delivered), s.address,
                          s.weight, money(s.cost) if s.carrier else None))
        packer = w.staff_at(rng, 2, s.shipped)
        w.audit.append((s.shipped, "shipments", i, "INSERT", packer, f'{{"order_id":{s.order}}}'))
        w.shipments.append((i, s.order, s.customer, s.shipped))
        for ln in s.lines:
            item_rows.append((len(item_rows) + 1, i, ln.id, ln.qty))
            w.stock_moves.append(
                (s.shipped, s.warehouse, ln.product, "SALE", -ln.qty, "shipment_items", len(item_rows), packer)
            )
        if s.carrier is not None and s.shipped >= _TRACKING_SINCE:
            events = [(s.shipped + 1800, "PICKED_UP", "Parcel picked up")]
            if rng.random() < 0.3:
                events.append((s.shipped + rng.randint(2, 8) * 3600, "IN_TRANSIT", "In transit to delivery depot"))
            if s.delivered is not None:
                if rng.random() < 0.3:
                    events.append((s.delivered - rng.randint(3, 6) * 3600, "OUT_FOR_DELIVERY", "Out for delivery"))
                events.append((s.delivered, "DELIVERED", "Delivered"))
            for when, code, text in events:
                if when < NOW:
                    event_rows.append((when, i, code, text, rng.choice(("Hub A", "Hub B", "Depot", "Local depot"))))
    event_rows.sort(key=lambda e: (e[0], e[1]))
    yield "shipments", ship_rows
    yield "shipment_items", item_rows
    yield (
        "tracking_events",
        [(k, sid, code, text, loc, ts(when)) for k, (when, sid, code, text, loc) in enumerate(event_rows, start=1)],
    )

    yield from _returns(ctx, w, flow, captured)
    yield from _carts(ctx, w, flow)
    yield from _coupons(ctx, w)
    flow.loyalty.sort()
    yield "loyalty_transactions", [(i, cid, oid, pts, reason, ts(when))
                                   for i, (when, cid, oid, pts, reason) in enumerate(flow.loyalty, start=1)]


def _returns(ctx: Context, w: World, flow: _Flow, captured: dict[int, _Payment]) -> Iterator[tuple[str, Rows]]:
    """returns, return_items and refunds (for returns and for cancellations after payment)."""
    rng = ctx.rng("returns")
    st = w.status
    flow.returns.sort(key=lambda r: (r[0], r[1]))
    ret_rows: Rows = []
    item_rows: Rows = []
    refunds: list[tuple[int, int, int | None, int, int | None, str]] = []
    for rid, (requested, oid, cid, lines, wh, cur) in enumerate(flow.returns, start=1):
        arrives = requested + rng.randint(3, 10) * DAY
        received = arrives if arrives < NOW else None
        refund_at = None if received is None else ctx.office_time(rng, received + DAY, received + 5 * DAY)
        refund_at = refund_at if refund_at is not None and refund_at < NOW else None
        status = "REFUNDED" if refund_at is not None else ("RECEIVED" if received is not None else "REQUESTED")
        open_wh = {x.id for x in w.open_warehouses(received or requested)}
        back_to = None if received is None else (wh if wh in open_wh else sorted(open_wh)[0])
        ret_rows.append((rid, f"RMA-{rid:07d}", oid, cid, st[("RETURN", status)], rng.choice(words.RETURN_REASONS),
                         ts(requested), None if received is None else ts(received), back_to))
        total = 0
        for ln in lines:
            qty = ln.qty if ln.qty == 1 or rng.random() < 0.7 else rng.randint(1, ln.qty - 1)
            amount = ln.net * qty // ln.qty
            total += amount
            condition = rng.choice(("as new", "as new", "opened", "damaged"))
            item_rows.append((len(item_rows) + 1, rid, ln.id, qty, condition, money(amount)))
            if received is not None and back_to is not None and condition != "damaged":
                w.stock_moves.append((received, back_to, ln.product, "RETURN", qty, "return_items", len(item_rows),
                                      w.staff_at(rng, 2, received)))
        w.returns.append((rid, cid, requested))
        w.audit.append((requested, "returns", rid, "INSERT", None, '{"status":"REQUESTED"}'))
        if received is not None:
            w.audit.append((received, "returns", rid, "UPDATE", w.staff_at(rng, 2, received), '{"status":"RECEIVED"}'))
        if refund_at is not None:
            refunds.append((refund_at, captured[oid].id, rid, total, w.staff_at(rng, 4, refund_at), "Return refunded"))
            if refund_at >= _LOYALTY_SINCE:
                flow.loyalty.append((refund_at, cid, oid, -(round(total * w.rate(cur, requested)) // 100), "RETURN"))
        if rng.random() < 0.2:
            w.goodwill.append((requested + DAY, cid))
    for when, oid, amount in flow.cancel_refunds:
        if when < NOW:
            refunds.append(
                (when, captured[oid].id, None, amount, w.staff_at(rng, 4, when), "Order cancelled after payment")
            )
    refunds.sort(key=lambda r: (r[0], r[1]))
    yield "returns", ret_rows
    yield "return_items", item_rows
    ref_rows: Rows = []
    for i, (when, pid, return_id, amount, by, reason) in enumerate(refunds, start=1):
        ref_rows.append((i, pid, return_id, money(amount), ts(when), by, reason))
        w.audit.append((when, "refunds", i, "INSERT", by, f'{{"amount":"{money(amount)}"}}'))
    yield "refunds", ref_rows


def _carts(ctx: Context, w: World, flow: _Flow) -> Iterator[tuple[str, Rows]]:
    """carts and cart_items: abandoned carts from web sessions plus the carts that became orders."""
    rng = ctx.rng("carts")
    eligible = [s for s in w.sessions if s[2] >= _CARTS_SINCE]
    sid: int | None
    for _ in range(ctx.n(6000, minimum=5) if eligible else 0):
        sid, cid, start = eligible[rng.randrange(len(eligible))]
        made = start + rng.randint(30, 1200)
        cur = w.customers[cid - 1].currency if cid else "EUR"
        items = []
        for _ in range(rng.randint(1, 4)):
            p = w.pick_product(rng, made)
            items.append((p.id, rng.randint(1, 2), round(p.price_at(made) / w.rate(cur, made))))
        flow.carts.append((made, cid, sid, cur, None, items))
    flow.carts.sort(key=lambda c: (c[0], c[4] or 0, c[2] or 0))
    cart_rows: Rows = []
    item_rows: Rows = []
    for i, (made, cid, sid, cur, oid, items) in enumerate(flow.carts, start=1):
        updated = made + 60 * len(items) + rng.randrange(600)
        cart_rows.append((i, cid, sid, cur, ts(made), ts(updated), oid))
        for k, (pid, qty, unit) in enumerate(items):
            item_rows.append((len(item_rows) + 1, i, pid, qty, money(unit), ts(made + 60 * k)))
    yield "carts", cart_rows
    yield "cart_items", item_rows


def _coupons(ctx: Context, w: World) -> Iterator[tuple[str, Rows]]:
    """coupons: campaign codes (usage counted from orders) and goodwill vouchers issued after returns."""
    rng = ctx.rng("coupons")
    rows: Rows = []
    for _start, end, promo, _pct, codes in w.coupon_promotions:
        for cid in codes:
            rows.append(
                (
                    cid,
                    f"C{promo:04d}{cid:06d}",
                    promo,
                    None,
                    rng.choice((100, 500, 1000)),
                    w.coupon_uses.get(cid, 0),
                    ts(end),
                )
            )
    next_id = w.next_coupon_id
    for when, cid in sorted(w.goodwill):
        rows.append((next_id, f"GW{next_id:08d}", w.goodwill_promotion, cid, 1, 0, ts(when + 365 * DAY)))
        next_id += 1
    yield "coupons", rows
