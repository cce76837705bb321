"""The outage notice: the one fixed text (no Settings, no template engine) a bulk outage notice is sent in, to
each customer's recipients of outage notices (panel/contacts/recipients.py: its support and Technical
contacts, else its e-mail). The subject and message typed by staff arrive with {customer} already filled."""
from datetime import datetime

SUBJECT_PREFIX = "Outage notice: "


def parse_times(starts_at, ends_at) -> tuple[datetime | None, datetime | None]:
    """The outage's start and end (UTC, ISO text as a job keeps them, or None); ValueError when the end is not
    after the start."""
    start = datetime.fromisoformat(starts_at) if starts_at else None
    end = datetime.fromisoformat(ends_at) if ends_at else None
    if start and end and end <= start:
        raise ValueError("the outage ends after it starts")
    return start, end


def _when(moment: datetime | None, unknown: str) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else unknown


def notice_subject(subject: str, max_length: int) -> str:
    return (SUBJECT_PREFIX + subject)[:max_length]


def notice_body(customer_name: str, subject: str, message: str, start: datetime | None, end: datetime | None,
                why: str) -> str:
    return "\n".join([
        f"Outage notice for {customer_name}", "", subject, "",
        f"Starts: {_when(start, 'not given')}",
        f"Ends:   {_when(end, 'not known yet')}", "",
        message.rstrip(), "",
        "--", why]) + "\n"
