"""Demo data for a fresh panel: customers in every status, their contacts and ledgers, and an admin."""
import os
import random
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from panel import actor as actors
from panel import unit_of_work
from panel.auth.models import StaffUser
from panel.calls.importer import insert_records
from panel.calls.rollup import rollup
from panel.contacts.models import CONTACT_TYPES, Contact
from panel.customers.models import STATUSES, Customer, LedgerEntry
from panel.extensions import db
from panel.invoices.billing import auto_generate
from panel.invoices.payments import allocate, open_invoices, record_payment
from panel.numbering.allocation import NumberRange, assign_next_block, current_range, save_range
from panel.passwords import generate_password
from panel.staff import create_staff_user
from panel.types import utcnow

DEMO_ADMIN = "admin@example.com"
PREFIXES = ["North", "Blue", "Silver", "Red", "Summit", "Harbor", "Pioneer", "Vertex", "Cedar", "Atlas",
            "Granite", "Lakeside", "Orchid", "Falcon", "Maple", "Beacon", "Coastal", "Iron", "Prairie", "Union"]
SUFFIXES = ["Telecom", "Networks", "Voice", "Communications", "Dental Group", "Logistics", "Legal LLP",
            "Hotels", "Clinic", "Realty", "Software", "Motors", "Insurance", "Foods", "Academy"]
FIRST = ["Ana", "Ben", "Chloe", "David", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi", "Liam",
         "Maya", "Noah", "Olga", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Victor", "Wen", "Yusuf", "Zoe"]
LAST = ["Almeida", "Brown", "Chen", "Dubois", "Evans", "Fischer", "Garcia", "Haddad", "Ito", "Jensen",
        "Kowalski", "Lopez", "Murphy", "Nakamura", "Okafor", "Patel", "Rossi", "Schmidt", "Tanaka", "Walsh"]
CITIES = [("Toronto", "ON", "CA"), ("Austin", "TX", "US"), ("Leeds", "", "GB"), ("Dublin", "", "IE"),
          ("Denver", "CO", "US"), ("Perth", "WA", "AU"), ("Lyon", "", "FR"), ("Calgary", "AB", "CA")]


def demo_admin(instance_path: str) -> str | None:
    """The demo admin, once: password from PANEL_PASSWORD or generated, kept in instance/demo_admin.txt.
    In the caller's unit of work."""
    if db.session.scalar(sa.select(StaffUser.id).where(StaffUser.email == DEMO_ADMIN)) is not None:
        return None
    password = os.environ.get("PANEL_PASSWORD") or generate_password()
    create_staff_user(DEMO_ADMIN, password, "admin", "Demo Admin")
    path = Path(instance_path) / "demo_admin.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{DEMO_ADMIN}\n{password}\n")
    path.chmod(0o600)
    return f"Staff sign-in: {DEMO_ADMIN} (password in {path})"


def seed_demo_data(instance_path: str, customers: int = 50, rng_seed: int = 7) -> str:
    """The demo data, in a few units of work of its own (customers, then numbering, then traffic)."""
    store = seed_store()  # on its own, so a panel seeded before the Store existed gets its catalogue too
    if db.session.scalar(sa.select(Customer.id).limit(1)) is not None:
        return "\n".join(line for line in [store, "Demo data already present; nothing added."] if line)
    rng = random.Random(rng_seed)
    now = utcnow()
    with unit_of_work.unit():
        lines = [line for line in [demo_admin(instance_path), store] if line]
        _customers(rng, now, customers)
    with unit_of_work.unit():
        if current_range() is None:
            save_range(NumberRange(1000, 99_999, 100))
    for customer_id in db.session.scalars(sa.select(Customer.id).where(Customer.status == "Active").order_by(Customer.id).limit(5)).all():
        with unit_of_work.unit():
            assign_next_block(actors.SYSTEM, customer_id)
    lines.append(f"Added {customers} demo customers with contacts and ledger entries, and a number range.")
    lines.append(seed_traffic(rng, now))
    return "\n".join(lines)


# The demo Store (reference 001): prices per currency (USD, EUR, GBP, CAD).
def _prices(usd: str) -> dict:
    amount = Decimal(usd)
    return {"USD": amount, "CAD": (amount * Decimal("1.35")).quantize(Decimal(1)),
            "EUR": (amount * Decimal("0.92")).quantize(Decimal(1)), "GBP": (amount * Decimal("0.79")).quantize(Decimal(1))}


HOURLY = [(1, "150"), (5, "700"), (10, "1300"), (20, "2400")]
PLAN_TERMS = [(12, "1 year"), (24, "2 years"), (36, "3 years")]
PLAN_PRICES = {"PBXact": ["1200", "2200", "3100"], "FreePBX": ["600", "1100", "1550"]}
MODULES = [("MOD-EPM", "EndPoint Manager", "349"), ("MOD-CRM", "CRM Link", "249"),
           ("MOD-QUEUE", "Queue Reports", "199"), ("MOD-PARK", "Park Pro", "49")]
DEMO_TERMS = ("These Terms and Conditions apply to every product and service bought in the Store.\n\n"
              "1. Licences are assigned to the deployment chosen at checkout and cannot be moved afterwards.\n"
              "2. Support credits do not expire and are not refundable once used.\n"
              "3. Hardware ships once payment is received; title passes on delivery.")
DEMO_WIRE = ("Bank: Demo Bank, 1 Example Plaza\nAccount name: Demo Carrier Ltd\nIBAN: GB00 DEMO 0000 0000 0000 00\n"
             "SWIFT/BIC: DEMOGB2L\nQuote your order number (O-…) as the payment reference.")
DEMO_CHEQUE = ("Make cheques payable to Demo Carrier Ltd and post them to: Accounts, 1 Example Plaza, Springfield.\n"
               "Write your order number (O-…) on the back.")


def seed_store() -> str | None:
    """The demo catalogue, two shipping rates, terms and payment instructions; nothing if a product exists."""
    from panel.store import catalogue
    from panel.store.models import Product

    if db.session.scalar(sa.select(Product.id).limit(1)) is not None:
        return None
    system = actors.SYSTEM
    with unit_of_work.unit():
        for position, (hours, usd) in enumerate(HOURLY):
            catalogue.create_product(system, {
                "sku": f"SUP-HR-{hours:02d}", "name": f"{hours} Hour{'s' if hours > 1 else ''} of Support",
                "description": f"{hours} hour{'s' if hours > 1 else ''} of support from our engineers, as {hours} "
                               "support credits on the organisation you choose. One credit is one hour.",
                "tab": "support", "category": "Hourly Support", "kind": "credits", "credits": Decimal(hours),
                "position": position}, _prices(usd))
        catalogue.create_product(system, {
            "sku": "SUP-INSTALL", "name": "Remote Installation", "description": "A remote installation session.",
            "tab": "support", "category": "Professional Services", "kind": "service", "position": 10}, _prices("450"))
        for line, prices in PLAN_PRICES.items():
            for position, ((months, term), usd) in enumerate(zip(PLAN_TERMS, prices)):
                catalogue.create_product(system, {
                    "sku": f"POMP-{line.upper()}-{months // 12}Y", "name": f"{line} Peace of Mind Plan, {term}",
                    "description": f"Support, updates and replacement cover for one {line} system for {term}.",
                    "tab": "plans", "category": "Peace of Mind Plans", "kind": "plan", "plan": "Premium",
                    "term_months": months, "product_line": line, "position": position}, _prices(usd))
        for position, (sku, name, usd) in enumerate(MODULES):
            catalogue.create_product(system, {
                "sku": sku, "name": name, "description": f"The commercial {name} module, licensed to one deployment.",
                "tab": "licences", "category": "Commercial Modules", "kind": "licence", "product_line": "FreePBX",
                "position": position}, _prices(usd))
        catalogue.create_product(system, {
            "sku": "HW-GW-4FXO", "name": "Vega 4-port FXO Gateway", "description": "An analogue gateway with 4 FXO ports.",
            "tab": "hardware", "category": "Gateways", "kind": "hardware", "position": 0}, _prices("399"))
        catalogue.save_shipping_rate(system, None, "Standard (5–7 days)", 0, _prices("15"))
        catalogue.save_shipping_rate(system, None, "Express (1–2 days)", 1, _prices("45"))
        catalogue.save_store_settings(system, DEMO_TERMS, DEMO_WIRE, DEMO_CHEQUE, catalogue.DEFAULT_QUOTE_DAYS)
    return "Added the demo Store: support packs, Peace of Mind Plans, modules, a gateway, shipping rates and terms."


def _customers(rng: random.Random, now, customers: int) -> None:
    names = set()
    for i in range(customers):
        while True:
            name = f"{rng.choice(PREFIXES)} {rng.choice(SUFFIXES)}"
            if name not in names:
                names.add(name)
                break
        city, region, country = rng.choice(CITIES)
        domain = name.lower().replace(" ", "") .replace(".", "") + ".example"
        customer = Customer(
            name=name,
            status=STATUSES[i % len(STATUSES)],
            currency=rng.choice(["USD", "USD", "CAD", "GBP", "EUR"]),
            debit_limit=Decimal(rng.choice([0, 0, 100, 250, 500, 1000])),
            channel_limit=rng.choice([10, 20, 30, 50, 100, 200]),
            flow_speed=rng.choice([0, 5, 10, 20]),
            email=f"accounts@{domain}",
            phone=f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
            address_line1=f"{rng.randint(1, 999)} {rng.choice(LAST)} Street",
            city=city, region=region, country=country,
            postal_code=str(rng.randint(10000, 99999)),
            created_at=now - timedelta(days=rng.randint(30, 900)),
        )
        customer.channels_in_use = rng.randint(0, customer.channel_limit // 2) if customer.status == "Active" else 0
        db.session.add(customer)
        db.session.flush()
        used_emails = set()
        for _ in range(rng.randint(2, 5)):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            email = f"{first}.{last}@{domain}".lower()
            if email in used_emails:
                continue
            used_emails.add(email)
            db.session.add(Contact(
                customer_id=customer.id, name=f"{first} {last}", email=email,
                contact_type=rng.choice(CONTACT_TYPES),
                phone=f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                mobile=f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}" if rng.random() < 0.6 else "",
                public_notes=rng.choice(["", "Prefers e-mail.", "Available 9–17 local time.", "Main billing contact."]),
                private_notes=rng.choice(["", "Escalate outages by phone.", "Asked about a SIP trunk upgrade."]),
                email_verified=rng.random() < 0.7,
                mobile_verified=rng.random() < 0.4,
            ))
        for _ in range(rng.randint(3, 12)):
            kind = rng.choice(["payment", "charge", "charge", "credit"])
            amount = Decimal(rng.randint(500, 50000)) / 100
            db.session.add(LedgerEntry(
                customer_id=customer.id, kind=kind, amount=-amount if kind == "charge" else amount,
                description={"payment": "Payment received", "charge": "Monthly usage", "credit": "Service credit"}[kind],
                created_at=now - timedelta(days=rng.randint(0, 365)),
            ))


# How busy each UTC hour of the day is, relative to the busiest (business hours in the Americas and Europe).
HOURLY_WEIGHT = [2, 1, 1, 1, 1, 2, 3, 5, 7, 8, 9, 10, 10, 10, 10, 9, 9, 8, 7, 6, 5, 4, 3, 2]
RATES = [Decimal("0.0060"), Decimal("0.0120"), Decimal("0.0250"), Decimal("0.1500")]  # per minute, carrier cost


def seed_traffic(rng: random.Random, now, days: int = 35) -> str:
    """Call records for the Active customers over the last `days` days, rolled up; an Invoice Schedule,
    the invoices Auto Generate makes, and a payment for a few of them. Each step its own unit of work."""
    active = db.session.scalars(sa.select(Customer).where(Customer.status == "Active").order_by(Customer.id)).all()
    start = (now - timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    total = 0
    for customer in active:
        busy, margin = rng.uniform(0.5, 4.0), Decimal(rng.choice(["1.2", "1.35", "1.5"]))
        rows = []
        hour = start
        while hour < now.replace(minute=0, second=0, microsecond=0):
            for n in range(rng.randint(0, round(HOURLY_WEIGHT[hour.hour] * busy))):
                answered = rng.random() < 0.72
                duration = int(rng.expovariate(1 / 150)) + 1 if answered else 0
                billed = (duration + 59) // 60 * 60 if answered else 0
                rate = rng.choice(RATES)
                cost = (rate * billed / 60).quantize(Decimal("0.0001"))
                rows.append({"customer_id": customer.id, "call_id": f"demo-{customer.id}-{hour:%Y%m%d%H}-{n}",
                             "start_time": hour + timedelta(seconds=rng.randrange(3600)),
                             "destination": f"+{rng.choice(['1', '44', '49', '61', '33'])}{rng.randrange(10**9):09d}",
                             "answered": answered, "duration_seconds": duration, "billed_seconds": billed,
                             "rate": rate, "cost": cost, "charge": (cost * margin).quantize(Decimal("0.0001"))})
            hour += timedelta(hours=1)
        with unit_of_work.unit():
            total += insert_records(rows, "demo-switch")[0]
    with unit_of_work.unit():
        rollup()
    invoices = 0
    for customer, schedule in zip(active[:3], ("daily", "weekly", "monthly"), strict=False):
        with unit_of_work.unit():
            customer.invoice_schedule = schedule
        with unit_of_work.unit():
            invoices += len(auto_generate(actors.SYSTEM, customer).created)
    if active:
        customer = active[0]
        due = open_invoices(actors.SYSTEM, customer.id)[:3]
        if due:
            amount = sum((row.due for row in due), Decimal(0))
            with unit_of_work.unit():
                payment = record_payment(actors.SYSTEM, customer, {
                    "amount": amount, "method": "Bank transfer", "reference": "DEMO-1001", "status": "Completed",
                    "received_on": now.date()})
            with unit_of_work.unit():
                allocate(actors.SYSTEM, payment, {row.invoice.id: row.due for row in due})
    return f"Added {total:,} call records over {days} days for {len(active)} active customers, and {invoices} invoices."
