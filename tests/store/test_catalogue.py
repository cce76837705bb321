"""The catalogue: a customer sees only products priced in its own currency and never a retired one; products are
retired, never deleted; prices per currency change in place; shipping rates and the store's settings (the terms'
version goes up when their text changes); every change is audited; only admins change it."""
from decimal import Decimal

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import Forbidden

from panel import actor as actors
from panel import unit_of_work
from panel.actor import SYSTEM
from panel.audit.models import AuditEntry
from panel.extensions import db
from panel.store import catalogue
from panel.store.models import Product, ProductPrice, ShippingRate
from tests.factories import ProductFactory, StaffUserFactory

VALUES = {"sku": "SUP-1", "name": "1 Hour of Support", "description": "One hour.", "tab": "support",
          "category": "Hourly Support", "kind": "credits", "credits": Decimal(1), "plan": "", "term_months": None,
          "product_line": "", "position": 0}


def test_a_customer_sees_only_what_is_priced_in_its_currency_and_not_retired(app):
    with app.app_context():
        both = ProductFactory(name="Both", prices={"USD": "10", "EUR": "9"}).id
        dollars = ProductFactory(name="Dollars", prices={"USD": "5"}).id
        retired = ProductFactory(name="Retired", prices={"USD": "1", "EUR": "1"})
        catalogue.retire_product(SYSTEM, retired)
        ProductFactory(name="Plan", tab="plans", category="Peace of Mind Plans", kind="plan", prices={"GBP": "100"})
        db.session.commit()
        assert [(i.product.name, i.price) for i in catalogue.items("USD", "support")] == [
            ("Both", Decimal("10")), ("Dollars", Decimal("5"))]
        assert [i.product.name for i in catalogue.items("EUR", "support")] == ["Both"]
        assert catalogue.items("GBP", "support") == [] and catalogue.tabs_on_sale("GBP") == ["plans"]
        assert catalogue.categories("USD", "support") == ["Hourly Support"]
        assert catalogue.item("EUR", dollars) is None and catalogue.item("EUR", both).price == Decimal("9")
        assert catalogue.item("USD", retired.id) is None
        assert db.session.get(Product, retired.id) is not None  # retired, never deleted


def test_create_and_edit_a_product_with_prices_per_currency_audited(app):
    with app.app_context():
        with unit_of_work.unit():
            product = catalogue.create_product(SYSTEM, VALUES, {"USD": Decimal("150"), "EUR": Decimal("140")})
        product_id = product.id
        with unit_of_work.unit():
            catalogue.update_product(SYSTEM, db.session.get(Product, product_id), {**VALUES, "name": "One hour"},
                                     {"USD": Decimal("160"), "GBP": Decimal("120")})
        prices = dict(db.session.execute(sa.select(ProductPrice.currency, ProductPrice.amount)
                                         .where(ProductPrice.product_id == product_id)).all())
        assert prices == {"USD": Decimal("160"), "GBP": Decimal("120")}
        assert db.session.get(Product, product_id).name == "One hour"
        tables = set(db.session.scalars(sa.select(AuditEntry.table_name)))
        assert {"store_product", "store_product_price"} <= tables


@pytest.mark.parametrize("change, field", [
    ({"sku": " "}, "sku"), ({"name": ""}, "name"), ({"category": ""}, "category"), ({"tab": "toys"}, "tab"),
    ({"kind": "magic"}, "kind"), ({"credits": None}, "credits"), ({"credits": Decimal(0)}, "credits"),
    ({"kind": "plan", "plan": ""}, "plan"), ({"kind": "plan", "plan": "Gold", "term_months": 12}, "plan"), ({"kind": "plan", "plan": "Premium", "term_months": 0}, "term_months"),
    ({"product_line": "Toaster"}, "product_line"),
])
def test_a_product_the_catalogue_refuses_names_its_field(app, change, field):
    with app.app_context():
        with pytest.raises(catalogue.CatalogueError) as refused:
            catalogue.create_product(SYSTEM, {**VALUES, **change}, {"USD": Decimal(1)})
        assert refused.value.field == field


def test_a_sku_is_unique_and_a_product_needs_a_price(app):
    with app.app_context():
        ProductFactory(sku="SUP-1")
        with pytest.raises(catalogue.CatalogueError, match="Another product"):
            catalogue.create_product(SYSTEM, {**VALUES, "sku": "sup-1"}, {"USD": Decimal(1)})
        with pytest.raises(catalogue.CatalogueError, match="at least one currency"):
            catalogue.create_product(SYSTEM, {**VALUES, "sku": "SUP-2"}, {})


def test_only_admins_change_the_catalogue(app):
    with app.app_context():
        staff = actors.staff(StaffUserFactory(role="staff"))
        with pytest.raises(Forbidden):
            catalogue.create_product(staff, VALUES, {"USD": Decimal(1)})
        admin = actors.staff(StaffUserFactory(role="admin"))
        assert catalogue.create_product(admin, VALUES, {"USD": Decimal(1)}).id


def test_shipping_rates_per_currency_retire_without_deleting(app):
    with app.app_context():
        with unit_of_work.unit():
            rate = catalogue.save_shipping_rate(SYSTEM, None, "Standard", 0, {"USD": Decimal(15), "EUR": Decimal(14)})
        assert [r.currency for r in catalogue.rates_for("EUR")] == ["EUR"]
        with unit_of_work.unit():
            rate = catalogue.save_shipping_rate(SYSTEM, catalogue.rate_named_by(rate.id), "Standard post", 2,
                                                {"USD": Decimal(16)})
        assert rate.prices == {"USD": Decimal(16)} and rate.name == "Standard post"
        assert catalogue.rates_for("EUR") == [] and db.session.scalar(sa.select(sa.func.count(ShippingRate.id))) == 2
        with pytest.raises(catalogue.CatalogueError, match="Another shipping rate"):
            catalogue.save_shipping_rate(SYSTEM, None, "standard POST", 0, {"USD": Decimal(1)})
        with unit_of_work.unit():
            assert catalogue.retire_shipping_rate(SYSTEM, catalogue.rate_named_by(rate.id))
        assert catalogue.rates_for("USD") == []


def test_the_terms_version_goes_up_when_the_text_changes(app):
    with app.app_context():
        assert catalogue.store_settings().quote_days == 30 and catalogue.store_settings().terms_version == 0
        long_terms = "Clause. " * 400  # longer than one Setting row holds
        with unit_of_work.unit():
            saved = catalogue.save_store_settings(SYSTEM, long_terms, "IBAN X", "Payable to Y", 30)
        assert (saved.terms, saved.terms_version) == (long_terms.strip(), 1)
        with unit_of_work.unit():
            saved = catalogue.save_store_settings(SYSTEM, long_terms, "IBAN Z", "Payable to Y", 14)
        assert (saved.terms_version, saved.wire_instructions, saved.quote_days) == (1, "IBAN Z", 14)
        with unit_of_work.unit():
            saved = catalogue.save_store_settings(SYSTEM, "Short terms.", "IBAN Z", "Payable to Y", 14)
        assert (saved.terms, saved.terms_version) == ("Short terms.", 2)
        assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(AuditEntry.table_name == "setting")) > 0
        with pytest.raises(catalogue.CatalogueError):
            catalogue.save_store_settings(SYSTEM, "", "", "", 0)


def test_a_product_line_names_the_deployments_it_fits(app):
    with app.app_context():
        plan = ProductFactory(kind="plan", tab="plans", product_line="PBXact")
        anything = ProductFactory(kind="licence", tab="licences")
        assert catalogue.fits_deployment(plan, "PBX") and not catalogue.fits_deployment(plan, "SBC")
        assert catalogue.fits_deployment(anything, "Gateway")
