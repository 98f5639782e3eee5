"""Bad input to the CLI gets a clear, specific answer (never a traceback, never a silent
skip), and `cimbus dlq replay` queues a dead letter once (REL-2)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cimbus.cli import app
from routing.store import DeadLetter, Store

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[3]
GOOD = (ROOT / "conformance/exchanges/EndDeviceEvents/CreatedEndDeviceEvents.xml").read_bytes()


# ---------------------------------------------------------------------------- dlq replay


@pytest.fixture
def store_with_dead_letters(tmp_path: Path) -> tuple[Path, Store]:
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[store]\nurl = "sqlite:///{tmp_path}/s.db"\n')
    store = Store(f"sqlite:///{tmp_path}/s.db")
    store.migrate()
    for i in (1, 2):
        store.dead_letter(
            DeadLetter(
                message_id=f"m-{i}",
                correlation_id=None,
                verb="created",
                noun="EndDeviceEvents",
                source="HES",
                target="MDMS",
                transport="embedded",
                address="mdms",
                reason="gave up",
                payload=b"<m/>",
                headers={"verb": "created", "noun": "EndDeviceEvents"},
                attempts=20,
                outbox_id=None,
            )
        )
    yield cfg, store
    store.close()


def test_a_dead_letter_is_replayed_once(store_with_dead_letters) -> None:
    cfg, store = store_with_dead_letters
    first = runner.invoke(app, ["dlq", "replay", "1", "1", "2", "--config", str(cfg)])
    assert first.exit_code == 0, first.output
    assert first.output.count("dead letter 1 re-queued") == 1  # an id given twice: once
    assert "dead letter 2 re-queued" in first.output
    assert store.outbox_counts()["pending"] == 2
    again = runner.invoke(app, ["dlq", "replay", "1", "--config", str(cfg)])
    assert again.exit_code == 1
    assert "error: dead letter 1 was replayed already, at " in again.output
    assert "--again" in again.output
    assert store.outbox_counts()["pending"] == 2  # nothing queued a second time
    forced = runner.invoke(app, ["dlq", "replay", "--again", "1", "--config", str(cfg)])
    assert forced.exit_code == 0 and "dead letter 1 re-queued" in forced.output
    assert store.outbox_counts()["pending"] == 3


def test_a_replay_that_fails_leaves_the_dead_letter_to_replay(
    store_with_dead_letters, monkeypatch
) -> None:
    """Marking it replayed and queueing its message are one transaction."""
    from routing.bus import Bus
    from routing.config import Config

    cfg, store = store_with_dead_letters
    bus = Bus(Config.load(cfg), store)

    def broken(item):
        raise OSError("disk full")

    monkeypatch.setattr(store, "enqueue", broken)
    with pytest.raises(OSError):
        bus.replay_dead_letter(1)
    assert store.get_dead_letter(1).replayed_at is None  # type: ignore[union-attr]
    monkeypatch.undo()
    assert bus.replay_dead_letter(1) > 0


@pytest.mark.parametrize(
    "argv",
    [
        ["dlq", "show", "99999999999999999999999"],
        ["dlq", "replay", "99999999999999999999999"],
        ["dlq", "show", "0"],
        ["dlq", "list", "--limit", "99999999999999999999"],
        ["store", "prune", "--audit-days", "inf"],
        ["store", "prune", "--outbox-days", "1e308"],
        ["store", "prune", "--dedupe-days", "nan"],
    ],
)
def test_numbers_out_of_range_are_usage_errors(store_with_dead_letters, argv) -> None:
    cfg, _store = store_with_dead_letters
    result = runner.invoke(app, [*argv, "--config", str(cfg)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Invalid value" in result.output


def test_store_prune_help_names_the_configuration_keys() -> None:
    result = runner.invoke(app, ["store", "prune", "--help"], env={"COLUMNS": "200"})
    assert "audit_days" in result.output and "(default: )" not in result.output


# ---------------------------------------------------------------------------- validate


def test_validate_a_folder_finds_upper_case_names_and_reports_broken_links(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.xml").write_bytes(GOOD)
    (tmp_path / "B.XML").write_bytes(b"<not-cim/>")
    (tmp_path / "gone.xml").symlink_to(tmp_path / "missing-target.xml")
    result = runner.invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert f"INVALID {tmp_path / 'B.XML'}: " in result.output
    assert f"INVALID {tmp_path / 'gone.xml'}: cannot read" in result.output
    assert result.output.rstrip().endswith("1 valid, 2 invalid")


def test_validate_reports_a_folder_it_cannot_read(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "a.xml").write_bytes(GOOD)
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "bad.xml").write_bytes(b"<bad")
    real = os.scandir

    def scandir(path):  # as for a folder without read permission (root reads every folder)
        if Path(path) == secret:
            raise PermissionError(13, "Permission denied", str(secret))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = runner.invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert f"INVALID {secret}: cannot read folder: Permission denied" in result.output
    assert result.output.rstrip().endswith("1 valid, 1 invalid")


def test_validate_says_the_size_of_a_file_over_the_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.xml"
    big.write_bytes(GOOD + b" " * 5000)
    result = runner.invoke(app, ["validate", "--max-bytes", "1024", str(big)])
    assert result.exit_code == 1
    size = big.stat().st_size
    assert f"document is {size} bytes, over the limit of 1024 bytes (--max-bytes)" in result.output


def test_validate_lists_each_schema_error_once(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    text = GOOD.decode()
    text = text.replace("<createdDateTime>", "<createdDateTime>not-a-date", 1)
    bad.write_text(text)
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith(f"INVALID {bad}: ") and "schema error(s))" in lines[0]
    issues = [line for line in lines if line.startswith("  ")]
    assert issues and len(set(issues)) == len(issues)
    assert not any(issue.strip() in lines[0] for issue in issues)


def test_a_huge_text_node_is_explained_without_libxml2_option_names() -> None:
    from cim_models.errors import UnsafeXmlError
    from cim_models.safexml import parse_bytes

    with pytest.raises(UnsafeXmlError) as info:
        parse_bytes(b"<a>" + b"x" * (11 * 1024 * 1024) + b"</a>")
    assert "larger than the parser's limit (10 MB for text)" in str(info.value)
    assert "XML_PARSE_HUGE" not in str(info.value)
