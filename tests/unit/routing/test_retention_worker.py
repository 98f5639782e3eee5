"""Retention as configured ([store] audit_days, outbox_days, dedupe_days, prune_every): the
retention thread of a running cimbus prunes by itself; ``cimbus store prune`` does it on
demand (BUS-9, REL-1 de-duplication window)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cimbus.cli import app
from routing.bus import Bus
from routing.config import Config
from routing.errors import ConfigError
from routing.store import AuditEntry
from routing.store._types import utcnow
from tests.waiting import wait_until


def _entry(mid: str, age_days: float) -> AuditEntry:
    return AuditEntry(
        direction="in",
        transport="soap",
        message_id=mid,
        verb="created",
        noun="MeterReadings",
        source="HES",
        target="CIMBUS",
        result="OK",
        received_at=utcnow() - timedelta(days=age_days),
    )


def test_a_running_bus_prunes_by_itself(tmp_path: Path) -> None:
    cfg = Config.from_mapping(
        {"store": {"url": f"sqlite:///{tmp_path}/s.db", "audit_days": 30, "prune_every": 0.2}}
    )
    bus = Bus(cfg)
    bus.store.migrate()
    bus.store.record(_entry("old", 45))
    bus.store.record(_entry("young", 1))
    with bus:  # the retention thread starts: it prunes at once, then every prune_every
        wait_until(lambda: len(bus.store.audit(limit=10)) == 1, "the old audit row to go")
        bus.store.record(_entry("old-2", 31))
        wait_until(lambda: len(bus.store.audit(limit=10)) == 1, "the next prune")
    assert [r.message_id for r in bus.store.audit(limit=10)] == ["young"]


def test_without_retention_nothing_is_pruned(tmp_path: Path) -> None:
    cfg = Config.from_mapping({"store": {"url": f"sqlite:///{tmp_path}/s.db"}})
    bus = Bus(cfg)
    bus.store.migrate()
    bus.store.record(_entry("ancient", 3650))
    assert not bus.retention.active
    assert sum(bus.prune().values()) == 0
    assert len(bus.store.audit(limit=10)) == 1


@pytest.mark.parametrize(
    ("store", "message"),
    [
        ({"audit_days": -1}, "[store] audit_days must be 0 (keep for ever) or more"),
        ({"prune_every": 0}, "[store] prune_every must be a positive number of seconds"),
        ({"dedupe_days": "30"}, "[store] dedupe_days must be float"),
    ],
)
def test_retention_mistakes_are_named(store: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        Config.from_mapping({"store": store})


def test_cimbus_store_prune(tmp_path: Path) -> None:
    runner = CliRunner()
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[store]\nurl = "sqlite:///{tmp_path}/s.db"\n')
    bus = Bus(Config.load(cfg, env={}))
    bus.store.migrate()  # the store exists (`cimbus serve` made it): prune does not create one
    nothing = runner.invoke(app, ["store", "prune", "--config", str(cfg)])
    assert nothing.exit_code == 0 and "nothing to prune" in nothing.output
    bus.store.record(_entry("old", 45))
    bus.store.record(_entry("young", 1))
    dry = runner.invoke(
        app, ["store", "prune", "--config", str(cfg), "--audit-days", "30", "--dry-run"]
    )
    assert dry.exit_code == 0, dry.output
    assert "would delete        1 audit" in dry.output
    assert len(bus.store.audit(limit=10)) == 2
    done = runner.invoke(app, ["store", "prune", "--config", str(cfg), "--audit-days", "30"])
    assert done.exit_code == 0 and "deleted        1 audit" in done.output
    assert [r.message_id for r in bus.store.audit(limit=10)] == ["young"]
    bad = runner.invoke(app, ["store", "prune", "--config", str(cfg), "--audit-days", "-3"])
    assert bad.exit_code == 2 and "greater than or equal to 0" in bad.output
