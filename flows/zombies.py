"""Create the Prefect automation that marks a flow run Crashed when its heartbeats stop (its
worker's machine died, or the worker was killed with SIGKILL): without it the run stays Running
for good, and a fan-out parent (`flows.fanout`) would wait for it forever instead of running
its repositories again. Prefect's own recipe ("detect zombie flows"); a self-hosted server has
no built-in one:

    .venv/bin/python -m flows.zombies [--within 90]

Flow runs of deployments send a heartbeat every PREFECT_FLOWS_HEARTBEAT_FREQUENCY seconds (at
least 30; 3.8.8's default is 180): set it in every worker's environment, and `--within` to about
three heartbeats. Replaces an automation of the same name, so running it twice is harmless.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta

from prefect.automations import Automation, ChangeFlowRunState, EventTrigger, Posture
from prefect.client.schemas.objects import StateType
from prefect.events.schemas.events import ResourceSpecification

from flows.notify import replace_automation

NAME = "ghsync: crash zombie flow runs"
HEARTBEAT = "prefect.flow-run.heartbeat"
DEFAULT_WITHIN = 90.0
"""Three heartbeats at PREFECT_FLOWS_HEARTBEAT_FREQUENCY=30, as the README's workers send."""


def zombie_automation(within: float) -> Automation:
    """After each heartbeat of a flow run, any event of that run (a heartbeat, a state) is
    expected within `within` seconds; none: the run is marked Crashed."""
    return Automation(
        name=NAME,
        description=f"A flow run with no heartbeat for {within:g} s is marked Crashed.",
        trigger=EventTrigger(
            after={HEARTBEAT},
            expect={"prefect.flow-run.*"},
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=within),
        ),
        actions=[
            ChangeFlowRunState(
                state=StateType.CRASHED,
                name="Crashed",
                force=False,
                message=f"no heartbeat for {within:g} s: its worker or machine died",
            )
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--within",
        type=float,
        default=DEFAULT_WITHIN,
        help="seconds without a heartbeat before a run is marked Crashed (default: 90)",
    )
    within = parser.parse_args().within
    created = asyncio.run(replace_automation(zombie_automation(within)))
    print(f"automation {created.name!r} created (id {created.id})")


if __name__ == "__main__":
    main()
