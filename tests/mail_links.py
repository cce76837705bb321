"""Reading the links the panel mailed (route and browser tests): mail goes to <instance>/outbox/*.eml
when MAIL_SERVER is unset, and sensitive bodies are erased from the database once sent."""
import re
from email import policy
from email.parser import BytesParser
from pathlib import Path

LINK = re.compile(r"https?://\S+/set-password/(\S+)")


def mailed(instance_path: str, to: str) -> list:
    """Every message written to the outbox for `to`, oldest first."""
    found = []
    for path in sorted(Path(instance_path, "outbox").glob("*.eml"), key=lambda p: int(p.name.split("-")[0])):
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        if str(message["To"]) == to:
            found.append(message)
    return found


def last_link(instance_path: str, to: str) -> str:
    """The path (from /portal/… or /set-password/…) of the last set-password link mailed to `to`."""
    messages = mailed(instance_path, to)
    assert messages, f"no mail to {to}"
    match = re.search(r"https?://[^/\s]+(/\S*set-password/\S+)", messages[-1].get_content())
    assert match, messages[-1].get_content()
    return match.group(1)
