"""The worker: one loop that runs whatever work has fallen due, pass after pass."""
import signal
import time

JOBS: list = []  # (name, function) pairs; later issues add delayed saves, roll-ups, invoices


def run_pass() -> dict:
    results = {}
    for name, job in JOBS:
        results[name] = job()
    return results


def run(once: bool = False, interval: float = 5.0, echo=print) -> None:
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    echo(f"worker started ({len(JOBS)} job kinds)")
    while True:
        results = run_pass()
        for name, done in results.items():
            if done:
                echo(f"{name}: {done}")
        if once or stopping:
            break
        deadline = time.monotonic() + interval
        while not stopping and time.monotonic() < deadline:
            time.sleep(0.2)
        if stopping:
            break
    echo("worker stopped")
