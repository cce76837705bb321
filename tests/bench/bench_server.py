"""A PostgreSQL server of the benchmarks' own, configured for a data set larger than memory.

The machine's server keeps Debian's defaults (128 MB of shared buffers, a checkpoint every 1 GB of WAL), right
for the test suite. With the huge set (34 GB) they make the call import I/O-bound: a batch's rows land all over
the (customer, start time) index, and after every checkpoint the first change of each index page writes the whole
page to the WAL again (full-page writes), so most of what the import writes is copies of index pages.

`BenchServer` makes (once) and starts a cluster of the machine's PostgreSQL binaries in `data_dir`, on a free
loopback port, with TUNED below: what a DBA would set on a 24 GB machine serving this data set. Nothing here
changes what the panel's role may do: the import still runs as an ordinary role. The cluster and its databases are
kept in `data_dir` between runs; `stop()` shuts the server down.
"""
import os
import pwd
import shutil
import subprocess
from pathlib import Path

from tests.helpers import free_port

TUNED = {
    "shared_buffers": "6GB",           # a quarter of the machine's memory
    "effective_cache_size": "16GB",
    "maintenance_work_mem": "1GB",     # index builds of the seed
    "max_wal_size": "16GB",            # checkpoints by time, not by WAL volume, during an import
    "min_wal_size": "1GB",
    "checkpoint_timeout": "30min",
    "checkpoint_completion_target": "0.9",
    "wal_compression": "lz4",          # the full-page images that remain, compressed
    "max_connections": "100",
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
}
OWNER = "postgres"  # PostgreSQL refuses to run as root


def binaries() -> Path:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if not versions:
        raise SystemExit("no PostgreSQL binaries under /usr/lib/postgresql (apt-get install -y postgresql)")
    return versions[-1].parent


def _as_owner(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", OWNER, "--"] + command


class BenchServer:
    def __init__(self, data_dir: str | Path, settings: dict[str, str] | None = None):
        self.data_dir = Path(data_dir)
        self.settings = {**TUNED, **(settings or {})}
        self.bin = binaries()
        self.port = None

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> str:
        """Make the cluster if `data_dir` holds none, start it; the admin URL (user postgres, trust on loopback)."""
        if not (self.data_dir / "PG_VERSION").exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                owner = pwd.getpwnam(OWNER)
                shutil.chown(self.data_dir, owner.pw_uid, owner.pw_gid)
            subprocess.run(_as_owner([str(self.bin / "initdb"), "-D", str(self.data_dir), "-U", "postgres",
                                      "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"]),
                           check=True, stdout=subprocess.DEVNULL)
        self.port = free_port()
        options = " ".join(f"-c {name}={value}" for name, value in {**self.settings, "port": self.port}.items())
        subprocess.run(_as_owner([str(self.bin / "pg_ctl"), "-D", str(self.data_dir), "-l",
                                  str(self.data_dir / "server.log"), "-o", options, "-w", "-t", "120", "start"]),
                       check=True, stdout=subprocess.DEVNULL)
        return self.admin_url

    def stop(self) -> None:
        subprocess.run(_as_owner([str(self.bin / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"]),
                       check=False, stdout=subprocess.DEVNULL)

    def describe(self) -> str:
        return ", ".join(f"{name} {value}" for name, value in self.settings.items()
                         if name not in ("listen_addresses", "unix_socket_directories", "max_connections"))
