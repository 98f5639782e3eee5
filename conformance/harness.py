"""The worlds a conformance run plays in (issue 5): the system under test plus the simulators
playing its counterparts, connected over one transport.

* ``embedded`` (default): cimbus in-process on the embedded bus with a fresh SQLite store; the
  harness owns cimbus's clock, so day-boundary rules can be checked by moving time.
* ``amqp`` / ``mqtt``: cimbus in-process with that transport enabled and the simulators
  connected through RabbitMQ / Mosquitto; with ``--amqp URL`` and no in-process cimbus
  (``target`` given) the simulators attach to a *deployed* target's broker instead.
* ``soap``: the requesting system (the ROR) calls cimbus's SOAP endpoint; the other
  counterparts stay on the embedded bus (in-process) or on ``--amqp`` (deployed target).

Black-box: scenarios touch only the simulators; the in-process cimbus is built from
``config/demo.toml`` (its routes are what a deployed target needs too) and provisioned from the
profile the simulators load.
"""

from __future__ import annotations

import contextlib
import shutil
import ssl
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from simulators import SIMULATORS
from simulators._core import Profile, SimClock, load_profile

from .suite import Observed

__all__ = [
    "DEMO_CONFIG",
    "TRANSPORTS",
    "HarnessError",
    "World",
    "build_world",
    "cimbus_config",
    "masked",
    "probe",
    "registry_toml",
]

#: seconds a request the conformance clients publish on RabbitMQ or Mosquitto lives unconsumed:
#: the simulators' reply timeout, after which nobody waits for its answer any more
REQUEST_TTL = 30.0

REPO = Path(__file__).resolve().parents[1]
DEMO_CONFIG = REPO / "config" / "demo.toml"
TRANSPORTS = ("embedded", "soap", "amqp", "mqtt")


class HarnessError(RuntimeError):
    """The world could not be built (bad options, unreachable target or broker)."""


class SplitClient:
    """Requests over one client (SOAP to the target), everything routed to the system over
    another (its queue on the embedded bus or the broker)."""

    def __init__(self, requests: Any, serving: Any) -> None:
        self.requests = requests
        self.serving = serving
        self.system = serving.system

    def request(self, body: bytes, timeout: float = 30.0) -> bytes:
        return self.requests.request(body, timeout=timeout)

    def send(self, body: bytes) -> None:
        self.serving.send(body)

    def serve(self, handler: Any) -> None:
        self.serving.serve(handler)

    def close(self) -> None:
        for c in (self.requests, self.serving):
            with contextlib.suppress(Exception):
                c.close()


@dataclass
class World:
    transport: str
    description: str
    profile: Profile
    clock: SimClock
    controls_clock: bool
    sims: dict[str, Any] = field(default_factory=dict)
    runtime: Any = None
    soap_server: Any = None
    cleanup: list[Any] = field(default_factory=list)
    #: which set of the profile's usage points the scenarios use (``--round``): against a
    #: deployed target whose per-day limits were used by an earlier run, the next set
    round: int = 0

    def sim(self, name: str) -> Any:
        try:
            return self.sims[name]
        except KeyError:
            raise HarnessError(
                f"the scenario needs the {name} simulator, which this world does not run"
            ) from None

    def mark(self) -> int:
        return max((e.seq for s in self.sims.values() for e in s.journal), default=0)

    def observed_since(self, mark: int) -> list[Observed]:
        """Every message the simulators sent to or received from the target since ``mark``."""
        out = []
        for sim in self.sims.values():
            for e in sim.journal:
                if e.seq <= mark:
                    continue
                if e.direction == "out":
                    frm, to = sim.system, "cimbus"
                elif e.direction == "in":
                    frm, to = "cimbus", sim.system
                else:
                    frm, to = sim.system, "(fault)"
                out.append(
                    Observed(
                        e.seq,
                        e.at,
                        frm,
                        to,
                        e.verb,
                        e.noun,
                        e.message_id,
                        e.correlation_id,
                        e.result,
                        e.summary,
                    )
                )
        return sorted(out, key=lambda o: o.seq)

    def close(self) -> None:
        for sim in self.sims.values():
            with contextlib.suppress(Exception):
                sim.close()
        if self.soap_server is not None:
            with contextlib.suppress(Exception):
                self.soap_server.stop()
        if self.runtime is not None:
            with contextlib.suppress(Exception):
                self.runtime.stop()
        self.clock.stop()
        for fn in self.cleanup:
            with contextlib.suppress(Exception):
                fn()


def cimbus_config(
    transport: str,
    *,
    store_url: str,
    amqp: dict[str, Any] | None = None,
    mqtt_url: str | None = None,
    mqtt: dict[str, Any] | None = None,
    names: Any = None,
    registry: Path | None = None,
    profile: Profile | None = None,
) -> Any:
    """config/demo.toml with the counterpart systems moved to ``transport`` (amqp / mqtt use
    ``names`` for unique queue names) and a private store; with ``profile``, every system
    also acts for the profile's organisations that name it (e.g. the load profile's RORs for
    the CIS)."""
    import tomllib

    from cimbus.runtime import config_from_mapping

    data = tomllib.loads(DEMO_CONFIG.read_text(encoding="utf-8"))
    data["store"] = {"url": store_url, "payload_policy": "all"}
    if registry is not None:
        data["smt"] = {**data.get("smt", {}), "registry": str(registry)}
    data["bus"] = {**data.get("bus", {}), "retry_base": 0.05, "retry_max": 1.0}
    for org in profile.organizations if profile is not None else ():
        spec = data["systems"].get(org.system)
        if spec is not None and org.id not in spec.setdefault("organizations", []):
            spec["organizations"].append(org.id)
    if transport in ("amqp", "mqtt"):
        for name, spec in data["systems"].items():
            if spec.get("transport") == "embedded":
                spec["transport"] = transport
                if names is not None:
                    spec["address"] = names(name)
        if transport == "amqp":
            data["amqp"] = {"enabled": True, **(amqp or {})}
        else:
            data["mqtt"] = {
                "enabled": True,
                **({"url": mqtt_url} if mqtt_url else {}),
                **(mqtt or {}),
            }
    return config_from_mapping(data, source=f"{DEMO_CONFIG} ({transport})")


def build_world(
    transport: str = "embedded",
    *,
    target: str | None = None,
    amqp_url: str | None = None,
    mqtt_url: str | None = None,
    profile: str | Profile = "demo",
    simulators: tuple[str, ...] = ("cis", "headend", "mdms"),
    start: datetime | None = None,
    soap_port: int | None = None,
    round: int = 0,
) -> World:
    """Start the system under test (unless ``target`` names a deployed one) and the
    simulators, connected over ``transport``."""
    if transport not in TRANSPORTS:
        raise HarnessError(f"unknown transport {transport!r}; use one of {', '.join(TRANSPORTS)}")
    prof = load_profile(profile) if isinstance(profile, str) else profile
    clock = SimClock(start or datetime.now(UTC), realtime=True).start()
    remote = target is not None
    world = World(transport, "", prof, clock, controls_clock=not remote, round=round)
    try:
        if remote:
            _remote(world, transport, target, amqp_url, simulators)
        else:
            _in_process(world, transport, amqp_url, mqtt_url, simulators, soap_port)
    except Exception:
        world.close()
        raise
    return world


def _make_sims(world: World, names: tuple[str, ...]) -> dict[str, Any]:
    sims = {}
    for name in names:
        cls = SIMULATORS[name].load()
        sims[name] = cls(world.profile, clock=world.clock)
    return sims


def _in_process(
    world: World,
    transport: str,
    amqp_url: str | None,
    mqtt_url: str | None,
    names: tuple[str, ...],
    soap_port: int | None = None,
) -> None:
    from cimbus.runtime import Runtime

    tmp = Path(tempfile.mkdtemp(prefix="cimbus-conformance-"))
    world.cleanup.append(lambda: shutil.rmtree(tmp, ignore_errors=True))
    store_url = f"sqlite:///{tmp}/cimbus.db"
    registry = tmp / "smt-registry.toml"
    registry.write_text(registry_toml(world.profile), encoding="utf-8")
    prefix = f"conf{uuid.uuid4().hex[:8]}"
    if transport == "amqp":
        url = amqp_url or "amqp://guest:guest@127.0.0.1:5672/%2F"
        amqp = {
            "url": url,
            "exchange": prefix,
            "inbound_queue": f"{prefix}.in",
            "dead_letter_exchange": f"{prefix}.dlx",
        }
        cfg = cimbus_config(
            "amqp",
            store_url=store_url,
            amqp=amqp,
            names=lambda n: f"{prefix}.system.{n}",
            registry=registry,
            profile=world.profile,
        )
        world.cleanup.append(lambda: _amqp_cleanup(url, prefix, cfg))
    elif transport == "mqtt":
        cfg = cimbus_config(
            "mqtt",
            store_url=store_url,
            mqtt_url=mqtt_url,
            mqtt={"topic_prefix": prefix, "client_id": prefix},
            names=lambda n: f"{prefix}/system/{n}",
            registry=registry,
            profile=world.profile,
        )
    else:
        cfg = cimbus_config(
            "embedded", store_url=store_url, registry=registry, profile=world.profile
        )
    runtime = Runtime(cfg, clock=world.clock)
    world.runtime = runtime
    runtime.start()
    if transport == "amqp":
        amqp_t = [t for t in runtime.transports if getattr(t, "name", "") == "amqp"]
        if not amqp_t or not amqp_t[0].ready:
            raise HarnessError(f"cimbus could not connect to RabbitMQ at {cfg.amqp.url}")
    world.description = f"cimbus in-process ({transport}; {cfg.store.url})"
    sims = _make_sims(world, names)
    if transport == "soap" or soap_port is not None:
        from endpoints.soap.app import create_app
        from endpoints.soap.server import ServerThread

        world.soap_server = ServerThread(
            create_app(runtime.bus, cfg.soap), port=soap_port or 0
        ).start()
    if transport == "soap":
        from endpoints.soap.client import SoapClient

        world.description = (
            f"cimbus in-process (SOAP at {world.soap_server.url}; counterparts on the embedded bus)"
        )
    for name, sim in sims.items():
        client = _client_for(world, transport, sim.system, cfg)
        if transport == "soap" and name == "cis":
            client = SplitClient(SoapClient(world.soap_server.url, sim.system), client)
        sim.attach(client)
        world.sims[name] = sim


def _client_for(world: World, transport: str, system: str, cfg: Any) -> Any:
    if transport in ("embedded", "soap"):
        from endpoints.embedded import EmbeddedClient

        return EmbeddedClient(world.runtime.broker, system)
    if transport == "amqp":
        from endpoints.amqp import AmqpClient

        return AmqpClient(
            cfg.amqp.url,
            system,
            queue=cfg.routes.systems[system].address,
            exchange=cfg.amqp.exchange,
            inbound=cfg.amqp.inbound_queue,
            dead_letter_exchange=cfg.amqp.dead_letter_exchange,
            message_ttl=REQUEST_TTL,
        )
    from endpoints.mqtt import MqttClient

    return MqttClient(
        cfg.mqtt.url, system, topic_prefix=cfg.mqtt.topic_prefix, message_expiry=REQUEST_TTL
    )


def _remote(
    world: World, transport: str, target: str | None, amqp_url: str | None, names: tuple[str, ...]
) -> None:
    """A deployed target: ``--target amqp://...`` (everything over its broker) or ``--target
    http://host:port`` (the ROR over SOAP, the counterparts on ``--amqp``)."""
    if target and target.startswith(("amqp://", "amqps://")):
        amqp_url, target = target, None
    elif not (target and target.startswith(("http://", "https://"))):
        raise HarnessError(
            f"--target must be an http(s):// SOAP URL or an amqp:// broker URL, not {target!r}"
        )
    if amqp_url is None:
        raise HarnessError(
            "a deployed target needs its broker for the counterpart simulators: give --amqp URL "
            "(the target must route its systems to the default queues cimbus.system.<NAME>)"
        )
    from endpoints.amqp import AmqpClient

    sims = _make_sims(world, names)
    for name, sim in sims.items():
        serving = AmqpClient(amqp_url, sim.system, message_ttl=REQUEST_TTL)
        if not serving.publisher.ready:
            serving.close()
            raise HarnessError(f"cannot connect to the target's broker at {masked(amqp_url)}")
        client = serving
        if name == "cis" and target:
            from endpoints.soap.client import SoapClient

            client = SplitClient(SoapClient(target, sim.system), serving)
        sim.attach(client)
        world.sims[name] = sim
    world.description = " ".join(
        filter(None, ("deployed target", target, f"(counterparts over AMQP at {amqp_url})"))
    )


def registry_toml(profile: Profile) -> str:
    """The profile's usage points as an SMT registry file (docs/smt.md): what a TDSP's
    provisioning feed gives SMT. ``cimbus smt registry`` writes the same for a deployed target."""
    lines = ["# SMT registry generated from simulator profile " + repr(profile.name), ""]
    for m in profile.meters:
        lines += [
            "[[usage_points]]",
            f'esiid = "{m.esiid}"',
            f'meter_number = "{m.meter}"',
            f'ror = "{m.ror}"',
            f"ams = {str(m.ams).lower()}",
            f"provisioned = {str(m.provisioned).lower()}",
            f"interval_minutes = {m.interval_minutes}",
            f"daily_read = {str(m.daily_read).lower()}",
            "",
        ]
    return "\n".join(lines)


def _amqp_cleanup(url: str, prefix: str, cfg: Any) -> None:
    import pika

    conn = pika.BlockingConnection(pika.URLParameters(url))
    try:
        ch = conn.channel()
        queues = [cfg.amqp.inbound_queue, f"{prefix}.reply"] + [
            s.address for s in cfg.routes.systems.values() if s.transport == "amqp"
        ]
        for q in queues:
            for name in (q, f"{q}.dead"):
                if ch.is_closed:
                    ch = conn.channel()
                with contextlib.suppress(Exception):
                    ch.queue_delete(name)
        for ex in (cfg.amqp.exchange, cfg.amqp.dead_letter_exchange):
            if ch.is_closed:
                ch = conn.channel()
            with contextlib.suppress(Exception):
                ch.exchange_delete(ex)
    finally:
        with contextlib.suppress(Exception):
            conn.close()


# ---------------------------------------------------------------------------- probing
def masked(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for messages)."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        user = parts.username or ""
        host = parts.netloc.rsplit("@", 1)[1]
        return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
    except ValueError:
        return url


def _host_problem(url: str, schemes: tuple[str, ...]) -> str | None:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"malformed URL ({exc})"
    if parts.scheme not in schemes:
        return f"malformed URL (the scheme must be {' or '.join(schemes)})"
    host = parts.hostname or ""
    if not host:
        return "malformed URL (no host)"
    if any(c.isspace() for c in parts.netloc) or "%" in host:
        return "malformed URL (the host contains a space or an escape)"
    if port == 0:
        return "malformed URL (port 0)"
    return None


def _bounded(fn: Any, timeout: float, what: str) -> None:
    """Run ``fn`` (which raises HarnessError on failure) within ``timeout`` seconds."""
    import threading

    box: list[BaseException] = []

    def run() -> None:
        try:
            fn()
        except BaseException as exc:
            box.append(exc)

    t = threading.Thread(target=run, name="conformance probe", daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise HarnessError(f"{what}: no answer within {timeout:g} s")
    if box:
        raise box[0]


def probe_soap(url: str, timeout: float = 10.0) -> None:
    """The deployed target's SOAP endpoint answers HTTP at all (any status: a reverse proxy's
    404 to a GET is still an answer); raise :class:`HarnessError` naming the URL otherwise."""
    import httpx

    problem = _host_problem(url, ("http", "https"))
    if problem:
        raise HarnessError(f"target {masked(url)}: {problem}")
    base = url.rstrip("/")
    wsdl = f"{base if base.endswith('/ws') else base + '/ws'}/GetMeterReadings?wsdl"

    def get() -> None:
        try:
            with (
                httpx.Client(timeout=httpx.Timeout(timeout, connect=timeout)) as http,
                http.stream("GET", wsdl) as response,
            ):
                # the status line arrived: something serves HTTP there (any status), unless
                # it is a gateway saying the target behind it does not answer
                if response.status_code in (502, 503, 504):
                    raise HarnessError(
                        f"target {masked(url)} is unreachable: HTTP {response.status_code} "
                        f"{response.reason_phrase} from {wsdl}"
                    )
        except httpx.TimeoutException:
            raise HarnessError(
                f"target {masked(url)} is unreachable: no answer within {timeout:g} s"
            ) from None
        except (httpx.HTTPError, OSError, ValueError) as exc:
            reason = str(exc) or type(exc).__name__
            raise HarnessError(f"target {masked(url)} is unreachable: {reason}") from None

    _bounded(get, timeout + 2, f"target {masked(url)} is unreachable")


def probe_amqp(url: str, timeout: float = 10.0) -> None:
    """Connect to the broker with the URL's credentials and vhost, then disconnect; raise
    :class:`HarnessError` with the (masked) URL and the reason otherwise: unreachable, TLS
    handshake failed, login or vhost refused, or a peer that is no AMQP 0-9-1 broker (silent,
    closing the connection, answering something else: quoted). Bounded by ``timeout``."""
    import pika
    import pika.exceptions as pe
    from pika.adapters.select_connection import SelectConnection
    from pika.adapters.utils.connection_workflow import AMQPConnectorStackTimeout

    problem = _host_problem(url, ("amqp", "amqps"))
    if problem:
        raise HarnessError(f"broker {masked(url)}: {problem}")
    try:
        params = pika.URLParameters(url)
    except ValueError as exc:
        raise HarnessError(f"broker {masked(url)}: malformed URL ({exc})") from None
    params.connection_attempts = 1
    params.retry_delay = 0
    params.socket_timeout = timeout
    params.stack_timeout = timeout
    params.blocked_connection_timeout = timeout
    where = f"broker {masked(url)}"
    not_amqp = "(is it RabbitMQ?)"
    first: list[bytes] = []  # the first bytes the peer sent, to quote a peer that is no broker

    class Recording(SelectConnection):
        def _on_data_available(self, data_in: bytes) -> None:
            if not first and data_in:
                first.append(bytes(data_in[:64]))
            super()._on_data_available(data_in)

    def not_a_broker() -> str:
        """The peer spoke, but no AMQP 0-9-1 (a RabbitMQ starts with a Connection.Start method
        frame: type 1, channel 0): what it said, quoted."""
        text = first[0].split(b"\r\n", 1)[0][:40].decode("latin-1")
        version = " (cimbus speaks AMQP 0-9-1)" if first[0].startswith(b"AMQP") else ""
        return (
            f"{where} answered the AMQP handshake with {text!r}, not a Connection.Start"
            f"{version} {not_amqp}"
        )

    def spoke_amqp() -> bool:
        return bool(first) and first[0][:3] == b"\x01\x00\x00"

    def connect() -> None:
        try:
            # _impl_class: pika's hook for its connection class (here: one that keeps the
            # first bytes received, which pika's errors do not tell)
            conn = pika.BlockingConnection(params, _impl_class=Recording)
        except pe.ProbableAuthenticationError:
            raise HarnessError(f"{where}: login refused (wrong user name or password)") from None
        except pe.ProbableAccessDeniedError:
            raise HarnessError(
                f"{where}: access to virtual host {params.virtual_host!r} refused "
                "(it does not exist, or the user has no permission on it)"
            ) from None
        except pe.IncompatibleProtocolError:
            # the connection ended (closed, reset, or by pika on bytes it could not read)
            # before a Connection.Start was read
            if first:
                raise HarnessError(not_a_broker()) from None
            raise HarnessError(
                f"{where} closed the connection during the AMQP handshake {not_amqp}"
            ) from None
        except AMQPConnectorStackTimeout as exc:
            # pika's one deadline over TCP connect, TLS and the AMQP handshake: its message
            # names the phase it ran out in
            phase = str(exc)
            if phase.startswith("Timeout while connecting"):
                raise HarnessError(
                    f"{where} is unreachable: no answer within {timeout:g} s"
                ) from None
            if phase.startswith("Timeout while setting up transport") and params.ssl_options:
                raise HarnessError(
                    f"{where}: TLS handshake failed: no answer within {timeout:g} s"
                ) from None
            if first and not spoke_amqp():
                raise HarnessError(not_a_broker()) from None
            if first:  # a Connection.Start came, the rest of the handshake did not
                raise HarnessError(
                    f"{where} did not complete the AMQP handshake within {timeout:g} s"
                ) from None
            raise HarnessError(
                f"{where} did not answer the AMQP handshake within {timeout:g} s {not_amqp}"
            ) from None
        except pe.AMQPConnectionError as exc:
            raise HarnessError(f"{where} is unreachable: {_reason(exc)}") from None
        except OSError as exc:  # ssl.SSLError included: TCP connected, then TLS failed
            if params.ssl_options and isinstance(exc, ssl.SSLError):
                raise HarnessError(
                    f"{where}: TLS handshake failed: {_tls_reason(exc, timeout)}"
                ) from None
            raise HarnessError(f"{where} is unreachable: {_reason(exc)}") from None
        except Exception as exc:  # pika's AMQPConnector* errors are no AMQPError nor OSError
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            raise HarnessError(f"{where}: the AMQP handshake failed: {reason}") from None
        with contextlib.suppress(Exception):
            conn.close()

    _bounded(connect, timeout + 2, f"{where} is unreachable")


def _reason(exc: BaseException) -> str:
    """The innermost readable reason of a pika connection error (they nest)."""
    seen = exc
    for _ in range(5):
        inner = next((a for a in seen.args if isinstance(a, BaseException)), None)
        if inner is None:
            break
        seen = inner
    if isinstance(seen, OSError) and seen.strerror:
        return seen.strerror
    import re

    text = f"{seen} {seen!r} {seen.args!r}"
    found = re.search(r"(\w+Error)\(\d+, '([^']+)'\)", text)  # pika keeps only the repr
    return found.group(2) if found else (str(seen) or type(seen).__name__)


def probe_mqtt(url: str, timeout: float = 10.0) -> None:
    """An MQTT 5 handshake with the broker as cimbus's clients make it (the URL's user name and
    password; ``mqtts://``: TLS, the broker's certificate and host name checked), then a clean
    DISCONNECT. Raise :class:`HarnessError` with the (masked) URL and the reason otherwise:
    unreachable, TLS handshake failed, CONNACK refused (bad user name or password, not
    authorised, any other reason code) or no CONNACK (not an MQTT broker). Bounded by
    ``timeout`` as a whole; paho runs without a network thread, and every socket is closed."""
    import select
    import time
    import uuid

    import paho.mqtt.client as mqtt

    from endpoints.mqtt._connection import BrokerAddress

    problem = _host_problem(url, ("mqtt", "mqtts", "tcp", "ssl"))
    if problem:
        raise HarnessError(f"broker {masked(url)}: {problem}")
    address = BrokerAddress.from_url(url)
    where = f"broker {masked(url)}"
    not_mqtt = "(is it an MQTT broker?)"

    def handshake() -> None:
        deadline = time.monotonic() + timeout
        outcome: dict[str, Any] = {}
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"cimbus-probe-{uuid.uuid4().hex[:12]}",
            protocol=mqtt.MQTTv5,
            reconnect_on_failure=False,
        )
        client.connect_timeout = timeout
        tls = None
        if address.tls:
            tls = _ProbeTlsContext(lambda: deadline - time.monotonic())
            client.tls_set_context(tls)
        if address.username:
            client.username_pw_set(address.username, address.password)
        client.on_connect = lambda c, u, flags, reason, props: outcome.setdefault("connack", reason)
        try:
            try:
                client.connect(address.host, address.port, clean_start=True)
            except (OSError, ValueError) as exc:  # ssl.SSLError and CertificateError included
                if tls is not None and tls.wrapped:  # TCP connected: the TLS handshake failed
                    raise HarnessError(
                        f"{where}: TLS handshake failed: {_tls_reason(exc, timeout)}"
                    ) from None
                reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
                raise HarnessError(f"{where} is unreachable: {reason}") from None
            rc = mqtt.MQTT_ERR_SUCCESS
            first_seen = False
            while "connack" not in outcome and rc == mqtt.MQTT_ERR_SUCCESS:
                remaining = deadline - time.monotonic()
                sock = client.socket()
                if remaining <= 0 or sock is None:
                    break
                readable = getattr(sock, "pending", lambda: 0)() > 0  # TLS-buffered bytes
                try:
                    if not readable:
                        wants = [sock] if client.want_write() else []
                        r, w, _ = select.select([sock], wants, [], min(remaining, 0.2))
                        readable = bool(r)
                        if w:
                            rc = client.loop_write()
                    if readable and not first_seen and tls is None:
                        first_seen = True
                        _check_first_bytes(sock, where)
                    if readable and rc == mqtt.MQTT_ERR_SUCCESS:
                        rc = client.loop_read()
                except HarnessError:
                    raise
                except Exception as exc:  # paho could not parse what came
                    raise HarnessError(
                        f"{where} answered the MQTT handshake with something that is not a "
                        f"CONNACK ({exc or type(exc).__name__}) {not_mqtt}"
                    ) from None
            reason = outcome.get("connack")
            if reason is None:
                if rc == mqtt.MQTT_ERR_SUCCESS and client.socket() is not None:
                    raise HarnessError(
                        f"{where} did not answer the MQTT handshake within {timeout:g} s {not_mqtt}"
                    )
                if rc in (mqtt.MQTT_ERR_CONN_LOST, mqtt.MQTT_ERR_NO_CONN, mqtt.MQTT_ERR_SUCCESS):
                    raise HarnessError(
                        f"{where} closed the connection during the MQTT handshake {not_mqtt}"
                    )
                raise HarnessError(
                    f"{where} answered the MQTT handshake with something that is not a "
                    f"CONNACK ({mqtt.error_string(rc)}) {not_mqtt}"
                )
            if reason.is_failure:
                raise HarnessError(_connack_refusal(where, reason, address.username))
        finally:
            if "connack" in outcome and not outcome["connack"].is_failure:
                with contextlib.suppress(Exception):
                    client.disconnect()  # no network thread: DISCONNECT sent, socket closed
            with contextlib.suppress(Exception):
                sock = client.socket()
                if sock is not None:
                    sock.close()
            for s in tls.wrapped if tls is not None else ():
                with contextlib.suppress(Exception):
                    s.close()

    _bounded(handshake, timeout + 2, f"{where} is unreachable")


class _ProbeTlsContext(ssl.SSLContext):
    """The TLS settings of endpoints/mqtt (paho's ``tls_set(cert_reqs=CERT_REQUIRED)``: the
    system's CAs, the certificate and the host name checked), remembering the sockets it
    wrapped: paho wraps right after the TCP connection is made, so a failure after that is the
    TLS handshake's, and the socket can be closed. The handshake gets what is left of the
    probe's time."""

    def __new__(cls, remaining: Any) -> _ProbeTlsContext:
        return super().__new__(cls, ssl.PROTOCOL_TLS_CLIENT)

    def __init__(self, remaining: Any) -> None:
        super().__init__()
        self.verify_mode = ssl.CERT_REQUIRED
        self.load_default_certs()
        self.remaining = remaining
        self.wrapped: list[Any] = []

    def wrap_socket(self, sock: Any, *args: Any, **kwargs: Any) -> Any:
        wrapped = super().wrap_socket(sock, *args, **kwargs)
        self.wrapped.append(wrapped)
        # paho asks for the handshake next, with its own (full) timeout; done here it gets
        # what is left of the probe's time, and paho's do_handshake() is then a no-op
        wrapped.settimeout(max(self.remaining(), 0.001))
        wrapped.do_handshake()
        return wrapped


def _check_first_bytes(sock: Any, where: str) -> None:
    """The first bytes a plain-TCP peer sent (peeked: paho still reads them) begin a CONNACK,
    or :class:`HarnessError` quoting them (an HTTP status line, RabbitMQ's AMQP header)."""
    import socket

    try:
        first = sock.recv(64, socket.MSG_PEEK)
    except OSError:
        return  # paho reads the error itself
    if first and first[0] != 0x20:  # 0x20: CONNACK
        text = first.split(b"\r\n", 1)[0][:40].decode("latin-1")
        raise HarnessError(
            f"{where} answered the MQTT handshake with {text!r}, not a CONNACK "
            "(is it an MQTT broker?)"
        )


def _tls_reason(exc: BaseException, timeout: float) -> str:
    """Why the TLS handshake failed, in one line."""
    import re

    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {exc.verify_message}"
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} s"
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return re.sub(r" \(_ssl\.c:\d+\)$", "", text)


#: MQTT 5 CONNACK reason codes (paho reports an MQTT 3 broker's refusal of MQTT 5 as 0x84)
UNSUPPORTED_PROTOCOL_VERSION = 0x84
BAD_USER_NAME_OR_PASSWORD = 0x86
NOT_AUTHORIZED = 0x87


def _connack_refusal(where: str, reason: Any, username: str | None) -> str:
    """One line for a CONNACK refusing the connection, by its MQTT 5 reason code."""
    code = getattr(reason, "value", reason)
    if code == BAD_USER_NAME_OR_PASSWORD:
        return f"{where}: login refused (bad user name or password)"
    if code == NOT_AUTHORIZED:  # Mosquitto's answer to a wrong password too
        if username:
            why = f"wrong password, or user {username!r} may not connect"
        else:
            why = "the broker refuses anonymous clients: give user:password in the URL"
        return f"{where}: login refused (not authorised: {why})"
    if code == UNSUPPORTED_PROTOCOL_VERSION:
        return f"{where}: the broker refused the connection: {reason} (cimbus speaks MQTT 5)"
    return f"{where}: the broker refused the connection: {reason} (CONNACK 0x{code:02x})"


def probe(
    transport: str,
    *,
    target: str | None = None,
    amqp_url: str | None = None,
    mqtt_url: str | None = None,
    timeout: float = 10.0,
) -> None:
    """Before the first scenario: everything the run will talk to answers (the deployed
    target's SOAP endpoint, its broker with the given credentials and vhost; in-process, the
    broker of ``--transport amqp/mqtt``), each within ``timeout`` seconds. Raises
    :class:`HarnessError` (one line naming the URL, password masked, and the reason); nothing
    is sent to any broker before every probe passed."""
    if target is not None:
        if target.startswith(("amqp://", "amqps://")):
            amqp_url = target
        elif target.startswith(("http://", "https://")):
            if amqp_url is None:
                raise HarnessError(
                    "a deployed target needs its broker for the counterpart simulators: give "
                    "--amqp URL (the target must route its systems to the default queues "
                    "cimbus.system.<NAME>)"
                )
            probe_soap(target, timeout)
        else:
            raise HarnessError(
                f"--target must be an http(s):// SOAP URL or an amqp:// broker URL, not "
                f"{masked(target)!r}"
            )
        probe_amqp(amqp_url, timeout)
    elif transport == "amqp":
        probe_amqp(amqp_url or "amqp://guest:guest@127.0.0.1:5672/%2F", timeout)
    elif transport == "mqtt":
        probe_mqtt(mqtt_url or "mqtt://127.0.0.1:1884", timeout)
