"""API key format and verification."""

from apps.tenants.keys import KEY_PREFIX, generate_key, hash_key, key_matches, public_id_of


def test_generated_keys_carry_the_prefix_and_their_public_id():
    public_id, raw = generate_key()
    assert raw.startswith(KEY_PREFIX)
    assert public_id_of(raw) == public_id
    assert len(raw) > 50  # 256 random bits after the public id


def test_every_key_is_different():
    assert len({generate_key()[1] for _ in range(100)}) == 100


def test_only_the_exact_key_matches_its_hash():
    _, raw = generate_key()
    stored = hash_key(raw)
    assert key_matches(raw, stored)
    assert not key_matches(raw[:-1] + ("A" if raw[-1] != "A" else "B"), stored)
    assert raw not in stored


def test_hash_depends_on_the_configured_hash_key(settings):
    _, raw = generate_key()
    before = hash_key(raw)
    settings.IPCAI_API_KEY_HASH_KEY = "another-secret"
    assert hash_key(raw) != before


def test_malformed_keys_have_no_public_id():
    for bad in [
        "",
        "hello",
        "ipcai_",
        "ipcai_abc_def",
        "ipcai_0123456789ab",
        "ipcai_ZZZZZZZZZZZZ_x",
    ]:
        assert public_id_of(bad) is None
