"""Settings read from the environment, with safe defaults for a single machine."""
import os
import secrets
from datetime import timedelta
from pathlib import Path


def database_url(instance_path: str) -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return "sqlite:///" + str(Path(instance_path) / "panel.db")
    # Heroku-style and bare postgresql URLs select psycopg 3, the driver we install.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def secret_key(instance_path: str) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in instance/."""
    key = os.environ.get("SECRET_KEY", "").strip()
    if key:
        return key
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def engine_options(url: str) -> dict:
    options = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        # psycopg prepares a query after 5 runs, and PostgreSQL may then plan it once for any
        # parameter: a name search would lose its trigram index. Plan each search for its text.
        options["connect_args"] = {"options": "-c plan_cache_mode=force_custom_plan"}
    return options


def from_environment(instance_path: str) -> dict:
    url = database_url(instance_path)
    return {
        "SECRET_KEY": secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(url),
        # A panel tab stays open all day: CSRF tokens live as long as the session does.
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_HEADERS": ["X-CSRFToken"],
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=int(os.environ.get("SESSION_HOURS", "12"))),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE", "") == "1",
        # Number of reverse proxies in front of the panel whose X-Forwarded-For we trust.
        "PROXY_COUNT": int(os.environ.get("PROXY_COUNT", "0")),
        "BCRYPT_ROUNDS": int(os.environ.get("BCRYPT_ROUNDS", "12")),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "panel@localhost"),
        # Who must use two-factor sign-in until an admin chooses in Settings → Two-factor sign-in.
        "TWO_FACTOR_REQUIRED_DEFAULT": "admins",
        # SMS codes and verification mails (panel/contacts/verification.py): at most so many per contact and per
        # destination within the window.
        "SEND_LIMIT_PER_CONTACT": 5,
        "SEND_LIMIT_PER_DESTINATION": 3,
        "SEND_LIMIT_WINDOW": timedelta(hours=1),
        # Without MAIL_SERVER, a .eml file that holds a password is erased this many hours after it is written.
        "OUTBOX_SENSITIVE_HOURS": float(os.environ.get("OUTBOX_SENSITIVE_HOURS", "1")),
        "LOGIN_MAX_FAILURES_PER_EMAIL": 5,
        "LOGIN_MAX_FAILURES_PER_IP": 20,
        "LOGIN_FAILURE_WINDOW": timedelta(minutes=15),
        # After the free failures, each try waits base, 2×base, 4×base… after the last failure (panel/auth/throttle.py).
        "LOGIN_DELAY_BASE": timedelta(seconds=15),
        "LOGIN_MAX_DELAY": timedelta(minutes=5),
        # How long a SQLite writer waits for another one's lock before the user is told to try again.
        "SQLITE_BUSY_TIMEOUT_MS": int(os.environ.get("SQLITE_BUSY_TIMEOUT_MS", "15000")),
        # Card payments (panel/cards): the processor's keys and where its API and its script are. Without a secret
        # key cards are "not available"; a stand-in (localstripe) or a test key makes the card pages say "test mode".
        "STRIPE_SECRET_KEY": os.environ.get("STRIPE_SECRET_KEY", "").strip(),
        "STRIPE_PUBLISHABLE_KEY": os.environ.get("STRIPE_PUBLISHABLE_KEY", "").strip(),
        "STRIPE_API_BASE": os.environ.get("STRIPE_API_BASE", "").strip() or "https://api.stripe.com",
        "STRIPE_JS_URL": os.environ.get("STRIPE_JS_URL", "").strip() or "https://js.stripe.com/v3/",
        "PAGE_SIZE": 50,
        "CHANNELS_REFRESH_SECONDS": 5,
    }
