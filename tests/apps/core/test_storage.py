"""Both archive backends honour the same contract, against a real folder and a real S3 endpoint
(moto's server mode over HTTP)."""

from __future__ import annotations

import uuid

import pytest

from apps.core.storage import (
    LocalFolderStorage,
    ObjectNotFound,
    S3Storage,
    StorageError,
    storage_from_url,
)
from harness.moto import MotoServer


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    server = MotoServer(tmp_path_factory.mktemp("moto")).start()
    yield server
    server.stop()


def s3_storage(moto: MotoServer) -> S3Storage:
    bucket = f"archive-{uuid.uuid4().hex[:12]}"
    moto.create_bucket(bucket, versioned=True)
    return S3Storage(bucket=bucket, prefix="events", endpoint_url=moto.endpoint_url)


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path, monkeypatch):
    if request.param == "local":
        return LocalFolderStorage(tmp_path / "archive")
    moto = request.getfixturevalue("moto")
    for name, value in moto.env().items():
        monkeypatch.setenv(name, value)
    return s3_storage(moto)


def test_put_once_writes_then_refuses_to_overwrite(storage):
    assert storage.put_once("t/a/2025/01/02/e1.jpg", b"first", "image/jpeg") is True
    assert storage.put_once("t/a/2025/01/02/e1.jpg", b"second", "image/jpeg") is False
    assert storage.get("t/a/2025/01/02/e1.jpg") == b"first"
    assert storage.exists("t/a/2025/01/02/e1.jpg")


def test_missing_objects_are_reported_as_not_found(storage):
    with pytest.raises(ObjectNotFound):
        storage.get("t/a/2025/01/02/nothing.json")
    assert not storage.exists("t/a/2025/01/02/nothing.json")


def test_delete_removes_objects_and_ignores_missing_ones(storage):
    storage.put_once("t/a/2025/01/02/e2.json", b"{}", "application/json")
    storage.delete(["t/a/2025/01/02/e2.json", "t/a/2025/01/02/never-written.json"])
    assert not storage.exists("t/a/2025/01/02/e2.json")


@pytest.mark.parametrize("key", ["../escape.json", "/abs.json", "a//b.json", "a/./b.json"])
def test_keys_cannot_leave_the_archive(storage, key):
    with pytest.raises(ValueError):
        storage.put_once(key, b"x", "application/json")


def test_s3_objects_land_under_the_prefix_encrypted_with_one_version(moto, monkeypatch):
    for name, value in moto.env().items():
        monkeypatch.setenv(name, value)
    storage = s3_storage(moto)
    storage.put_once("t/a/2025/01/02/e3.png", b"png-bytes", "image/png")
    storage.put_once("t/a/2025/01/02/e3.png", b"png-bytes", "image/png")
    s3 = moto.s3()
    head = s3.head_object(Bucket=storage.bucket, Key="events/t/a/2025/01/02/e3.png")
    assert head["ContentType"] == "image/png"
    assert head["ServerSideEncryption"] == "AES256"
    versions = s3.list_object_versions(Bucket=storage.bucket)["Versions"]
    assert [v["Key"] for v in versions] == ["events/t/a/2025/01/02/e3.png"]


def test_unreachable_s3_endpoint_is_a_storage_error(moto, monkeypatch, tmp_path):
    for name, value in moto.env().items():
        monkeypatch.setenv(name, value)
    down = MotoServer(tmp_path)  # never started: nothing listens on its port
    storage = S3Storage(bucket="b", endpoint_url=down.endpoint_url)
    with pytest.raises(StorageError):
        storage.put_once("t/a/2025/01/02/e4.json", b"{}", "application/json")
    with pytest.raises(StorageError):
        storage.get("t/a/2025/01/02/e4.json")


def test_archive_url_selects_the_backend(tmp_path):
    local = storage_from_url(f"file://{tmp_path}/archive")
    assert isinstance(local, LocalFolderStorage)
    assert local.root == tmp_path / "archive"
    s3 = storage_from_url("s3://my-bucket/some/prefix", region="eu-west-1", sse="aws:kms")
    assert (s3.bucket, s3.prefix, s3.region, s3.sse) == (
        "my-bucket",
        "some/prefix",
        "eu-west-1",
        "aws:kms",
    )
    for bad in ("http://example.com/x", "s3:///no-bucket", "file://host/path", "archive"):
        with pytest.raises(ValueError):
            storage_from_url(bad)
