"""Archive storage backends behind one small interface: S3 (any S3-compatible store) or a folder.

Chosen by ``IPCAI_ARCHIVE_URL``: ``s3://bucket/prefix`` or ``file:///absolute/path``.

Every write is create-once (``put_once``): a retried or duplicated archive task must leave exactly
one copy, even on a versioned bucket where a plain overwrite would add a second version. S3 does
this with a conditional PUT (``If-None-Match: *``); the folder backend with ``os.link``, which
fails when the name exists. Backend failures surface as ``StorageError`` so the Celery task knows
what to retry; a missing object is ``ObjectNotFound``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import boto3
import boto3.exceptions
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from apps.core.durable_files import fsync_dir, write_temp_file


class StorageError(Exception):
    """The store could not be reached or refused the operation; retrying may succeed."""


class ObjectNotFound(StorageError):
    """No object under that key."""


class ArchiveStorage(Protocol):
    """What the archive needs from a store. Keys are relative ``a/b/c.ext`` paths."""

    def put_once(self, key: str, data: bytes, content_type: str) -> bool:
        """Store `data` unless `key` exists already; True when this call created it."""

    def get(self, key: str) -> bytes:
        """The object's bytes; ObjectNotFound when absent."""

    def delete(self, keys: Iterable[str]) -> None:
        """Remove the objects; keys that do not exist are ignored."""

    def erase(self, keys: Iterable[str]) -> None:
        """Remove the objects and every earlier version of them (erasure, docs/PRIVACY.md):
        on a versioned bucket `delete` only hides them behind a delete marker."""

    def exists(self, key: str) -> bool:
        """Whether an object is stored under `key`."""

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        """Store a (large) file under `key`, replacing any object there, without reading it
        into memory (dataset exports)."""

    def iter_chunks(self, key: str, chunk_size: int) -> Iterator[bytes]:
        """The object's bytes in chunks, for streaming downloads; ObjectNotFound when absent."""


def _safe_relative_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in {"", ".", ".."} for p in parts):
        raise ValueError(f"unsafe storage key: {key!r}")
    return key


@dataclass
class LocalFolderStorage:
    """Objects as files under one folder: the embedded default (one machine, no cloud)."""

    root: Path

    def _path(self, key: str) -> Path:
        return self.root / _safe_relative_key(key)

    def put_once(self, key: str, data: bytes, content_type: str) -> bool:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists():
                return False
            # Write a private temporary file, flush it to disk, then link it under its final
            # name: readers never see a half-written object, and link() refuses to replace an
            # existing one, so two concurrent writers still leave one copy.
            tmp = write_temp_file(path.parent, data)
            try:
                try:
                    os.link(tmp, path)
                except FileExistsError:
                    return False
                fsync_dir(path.parent)
                return True
            finally:
                tmp.unlink()
        except OSError as exc:
            raise StorageError(f"cannot write {path}: {exc}") from exc

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError as exc:
            raise ObjectNotFound(key) from exc
        except OSError as exc:
            raise StorageError(f"cannot read {path}: {exc}") from exc

    def delete(self, keys: Iterable[str]) -> None:
        for key in keys:
            try:
                self._path(key).unlink(missing_ok=True)
            except OSError as exc:
                raise StorageError(f"cannot delete {key}: {exc}") from exc

    def erase(self, keys: Iterable[str]) -> None:
        self.delete(keys)  # a folder keeps no versions

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        target = self._path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            shutil.copyfile(path, tmp)
            os.replace(tmp, target)  # readers see the old file or the whole new one
            fsync_dir(target.parent)
        except OSError as exc:
            raise StorageError(f"cannot write {target}: {exc}") from exc

    def iter_chunks(self, key: str, chunk_size: int) -> Iterator[bytes]:
        path = self._path(key)
        try:
            handle = path.open("rb")
        except FileNotFoundError as exc:
            raise ObjectNotFound(key) from exc
        except OSError as exc:
            raise StorageError(f"cannot read {path}: {exc}") from exc
        return _chunks_of(handle, chunk_size)


# Requests already ran; archiving happens in a worker that retries with backoff, so botocore's
# own retries stay few and timeouts short: a dead endpoint should hand control back to the task.
_S3_CLIENT_CONFIG = Config(
    connect_timeout=3,
    read_timeout=20,
    retries={"mode": "standard", "max_attempts": 3},
)


@dataclass
class S3Storage:
    """Objects in an S3 bucket under a prefix, encrypted at rest with SSE (AES256 or KMS)."""

    bucket: str
    prefix: str = ""
    region: str | None = None
    endpoint_url: str | None = None
    sse: str | None = "AES256"
    kms_key_id: str | None = None
    _client: object | None = field(default=None, repr=False)

    @property
    def client(self):
        if self._client is None:
            # endpoint_url None lets boto3 apply AWS_ENDPOINT_URL(_S3) and the region chain.
            self._client = boto3.session.Session().client(
                "s3",
                region_name=self.region,
                endpoint_url=self.endpoint_url,
                config=_S3_CLIENT_CONFIG,
            )
        return self._client

    def _key(self, key: str) -> str:
        key = _safe_relative_key(key)
        return f"{self.prefix.strip('/')}/{key}" if self.prefix.strip("/") else key

    def _encryption(self) -> dict[str, str]:
        if not self.sse:
            return {}
        params = {"ServerSideEncryption": self.sse}
        if self.sse == "aws:kms" and self.kms_key_id:
            params["SSEKMSKeyId"] = self.kms_key_id
        return params

    def put_once(self, key: str, data: bytes, content_type: str) -> bool:
        try:
            self._put_object(key, data, content_type, IfNoneMatch="*")
            return True
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code == "PreconditionFailed" or status == 412:
                return False
            if code == "NotImplemented" or status == 501:
                # An S3-compatible store without conditional writes: check, then write.
                return self._put_if_absent_unconditional(key, data, content_type)
            raise StorageError(f"s3 put {key}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"s3 put {key}: {exc}") from exc

    def _put_object(self, key: str, data: bytes, content_type: str, **conditions: str) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=self._key(key),
            Body=data,
            ContentType=content_type,
            **conditions,
            **self._encryption(),
        )

    def _put_if_absent_unconditional(self, key: str, data: bytes, content_type: str) -> bool:
        if self.exists(key):
            return False
        try:
            self._put_object(key, data, content_type)
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"s3 put {key}: {exc}") from exc
        return True

    def _body(self, key: str):
        """The object's streaming body; ObjectNotFound / StorageError as get() documents."""
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                raise ObjectNotFound(key) from exc
            raise StorageError(f"s3 get {key}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"s3 get {key}: {exc}") from exc

    def get(self, key: str) -> bytes:
        body = self._body(key)
        try:
            return body.read()
        except BotoCoreError as exc:  # the connection dropped mid-object
            raise StorageError(f"s3 get {key}: {exc}") from exc

    def delete(self, keys: Iterable[str]) -> None:
        keys = [self._key(k) for k in keys]
        # DeleteObjects takes at most 1000 keys per call.
        for start in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[start : start + 1000]]
            try:
                response = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )
            except (ClientError, BotoCoreError) as exc:
                raise StorageError(f"s3 delete: {exc}") from exc
            if response.get("Errors"):
                raise StorageError(f"s3 delete: {response['Errors'][:3]}")

    def erase(self, keys: Iterable[str]) -> None:
        """Every version and delete marker of each key (one listing per key, by prefix)."""
        versions: list[dict[str, str]] = []
        try:
            for key in keys:
                full = self._key(key)
                pages = self.client.get_paginator("list_object_versions").paginate(
                    Bucket=self.bucket, Prefix=full
                )
                for page in pages:
                    for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
                        if item["Key"] == full:
                            versions.append({"Key": full, "VersionId": item["VersionId"]})
            for start in range(0, len(versions), 1000):
                response = self.client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": versions[start : start + 1000], "Quiet": True},
                )
                if response.get("Errors"):
                    raise StorageError(f"s3 erase: {response['Errors'][:3]}")
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"s3 erase: {exc}") from exc

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except ClientError as exc:
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                return False
            raise StorageError(f"s3 head {key}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"s3 head {key}: {exc}") from exc

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        # upload_file switches to a multipart upload for large files: parts, not the whole file.
        try:
            self.client.upload_file(
                str(path),
                self.bucket,
                self._key(key),
                ExtraArgs={"ContentType": content_type, **self._encryption()},
            )
        except (ClientError, BotoCoreError, boto3.exceptions.S3UploadFailedError) as exc:
            raise StorageError(f"s3 upload {key}: {exc}") from exc

    def iter_chunks(self, key: str, chunk_size: int) -> Iterator[bytes]:
        return self._body(key).iter_chunks(chunk_size)


def _chunks_of(handle, chunk_size: int) -> Iterator[bytes]:
    with handle:
        yield from iter(lambda: handle.read(chunk_size), b"")


def storage_from_url(
    url: str,
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    sse: str | None = "AES256",
    kms_key_id: str | None = None,
) -> ArchiveStorage:
    """Build the backend named by an archive URL (``s3://bucket/prefix`` or ``file:///path``)."""
    parts = urlsplit(url)
    if parts.scheme == "s3":
        if not parts.netloc:
            raise ValueError(f"archive URL needs a bucket: {url!r}")
        return S3Storage(
            bucket=parts.netloc,
            prefix=parts.path.strip("/"),
            region=region or None,
            endpoint_url=endpoint_url or None,
            sse=sse or None,
            kms_key_id=kms_key_id or None,
        )
    if parts.scheme == "file":
        if parts.netloc not in {"", "localhost"} or not parts.path:
            raise ValueError(f"archive URL must be file:///absolute/path: {url!r}")
        return LocalFolderStorage(Path(unquote(parts.path)))
    raise ValueError(f"unsupported archive URL {url!r}: use s3://bucket/prefix or file:///path")


@cache
def _cached_storage(url: str, region: str, endpoint_url: str, sse: str, kms_key_id: str):
    return storage_from_url(
        url, region=region, endpoint_url=endpoint_url, sse=sse, kms_key_id=kms_key_id
    )


def get_storage() -> ArchiveStorage:
    """The configured backend, built once per process per configuration (boto3 clients are
    thread-safe and expensive to create)."""
    from django.conf import settings

    return _cached_storage(
        settings.IPCAI_ARCHIVE_URL,
        getattr(settings, "IPCAI_ARCHIVE_REGION", ""),
        getattr(settings, "AWS_ENDPOINT_URL", ""),
        getattr(settings, "IPCAI_ARCHIVE_SSE", "AES256"),
        getattr(settings, "IPCAI_ARCHIVE_KMS_KEY_ID", ""),
    )
