"""The sample workload: the retailer's business operations on the sample database, as SQL.

Each operation is what the legacy application does for one business event (browse the catalog,
register, check out, capture a payment, ship, return, restock, purchase from suppliers, month-end
reporting, staff admin, ...), written against the tables of :mod:`workbench.sample.tables` in
portable SQL. Operations are drawn with realistic frequencies and run by a pool of application
sessions whose statements interleave, as they do in a real log. The stream contains what real
workloads contain: transactions writing several domains at once (checkout: order + inventory +
payment), read-only joins across domains (product page: catalog + pricing + inventory), reports
touching many tables, and the shared ``audit_log``/``sequences`` written by every domain.

Nothing is executed: statements are generated, with values drawn from id ranges that match the
sample database. Same ``(statements, seed)``, same stream. :mod:`workbench.workload.simlog`
writes it in every log format.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from itertools import accumulate
from typing import NamedTuple

Param = int | float | str | bool | None | tuple[int, ...]
Step = tuple[str, tuple[Param, ...]]
"""A statement as a template with ``?`` markers and its values (a tuple value is an IN-list)."""

START = 1_740_787_200
"""2025-03-01 00:00:00 UTC: the simulated day starts here (the sample's data ends before)."""


@dataclass(frozen=True)
class Population:
    """Id ranges statements draw values from (the sample database at scale 1.0 by default)."""

    customers: int = 60_000
    products: int = 4_000
    categories: int = 120
    brands: int = 150
    orders: int = 150_000
    warehouses: int = 6
    suppliers: int = 80
    staff: int = 400
    carriers: int = 8
    price_lists: int = 4
    promotions: int = 120
    purchase_orders: int = 6_000
    shipments: int = 130_000
    invoices: int = 140_000
    payments: int = 150_000
    returns: int = 6_000


class SimStatement(NamedTuple):
    """One statement as the simulated application sent it.

    ``txn`` numbers the session's explicit transactions (None: autocommit); ``op`` numbers the
    session's operations; ``last`` marks the operation's last statement; ``t`` is seconds since
    :data:`START`.
    """

    session: int
    txn: int | None
    op: int
    op_name: str
    sql: str
    params: tuple[Param, ...]
    duration_ms: float
    t: float
    last: bool


@dataclass
class Operation:
    """A business operation: how often it happens and the statements it sends."""

    name: str
    weight: float
    transactional: bool
    build: Callable[[random.Random, Population, float], list[Step]]
    rollback_rate: float = 0.0
    description: str = ""


_FIRST = ("Anna", "Ben", "Chloé", "David", "Emma", "Finn", "Grace", "Hugo", "Ines", "Jonas", "Liam", "Mia", "Noah")
_LAST = ("Müller", "O'Neil", "Schmidt", "Dubois", "García", "Rossi", "Nowak", "Jansen", "Silva", "Berg", "Kowalski")
_TERMS = ("garden chair", "led lamp", "espresso", "drill", "yoga mat", "kettle", "backpack", "o'clock watch", "tent")
_CITIES = ("Berlin", "Lyon", "Porto", "Gdańsk", "Utrecht", "Graz", "Brno", "Turin")
_COUNTRIES = ("DE", "FR", "PT", "PL", "NL", "AT", "CZ", "IT")
_CURRENCIES = ("EUR", "PLN", "CZK")
_CHANNELS = ("web", "app", "phone")


@lru_cache(maxsize=4096)
def _second(t: int) -> str:
    return datetime.fromtimestamp(START + t, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _ts(t: float) -> str:
    """Timestamp literal ``t`` seconds into the simulated day."""
    return _second(int(t))


def _id(rng: random.Random, n: int) -> int:
    return 1 + int(rng.random() * n)


def _hot(rng: random.Random, n: int) -> int:
    """Skewed towards low ids: a few products and customers get most of the traffic."""
    return 1 + int(n * rng.random() ** 3)


def _audit(rng: random.Random, pop: Population, t: float, table: str, action: str, row: int | None = None) -> Step:
    return (
        "INSERT INTO audit_log (table_name, row_id, action, changed_by, changed_at, details) VALUES (?, ?, ?, ?, ?, ?)",
        (table, row if row is not None else _id(rng, 10_000_000), action, _id(rng, pop.staff), _ts(t), None),
    )


def _next_number(name: str) -> list[Step]:
    """The hand-rolled number sequence every domain shares (a classic monolith coupling)."""
    return [
        ("UPDATE sequences SET next_value = next_value + increment_by WHERE name = ?", (name,)),
        ("SELECT next_value FROM sequences WHERE name = ?", (name,)),
    ]


def _setting(key: str) -> Step:
    return ("SELECT setting_value FROM settings WHERE setting_key = ?", (key,))


# --- operations -------------------------------------------------------------------------------------------------


def _browse(rng: random.Random, pop: Population, t: float) -> list[Step]:
    steps: list[Step] = [
        _setting("storefront.theme"),
        ("SELECT id, name, slug FROM categories WHERE parent_id = ? AND is_active = TRUE ORDER BY sort_order",
         (_id(rng, pop.categories),)),
        ("SELECT p.id, p.sku, p.name, p.list_price, b.name AS brand FROM products p JOIN brands b ON b.id = p.brand_id "
         "WHERE p.primary_category_id = ? AND p.is_discontinued = FALSE ORDER BY p.name LIMIT 24",
         (_id(rng, pop.categories),)),
    ]  # fmt: skip
    for _ in range(1 + int(rng.random() * 3)):
        product = _hot(rng, pop.products)
        steps += [
            ("SELECT p.id, p.sku, p.name, p.description, p.list_price, p.currency_code FROM products p WHERE p.id = ?",
             (product,)),
            ("SELECT url, alt_text FROM product_images WHERE product_id = ? ORDER BY sort_order", (product,)),
            ("SELECT pp.price, pl.currency_code FROM product_prices pp JOIN price_lists pl ON pl.id = pp.price_list_id "
             "WHERE pp.product_id = ? AND pl.code = ? AND pp.valid_from <= ? "
             "AND (pp.valid_to IS NULL OR pp.valid_to > ?)",
             (product, "RETAIL-EUR", _ts(t)[:10], _ts(t)[:10])),
            ("SELECT SUM(ws.quantity_on_hand - ws.quantity_reserved) AS available FROM warehouse_stock ws "
             "JOIN warehouses w ON w.id = ws.warehouse_id WHERE ws.product_id = ? AND w.is_active = TRUE", (product,)),
            ("SELECT r.rating, r.title, c.first_name FROM product_reviews r "
             "LEFT JOIN customers c ON c.id = r.customer_id "
             "WHERE r.product_id = ? AND r.is_approved = TRUE ORDER BY r.created_at DESC LIMIT 5", (product,)),
        ]  # fmt: skip
    return steps


def _search(rng: random.Random, pop: Population, t: float) -> list[Step]:
    term = rng.choice(_TERMS)
    return [
        ("SELECT p.id, p.name, p.list_price FROM products p WHERE (p.name LIKE ? OR p.sku = ?) "
         "AND p.is_discontinued = FALSE ORDER BY p.name LIMIT 50", (f"%{term}%", term.upper())),
        ("INSERT INTO search_log (session_id, customer_id, search_terms, results_count, searched_at) "
         "VALUES (?, ?, ?, ?, ?)",
         (_id(rng, 5_000_000), _id(rng, pop.customers) if rng.random() < 0.4 else None, term, int(rng.random() * 60),
          _ts(t))),
    ]  # fmt: skip


def _login(rng: random.Random, pop: Population, t: float) -> list[Step]:
    customer = _hot(rng, pop.customers)
    return [
        ("SELECT id, email, first_name, customer_group_id, status_id FROM customers WHERE email = ?",
         (f"customer{customer}@example.com",)),
        ("UPDATE customers SET last_login_at = ? WHERE id = ?", (_ts(t), customer)),
        ("INSERT INTO web_sessions (session_token, customer_id, started_at, ip_address, user_agent, landing_page) "
         "VALUES (?, ?, ?, ?, ?, ?)",
         (f"{rng.getrandbits(128):032x}", customer, _ts(t), f"10.{_id(rng, 250)}.{_id(rng, 250)}.{_id(rng, 250)}",
          "Mozilla/5.0", "/")),
    ]  # fmt: skip


def _cart(rng: random.Random, pop: Population, t: float) -> list[Step]:
    customer = _hot(rng, pop.customers)
    cart = _id(rng, 400_000)
    product = _hot(rng, pop.products)
    return [
        ("SELECT id FROM carts WHERE customer_id = ? AND converted_order_id IS NULL ORDER BY updated_at DESC LIMIT 1",
         (customer,)),
        ("INSERT INTO cart_items (cart_id, product_id, quantity, unit_price, added_at) VALUES (?, ?, ?, ?, ?)",
         (cart, product, 1 + int(rng.random() * 3), round(5 + rng.random() * 200, 2), _ts(t))),
        ("UPDATE carts SET updated_at = ? WHERE id = ?", (_ts(t), cart)),
    ]  # fmt: skip


def _register(rng: random.Random, pop: Population, t: float) -> list[Step]:
    customer = pop.customers + _id(rng, 1_000_000)
    address = _id(rng, 2_000_000)
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    country = rng.choice(_COUNTRIES)
    steps: list[Step] = [
        ("SELECT COUNT(*) FROM customers WHERE email = ?", (f"customer{customer}@example.com",)),
        ("INSERT INTO customers (customer_group_id, email, first_name, last_name, phone1, country_code, "
         "preferred_currency, status_id, is_wholesale, marketing_opt_in, created_at) "
         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
         (1, f"customer{customer}@example.com", first, last, f"+49 {_id(rng, 10**9)}", country, "EUR", 1, False,
          rng.random() < 0.5, _ts(t))),
        ("INSERT INTO addresses (customer_id, address_type, line1, city, postcode, country_code, is_deleted, "
         "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
         (customer, "both", f"{_id(rng, 200)} Main Street", rng.choice(_CITIES), f"{_id(rng, 99999):05d}", country,
          False, _ts(t))),
        ("UPDATE customers SET default_address_id = ? WHERE id = ?", (address, customer)),
    ]  # fmt: skip
    if rng.random() < 0.5:
        steps.append(
            ("INSERT INTO newsletter_subscriptions (email, customer_id, subscribed_at, signup_source, language_code) "
             "VALUES (?, ?, ?, ?, ?)", (f"customer{customer}@example.com", customer, _ts(t), "register", "de"))
        )  # fmt: skip
    steps.append(_audit(rng, pop, t, "customers", "INSERT", customer))
    return steps


def _checkout(rng: random.Random, pop: Population, t: float) -> list[Step]:
    """Order + inventory + payment in one transaction: the write that spans three domains."""
    customer = _hot(rng, pop.customers)
    order = pop.orders + _id(rng, 5_000_000)
    cart = _id(rng, 400_000)
    steps: list[Step] = [
        ("SELECT c.id, c.customer_group_id, cg.price_list_id, cg.discount_percent FROM customers c "
         "JOIN customer_groups cg ON cg.id = c.customer_group_id WHERE c.id = ?", (customer,)),
        ("SELECT id, line1, city, country_code FROM addresses WHERE customer_id = ? AND is_deleted = FALSE",
         (customer,)),
        ("SELECT ci.product_id, ci.quantity, p.list_price, p.tax_class FROM cart_items ci "
         "JOIN products p ON p.id = ci.product_id WHERE ci.cart_id = ?", (cart,)),
        *_next_number("order_number"),
        ("INSERT INTO orders (order_number, customer_id, billing_address_id, shipping_address_id, status_id, channel, "
         "currency_code, order_date, subtotal_amount, discount_amount, shipping_amount, tax_amount, total_amount) "
         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
         (f"SO-{order}", customer, _id(rng, 2_000_000), _id(rng, 2_000_000), 1, rng.choice(_CHANNELS),
          rng.choice(_CURRENCIES), _ts(t), 100.0, 0.0, 4.9, 19.0, 123.9)),
    ]  # fmt: skip
    lines = 1 + int(rng.random() ** 2 * 5)
    products = tuple(sorted({_hot(rng, pop.products) for _ in range(lines)}))
    steps.append(
        ("SELECT pp.product_id, pp.price FROM product_prices pp WHERE pp.price_list_id = ? AND pp.product_id IN (?)",
         (_id(rng, pop.price_lists), products))
    )  # fmt: skip
    for line_no, product in enumerate(products, start=1):
        warehouse = _id(rng, pop.warehouses)
        qty = 1 + int(rng.random() * 3)
        line_id = _id(rng, 20_000_000)
        steps += [
            ("INSERT INTO order_lines (order_id, line_no, product_id, quantity, unit_price, line_total, tax_rate, "
             "warehouse_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
             (order, line_no, product, qty, 19.99, round(19.99 * qty, 2), 19.0, warehouse)),
            ("UPDATE warehouse_stock SET quantity_reserved = quantity_reserved + ?, updated_at = ? "
             "WHERE warehouse_id = ? AND product_id = ?", (qty, _ts(t), warehouse, product)),
            ("INSERT INTO stock_reservations (order_id, order_line_id, product_id, warehouse_id, quantity, "
             "reserved_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
             (order, line_id, product, warehouse, qty, _ts(t), _ts(t + 86_400))),
        ]  # fmt: skip
    if rng.random() < 0.15:
        steps.append(("UPDATE coupons SET times_used = times_used + 1 WHERE code = ?", (f"SPRING{_id(rng, 500)}",)))
    steps += [
        ("INSERT INTO payments (order_id, payment_method_id, amount, currency_code, status_id, provider_reference, "
         "attempted_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
         (order, _id(rng, 6), 123.9, "EUR", 20, f"psp_{rng.getrandbits(48):012x}", _ts(t))),
        ("INSERT INTO order_status_history (order_id, status_id, changed_at, note_text) VALUES (?, ?, ?, ?)",
         (order, 1, _ts(t), "placed")),
        ("UPDATE carts SET converted_order_id = ?, updated_at = ? WHERE id = ?", (order, _ts(t), cart)),
        _audit(rng, pop, t, "orders", "INSERT", order),
    ]  # fmt: skip
    return steps


def _capture_payment(rng: random.Random, pop: Population, t: float) -> list[Step]:
    order = _id(rng, pop.orders)
    payment = _id(rng, pop.payments)
    return [
        ("SELECT p.id, p.amount, o.total_amount FROM payments p JOIN orders o ON o.id = p.order_id "
         "WHERE p.order_id = ? FOR UPDATE", (order,)),
        ("UPDATE payments SET status_id = ?, captured_at = ? WHERE id = ?", (21, _ts(t), payment)),
        ("UPDATE orders SET status_id = ?, updated_at = ? WHERE id = ?", (2, _ts(t), order)),
        ("INSERT INTO order_status_history (order_id, status_id, changed_at, note_text) VALUES (?, ?, ?, ?)",
         (order, 2, _ts(t), "paid")),
        ("INSERT INTO loyalty_transactions (customer_id, order_id, points, reason, created_at) VALUES (?, ?, ?, ?, ?)",
         (_hot(rng, pop.customers), order, int(rng.random() * 200), "purchase", _ts(t))),
        _audit(rng, pop, t, "payments", "UPDATE", payment),
    ]  # fmt: skip


def _ship(rng: random.Random, pop: Population, t: float) -> list[Step]:
    order = _id(rng, pop.orders)
    shipment = pop.shipments + _id(rng, 5_000_000)
    invoice = pop.invoices + _id(rng, 5_000_000)
    warehouse = _id(rng, pop.warehouses)
    steps: list[Step] = [
        ("SELECT ol.id, ol.product_id, ol.quantity, ol.warehouse_id FROM order_lines ol WHERE ol.order_id = ? "
         "ORDER BY ol.line_no", (order,)),
        ("INSERT INTO shipments (order_id, warehouse_id, carrier_id, tracking_number, status_id, shipped_at, "
         "shipping_address_id, weight_g, shipping_cost) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
         (order, warehouse, _id(rng, pop.carriers), f"TRK{rng.getrandbits(40):010d}", 30, _ts(t), _id(rng, 2_000_000),
          _id(rng, 20_000), 4.9)),
    ]  # fmt: skip
    for _ in range(1 + int(rng.random() * 3)):
        product, qty = _hot(rng, pop.products), 1 + int(rng.random() * 3)
        steps += [
            ("INSERT INTO shipment_items (shipment_id, order_line_id, quantity) VALUES (?, ?, ?)",
             (shipment, _id(rng, 20_000_000), qty)),
            ("UPDATE warehouse_stock SET quantity_on_hand = quantity_on_hand - ?, "
             "quantity_reserved = quantity_reserved - ?, updated_at = ? WHERE warehouse_id = ? AND product_id = ?",
             (qty, qty, _ts(t), warehouse, product)),
            ("INSERT INTO stock_movements (warehouse_id, product_id, movement_type, quantity, reference_type, "
             "reference_id, moved_at, moved_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
             (warehouse, product, "ship", -qty, "shipment", shipment, _ts(t), _id(rng, pop.staff))),
        ]  # fmt: skip
    steps += [
        ("DELETE FROM stock_reservations WHERE order_id = ?", (order,)),
        ("UPDATE orders SET status_id = ?, updated_at = ? WHERE id = ?", (3, _ts(t), order)),
        ("INSERT INTO order_status_history (order_id, status_id, changed_at, changed_by, note_text) "
         "VALUES (?, ?, ?, ?, ?)",
         (order, 3, _ts(t), _id(rng, pop.staff), "shipped")),
        *_next_number("invoice_number"),
        ("INSERT INTO invoices (invoice_number, order_id, customer_id, issued_on, due_on, tax_amount, total_amount, "
         "currency_code, status_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
         (f"INV-{invoice}", order, _hot(rng, pop.customers), _ts(t)[:10], _ts(t + 30 * 86_400)[:10], 19.0, 123.9, "EUR",
          40)),
        ("INSERT INTO invoice_lines (invoice_id, order_line_id, description, quantity, unit_price, line_total, "
         "tax_rate) "
         "SELECT ?, ol.id, p.name, ol.quantity, ol.unit_price, ol.line_total, ol.tax_rate FROM order_lines ol "
         "JOIN products p ON p.id = ol.product_id WHERE ol.order_id = ?", (invoice, order)),
        ("INSERT INTO notifications (customer_id, template_id, channel, order_id, sent_at, delivery_status) "
         "VALUES (?, ?, ?, ?, ?, ?)", (_hot(rng, pop.customers), 3, "email", order, _ts(t), "queued")),
        _audit(rng, pop, t, "shipments", "INSERT", shipment),
    ]  # fmt: skip
    return steps


def _track(rng: random.Random, pop: Population, t: float) -> list[Step]:
    shipment = _id(rng, pop.shipments)
    return [
        ("SELECT s.id, s.status_id, c.name, c.tracking_url_template FROM shipments s "
         "JOIN carriers c ON c.id = s.carrier_id WHERE s.tracking_number = ?", (f"TRK{rng.getrandbits(40):010d}",)),
        ("INSERT INTO tracking_events (shipment_id, event_code, description, location, occurred_at) "
         "VALUES (?, ?, ?, ?, ?)",
         (shipment, rng.choice(("IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED")), "carrier scan", rng.choice(_CITIES),
          _ts(t))),
    ]  # fmt: skip


def _order_history(rng: random.Random, pop: Population, t: float) -> list[Step]:
    """The customer's "my orders" page: a read-only join across ordering, billing and fulfilment."""
    customer = _hot(rng, pop.customers)
    return [
        ("SELECT o.id, o.order_number, o.order_date, o.total_amount, sc.label, s.tracking_number, i.invoice_number "
         "FROM orders o JOIN status_codes sc ON sc.id = o.status_id LEFT JOIN shipments s ON s.order_id = o.id "
         "LEFT JOIN invoices i ON i.order_id = o.id WHERE o.customer_id = ? ORDER BY o.order_date DESC LIMIT 20",
         (customer,)),
        ("SELECT * FROM v_order_summary WHERE customer_id = ? ORDER BY order_date DESC LIMIT 20", (customer,)),
    ]  # fmt: skip


def _customer_360(rng: random.Random, pop: Population, t: float) -> list[Step]:
    """The service desk's customer view: one wide read across six domains (its digest is truncated)."""
    customer = _hot(rng, pop.customers)
    return [
        ("SELECT c.id, c.email, c.first_name, c.last_name, c.phone1, c.phone2, c.country_code, c.created_at, "
         "c.last_login_at, cg.name AS customer_group, cg.discount_percent, wa.company_name, wa.vat_number, "
         "wa.credit_limit, wa.payment_terms_days, a.line1, a.line2, a.city, a.postcode, "
         "a.country_code AS address_country, "
         "COUNT(DISTINCT o.id) AS order_count, SUM(o.total_amount) AS order_total, MAX(o.order_date) AS last_order, "
         "COUNT(DISTINCT i.id) AS invoices, "
         "SUM(CASE WHEN i.paid_on IS NULL THEN i.total_amount ELSE 0 END) AS open_amount, "
         "COUNT(DISTINCT r.id) AS returns, SUM(lt.points) AS loyalty_points, MAX(n.sent_at) AS last_notification, "
         "MAX(ws.started_at) AS last_session FROM customers c JOIN customer_groups cg ON cg.id = c.customer_group_id "
         "LEFT JOIN wholesale_accounts wa ON wa.customer_id = c.id "
         "LEFT JOIN addresses a ON a.id = c.default_address_id "
         "LEFT JOIN orders o ON o.customer_id = c.id LEFT JOIN invoices i ON i.order_id = o.id "
         "LEFT JOIN returns r ON r.order_id = o.id LEFT JOIN loyalty_transactions lt ON lt.customer_id = c.id "
         "LEFT JOIN notifications n ON n.customer_id = c.id LEFT JOIN web_sessions ws ON ws.customer_id = c.id "
         "WHERE c.id = ? GROUP BY c.id, c.email, c.first_name, c.last_name, c.phone1, c.phone2, c.country_code, "
         "c.created_at, c.last_login_at, cg.name, cg.discount_percent, wa.company_name, wa.vat_number, "
         "wa.credit_limit, "
         "wa.payment_terms_days, a.line1, a.line2, a.city, a.postcode, a.country_code", (customer,)),
        ("SELECT body, created_at FROM notes WHERE entity_type = ? AND entity_id = ? ORDER BY created_at DESC",
         ("customer", customer)),
    ]  # fmt: skip


def _return(rng: random.Random, pop: Population, t: float) -> list[Step]:
    order = _id(rng, pop.orders)
    rma = pop.returns + _id(rng, 1_000_000)
    warehouse, product, qty = _id(rng, pop.warehouses), _hot(rng, pop.products), 1
    return [
        ("SELECT ol.id, ol.product_id, ol.quantity, ol.line_total FROM order_lines ol WHERE ol.order_id = ?", (order,)),
        *_next_number("rma_number"),
        ("INSERT INTO returns (rma_number, order_id, customer_id, status_id, reason, requested_at, received_at, "
         "received_warehouse_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
         (f"RMA-{rma}", order, _hot(rng, pop.customers), 50, "damaged", _ts(t), _ts(t), warehouse)),
        ("INSERT INTO return_items (return_id, order_line_id, quantity, item_condition, refund_amount) "
         "VALUES (?, ?, ?, ?, ?)", (rma, _id(rng, 20_000_000), qty, "opened", 19.99)),
        ("UPDATE warehouse_stock SET quantity_on_hand = quantity_on_hand + ?, updated_at = ? "
         "WHERE warehouse_id = ? AND product_id = ?", (qty, _ts(t), warehouse, product)),
        ("INSERT INTO stock_movements (warehouse_id, product_id, movement_type, quantity, reference_type, "
         "reference_id, moved_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
         (warehouse, product, "return", qty, "return", rma, _ts(t))),
        ("INSERT INTO refunds (payment_id, return_id, amount, refunded_at, processed_by, reason) "
         "VALUES (?, ?, ?, ?, ?, ?)",
         (_id(rng, pop.payments), rma, 19.99, _ts(t), _id(rng, pop.staff), "return")),
        ("INSERT INTO notes (entity_type, entity_id, body, created_by, created_at) VALUES (?, ?, ?, ?, ?)",
         ("return", rma, "customer called about the refund", _id(rng, pop.staff), _ts(t))),
        _audit(rng, pop, t, "returns", "INSERT", rma),
    ]  # fmt: skip


def _receive_goods(rng: random.Random, pop: Population, t: float) -> list[Step]:
    """Restock: a goods receipt against a purchase order, in the CamelCase purchasing module."""
    po, warehouse = _id(rng, pop.purchase_orders), _id(rng, pop.warehouses)
    steps: list[Step] = [
        ("SELECT po.id, po.supplier_id, s.\"SupplierName\" FROM purchase_orders po "
         "JOIN \"tblSupplier\" s ON s.\"SupplierID\" = po.supplier_id WHERE po.id = ?", (po,)),
        ("INSERT INTO \"GoodsReceipt\" "
         "(\"PurchaseOrderID\", \"WarehouseID\", \"ReceivedAt\", \"ReceivedBy\", \"Notes\") "
         "VALUES (?, ?, ?, ?, ?)", (po, warehouse, _ts(t), _id(rng, pop.staff), "pallet ok")),
    ]  # fmt: skip
    for _ in range(1 + int(rng.random() * 4)):
        product, qty = _id(rng, pop.products), 10 * (1 + int(rng.random() * 10))
        steps += [
            ("UPDATE purchase_order_lines SET quantity_received = quantity_received + ? "
             "WHERE purchase_order_id = ? AND product_id = ?", (qty, po, product)),
            ("UPDATE warehouse_stock SET quantity_on_hand = quantity_on_hand + ?, updated_at = ? "
             "WHERE warehouse_id = ? AND product_id = ?", (qty, _ts(t), warehouse, product)),
            ("INSERT INTO stock_movements (warehouse_id, product_id, movement_type, quantity, reference_type, "
             "reference_id, moved_at, moved_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
             (warehouse, product, "receipt", qty, "purchase_order", po, _ts(t), _id(rng, pop.staff))),
        ]  # fmt: skip
    steps += [
        ("UPDATE purchase_orders SET status_id = ? WHERE id = ?", (62, po)),
        _audit(rng, pop, t, "GoodsReceipt", "INSERT"),
    ]
    return steps


def _purchase(rng: random.Random, pop: Population, t: float) -> list[Step]:
    """Reorder from suppliers: an inventory x purchasing read, then a new purchase order."""
    warehouse, supplier = _id(rng, pop.warehouses), _id(rng, pop.suppliers)
    po = pop.purchase_orders + _id(rng, 1_000_000)
    steps: list[Step] = [
        ("SELECT ws.product_id, sp.supplier_id, sp.cost_price, ws.quantity_on_hand, ws.reorder_level "
         "FROM warehouse_stock ws "
         "JOIN supplier_products sp ON sp.product_id = ws.product_id AND sp.is_preferred = TRUE "
         "WHERE ws.warehouse_id = ? AND ws.quantity_on_hand < ws.reorder_level", (warehouse,)),
        ("SELECT \"SupplierID\", \"SupplierName\", \"PaymentTermsDays\" FROM \"tblSupplier\" "
         "WHERE \"SupplierID\" = ? AND \"IsActive\" = TRUE", (supplier,)),
        ("SELECT \"Email\" FROM \"SupplierContact\" WHERE \"SupplierID\" = ? AND \"IsPrimary\" = TRUE", (supplier,)),
        *_next_number("po_number"),
        ("INSERT INTO purchase_orders (po_number, supplier_id, warehouse_id, status_id, ordered_at, expected_on, "
         "currency_code, total_amount, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
         (f"PO-{po}", supplier, warehouse, 60, _ts(t), _ts(t + 7 * 86_400)[:10], "EUR", 1500.0, _id(rng, pop.staff))),
    ]  # fmt: skip
    for _ in range(2 + int(rng.random() * 5)):
        steps.append(
            ("INSERT INTO purchase_order_lines (purchase_order_id, product_id, quantity_ordered, quantity_received, "
             "unit_cost) VALUES (?, ?, ?, ?, ?)", (po, _id(rng, pop.products), 50, 0, 7.5))
        )  # fmt: skip
    steps.append(_audit(rng, pop, t, "purchase_orders", "INSERT", po))
    return steps


def _month_end(rng: random.Random, pop: Population, t: float) -> list[Step]:
    """Month-end reporting: wide joins across most domains, and the nightly reporting refresh."""
    month = 1 + int(rng.random() * 12)
    start, end = f"2024-{month:02d}-01", (f"2024-{month + 1:02d}-01" if month < 12 else "2025-01-01")
    return [
        ("SELECT co.name AS country, cur.code AS currency, cat.name AS category, COUNT(DISTINCT o.id) AS orders, "
         "SUM(ol.quantity) AS units, SUM(ol.line_total) AS revenue, SUM(ol.line_total / er.rate_to_eur) AS revenue_eur "
         "FROM orders o JOIN order_lines ol ON ol.order_id = o.id JOIN products p ON p.id = ol.product_id "
         "JOIN categories cat ON cat.id = p.primary_category_id JOIN addresses a ON a.id = o.shipping_address_id "
         "JOIN countries co ON co.code = a.country_code JOIN currencies cur ON cur.code = o.currency_code "
         "LEFT JOIN exchange_rates er ON er.currency_code = o.currency_code AND er.rate_date = ? "
         "WHERE o.order_date >= ? AND o.order_date < ? GROUP BY co.name, cur.code, cat.name ORDER BY revenue DESC",
         (start, start, end)),
        ("WITH paid AS (SELECT order_id, SUM(amount) AS paid FROM payments WHERE captured_at IS NOT NULL "
         "GROUP BY order_id), refunded AS (SELECT p.order_id, SUM(r.amount) AS refunded FROM refunds r "
         "JOIN payments p ON p.id = r.payment_id GROUP BY p.order_id) "
         "SELECT i.invoice_number, c.email, i.total_amount, COALESCE(paid.paid, 0) AS paid, "
         "COALESCE(refunded.refunded, 0) AS refunded FROM invoices i JOIN customers c ON c.id = i.customer_id "
         "LEFT JOIN paid ON paid.order_id = i.order_id LEFT JOIN refunded ON refunded.order_id = i.order_id "
         "WHERE i.issued_on >= ? AND i.issued_on < ? AND i.paid_on IS NULL", (start, end)),
        ("SELECT w.code, COUNT(*) AS shipments, AVG(s.shipping_cost) AS avg_cost, SUM(ri.quantity) AS returned "
         "FROM shipments s JOIN warehouses w ON w.id = s.warehouse_id JOIN carriers ca ON ca.id = s.carrier_id "
         "LEFT JOIN returns r ON r.order_id = s.order_id LEFT JOIN return_items ri ON ri.return_id = r.id "
         "WHERE s.shipped_at >= ? AND s.shipped_at < ? GROUP BY w.code", (start, end)),
        ("DELETE FROM rpt_daily_sales WHERE sales_date >= ? AND sales_date < ?", (start, end)),
        ("INSERT INTO rpt_daily_sales "
         "(sales_date, country_code, channel, currency_code, order_count, units_sold, revenue) "
         "SELECT CAST(o.order_date AS DATE), a.country_code, o.channel, o.currency_code, COUNT(DISTINCT o.id), "
         "SUM(ol.quantity), SUM(ol.line_total) FROM orders o JOIN order_lines ol ON ol.order_id = o.id "
         "JOIN addresses a ON a.id = o.billing_address_id WHERE o.order_date >= ? AND o.order_date < ? "
         "GROUP BY CAST(o.order_date AS DATE), a.country_code, o.channel, o.currency_code", (start, end)),
        ("UPDATE rpt_customer_ltv SET order_count = order_count + ?, last_order_at = ? WHERE customer_id = ?",
         (1, _ts(t), _hot(rng, pop.customers))),
        ("SELECT * FROM v_stock_levels WHERE quantity_available < ? ORDER BY quantity_available", (5,)),
        _audit(rng, pop, t, "rpt_daily_sales", "REFRESH"),
    ]  # fmt: skip


def _staff_admin(rng: random.Random, pop: Population, t: float) -> list[Step]:
    member = _id(rng, pop.staff)
    return [
        ("SELECT s.id, s.first_name, s.last_name, d.name AS department, m.last_name AS manager FROM staff s "
         "JOIN departments d ON d.id = s.department_id LEFT JOIN staff m ON m.id = s.manager_id WHERE s.id = ?",
         (member,)),
        ("UPDATE staff SET job_title = ? WHERE id = ?", ("Senior " + rng.choice(("Buyer", "Picker", "Agent")), member)),
        ("INSERT INTO staff_roles (staff_id, role_id, granted_at) VALUES (?, ?, ?)", (member, _id(rng, 12), _ts(t))),
        ("UPDATE settings SET setting_value = ?, updated_at = ? WHERE setting_key = ?",
         (str(_id(rng, 100)), _ts(t), "backoffice.page_size")),
        _audit(rng, pop, t, "staff", "UPDATE", member),
    ]  # fmt: skip


def _promotions(rng: random.Random, pop: Population, t: float) -> list[Step]:
    promotion = pop.promotions + _id(rng, 100_000)
    products = tuple(sorted({_id(rng, pop.products) for _ in range(3)}))
    return [
        ("INSERT INTO promotions (name, promo_type, discount_percent, starts_at, ends_at, created_by, is_active) "
         "VALUES (?, ?, ?, ?, ?, ?, ?)",
         (f"Spring sale {promotion}", "percent", 10.0, _ts(t), _ts(t + 14 * 86_400), _id(rng, pop.staff), True)),
        *[("INSERT INTO promotion_products (promotion_id, product_id) VALUES (?, ?)", (promotion, p))
          for p in products],
        ("INSERT INTO coupons (code, promotion_id, max_uses, times_used, expires_at) VALUES (?, ?, ?, ?, ?)",
         (f"SPRING{promotion}", promotion, 1000, 0, _ts(t + 14 * 86_400))),
        ("UPDATE product_prices SET valid_to = ? WHERE product_id IN (?) AND valid_to IS NULL",
         (_ts(t)[:10], products)),
        _audit(rng, pop, t, "promotions", "INSERT", promotion),
    ]  # fmt: skip


def _review(rng: random.Random, pop: Population, t: float) -> list[Step]:
    product = _hot(rng, pop.products)
    return [
        ("INSERT INTO product_reviews (product_id, customer_id, order_id, rating, title, body, created_at, "
         "is_approved) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
         (product, _hot(rng, pop.customers), _id(rng, pop.orders), 1 + int(rng.random() * 5), "Nice",
          "Works as described", _ts(t), False)),
    ]  # fmt: skip


def _cms(rng: random.Random, pop: Population, t: float) -> list[Step]:
    return [
        (
            "SELECT id, title, body FROM cms_pages WHERE slug = ? AND language_code = ?",
            (rng.choice(("home", "faq")), "de"),
        ),
        ("SELECT subject, body FROM email_templates WHERE code = ?", ("order_confirmation",)),
    ]


def _health(rng: random.Random, pop: Population, t: float) -> list[Step]:
    return [("SELECT 1", ())]


OPERATIONS: tuple[Operation, ...] = (
    Operation("browse", 32, False, _browse, description="category and product pages"),
    Operation("search", 12, False, _search, description="catalog search, logged to search_log"),
    Operation("login", 7, False, _login, description="customer login and web session"),
    Operation("cart", 8, True, _cart, description="add to cart"),
    Operation("order_history", 4, False, _order_history, description="my orders page"),
    Operation("cms", 4, False, _cms, description="content pages and mail templates"),
    Operation("health_check", 3, False, _health, description="load balancer probe"),
    Operation("register", 1.5, True, _register, description="new customer with address and newsletter"),
    Operation("checkout", 5, True, _checkout, rollback_rate=0.03, description="order + stock reservation + payment"),
    Operation("capture_payment", 4, True, _capture_payment, description="payment captured, order paid, loyalty points"),
    Operation("ship", 3.5, True, _ship, description="shipment, stock movement, invoice, notification"),
    Operation("track", 5, False, _track, description="carrier tracking update"),
    Operation("return", 0.6, True, _return, description="return, restock and refund"),
    Operation("customer_360", 0.8, False, _customer_360, description="service desk customer view"),
    Operation("review", 1.2, False, _review, description="product review"),
    Operation("receive_goods", 0.6, True, _receive_goods, description="goods receipt: restock from a purchase order"),
    Operation("purchase", 0.4, True, _purchase, description="reorder from suppliers"),
    Operation("promotions", 0.3, True, _promotions, description="promotion, coupons, price validity"),
    Operation("staff_admin", 0.3, True, _staff_admin, description="staff roles and settings"),
    Operation("month_end", 0.1, True, _month_end, description="month-end reports and reporting refresh"),
)
"""Every operation with its relative frequency (operations, not statements)."""


@dataclass
class _Worker:
    session: int
    steps: list[Step] = field(default_factory=list)
    position: int = 0
    op: int = -1
    op_name: str = ""
    txn: int | None = None
    txns: int = 0
    rollback: bool = False


def simulate(statements: int = 100_000, seed: int = 7, sessions: int = 16,
             operations: Sequence[Operation] = OPERATIONS, population: Population | None = None
             ) -> Iterator[SimStatement]:  # fmt: skip
    """The sample workload as a stream of statements, deterministic for a given seed.

    Transactional operations are wrapped in ``BEGIN`` ... ``COMMIT`` (or ``ROLLBACK``); the
    others run in autocommit. ``sessions`` application connections interleave; the stream stops
    at the first operation boundary after ``statements`` statements, so every transaction in it
    is complete.
    """
    rng = random.Random(seed)
    pop = population or Population()
    cum_weights = list(accumulate(op.weight for op in operations))
    workers = [_Worker(session=i) for i in range(sessions)]
    clock = 0.0
    emitted = 0
    active = list(workers)
    while active:
        worker = active[int(rng.random() * len(active))]
        if worker.position >= len(worker.steps):
            if emitted >= statements:
                active.remove(worker)
                continue
            op = rng.choices(operations, cum_weights=cum_weights)[0]
            body = op.build(rng, pop, clock)
            worker.op += 1
            worker.op_name = op.name
            worker.position = 0
            if op.transactional:
                worker.txns += 1
                worker.txn = worker.txns
                worker.rollback = rng.random() < op.rollback_rate
                worker.steps = [("BEGIN", ()), *body, ("ROLLBACK" if worker.rollback else "COMMIT", ())]
            else:
                worker.txn = None
                worker.steps = body
        sql, params = worker.steps[worker.position]
        worker.position += 1
        clock += rng.expovariate(400.0)  # ~400 statements a second
        duration = round(rng.lognormvariate(-1.5, 1.0) * (40 if "GROUP BY" in sql else 1), 3)  # reports are slow
        emitted += 1
        yield SimStatement(worker.session, worker.txn, worker.op, worker.op_name, sql, params, duration, clock,
                           worker.position >= len(worker.steps))  # fmt: skip
