"""bench/bench_store_writes.py keeps measuring what it says (issue 3): its counts come from
the WAL itself, so a small run must find the commits and the tables the pipeline writes."""

from __future__ import annotations

from bench.bench_store_writes import baseline, run


def test_counts_the_frames_of_every_commit_and_names_their_tables() -> None:
    r = run(4, 40, breakdown=True)
    assert r["commits"] == 10  # 40 messages in batches of 4, one commit each
    assert r["frames_per_commit"] >= 4  # at least the outbox, audit, claim pages
    names = set(r["by_object"])
    assert {"outbox", "audit", "processed_messages", "ix_audit_thread"} <= names
    assert "ix_outbox_message_id" not in names  # dropped by revision 0004
    assert 0 < baseline(4, 40) < r["frames_per_commit"]
