"""The compile-on-first-use helper (scapfile/cext.py): module names and their memo."""

from __future__ import annotations

import os
from pathlib import Path

from scapkit.scapfile import cext


def test_module_names_are_remembered_by_the_source_file_s_stamp(tmp_path: Path) -> None:
    src = tmp_path / "x.c"
    src.write_text("int x(void) { return 1; }\n")
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    first = cext._name_for("x", src, cache)
    assert first == cext._module_name("x", src.read_text())
    memo = cache / "_scapkit_x.name"
    assert memo.read_text().endswith("\n" + first)
    # The memo answers while the file is unchanged (a planted name proves it is read).
    stamp = memo.read_text().rsplit("\n", 1)[0]
    memo.write_text(stamp + "\n_scapkit_x_planted")
    assert cext._name_for("x", src, cache) == "_scapkit_x_planted"
    # A changed source (another size and time) gets its own name again.
    src.write_text("int x(void) { return 2; }  \n")
    os.utime(src, ns=(1, 1))
    second = cext._name_for("x", src, cache)
    assert second == cext._module_name("x", src.read_text()) != first
    # A damaged or foreign memo is not trusted.
    for junk in ("", "no newline", stamp + "\n/etc/passwd"):
        memo.write_text(junk)
        assert cext._name_for("x", src, cache) == second


def test_sha256_is_hashlib_s() -> None:
    import hashlib

    for data in (b"", b"abc", bytes(range(256)) * 300):
        assert cext.sha256(data).hexdigest() == hashlib.sha256(data).hexdigest()
