"""E-mail addresses: the one rule for storing and comparing them, on every database.

`normalize(text)` is what is stored: NFKC (full-width letters and compatibility forms become their plain
letters), trimmed; an address holding an invisible, zero-width or control character is refused with
EmailError (its message is for the person who typed it). `key(text)` is what is compared: the normalised
address case-folded (Unicode, not only ASCII), so "Ärger@x" and "ärger@x" are one login. Contacts keep it in
`contact.email_key` (unique), set by the model whenever `email` is; staff users store the key itself as
their e-mail. Look-ups of what someone typed at sign-in use `lookup_key` (None: no account can match)."""
import unicodedata

INVISIBLE_MESSAGE = ("This e-mail address holds an invisible character (such as a zero-width space or a "
                     "control character). Type it again without it.")
# Cc control, Cf format (zero-width space/joiners, direction marks, soft hyphen), Co private use, Cn unassigned,
# Zl/Zp line and paragraph separators, Zs spaces other than the plain one (NFKC has mapped the visible ones).
_REFUSED_CATEGORIES = {"Cc", "Cf", "Co", "Cn", "Zl", "Zp", "Zs"}


class EmailError(ValueError):
    pass


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").strip()
    # A plain space is not invisible: the address check says what is wrong with "not an email".
    if any(ch != " " and unicodedata.category(ch) in _REFUSED_CATEGORIES for ch in text):
        raise EmailError(INVISIBLE_MESSAGE)
    return text


def key(text: str) -> str:
    """The comparison form: two addresses are the same login exactly when their keys are equal."""
    return unicodedata.normalize("NFKC", normalize(text).casefold())


def lookup_key(text: str) -> str | None:
    try:
        return key(text)
    except EmailError:
        return None


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and lookup_key(a) == lookup_key(b)
