"""An S3-compatible endpoint for tests: moto's server mode as a real HTTP process.

The archive code talks to it through boto3 exactly as it talks to AWS (AWS_ENDPOINT_URL), so
the tests exercise real HTTP, real retries and real connection failures when it is stopped.
moto keeps state in memory: a restarted server starts empty.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3

from harness.processes import ServerProcess, free_port, http_ok

# moto accepts any credentials; fixed fake ones keep boto3 from looking for real ones.
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


class MotoServer:
    def __init__(self, log_dir: Path, port: int | None = None) -> None:
        self.log_dir = log_dir
        self.port = port or free_port()
        self._process: ServerProcess | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """Environment for a process that should use this endpoint as S3."""
        return {**FAKE_AWS_ENV, "AWS_ENDPOINT_URL": self.endpoint_url}

    def start(self) -> MotoServer:
        self._process = ServerProcess(
            argv=[
                str(Path(sys.executable).parent / "moto_server"),
                "-H",
                "127.0.0.1",
                "-p",
                str(self.port),
            ],
            env=FAKE_AWS_ENV,
            log_path=self.log_dir / f"moto-{self.port}.log",
        ).start()
        self._process.wait_until(lambda: http_ok(f"{self.endpoint_url}/moto-api/"), timeout=60)
        return self

    def stop(self) -> None:
        if self._process:
            self._process.stop()
            self._process = None

    def s3(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=FAKE_AWS_ENV["AWS_DEFAULT_REGION"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def create_bucket(self, name: str, versioned: bool = True) -> None:
        """A bucket; versioned by default so a second write of a key shows as a second copy."""
        client = self.s3()
        client.create_bucket(Bucket=name)
        if versioned:
            client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


@contextmanager
def running_moto(log_dir: Path) -> Iterator[MotoServer]:
    server = MotoServer(log_dir).start()
    try:
        yield server
    finally:
        server.stop()
