"""Sending text messages. Without a configured provider they are written to instance/outbox/ like mail."""
import os
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app


def send_sms(number: str, text: str) -> None:
    outbox = Path(current_app.instance_path) / "outbox"
    outbox.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    path = outbox / f"sms-{stamp}.txt"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(f"To: {number}\n\n{text}\n")
    from panel import unit_of_work
    from panel.audit.recorder import record_event

    # Sent after the commit of what asked for it (unit_of_work.after_commit): the entry is its own unit.
    with unit_of_work.unit():
        record_event("SEND", "SMS sent", data={"to": number}, table_name="sms")
