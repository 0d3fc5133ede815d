"""Words in table and column names: the raw material of the name signal and of service names.

Legacy schemas spell one idea many ways (``order_items``, ``OrderItem``, ``tblOrderItems``), so
names are split on separators, camelCase and digits, lower-cased and reduced to a naive singular.
"""

from __future__ import annotations

import re

_SPLIT = re.compile(r"[^0-9A-Za-z]+|(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])"
                    r"|(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])")

NOISE = frozenset({"tbl", "tb", "t", "table", "tab", "dbo", "x", "ref", "rel", "link", "map", "data", "info",
                   "s", "id", "is", "of", "the", "and", "to", "by"})
"""Tokens that say nothing about a domain (table-name prefixes, connectors)."""


def singular(word: str) -> str:
    """A naive English singular, good enough to match ``categories`` with ``category``.

    >>> [singular(w) for w in ["categories", "addresses", "boxes", "orders", "status", "news", "ss"]]
    ['category', 'address', 'box', 'order', 'status', 'news', 'ss']
    """
    if len(word) <= 3:
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes", "zes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is", "ews")):
        return word[:-1]
    return word


def tokens(name: str, drop_noise: bool = True) -> list[str]:
    """The words of an identifier, singular and lower-case, in order.

    >>> tokens("tblOrderItems"), tokens("order_items"), tokens("Sales.SalesOrderHeader")
    (['order', 'item'], ['order', 'item'], ['sale', 'sale', 'order', 'header'])
    >>> tokens("customer_id", drop_noise=False)
    ['customer', 'id']
    """
    words = [singular(w.lower()) for w in _SPLIT.split(name) if w and not w.isdigit()]
    return [w for w in words if not (drop_noise and w in NOISE)]


def normal(name: str) -> str:
    """An identifier with case and separators removed, to match ``customer_id`` with ``CustomerID``.

    >>> normal("customer_id") == normal("CustomerID") == normal("CUSTOMER_ID")
    True
    """
    return "".join(w.lower() for w in _SPLIT.split(name) if w)
