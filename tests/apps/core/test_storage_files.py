"""Large files in and out of the archive storage (dataset exports): stored from a file, read
back in chunks, on both backends (S3 through moto's server mode over HTTP)."""

from __future__ import annotations

import os

import pytest

from apps.core.storage import ObjectNotFound
from tests.apps.core.test_storage import moto, storage  # noqa: F401 - fixtures


def test_a_file_goes_in_whole_and_comes_back_in_chunks(storage, tmp_path):  # noqa: F811
    data = os.urandom(3 * 1024 * 1024 + 17)  # four 1 MiB chunks, the last one short
    source = tmp_path / "export.zip"
    source.write_bytes(data)
    storage.put_file("exports/alpha/1.zip", source, "application/zip")
    chunks = list(storage.iter_chunks("exports/alpha/1.zip", 1 << 20))
    assert b"".join(chunks) == data
    assert max(len(c) for c in chunks) <= 1 << 20 and len(chunks) == 4
    source.write_bytes(b"second")  # a rebuilt export replaces the object
    storage.put_file("exports/alpha/1.zip", source, "application/zip")
    assert storage.get("exports/alpha/1.zip") == b"second"


def test_a_missing_export_is_not_found(storage):  # noqa: F811
    with pytest.raises(ObjectNotFound):
        next(iter(storage.iter_chunks("exports/alpha/missing.zip", 1024)))
