"""CAMPAIGN as a unique prefix of the id (c + 20 hex digits are easy to mistype): resolved in one place,
notis_cli.commands._common.resolve_campaign, for every command that takes a campaign."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from notis_cli.commands._common import CampaignNotResolved, resolve_campaign

IDS = ["c73ec4a1b2c3d4e5f60718", "c73ec9ffffffffffffffff", "c0123456789abcdef0123"]


def known_ids() -> list[str]:
    return list(IDS)


@pytest.mark.parametrize(("typed", "wanted"), [
    ("c73ec4", "c73ec4a1b2c3d4e5f60718"),
    ("  C73EC4A ", "c73ec4a1b2c3d4e5f60718"),  # as copied: spaces and case do not matter
    ("c0123", "c0123456789abcdef0123"),
    ("c0123456789abcdef0123", "c0123456789abcdef0123"),
])
def test_a_unique_prefix_or_the_id_names_the_campaign(typed: str, wanted: str) -> None:
    assert resolve_campaign(typed, known_ids) == wanted


def test_a_whole_id_is_taken_as_it_is_without_listing_campaigns() -> None:
    def never() -> list[str]:
        raise AssertionError("a whole id needs no list of campaigns")

    assert resolve_campaign("cffffffffffffffffffff", never) == "cffffffffffffffffffff"  # its command says none


def test_an_ambiguous_prefix_lists_the_ids_it_begins_and_exits_2() -> None:
    with pytest.raises(CampaignNotResolved) as raised:
        resolve_campaign("c73ec", known_ids)
    assert raised.value.code == 2
    assert "c73ec4a1b2c3d4e5f60718, c73ec9ffffffffffffffff" in str(raised.value) and "c0123" not in str(raised.value)


@pytest.mark.parametrize(("typed", "code", "words"), [
    ("c73e", 2, "at least its first 5 characters"),
    ("c999999", 1, "no campaign 'c999999'"),
    ("c73ec4a1b2c3d4e5f607189", 1, "no campaign"),  # one character too many: a prefix of nothing
])
def test_a_prefix_too_short_or_of_nothing_says_so(typed: str, code: int, words: str) -> None:
    with pytest.raises(CampaignNotResolved) as raised:
        resolve_campaign(typed, known_ids)
    assert raised.value.code == code and words in str(raised.value)


def test_status_and_letters_take_a_prefix(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                          capsys: Any) -> None:
    from queue_helpers import deliver

    from chalicelib import aws as aws_clients
    from chalicelib.campaigns.handler import handle_import
    from chalicelib.campaigns.store import CampaignStore
    from notis_cli.main import main

    monkeypatch.setenv("NOTIS_HMAC_KEY", aws["settings"].hmac_key.decode())
    path = tmp_path / "kunder.csv"
    path.write_bytes(b"Namn;E-post;Adress\r\nAsa;;Gatan 1, 123 45 Ort\r\nBo;bo@example.se;\r\n")
    assert main(["upload", str(path), "--incident", "korkortsportalen-2024", "--audience", "customers"]) == 0
    deliver(aws["queues"][aws["settings"].import_queue], lambda event: handle_import(event, aws["settings"]))
    [item] = CampaignStore(aws_clients.client("dynamodb"), aws["settings"].table).list()
    campaign = str(item["campaign"])
    capsys.readouterr()

    assert main(["status", campaign[:6]]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"campaign   {campaign}") and f"notis: campaign {campaign}" in err
    assert main(["letters", campaign[:6].upper(), "--csv", str(tmp_path / "brev.csv")]) == 0
    assert "Asa" in (tmp_path / "brev.csv").read_text(encoding="utf-8-sig")
    assert main(["evidence", "c" + "f" * 10]) == 1
    assert "no campaign 'cffffffffff'" in capsys.readouterr().err
    assert main(["approve", campaign[:3], "--yes"]) == 2
    assert "too short" in capsys.readouterr().err
