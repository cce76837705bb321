"""Settings: account-wide options, API tokens, staff users and permission groups, the staff IP allow-list.
Admins only, except Options (and the index, which then lists only Options) for staff whose permission groups
grant the Settings area."""
from dataclasses import dataclass

from flask import Blueprint, request

from panel.access import require_admin

bp = Blueprint("settings", __name__, url_prefix="/settings")
# What the Settings area of a permission group opens (the guard in panel/access.py has checked the grant);
# staff users, groups, the allow-list and API tokens stay with admins.
GROUP_ENDPOINTS = frozenset({"settings.index", "settings.options"})


@dataclass(frozen=True)
class SettingsPage:
    endpoint: str
    label: str
    about: str
    admins_only: bool = True


# The one list of Settings pages: the index (/settings/) and the Settings bar of every settings page show it
# in this order. A new settings page adds a line here.
PAGES = [
    SettingsPage("settings.options", "Options", "Number range and block size, SIP realm, audit comments.", admins_only=False),
    SettingsPage("settings.api_tokens", "API tokens", "Bearer tokens for billing systems and the switch."),
    SettingsPage("settings.staff_list", "Staff users", "Invite staff, roles, deactivation, password resets."),
    SettingsPage("settings.groups", "Permission groups", "Read or write access per area for groups of staff."),
    SettingsPage("twofactor.admin", "Two-factor sign-in", "Who must sign in with a second factor; resets."),
    SettingsPage("settings.ip_allowlist", "IP allow-list", "Addresses staff may sign in from."),
    SettingsPage("auth.staff_sessions", "Sessions", "Signed-in staff sessions, and ending them."),
    SettingsPage("alerts.global_page", "Alerts", "Balance alerts and penalties for customers without their own.",
                 admins_only=False),
    SettingsPage("store.products", "Store", "The portal store's catalogue, shipping rates, terms and payment instructions."),
]


def pages_for(user) -> list[SettingsPage]:
    """The settings pages `user` may open (admins: all; staff granted the Settings area: Options)."""
    return [page for page in PAGES if getattr(user, "is_admin", False) or not page.admins_only]


@bp.app_context_processor
def _settings_pages():
    return {"settings_pages_for": pages_for}


@bp.before_request
def _guard():
    if request.endpoint in GROUP_ENDPOINTS:
        return None
    return require_admin()

