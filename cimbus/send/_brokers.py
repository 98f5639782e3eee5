"""``cimbus send`` over RabbitMQ and Mosquitto (BUS-5, BUS-6, BUS-7): published as the sending
system would publish (endpoints.amqp.AmqpClient / endpoints.mqtt.MqttClient, names from a
cimbus configuration), the answer correlated by MessageID."""

from __future__ import annotations

import contextlib
import re
import time
from typing import Any
from urllib.parse import urlsplit

from cim_models.safexml import DEFAULT_LIMITS, Limits

from ._answer import Answer, read_answer
from ._common import Secrets, TargetError, masked
from ._input import Outgoing

#: a system name as the brokers' names take it (an AMQP queue name is at most 255 bytes;
#: MQTT topic levels must not hold ``/``, ``+`` or ``#``)
SYSTEM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


def check_system(name: str) -> None:
    if not SYSTEM_NAME.fullmatch(name):
        raise TargetError(
            f"--as {name[:80]!r}: a system name is 1-64 letters, digits, '.', '_', ':' or '-', "
            "starting with a letter or digit",
            fatal=True,
        )


class BrokerSender:
    """Sends to cimbus over AMQP or MQTT as a counterpart system would (one client per sending
    system), waiting for the answer correlated by MessageID."""

    def __init__(
        self,
        url: str,
        *,
        system: str | None,
        timeout: float,
        config: Any,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        try:
            scheme = urlsplit(url).scheme
            urlsplit(url).port  # noqa: B018 - raises for a port out of range
        except ValueError as exc:
            raise TargetError(
                f"--to {masked(url)!r} is not a usable URL: {exc}", fatal=True
            ) from None
        if scheme in ("amqp", "amqps"):
            self.transport = "amqp"
        elif scheme in ("mqtt", "mqtts"):
            self.transport = "mqtt"
        else:
            raise TargetError(
                f"--to {masked(url)!r}: give an http(s):// SOAP URL, an amqp(s):// or an "
                "mqtt(s):// broker URL",
                fatal=True,
            )
        if system is not None:
            check_system(system)
        self.url = url
        self.system = system
        self.timeout = timeout
        self.config = config
        self.limits = limits
        self.secrets = Secrets(url)
        self._clients: dict[str, Any] = {}
        self._prepared = False
        self.consumers: int | None = None  # AMQP: consumers of cimbus's inbound queue

    def prepare(self) -> list[str]:
        """Check the broker before the first message (log-in, vhost; on RabbitMQ that cimbus's
        inbound queue exists, so that sending creates nothing there): warnings to print, or
        :class:`TargetError` (fatal)."""
        from conformance.harness import HarnessError, probe_amqp, probe_mqtt

        probe = probe_amqp if self.transport == "amqp" else probe_mqtt
        try:
            probe(self.url, min(self.timeout, 10.0))
        except HarnessError as exc:
            raise TargetError(self.secrets.mask(str(exc)), fatal=True) from None
        self._prepared = True
        if self.transport != "amqp":
            return []
        return self._inbound_queue()

    def _inbound_queue(self) -> list[str]:
        import pika
        import pika.exceptions as pe

        queue = self.config.amqp.inbound_queue
        params = pika.URLParameters(self.url)
        params.connection_attempts = 1
        params.socket_timeout = min(self.timeout, 10.0)
        try:
            conn = pika.BlockingConnection(params)
        except Exception as exc:  # probed a moment ago; say it in one line anyway
            raise TargetError(
                f"broker {masked(self.url)}: {self.secrets.mask(str(exc) or type(exc).__name__)}",
                fatal=True,
            ) from None
        try:
            try:
                declared = conn.channel().queue_declare(queue, passive=True)
            except pe.ChannelClosedByBroker as exc:
                if exc.reply_code != 404:
                    raise
                raise TargetError(
                    f"broker {masked(self.url)} has no queue {queue!r}: no cimbus has run with "
                    "[amqp] enabled on this broker and vhost, or its names are not these (give "
                    "its configuration with --config); nothing was sent or created",
                    fatal=True,
                ) from None
            self.consumers = declared.method.consumer_count
        finally:
            with contextlib.suppress(Exception):
                conn.close()
        if self.consumers == 0:
            return [
                f"nobody consumes {queue!r} now (cimbus is not running or not connected): "
                f"requests wait there and expire unanswered after {self.timeout:g} s"
            ]
        return []

    def client(self, system: str) -> Any:
        found = self._clients.get(system)
        if found is not None:
            return found
        if not self._prepared:
            self.prepare()
        if self.transport == "amqp":
            from endpoints.amqp import AmqpClient

            amqp = self.config.amqp
            client = AmqpClient(
                self.url,
                system,
                exchange=amqp.exchange,
                inbound=amqp.inbound_queue,
                dead_letter_exchange=amqp.dead_letter_exchange,
                serves=False,
                # a request nobody answered in time expires unconsumed: it is not executed
                # later, after this command has reported that it got no answer
                message_ttl=self.timeout,
            )
        else:
            from endpoints.mqtt import MqttClient

            mqtt = self.config.mqtt
            client = MqttClient(
                self.url,
                system,
                topic_prefix=mqtt.topic_prefix,
                qos=mqtt.qos,
                timeout=self.timeout,
                message_expiry=self.timeout,  # as the AMQP TTL above
            )
        self._clients[system] = client
        return client

    def send(self, item: Outgoing) -> Answer:
        from endpoints.client import ReplyTimeout

        system = self.system or item.source or "cimbus-send"
        if not SYSTEM_NAME.fullmatch(system):  # the message's own Source: that message only
            return Answer(
                "UNSENT",
                f"Header/Source {system[:80]!r} is not a name a broker takes for a system "
                "(1-64 letters, digits, '.', '_', ':' or '-'); give one with --as",
            )
        client = self.client(system)
        started = time.monotonic()
        try:
            if item.is_reply:
                client.send(item.body(), expires=False)  # a late reply is still recorded
                what = (
                    "RabbitMQ confirmed it"
                    if self.transport == "amqp"
                    else "the broker acknowledged it"
                )
                return Answer(
                    "SENT", f"published as {system}; {what} (cimbus does not answer a reply)"
                )
            body = client.request(item.body(), timeout=self.timeout)
        except ReplyTimeout:
            if self.consumers == 0:
                why = "nobody consumed it; it expires on the broker unconsumed"
            else:
                why = (
                    "if cimbus had not taken it by then it expires on the broker; if it had, "
                    "it may still be processed: see cimbus's audit trail for this MessageID"
                )
            return Answer("TIMEOUT", f"no answer from cimbus within {self.timeout:g} s ({why})")
        except Exception as exc:  # a broker that went away meanwhile: one line, not a traceback
            reason = self.secrets.mask(str(exc) or type(exc).__name__)
            return Answer("ERROR", f"{self.transport.upper()}: {reason}")
        answer = read_answer(body, limits=self.limits)
        answer.seconds = time.monotonic() - started
        return answer

    def close(self) -> None:
        for client in self._clients.values():
            with contextlib.suppress(Exception):  # closing must not hide the report
                client.close()
        self._clients.clear()
