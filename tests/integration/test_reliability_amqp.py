"""Reliability on RabbitMQ with cimbus as a real process (REL-1, REL-2, B2-5).

* cimbus is killed with SIGKILL in the middle of 2,000 outbound messages and restarted: every
  message takes effect exactly once at the receiver (delivered at least once, de-duplicated by
  MessageID; nothing missing);
* RabbitMQ is restarted in the middle of 2,000 messages: the same;
* a poison message (its receiver refuses it) becomes a dead letter with the reason; after the
  receiver is fixed, ``cimbus dlq replay`` delivers it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from lxml import etree

from cim_models.build import build_message
from cim_models.codec import Codec
from endpoints.amqp import AmqpClient
from endpoints.soap.server import ServerThread
from tests.integration.amqp_fixtures import AmqpNames, rabbitmqctl
from tests.waiting import wait_until

pytest_plugins = ["tests.integration.amqp_fixtures"]
pytestmark = [pytest.mark.broker, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
EDE = "http://iec.ch/TC57/2011/EndDeviceEvents#"
N = int(os.environ.get("CIMBUS_REL_N", "2000"))
codec = Codec()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def event(mid: str) -> bytes:
    payload = etree.fromstring(
        f'<EndDeviceEvents xmlns="{EDE}"><EndDeviceEvent><createdDateTime>2026-11-01T10:00:00Z'
        f"</createdDateTime><Assets><mRID>MTR1</mRID></Assets>"
        f'<EndDeviceEventType ref="3.26.136.47"/></EndDeviceEvent></EndDeviceEvents>'.encode()
    )
    return build_message(
        "created", "EndDeviceEvents", message_id=mid, source="HES", payload=[payload]
    )


class Cimbus:
    """``cimbus serve`` in a child process, with its own config file and store."""

    def __init__(
        self, tmp: Path, names: AmqpNames, systems: dict[str, Any], subscribers: list[str]
    ) -> None:
        self.port = free_port()
        self.config = tmp / "cimbus.toml"
        lines = [
            "[bus]",
            "retry_base = 0.1",
            "retry_max = 1.0",
            "max_attempts = 20",  # with retry_max 1 s: ~15 s of retries rides out a broker restart
            "[store]",
            f'url = "sqlite:///{tmp}/cimbus.db"',
            "[soap]",
            f"port = {self.port}",
            "[amqp]",
        ]
        for key, value in names.amqp_section().items():
            lines.append(f"{key} = {value!r}".replace("'", '"').replace("True", "true"))
        for name, spec in systems.items():
            lines.append(f"[systems.{name}]")
            for key, value in spec.items():
                lines.append(f'{key} = "{value}"')
        lines += [
            "[[subscriptions]]",
            'verb = "created"',
            'noun = "EndDeviceEvents"',
            f"subscribers = {subscribers!r}".replace("'", '"'),
        ]
        self.config.write_text("\n".join(lines) + "\n")
        self.log = tmp / "cimbus.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Cimbus:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with open(self.log, "ab") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "cimbus.cli", "serve", "--config", str(self.config)],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"cimbus did not start:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cimbus.cli", *args, "--config", str(self.config)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )


def distinct_ids(names: AmqpNames, queue: str) -> tuple[set[str], int]:
    """Drain a queue: the distinct MessageIDs and the number of deliveries."""
    ids: set[str] = set()
    total = 0
    for _method, props, body in names.get_all(queue, limit=100_000):
        total += 1
        ids.add(props.message_id or codec.parse(body).header()["MessageID"])
    return ids, total


def wait_for(predicate, limit: float, what: str) -> None:
    wait_until(predicate, what, limit, interval=0.2)


def publish_all(names: AmqpNames, ids: list[str]) -> None:
    sender = AmqpClient(names.url, "HES", queue=names.system("HES"), **names.client_kwargs())
    try:
        for mid in ids:
            sender.send(event(mid))
    finally:
        sender.close()


@pytest.fixture
def names(amqp_names: AmqpNames) -> AmqpNames:
    return amqp_names


def test_sigkill_mid_stream_loses_nothing_and_applies_each_once(
    names: AmqpNames, tmp_path: Path
) -> None:
    mdms = names.system("MDMS")
    cimbus = Cimbus(
        tmp_path,
        names,
        {
            "HES": {"transport": "amqp", "address": names.system("HES")},
            "MDMS": {"transport": "amqp", "address": mdms},
        },
        ["MDMS"],
    ).start()
    try:
        ids = [str(uuid.uuid4()) for _ in range(N)]
        # the sender keeps publishing (durable in cimbus.in) while cimbus consumes and fans
        # out to MDMS: cimbus keeps up with one confirming sender, so the kill must come while
        # the stream is still flowing in, not after the sender finished
        sender = threading.Thread(target=publish_all, args=(names, ids), daemon=True)
        sender.start()
        wait_for(lambda: names.depth(mdms) >= N // 4, 60, "a quarter of the messages at MDMS")
        cimbus.kill()  # SIGKILL in the middle of the stream
        at_kill = names.depth(mdms)
        assert at_kill < N, "cimbus finished before it was killed: nothing was tested"
        sender.join(120)
        assert not sender.is_alive(), "the sender did not finish"
        cimbus.start()  # same store, same queues
        wait_for(
            lambda: names.depth(mdms) >= N and names.depth(names.inbound) == 0,
            120,
            "all messages at MDMS",
        )
        time.sleep(1.0)  # let any redelivery land
        got, deliveries = distinct_ids(names, mdms)
        assert got == set(ids), f"missing {len(set(ids) - got)} of {N}"
        print(
            f"\nSIGKILL at {at_kill}/{N}: {deliveries} deliveries for {N} distinct MessageIDs "
            f"({deliveries - N} duplicates, removed by MessageID)"
        )
    finally:
        cimbus.stop()


def test_rabbitmq_restart_mid_stream_loses_nothing(names: AmqpNames, tmp_path: Path) -> None:
    mdms = names.system("MDMS")
    cimbus = Cimbus(
        tmp_path,
        names,
        {
            "HES": {"transport": "amqp", "address": names.system("HES")},
            "MDMS": {"transport": "amqp", "address": mdms},
        },
        ["MDMS"],
    ).start()
    try:
        ids = [str(uuid.uuid4()) for _ in range(N)]
        publish_all(names, ids)
        wait_for(lambda: names.depth(mdms) >= N // 4, 60, "a quarter of the messages at MDMS")
        assert rabbitmqctl("stop_app") is not None
        time.sleep(1.0)
        assert rabbitmqctl("start_app") is not None
        try:
            wait_for(
                lambda: _safe_depth(names, mdms) >= N and _safe_depth(names, names.inbound) == 0,
                120,
                "all messages at MDMS after the broker restart",
            )
        except AssertionError:
            print(
                "DIAG mdms", _safe_depth(names, mdms), "inbound", _safe_depth(names, names.inbound)
            )
            print("DIAG dlq", cimbus.cli("dlq", "list").stdout[-1500:])
            print("DIAG log", cimbus.log.read_text()[-3000:])
            raise
        time.sleep(1.0)
        got, deliveries = distinct_ids(names, mdms)
        assert got == set(ids), f"missing {len(set(ids) - got)} of {N}"
        print(f"\nbroker restart: {deliveries} deliveries for {N} distinct MessageIDs")
    finally:
        cimbus.stop()


def _safe_depth(names: AmqpNames, queue: str) -> int:
    try:
        return names.depth(queue)
    except Exception:  # the broker is still coming back
        return -1


def test_poison_message_dead_letter_then_replay(names: AmqpNames, tmp_path: Path) -> None:
    state = {"accept": False, "got": []}
    app = FastAPI()

    @app.post("/{path:path}")
    async def receive(request: Request, path: str) -> Response:
        body = await request.body()
        if not state["accept"]:
            return Response("unknown usage point in this MDMS build", status_code=400)
        state["got"].append(body)
        message = codec.parse(body)
        reply = build_message(
            "reply",
            "EndDeviceEvents",
            correlation_id=message.header()["MessageID"],
            source="MDMS",
            result="OK",
        )
        envelope = (
            b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
            + reply.split(b"?>", 1)[1]
            + b"</s:Body></s:Envelope>"
        )
        return Response(envelope, media_type="text/xml")

    mdms = ServerThread(app).start()
    cimbus = Cimbus(
        tmp_path,
        names,
        {
            "HES": {"transport": "amqp", "address": names.system("HES")},
            "MDMS": {"transport": "soap", "address": f"{mdms.url}/ws"},
        },
        ["MDMS"],
    ).start()
    try:
        mid = str(uuid.uuid4())
        publish_all(names, [mid])
        wait_for(
            lambda: (
                "1 " in cimbus.cli("dlq", "list").stdout or mid in cimbus.cli("dlq", "list").stdout
            ),
            30,
            "the dead letter",
        )
        listing = cimbus.cli("dlq", "list")
        assert listing.returncode == 0 and mid in listing.stdout
        assert "refused by MDMS" in listing.stdout and "400" in listing.stdout
        dl_id = listing.stdout.split()[0]
        shown = cimbus.cli("dlq", "show", dl_id)
        assert mid in shown.stdout and "unknown usage point" in shown.stdout
        assert state["got"] == []
        state["accept"] = True  # the fix
        replay = cimbus.cli("dlq", "replay", dl_id)
        assert replay.returncode == 0, replay.stderr
        wait_for(lambda: len(state["got"]) == 1, 30, "the replayed delivery")
        assert codec.parse(state["got"][0]).header()["MessageID"] == mid
        assert mid not in cimbus.cli("dlq", "list").stdout  # replayed ones are hidden without --all
    finally:
        cimbus.stop()
        mdms.stop()
