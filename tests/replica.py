"""A streaming replica of the PostgreSQL server the tests use, started from the installed
binaries: a base backup of the primary (pg_basebackup -R) into a temporary folder, run on a free
loopback port as a hot standby. Everything it made is gone when the context ends.

The primary must accept replication connections from 127.0.0.1 (scripts/setup.sh allows them
with SETUP_DEV=1; a private cluster made by initdb allows them already)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg2

from tests.seaweedfs import free_ports

SUPERUSER = "postgres"


@dataclass
class Replica:
    host: str
    port: int
    folder: Path

    def superuser(self) -> psycopg2.extensions.connection:
        connection = psycopg2.connect(host=self.host, port=self.port, user=SUPERUSER, dbname="postgres")
        connection.autocommit = True
        return connection

    def pause_replay(self) -> None:
        """The replica stops applying what the primary sends: it lags behind, as a busy one would."""
        with contextlib.closing(self.superuser()) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT pg_wal_replay_pause()")

    def resume_replay(self) -> None:
        with contextlib.closing(self.superuser()) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT pg_wal_replay_resume()")

    def wait_for(self, primary_lsn: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        with contextlib.closing(self.superuser()) as connection, connection.cursor() as cursor:
            while True:
                cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [primary_lsn])
                if cursor.fetchone()[0]:
                    return
                if time.monotonic() > deadline:
                    raise AssertionError(f"the replica did not reach {primary_lsn}")
                time.sleep(0.05)


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: its programs run as the postgres user then."""
    return ["runuser", "-u", SUPERUSER, "--", *command] if os.geteuid() == 0 else command


# A hot standby refuses to start with less of these than its primary has.
MATCHED = (
    "max_connections", "max_worker_processes", "max_wal_senders",
    "max_prepared_transactions", "max_locks_per_transaction",
)  # fmt: skip


def _primary(primary_host: str, primary_port: int) -> tuple[Path, dict[str, str]]:
    """The primary's binaries (of its major version) and the settings the standby must match."""
    with (
        contextlib.closing(
            psycopg2.connect(host=primary_host, port=primary_port, user=SUPERUSER, dbname="postgres")
        ) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute("SHOW server_version_num")
        major = int(cursor.fetchone()[0]) // 10000
        cursor.execute("SELECT name, setting FROM pg_settings WHERE name = ANY(%s)", [list(MATCHED)])
        matched = dict(cursor.fetchall())
    return Path(f"/usr/lib/postgresql/{major}/bin"), matched


@contextlib.contextmanager
def streaming_replica(primary_host: str = "127.0.0.1", primary_port: int = 5432) -> Iterator[Replica]:
    folder = Path(tempfile.mkdtemp(prefix="betterwork-replica-"))
    data = folder / "data"
    [port] = free_ports(1)
    binaries, matched = _primary(primary_host, primary_port)
    if os.geteuid() == 0:
        shutil.chown(folder, SUPERUSER, SUPERUSER)
    folder.chmod(0o700)
    pg_ctl = [str(binaries / "pg_ctl"), "-D", str(data), "-w", "-t", "60"]
    started = False
    try:
        subprocess.run(  # noqa: S603 (the installed binaries, with arguments made here)
            _as_postgres(
                [
                    str(binaries / "pg_basebackup"),
                    f"--host={primary_host}",
                    f"--port={primary_port}",
                    f"--username={SUPERUSER}",
                    f"--pgdata={data}",
                    "--wal-method=stream",
                    "--checkpoint=fast",
                    "--write-recovery-conf",
                    "--no-password",
                ]
            ),  # fmt: skip
            check=True,
            capture_output=True,
        )
        # Debian keeps a cluster's configuration outside its data folder: the copy gets its own.
        settings = {
            "postgresql.conf": (
                f"port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{folder}'\n"
                "hot_standby = on\nshared_buffers = 16MB\nfsync = off\n"
                + "".join(f"{name} = {value}\n" for name, value in matched.items())
            ),
            "pg_hba.conf": "local all all trust\nhost all all 127.0.0.1/32 trust\n",
            "pg_ident.conf": "",
        }
        for name, text in settings.items():
            subprocess.run(  # noqa: S603
                _as_postgres(["tee", str(data / name)]), input=text.encode(), check=True, capture_output=True
            )
        subprocess.run(  # noqa: S603
            _as_postgres([*pg_ctl, "-l", str(folder / "server.log"), "start"]),
            check=True,
            capture_output=True,
        )
        started = True
        yield Replica("127.0.0.1", port, folder)
    finally:
        if started:
            stop = _as_postgres([*pg_ctl, "-m", "immediate", "stop"])
            subprocess.run(stop, check=False, capture_output=True)  # noqa: S603
        shutil.rmtree(folder, ignore_errors=True)
