"""Trunk addresses: the IP addresses and CIDR ranges a customer's switch traffic comes from, and the lookup
the credit check makes with a caller's IP (exact address first, then the narrowest range holding it).

Each network is stored as its canonical text under a unique index, so the lookup asks that index for the
address's own /32 (/128) and each wider network that could hold it, at most 33 (129) point lookups in one
IN, and keeps the longest prefix found. No range is ever compared row by row, on SQLite or PostgreSQL."""
import ipaddress

import sqlalchemy as sa

from panel import access
from panel.actor import Actor
from panel.customers.models import Customer, TrunkAddress
from panel.extensions import db

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# Wider than these would take a large part of the Internet's callers for one customer.
SHORTEST_PREFIX = {4: 8, 6: 16}
MAX_LABEL = 100


class TrunkRefused(ValueError):
    """The address cannot be added; the message is for the person who typed it."""


def parse_network(text: str) -> Network:
    """A trunk address as typed ("203.0.113.7", "203.0.113.0/24", "2001:db8::/48") as a network; TrunkRefused
    saying what is wrong otherwise. Host bits set (203.0.113.7/24) are refused with the range meant, rather
    than silently widened."""
    text = (text or "").strip()
    if not text:
        raise TrunkRefused("Enter an IP address or a CIDR range such as 203.0.113.0/24.")
    if len(text) > 60 or "%" in text:
        raise TrunkRefused(f"“{text[:60]}” is neither an IP address nor a CIDR range such as 203.0.113.0/24.")
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise TrunkRefused(f"“{text}” is neither an IP address nor a CIDR range such as 203.0.113.0/24.") from None
    if "/" in text and network.network_address != ipaddress.ip_address(text.split("/", 1)[0]):
        raise TrunkRefused(f"{text} has bits set past its prefix: the range is {network}.")
    if network.version == 6 and network.network_address.ipv4_mapped is not None:
        raise TrunkRefused(f"Write {text} in its IPv4 form.")
    if network.network_address.is_multicast or network.network_address.is_unspecified:
        raise TrunkRefused(f"{text} is not an address a switch sends calls from.")
    shortest = SHORTEST_PREFIX[network.version]
    if network.prefixlen < shortest:
        raise TrunkRefused(f"A range is at most /{shortest} wide for IPv{network.version}.")
    return network


def parse_address(text: str) -> Address:
    """A caller's address (ValueError if it is none); an IPv4-mapped IPv6 address is its IPv4 address."""
    if not isinstance(text, str) or len(text) > 45 or "%" in text:
        raise ValueError("not an IP address")
    address = ipaddress.ip_address(text.strip())
    if address.version == 6 and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def candidates(address: Address) -> list[str]:
    """Every network that could hold `address`, narrowest first, in the stored form."""
    bits = address.max_prefixlen
    shortest = SHORTEST_PREFIX[address.version]
    return [str(ipaddress.ip_network((address, prefix), strict=False)) for prefix in range(bits, shortest - 1, -1)]


def customer_id_for(address: Address) -> int | None:
    """The customer whose trunk addresses hold `address`: its own entry, else the narrowest range; None."""
    names = candidates(address)
    rows = db.session.execute(sa.select(TrunkAddress.network, TrunkAddress.customer_id)
                              .where(TrunkAddress.network.in_(names))).all()
    if not rows:
        return None
    rank = {name: position for position, name in enumerate(names)}
    return min(rows, key=lambda row: rank[row.network]).customer_id


def customer_trunks(actor: Actor, customer: Customer) -> list[TrunkAddress]:
    access.require(actor, customer)
    rows = db.session.scalars(sa.select(TrunkAddress).where(TrunkAddress.customer_id == customer.id)).all()
    return sorted(rows, key=lambda row: _order(ipaddress.ip_network(row.network)))


def _order(network: Network) -> tuple:
    """IPv4 before IPv6, then in address order (networks of two versions do not compare)."""
    return network.version, network


def add_trunk(actor: Actor, customer: Customer, text: str, label: str = "") -> TrunkAddress:
    """Add a trunk address to `customer` (flushed, audited as any insert); TrunkRefused when it is not a
    usable network or already belongs to a customer (this one or another: one network, one customer)."""
    access.require(actor, customer, write=True)
    network = str(parse_network(text))
    label = " ".join((label or "").split())
    if len(label) > MAX_LABEL:
        raise TrunkRefused(f"A label is at most {MAX_LABEL} characters.")
    holder = db.session.scalar(sa.select(TrunkAddress.customer_id).where(TrunkAddress.network == network))
    if holder is not None:
        raise TrunkRefused(_taken(network, holder, customer))
    trunk = TrunkAddress(customer_id=customer.id, network=network, label=label)
    try:
        with db.session.begin_nested():  # added by someone else a moment ago: undo only this
            db.session.add(trunk)
    except sa.exc.IntegrityError:
        holder = db.session.scalar(sa.select(TrunkAddress.customer_id).where(TrunkAddress.network == network))
        raise TrunkRefused(_taken(network, holder, customer)) from None
    return trunk


def _taken(network: str, holder: int | None, customer: Customer) -> str:
    if holder == customer.id:
        return f"{network} is already one of this customer's trunk addresses."
    return f"{network} is already a trunk address of customer #{holder}: one address belongs to one customer."


def remove_trunk(actor: Actor, trunk: TrunkAddress) -> None:
    access.require(actor, trunk, write=True)
    db.session.delete(trunk)
    db.session.flush()
