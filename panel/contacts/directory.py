"""Finding contacts: Global Contacts search and the pending changes shown beside them."""
import re

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import contains_eager
from sqlalchemy.sql.functions import FunctionElement

from panel import access, search
from panel.actor import Actor
from panel.contacts.models import Contact, ContactName
from panel.customers.models import Customer
from panel.emails import lookup_key
from panel.delayed.models import PendingChange
from panel.extensions import db
from panel import pages
from panel.pages import Page, PageRequest

# Digits in a row that ix_contact_phone_grams holds (migration 0027): text with this many digits or more is
# looked for among the numbers that hold all its runs of them.
PHONE_GRAM = 6

# A search by a person's name walks the contacts of at most this many matching names in name order; text that
# more names hold takes the capped search of panel/search.py.
NAME_CAP = 1_000

# A fragment of letters and digits searched anywhere in addresses reads, in name order, the contacts of each address
# word that holds it (contact_email_word, migration 0031, PostgreSQL), when at most this many words do; text that
# more words hold takes the capped search of panel/search.py.
WORD_CAP = 100
_WORD = re.compile(r"[a-z0-9]+")
EMAIL_WORD = sa.table("email_word", sa.column("word", sa.Text))
CONTACT_EMAIL_WORD = sa.table("contact_email_word", sa.column("word", sa.Text), sa.column("name", sa.String),
                              sa.column("contact_id", sa.Integer))


# What a Global Contacts search looked in, for the hint above its results.
NAMES, EMAILS, NAMES_AND_EMAILS, PHONES, DOMAINS = "names", "emails", "names and e-mails", "phones", "domains"
ADDRESS_STARTS = "address starts"


def contact_page(actor: Actor, query: str, customer: str, contact_type: str, wanted: PageRequest, size: int,
                 emails: bool = False) -> tuple[Page, str]:
    """One page of Global Contacts (of the customers `actor` may see) in name order, and what its search looked
    in (NAMES, EMAILS, …; "" unsearched). `emails` searches the text in e-mail addresses only. The page's
    `capped` says a search found more than it orders."""
    statement = sa.select(Contact).join(Contact.customer).options(contains_eager(Contact.customer))
    conditions = []
    within = access.customer_ids_within(actor)
    if within is not None:
        conditions.append(Contact.customer_id.in_(within))
    if contact_type:
        conditions.append(Contact.contact_type == contact_type)
    if customer.isdigit() and len(customer) < 12:
        conditions.append(Contact.customer_id == int(customer))
    elif customer and not search.too_short(customer):
        names = Customer.name.ilike(search.like(customer), escape="\\")
        conditions.append(Contact.customer_id.in_(search.matching_ids(Customer.id, names)))
    if not query or search.too_short(query):
        return pages.keyset(db.session, statement.where(*conditions), [Contact.name, Contact.id], wanted, size), ""
    return _searched(statement, conditions, query, emails, wanted, size)


def _searched(statement, conditions: list, query: str, emails: bool, wanted: PageRequest,
              size: int) -> tuple[Page, str]:
    """A page of the contacts matching `query` besides `conditions`, and what the search looked in.

    Text that starts with "@" is the start of a domain, read as a range of ix_contact_email_domain. `emails`
    looks in e-mail addresses; digits in phone numbers. A word with "@" or "." is looked for at the start of
    addresses and of their domains (ranges of two B-trees), and in names and anywhere in addresses when none
    starts with it. Other text is a name or part of one: the names that hold it are found first (contact_name)
    and their contacts read in order from the (name, id) index, uncapped, at a cost that does not grow with the
    table; a word that no name holds is looked for in addresses. (A word searched in addresses as well would
    have the trigram index list every address holding it, a tenth of 10M for "ito", before a page could be
    picked; the hint above the results offers that search, `emails`.)"""
    def matches(*more):
        return search.page_of_matches(db.session, statement, Contact.id, [Contact.name], [*conditions, *more],
                                      wanted, size)

    domain = _domain_key(query)
    if domain:
        return matches(EmailDomain(Contact.email_key).like(search.prefix(domain), escape="\\")), DOMAINS
    if emails:
        return _in_addresses(statement, conditions, query, wanted, size), EMAILS
    if search.digits_only(query):
        return matches(*_phone_grams(query), _holds(query, Contact.phone, Contact.mobile)), PHONES
    if not search.has_space(query) and ("@" in query or "." in query):
        starts = _address_starts(query)
        if starts is not None and _any(conditions, starts):
            return matches(starts), ADDRESS_STARTS
        return matches(_holds(query, Contact.name, Contact.email)), NAMES_AND_EMAILS
    names = _matching_names(search.like(query))
    if names or (names is not None and search.has_space(query)):
        statement = statement.where(*conditions, Contact.name.in_(names))
        return pages.keyset(db.session, statement, [Contact.name, Contact.id], wanted, size), NAMES
    if names is not None:  # a word that no name holds
        return _in_addresses(statement, conditions, query, wanted, size), EMAILS
    if search.has_space(query):  # more names than NAME_CAP hold it: the capped search
        return matches(_holds(query, Contact.name)), NAMES
    return matches(_holds(query, Contact.name, Contact.email)), NAMES_AND_EMAILS


def _in_addresses(statement, conditions: list, query: str, wanted: PageRequest, size: int) -> Page:
    """A page of the contacts whose address holds `query`. Unfiltered, a fragment of letters and digits that at most
    WORD_CAP address words hold reads each word's contacts from the page's cursor in name order (LATERAL), one
    descent and a page of rows per word, and pages the distinct contacts of those; other searches take the capped
    search. (With filters, ILIKE beside them lets the planner start from the filters' indexes.)"""
    words = None if conditions else _words_holding(query)
    if words is None:
        return search.page_of_matches(db.session, statement, Contact.id, [Contact.name], [*conditions,
                                      _holds(query, Contact.email)], wanted, size)
    word = sa.func.unnest(sa.bindparam(None, words, ARRAY(sa.Text))).table_valued("word").render_derived(name="w")
    entry = CONTACT_EMAIL_WORD.alias("e")
    per_word = pages.bounded(sa.select(entry.c.contact_id, entry.c.name).where(entry.c.word == word.c.word),
                             [entry.c.name, entry.c.contact_id], wanted, size).lateral("m")
    distinct = sa.select(per_word.c.contact_id, per_word.c.name).select_from(word).join(per_word, sa.true()).distinct()
    found = pages.keyset(db.session, distinct, [per_word.c.name, per_word.c.contact_id], wanted, size, scalars=False,
                         key=lambda row: (row.name, row.contact_id))
    return search.page_of_found(db.session, statement, Contact.id, [Contact.name], found)


def _words_holding(query: str) -> list[str] | None:
    """The address words (contact_email_word) holding `query`, or None when the search cannot go by words: on
    SQLite, for text with other characters than letters and digits (as email_key holds them), or when more than
    WORD_CAP words hold it."""
    key = lookup_key(query)
    if db.session.get_bind().dialect.name != "postgresql" or not key or not _WORD.fullmatch(key):
        return None
    words = db.session.scalars(
        sa.select(EMAIL_WORD.c.word).where(EMAIL_WORD.c.word.like(search.like(key), escape="\\")).limit(WORD_CAP + 1)
    ).all()
    return None if len(words) > WORD_CAP else list(words)


def _holds(query: str, *columns):
    return sa.or_(*(column.ilike(search.like(query), escape="\\") for column in columns))


def _phone_grams(query: str) -> list:
    """With PHONE_GRAM digits or more, the condition that phone or mobile holds all their runs of PHONE_GRAM."""
    digits = "".join(character for character in query if character.isdigit())
    if len(digits) < PHONE_GRAM:
        return []
    grams = sorted({digits[i:i + PHONE_GRAM] for i in range(len(digits) - PHONE_GRAM + 1)})
    return [PhoneGramsHeld(Contact.phone, Contact.mobile, sa.bindparam(None, grams, ARRAY(sa.Text)))]


def _address_starts(query: str):
    """The condition that an address, or its domain when `query` holds no "@", starts with `query` (compared as
    email_key holds addresses); None for text that is no part of an address."""
    key = lookup_key(query)
    if not key:
        return None
    starts = [Contact.email_key.like(search.prefix(key), escape="\\")]
    if "@" not in key:
        starts.append(EmailDomain(Contact.email_key).like(search.prefix(key), escape="\\"))
    return sa.or_(*starts)


def _any(conditions: list, condition) -> bool:
    return db.session.scalar(sa.select(Contact.id).where(*conditions, condition).limit(1)) is not None


def _domain_key(query: str) -> str | None:
    """The domain an "@…" search starts with, in the form email_key holds it; None for other text."""
    if not query.startswith("@") or "@" in query[1:] or search.has_space(query):
        return None
    return lookup_key(query[1:])


class EmailDomain(FunctionElement):
    """The part of an address after its "@": on PostgreSQL the expression of ix_contact_email_domain (migration
    0026), its literals written out so that the planner matches it to the index."""
    type = sa.String()
    inherit_cache = True


@compiles(EmailDomain)
def _email_domain(element, compiler, **kw):
    column = compiler.process(element.clauses, **kw)
    return f"substr({column}, instr({column}, '@') + 1)"


@compiles(EmailDomain, "postgresql")
def _email_domain_postgresql(element, compiler, **kw):
    return f"split_part({compiler.process(element.clauses, **kw)}, '@', 2)"


class PhoneGramsHeld(FunctionElement):
    """Whether a contact's phone or mobile holds all these runs of PHONE_GRAM digits (phone, mobile, grams): on
    PostgreSQL a search of ix_contact_phone_grams, which the ILIKE beside it then checks; on SQLite always true."""
    type = sa.Boolean()
    inherit_cache = True


@compiles(PhoneGramsHeld)
def _phone_grams_held(element, compiler, **kw):
    return "1"  # SQLite has no boolean type: SQLAlchemy writes "1 = 1"


@compiles(PhoneGramsHeld, "postgresql")
def _phone_grams_held_postgresql(element, compiler, **kw):
    phone, mobile, grams = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"contact_phone_grams({phone}, {mobile}) @> {grams}"


def _matching_names(pattern: str) -> list[str] | None:
    """The contact names matching `pattern` (ILIKE), or None when more than NAME_CAP do. Many contacts share a
    name ("Ines Ito" × 20,000 of 10M), but their page is then read in order from the (name, id) index, one
    index descent per name, however many contacts match."""
    names = db.session.scalars(
        sa.select(ContactName.name).where(ContactName.name.ilike(pattern, escape="\\")).limit(NAME_CAP + 1)
    ).all()
    return None if len(names) > NAME_CAP else list(names)


def pending_by_contact(contact_ids: list[int]) -> dict[int, list[PendingChange]]:
    """Pending and conflicting delayed saves of these contacts, in one query."""
    if not contact_ids:
        return {}
    rows = db.session.scalars(
        sa.select(PendingChange).where(
            PendingChange.table_name == "contact", PendingChange.row_id.in_(contact_ids),
            PendingChange.status.in_(("pending", "conflict")),
        ).order_by(PendingChange.run_at)
    ).all()
    found: dict[int, list[PendingChange]] = {}
    for change in rows:
        found.setdefault(change.row_id, []).append(change)
    return found


def customer_contacts(actor: Actor, customer_id: int, limit: int) -> tuple[list[Contact], bool]:
    """A customer's contacts in name order, at most `limit`, and whether there are more."""
    customer = access.fetch_customer(actor, customer_id)
    contacts = db.session.scalars(
        sa.select(Contact).where(Contact.customer_id == customer.id).order_by(Contact.name, Contact.id).limit(limit + 1)
    ).all()
    return contacts[:limit], len(contacts) > limit


def contact_count(customer_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Contact).where(Contact.customer_id == customer_id))


def pending_creates(customer_id: int) -> list[PendingChange]:
    """Delayed new contacts of a customer, still to come (or in conflict)."""
    return db.session.scalars(
        sa.select(PendingChange).where(
            PendingChange.customer_id == customer_id, PendingChange.table_name == "contact",
            PendingChange.kind == "create", PendingChange.status.in_(("pending", "conflict")),
        ).order_by(PendingChange.run_at)
    ).all()
