"""The KDF parameter record (SPEC §3): round trip, and every malformed record is refused."""
from __future__ import annotations

import pytest

from crypto import kdf
from crypto.errors import MalformedBlob, UnsupportedSuite, UnsupportedVersion


def test_round_trip_and_vector() -> None:
    record = kdf.encode_params(kdf.Argon2Params(16384, 2, 1))
    assert record.hex() == "0150000040000000000200000001"
    assert kdf.decode_params(record) == kdf.Argon2Params(16384, 2, 1)


@pytest.mark.parametrize("record, error", [
    (bytes.fromhex("0250000040000000000200000001"), UnsupportedVersion),
    (bytes.fromhex("0130000040000000000200000001"), UnsupportedSuite),
    (bytes.fromhex("01500000400000000002000000"), MalformedBlob),
    (bytes.fromhex("0150000000000000000200000001"), MalformedBlob),  # 0 KiB of memory
])
def test_bad_records_are_refused(record: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        kdf.decode_params(record)
