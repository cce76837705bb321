"""The values of a complete New customer draft, and the rows of a step as its form posts them."""

CUSTOMER = {"name": "Gamma Hosting", "address_line1": "1 Main Street", "address_line2": "", "city": "Springfield",
            "region": "", "postal_code": "12345", "country": "US", "business_type": "Technology"}
ADMINS = [{"name": "Ann Admin", "email": "ann@gamma.example"}]
SUPPORT = [{"name": "Max Maintainer", "email": "max@gamma.example", "type": "Maintainer"},
           {"name": "Ola Onsite", "email": "ola@gamma.example", "type": "Onsite Admin"}]


def rows_form(prefix: str, rows: list[dict]) -> dict:
    """Rows as the step's form posts them: admin-0-name, admin-0-email, support-1-type..."""
    return {f"{prefix}-{i}-{key}": value for i, row in enumerate(rows) for key, value in row.items()}
