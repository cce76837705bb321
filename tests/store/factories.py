"""factory_boy factories of the Store (products, prices, shipping rates, carts) and a cart ready for checkout."""
from decimal import Decimal

import factory
import sqlalchemy as sa

from panel.contacts.models import Contact
from panel.extensions import db
from panel.store.models import Cart, CartLine, Product, ProductPrice, ShippingRate
from tests.factories import ContactFactory, CustomerFactory, DeploymentFactory, Factory


class ProductFactory(Factory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:04d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    tab = "support"
    category = "Hourly Support"
    kind = "credits"
    credits = factory.LazyAttribute(lambda o: Decimal("5") if o.kind == "credits" else None)
    plan = factory.LazyAttribute(lambda o: "Standard" if o.kind == "plan" else "")
    term_months = factory.LazyAttribute(lambda o: 12 if o.kind == "plan" else None)

    @factory.post_generation
    def price(obj, create, extracted, **kwargs):  # noqa: N805 - factory_boy's hook
        amount = Decimal("100.00") if extracted is None else extracted
        if amount is not False:
            db.session.add(ProductPrice(product_id=obj.id, currency=kwargs.get("currency", "USD"), amount=amount))
            db.session.commit()


class ShippingRateFactory(Factory):
    class Meta:
        model = ShippingRate

    name = factory.Sequence(lambda n: f"Ground {n}")
    currency = "USD"
    amount = Decimal("15.00")


class CartFactory(Factory):
    class Meta:
        model = Cart

    contact_id = factory.LazyFunction(lambda: ContactFactory().id)
    customer_id = factory.LazyAttribute(lambda o: db.session.get(Contact, o.contact_id).customer_id)


class CartLineFactory(Factory):
    class Meta:
        model = CartLine

    cart_id = factory.LazyFunction(lambda: CartFactory().id)
    product_id = factory.LazyFunction(lambda: ProductFactory().id)
    quantity = 1


def catalogue() -> dict:
    """The four products of the walk-through (made once) and the Ground shipping rate: {kind: product id}."""
    found = {p.sku: p.id for p in db.session.scalars(sa.select(Product))}
    if "SUP-5" not in found:
        ProductFactory(sku="SUP-5", name="5 support credits", kind="credits", price=Decimal("250.00"))
        ProductFactory(sku="POMP-1", name="Peace of Mind Standard", tab="plans", category="Peace of Mind Plans",
                       kind="plan", product_line="PBX", price=Decimal("500.00"))
        ProductFactory(sku="MOD-1", name="Call recording module", tab="licences", category="Commercial Modules",
                       kind="licence", price=Decimal("75.00"))
        ProductFactory(sku="GW-4", name="4-port gateway", tab="hardware", category="Gateways", kind="hardware",
                       price=Decimal("300.00"))
        ShippingRateFactory(name="Ground", amount=Decimal("15.00"))
        found = {p.sku: p.id for p in db.session.scalars(sa.select(Product))}
    return {"credits": found["SUP-5"], "plan": found["POMP-1"], "licence": found["MOD-1"], "hardware": found["GW-4"]}


def shop(contact_type: str = "Billing", email: str = "buyer@acme.example") -> dict:
    """A customer with a buying contact, a PBX deployment, and a cart of credits ×2, a plan, a licence and
    hardware; ids of everything."""
    customer_id = CustomerFactory(name="Acme Telecom", billing_line1="1 Main St", billing_city="Springfield",
                                  billing_country="US").id
    contact_id = ContactFactory(customer_id=customer_id, email=email, contact_type=contact_type, name="Bea Buyer").id
    deployment_id = DeploymentFactory(customer_id=customer_id, name="Head office PBX").id
    products = catalogue()
    rate = db.session.scalar(sa.select(ShippingRate).where(ShippingRate.name == "Ground"))
    cart_id = CartFactory(contact_id=contact_id, customer_id=customer_id).id
    lines = {name: CartLineFactory(cart_id=cart_id, product_id=products[name], quantity=q).id
             for name, q in (("credits", 2), ("plan", 1), ("licence", 1), ("hardware", 1))}
    return {"customer_id": customer_id, "contact_id": contact_id, "deployment_id": deployment_id, "cart_id": cart_id,
            "lines": lines, "rate_id": rate.id, "email": email,
            "products": products}
