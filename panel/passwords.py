"""Password hashing for staff and contacts.

bcrypt reads at most 72 bytes (bcrypt 5 refuses more), so the password is first reduced
to a SHA-256 digest in base64 (44 bytes): every character of a long passphrase counts.
"""
import base64
import hashlib
import secrets
import string

import bcrypt
from flask import current_app

MAX_LENGTH = 1024
MIN_LENGTH = 10
# The one password rule of staff and contacts, shown beside every field where one is chosen (before any
# failure) and used as the message when a password breaks it.
RULE = f"Use {MIN_LENGTH} to {MAX_LENGTH} characters. A passphrase of several words is fine."


def rule_problem(password: str | None) -> str | None:
    """What is wrong with a new password under RULE (None: nothing)."""
    if not password or not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        return RULE
    return None


def _prehash(password: str) -> bytes:
    return base64.b64encode(hashlib.sha256(password.encode("utf-8")).digest())


def _rounds() -> int:
    try:
        return current_app.config["BCRYPT_ROUNDS"]
    except RuntimeError:
        return 12


def hash_password(password: str) -> str:
    return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(_rounds())).decode("ascii")


# Compared against when the e-mail is unknown, so a miss costs as long as a wrong password.
_DUMMY = None


def check_password(password: str, hashed: str | None) -> bool:
    global _DUMMY
    if len(password) > MAX_LENGTH:
        return False
    if not hashed:
        _DUMMY = _DUMMY or hash_password(secrets.token_hex(8))
        bcrypt.checkpw(_prehash(password), _DUMMY.encode("ascii"))
        return False
    return bcrypt.checkpw(_prehash(password), hashed.encode("ascii"))


def generate_password(length: int = 16) -> str:
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if any(c.isdigit() for c in candidate) and any(c.isupper() for c in candidate):
            return candidate
