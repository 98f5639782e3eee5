"""The simulator base answers over the embedded bus and over RabbitMQ (issue 4)."""

from __future__ import annotations

from simulators._core import E, Incoming, Simulator, handles, reply, request

pytest_plugins = ["tests.integration.amqp_fixtures", "tests.integration.sim_fixtures"]


class Echo(Simulator):
    name = "echo"
    system = "HES"

    @handles("get", "MeterReadings")
    def get_readings(self, msg: Incoming) -> bytes:
        return reply(msg, source=self.system, payload=[E.mr("MeterReadings")])


def test_simulator_serves_on_each_transport(sim_world) -> None:
    world = sim_world(
        routes=[{"verb": "get", "noun": "MeterReadings", "target": "HES", "timeout": 10}]
    )
    hes = world.attach(Echo("demo"))
    cis = world.attach(Echo("demo"), "CIS")
    answer = cis.request(
        request("get", "MeterReadings", source="CIS", get_filter=E.gmr("GetMeterReadings")),
        timeout=15,
    )
    assert answer.result == "OK", answer.errors
    assert len(hes.received("get", "MeterReadings")) == 1
