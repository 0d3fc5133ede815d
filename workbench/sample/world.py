"""What one generation step leaves for the next: the facts later tables must stay consistent with.

A :class:`World` is filled in order (reference and staff, catalog, customers, orders, aftermath);
each generator reads what earlier ones recorded, so a shipment can only follow its order, a return
only a delivered order, a payment only match its order's total.
"""

from __future__ import annotations

import bisect
import random
from collections import defaultdict
from dataclasses import dataclass, field

from workbench.sample.context import DAY

Row = tuple[object, ...]
Rows = list[Row]
AuditEvent = tuple[int, str, int, str, int | None, str | None]
"""(seconds, table_name, row_id, action, staff id or None, details)."""


# All times below are seconds since context.T0 (2011-01-01), all amounts integer cents.


@dataclass
class StaffMember:
    """An employee; ``left`` is None while still employed."""

    id: int
    department: int
    hired: int
    left: int | None


@dataclass
class Product:
    """A product; ``discontinued`` is when it stopped selling (drafts: their creation time, never sold)."""

    id: int
    sku: str
    created: int
    discontinued: int | None
    prices: list[tuple[int, int]]
    """(valid from, in seconds; retail price in EUR cents), ascending."""
    tax_class: str
    weight_g: int
    supplier_id: int
    cost_cents: int

    def price_at(self, t: int) -> int:
        """Retail EUR list price in cents valid at ``t``."""
        i = bisect.bisect_right(self.prices, (t, 1 << 62)) - 1
        return self.prices[max(0, i)][1]


@dataclass
class Customer:
    """A customer; wholesale ones can order from ``approved``; nobody orders after ``closed``."""

    id: int
    created: int
    country: str
    currency: str
    email: str
    wholesale: bool
    group_id: int
    addresses: list[tuple[int, int]] = field(default_factory=list)
    """(address id, created at), oldest first; the first is the default address."""
    account_id: int | None = None
    approved: int | None = None
    terms_days: int = 0
    closed: int | None = None


@dataclass
class Warehouse:
    """A warehouse operating from ``opened`` until ``closed`` (None: still open)."""

    id: int
    code: str
    country: str
    opened: int
    closed: int | None


@dataclass
class World:
    """Facts shared between the generators (ids, lifetimes, prices, audit events)."""

    status: dict[tuple[str, str], int] = field(default_factory=dict)
    markets: list[str] = field(default_factory=list)
    market_weights: list[float] = field(default_factory=list)
    country_currency: dict[str, str] = field(default_factory=dict)
    rates: dict[str, list[float]] = field(default_factory=dict)
    """Currency -> weekly rate to EUR, index = week number since 2011-01-03."""
    tax: dict[tuple[str, str], list[tuple[int, int | None, int]]] = field(default_factory=dict)
    """(country, tax class) -> [(valid from day, valid to day, rate in basis points)]."""
    staff: list[StaffMember] = field(default_factory=list)
    staff_by_department: dict[int, list[StaffMember]] = field(default_factory=lambda: defaultdict(list))
    department_names: list[str] = field(default_factory=list)
    warehouses: list[Warehouse] = field(default_factory=list)
    price_lists: dict[str, int] = field(default_factory=dict)
    retail_groups: list[int] = field(default_factory=list)
    wholesale_groups: list[int] = field(default_factory=list)
    payment_methods: dict[str, int] = field(default_factory=dict)
    carriers: list[int] = field(default_factory=list)
    templates: dict[str, int] = field(default_factory=dict)
    products: list[Product] = field(default_factory=list)
    product_cum: list[float] = field(default_factory=list)
    """Running popularity weights over :attr:`products` (sorted by creation)."""
    product_created: list[int] = field(default_factory=list)
    promotions_by_product: dict[int, list[tuple[int, int, int, int]]] = field(default_factory=lambda: defaultdict(list))
    """product id -> [(start, end, promotion id, discount percent)]."""
    coupon_promotions: list[tuple[int, int, int, int, list[int]]] = field(default_factory=list)
    """[(start, end, promotion id, percent, coupon ids)] for coupon campaigns."""
    goodwill_promotion: int = 0
    next_coupon_id: int = 1
    coupon_uses: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    supplier_products: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    suppliers: list[int] = field(default_factory=list)
    customers: list[Customer] = field(default_factory=list)
    customer_created: list[int] = field(default_factory=list)
    wholesale: list[Customer] = field(default_factory=list)
    wholesale_created: list[int] = field(default_factory=list)
    sessions: list[tuple[int, int | None, int]] = field(default_factory=list)
    """(web session id, customer id or None, started at), by start."""
    audit: list[AuditEvent] = field(default_factory=list)
    stock_moves: list[tuple[int, int, int, str, int, str | None, int | None, int | None]] = field(default_factory=list)
    """(seconds, warehouse id, product id, movement type, signed quantity, reference type, reference id, staff)."""
    reserved: dict[tuple[int, int], int] = field(default_factory=lambda: defaultdict(int))
    orders: list[tuple[int, int, int, str, str, str, int, int]] = field(default_factory=list)
    """(order id, customer id, order time, status code, channel, currency, total cents, units)."""
    delivered_lines: list[tuple[int, int, int, int]] = field(default_factory=list)
    """(order id, customer id, product id, delivered at) for reviews."""
    shipments: list[tuple[int, int, int, int]] = field(default_factory=list)
    """(shipment id, order id, customer id, shipped at)."""
    returns: list[tuple[int, int, int]] = field(default_factory=list)
    """(return id, customer id, requested at)."""
    counters: dict[str, int] = field(default_factory=dict)
    _open_cache: dict[int, list[Warehouse]] = field(default_factory=dict, repr=False)
    goodwill: list[tuple[int, int]] = field(default_factory=list)
    """(issued at, customer id) of goodwill vouchers handed out after returns."""
    invoices: list[tuple[int, int]] = field(default_factory=list)
    """(invoice id, issued at) of wholesale invoices."""
    purchase_orders: list[tuple[int, int]] = field(default_factory=list)
    """(purchase order id, ordered at)."""
    order_eur: dict[int, list[tuple[int, int, int]]] = field(default_factory=lambda: defaultdict(list))
    """customer id -> [(order id, order time, total in EUR cents)] of orders that were not cancelled."""

    def staff_at(self, rng: random.Random, department: int, t: int) -> int:
        """Someone from ``department`` employed at moment ``t`` (the department head as a fallback)."""
        pool = self.staff_by_department[department]
        for _ in range(6):
            s = pool[rng.randrange(len(pool))]
            if s.hired <= t and (s.left is None or t < s.left):
                return s.id
        return pool[0].id

    def pick_customer(self, rng: random.Random, t: int, wholesale: bool = False) -> Customer | None:
        """A customer who existed (and, for wholesale, was approved) at ``t`` and had not closed the account."""
        pool, created = (
            (self.wholesale, self.wholesale_created) if wholesale else (self.customers, self.customer_created)
        )
        k = bisect.bisect_right(created, t)
        if k == 0:
            return None
        for _ in range(8):
            c = pool[rng.randrange(k)]
            if (c.closed is None or t < c.closed) and c.wholesale == wholesale:
                return c
        return None

    def address_at(self, rng: random.Random, customer: Customer, t: int) -> int:
        """One of the customer's addresses that existed at ``t`` (usually the latest)."""
        usable = [a for a, made in customer.addresses if made <= t]
        if not usable:
            return customer.addresses[0][0]
        return usable[-1] if rng.random() < 0.85 else usable[rng.randrange(len(usable))]

    def rate(self, currency: str, t: int) -> float:
        """EUR per unit of ``currency`` in the week of ``t`` (as published in ``exchange_rates``)."""
        if currency == "EUR":
            return 1.0
        weeks = self.rates[currency]
        return weeks[min(len(weeks) - 1, max(0, (t // DAY - 2) // 7))]

    def tax_bp(self, country: str, tax_class: str, t: int) -> int:
        """VAT in basis points for a sale at ``t`` (1900 = 19 %)."""
        d = t // DAY
        for start, end, bp in self.tax[(country, tax_class)]:
            if start <= d and (end is None or d <= end):
                return bp
        return 0

    def open_warehouses(self, t: int) -> list[Warehouse]:
        """Warehouses operating at ``t`` (they open and close at midnight, so cached per day)."""
        d = t // DAY
        cached = self._open_cache.get(d)
        if cached is None:
            start = d * DAY
            cached = [w for w in self.warehouses if w.opened <= start and (w.closed is None or start < w.closed)]
            self._open_cache[d] = cached
        return cached

    def pick_product(self, rng: random.Random, t: int) -> Product:
        """A product on sale at ``t``, popular ones more often."""
        k = bisect.bisect_right(self.product_created, t)
        k = max(k, 1)
        top = self.product_cum[k - 1]
        for _ in range(10):
            p = self.products[bisect.bisect_right(self.product_cum, rng.random() * top)]
            if p.discontinued is None or t < p.discontinued:
                return p
        return p


