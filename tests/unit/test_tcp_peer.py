"""The loopback peer's user, read from the kernel's socket table (a synthetic copy here)."""

from __future__ import annotations

import os
from pathlib import Path

from kimi_lsp.lsp.tcp_peer import foreign_user, peer_uid

HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid\n"


def table(tmp_path: Path, name: str, *rows: tuple[str, str, int]) -> Path:
    lines = [
        f"   {n}: {local} {remote} 01 00000000:00000000 00:00000000 00000000  {uid}  0 {n} 1\n"
        for n, (local, remote, uid) in enumerate(rows)
    ]
    path = tmp_path / name
    path.write_text(HEADER + "".join(lines))
    return path


def test_the_peer_is_found_by_both_ports(tmp_path: Path) -> None:
    tcp = table(
        tmp_path, "tcp",
        ("0100007F:07E8", "0100007F:C350", 0),  # our end: local 2024, remote 50000
        ("0100007F:C350", "0100007F:07E8", 1001),  # the peer's end
        ("0100007F:C351", "0100007F:0050", 1002),  # someone else's connection
    )  # fmt: skip
    assert peer_uid(50000, 2024, (tcp,)) == 1001
    assert peer_uid(50001, 2024, (tcp,)) is None


def test_ipv6_and_a_missing_table_are_handled(tmp_path: Path) -> None:
    tcp6 = table(
        tmp_path, "tcp6",
        ("00000000000000000000000001000000:A000", "00000000000000000000000001000000:07E8", 7),
    )  # fmt: skip
    assert peer_uid(0xA000, 2024, (tmp_path / "absent", tcp6)) == 7


def test_only_a_known_other_user_is_foreign(tmp_path: Path) -> None:
    me = os.getuid()
    tcp = table(
        tmp_path, "tcp",
        ("0100007F:C350", "0100007F:07E8", me),
        ("0100007F:C352", "0100007F:07E8", me + 1),
    )  # fmt: skip
    assert not foreign_user(50000, 2024, (tcp,))
    assert foreign_user(50002, 2024, (tcp,))
    assert not foreign_user(50004, 2024, (tcp,))  # unknown (not Linux, a race): not refused
