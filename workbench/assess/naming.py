"""Identifier conventions: snake_case, singular and plural, so ``customerId`` can meet ``Customers``.

Deliberately simple English: legacy schemas use a handful of regular plurals, and a rule that
guesses wrongly only produces a finding a person reads, never a change.
"""

from __future__ import annotations

import re

_CAMEL_1 = re.compile(r"([a-z0-9])([A-Z])")
_CAMEL_2 = re.compile(r"([A-Z]+)([A-Z][a-z])")
_NON_WORD = re.compile(r"[^0-9a-zA-Z]+")


def snake(name: str) -> str:
    """Lower snake_case of a camelCase, PascalCase or spaced identifier.

    >>> snake("customerId"), snake("OrderItems"), snake("HTTPLog"), snake("CUSTOMER_ID")
    ('customer_id', 'order_items', 'http_log', 'customer_id')
    """
    text = _CAMEL_2.sub(r"\1_\2", _CAMEL_1.sub(r"\1_\2", name))
    return _NON_WORD.sub("_", text).strip("_").lower()


def name_forms(name: str) -> frozenset[str]:
    """The snake_case name with every plausible singular of its last word, itself included.

    Several guesses instead of one right answer: ``warehouses`` and ``statuses`` end alike, yet
    one loses ``s`` and the other ``es``; matching a column stem against all forms finds both.

    >>> sorted(name_forms("Categories")), sorted(name_forms("order_items"))
    (['categori', 'categorie', 'categories', 'category'], ['order_item', 'order_items'])
    >>> "warehouse" in name_forms("warehouses") and "status" in name_forms("statuses")
    True
    """
    word = snake(name)
    head, _, last = word.rpartition("_")
    prefix = f"{head}_" if head else ""
    forms = {last}
    if len(last) > 3 and not last.endswith("ss"):
        if last.endswith("ies"):
            forms.add(f"{last[:-3]}y")
        if last.endswith("es"):
            forms.add(last[:-2])
        if last.endswith("s"):
            forms.add(last[:-1])
    return frozenset(f"{prefix}{f}" for f in forms)


def split_number(name: str) -> tuple[str, int] | None:
    """``phone2`` -> ``("phone", 2)``; None when the name does not end in digits after a stem.

    >>> split_number("phone2"), split_number("address_line_1"), split_number("sha256"), split_number("x")
    (('phone', 2), ('address_line', 1), ('sha', 256), None)
    """
    match = re.fullmatch(r"(?P<stem>.*?[A-Za-z])_?(?P<n>\d+)", name)
    if not match:
        return None
    return match["stem"], int(match["n"])
