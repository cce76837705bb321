"""Passkeys (WebAuthn) of staff users and portal contacts: registration, sign-in with one (as the second
factor; for staff also instead of the password), naming and removal. The relying party is the host name the browser asked for; the
challenge waits in the session between the options and the answer, and is used once."""
import json

import sqlalchemy as sa
from flask import request, session
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from panel.auth.models import StaffUser
from panel.contacts.models import Contact
from panel.extensions import db
from panel.twofactor import factors
from panel.twofactor.factors import FactorError, passkeys_of
from panel.twofactor.models import Passkey
from panel.types import utcnow

RP_NAME = "VoIP control panel"
CHALLENGE_KEY = "passkey_challenge"


def rp_id() -> str:
    return request.host.rsplit(":", 1)[0] if not request.host.startswith("[") else request.host


def origin() -> str:
    return request.host_url.rstrip("/")


def _take_challenge(kind: str) -> bytes:
    saved = session.pop(CHALLENGE_KEY, None)
    if not saved or saved.get("kind") != kind:
        raise FactorError("The passkey request expired. Try again.")
    return base64url_to_bytes(saved["challenge"])


def _handle(owner) -> bytes:
    return f"{'staff' if isinstance(owner, StaffUser) else 'contact'}-{owner.id}".encode()


def registration_options(user: StaffUser | Contact) -> str:
    options = generate_registration_options(
        rp_id=rp_id(), rp_name=RP_NAME, user_name=user.email, user_display_name=user.name or user.email,
        user_id=_handle(user),
        authenticator_selection=AuthenticatorSelectionCriteria(resident_key=ResidentKeyRequirement.REQUIRED,
                                                               user_verification=UserVerificationRequirement.PREFERRED),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(k.credential_id)) for k in passkeys_of(user)],
    )
    session[CHALLENGE_KEY] = {"kind": "register", "challenge": bytes_to_base64url(options.challenge)}
    return options_to_json(options)


def register(user: StaffUser | Contact, name: str, credential: dict) -> Passkey:
    """Register a passkey of `user` (a staff user or a contact, registering their own): an ENROL entry."""
    challenge = _take_challenge("register")
    try:
        verified = verify_registration_response(credential=credential, expected_challenge=challenge,
                                                expected_rp_id=rp_id(), expected_origin=origin())
    except (WebAuthnException, ValueError, KeyError, TypeError, AttributeError) as error:
        raise FactorError("The passkey could not be registered.") from error
    credential_id = bytes_to_base64url(verified.credential_id)
    if db.session.scalar(sa.select(Passkey.id).where(Passkey.credential_id == credential_id)) is not None:
        raise FactorError("That passkey is registered already.")
    passkey = Passkey(name=name, credential_id=credential_id, public_key=verified.credential_public_key,
                      sign_count=verified.sign_count, **factors.owner_columns(user))
    db.session.add(passkey)
    db.session.flush()
    factors.record(factors.ENROLLED, "2FA enrolled", user, method="passkey", passkey=name)
    return passkey


def sign_in_options(user: StaffUser | Contact | None) -> str:
    """Options for navigator.credentials.get: for a known user (second step) their passkeys; for nobody
    yet (the sign-in page) any passkey of this site the browser holds."""
    allow = [PublicKeyCredentialDescriptor(id=base64url_to_bytes(k.credential_id)) for k in passkeys_of(user)] if user else None
    options = generate_authentication_options(rp_id=rp_id(), allow_credentials=allow,
                                              user_verification=UserVerificationRequirement.REQUIRED
                                              if user is None else UserVerificationRequirement.PREFERRED)
    session[CHALLENGE_KEY] = {"kind": "sign-in", "challenge": bytes_to_base64url(options.challenge)}
    return options_to_json(options)


def _owner_id(passkey: Passkey, user) -> int | None:
    return passkey.contact_id if isinstance(user, Contact) else passkey.staff_user_id


def check_sign_in(credential: dict, user: StaffUser | Contact | None):
    """The staff user (or, with a contact as `user`, that contact) the passkey answer proves; with `user`,
    it must be theirs. Without one (staff only, instead of the password) the authenticator must have
    verified the person (PIN or biometrics)."""
    challenge = _take_challenge("sign-in")
    raw_id = credential.get("id") if isinstance(credential, dict) else None
    passkey = db.session.scalar(sa.select(Passkey).where(Passkey.credential_id == str(raw_id))) if raw_id else None
    if passkey is None or _owner_id(passkey, user) is None or (user is not None and _owner_id(passkey, user) != user.id):
        raise FactorError("That passkey is not registered here.")
    try:
        verified = verify_authentication_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp_id(), expected_origin=origin(),
            credential_public_key=passkey.public_key, credential_current_sign_count=passkey.sign_count,
            require_user_verification=user is None)
    except (WebAuthnException, ValueError, KeyError, TypeError, AttributeError) as error:
        raise FactorError("The passkey answer was not accepted.") from error
    passkey.sign_count, passkey.last_used_at = verified.new_sign_count, utcnow()
    if isinstance(user, Contact):
        return user
    owner = db.session.get(StaffUser, passkey.staff_user_id)
    if owner is None or not owner.active:
        raise FactorError("That passkey is not registered here.")
    return owner


def parse(body: bytes) -> dict:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise FactorError("The passkey answer was not readable.")
    return data


def parse_part(value) -> dict:
    """A credential as the browser sends it: an object with its id and response."""
    if not isinstance(value, dict) or not isinstance(value.get("id"), str) or not isinstance(value.get("response"), dict):
        raise FactorError("The passkey answer was not readable.")
    return value
