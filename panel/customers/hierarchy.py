"""The reseller hierarchy: a customer's reseller owner, and every customer below it at any depth.

A portal contact of type Admin manages their own customer and its whole subtree; nobody else in
the portal reaches any customer but their own. Who reaches what is answered by panel/access.py
(`customer_ids_within`, `fetch_customer`) from these queries.
"""
import sqlalchemy as sa

from panel.customers.models import Customer
from panel.extensions import db

MAX_DEPTH = 50  # a hierarchy deeper than this is refused when a reseller owner is set


class HierarchyError(ValueError):
    """A reseller owner that would make a loop, or a chain too deep."""


def subtree_ids(root_id: int):
    """A select of the ids of `root_id` and every customer below it (a recursive CTE; UNION stops on loops)."""
    tree = sa.select(Customer.id.label("id"), sa.literal(0).label("depth")).where(Customer.id == root_id).cte(
        "tree", recursive=True)
    below = sa.select(Customer.id, tree.c.depth + 1).where(Customer.reseller_id == tree.c.id,
                                                           tree.c.depth < MAX_DEPTH)
    tree = tree.union(below)
    return sa.select(tree.c.id)


def ancestor_ids(customer_id: int) -> list[int]:
    """The reseller owner, its owner, and so on up to the top (nearest first)."""
    chain, current = [], db.session.scalar(sa.select(Customer.reseller_id).where(Customer.id == customer_id))
    while current is not None and current not in chain and len(chain) <= MAX_DEPTH:
        chain.append(current)
        current = db.session.scalar(sa.select(Customer.reseller_id).where(Customer.id == current))
    return chain


def in_subtree(root_id: int, customer_id: int) -> bool:
    return customer_id == root_id or root_id in ancestor_ids(customer_id)


def check_reseller(customer_id: int | None, reseller_id: int | None) -> None:
    """Refuse a reseller owner that is the customer itself, one of its sub-accounts, or too deep."""
    if reseller_id is None:
        return
    if db.session.get(Customer, reseller_id) is None:
        raise HierarchyError("There is no customer with that id.")
    if customer_id is not None and (reseller_id == customer_id or in_subtree(customer_id, reseller_id)):
        raise HierarchyError("A customer cannot be owned by itself or by one of its own sub-accounts.")
    if len(ancestor_ids(reseller_id)) + 1 >= MAX_DEPTH:
        raise HierarchyError(f"Resellers may be nested at most {MAX_DEPTH} deep.")
