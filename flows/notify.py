"""Create the Prefect automation that sends a message when a `sync-repos` run fails (and, with
`--finished`, when one completes), through a notification block you created once:

    .venv/bin/python -m flows.notify slack-webhook/ghsync-alerts [--finished]

An automation file for `prefect automation create` would have to carry the block's id, which
only the server knows; this script looks the block up by name and replaces an automation of the
same name, so running it twice is harmless.
"""

from __future__ import annotations

import argparse
import asyncio

from prefect.automations import Automation, EventTrigger, Posture, SendNotification
from prefect.client.orchestration import get_client

FLOW = "sync-repos"
FAILED = ("prefect.flow-run.Failed", "prefect.flow-run.Crashed", "prefect.flow-run.TimedOut")
FINISHED = ("prefect.flow-run.Completed",)
SUBJECT = "ghsync: {{ flow_run.name }} {{ flow_run.state.name }}"
BODY = """{{ flow.name }}/{{ deployment.name }} run "{{ flow_run.name }}": \
{{ flow_run.state.name }}.
{{ flow_run.state.message }}
{{ flow_run|ui_url }}"""


async def notify_automation(block_slug: str, *, finished: bool) -> Automation:
    """The automation (not yet saved) for `sync-repos` runs, sending through `block_slug`."""
    block_type, _, name = block_slug.partition("/")
    async with get_client() as client:
        block = await client.read_block_document_by_name(name, block_type)
    states = FAILED + FINISHED if finished else FAILED
    return Automation(
        name=f"ghsync: {FLOW} {'finished' if finished else 'failed'}",
        description=f"A message through {block_slug} when a {FLOW} run ends that way.",
        trigger=EventTrigger(
            expect=set(states),
            match_related={"prefect.resource.role": "flow", "prefect.resource.name": FLOW},
            posture=Posture.Reactive,
            threshold=1,
        ),
        actions=[SendNotification(block_document_id=block.id, subject=SUBJECT, body=BODY)],
    )


async def replace_automation(automation: Automation) -> Automation:
    """Save `automation`, deleting earlier ones of the same name first."""
    async with get_client() as client:
        for earlier in await client.read_automations_by_name(automation.name):
            await client.delete_automation(earlier.id)
    return await automation.acreate()


async def create(block_slug: str, *, finished: bool) -> Automation:
    return await replace_automation(await notify_automation(block_slug, finished=finished))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("block", help="the notification block, TYPE/NAME (slack-webhook/alerts)")
    parser.add_argument("--finished", action="store_true", help="also when a run completes")
    arguments = parser.parse_args()
    created = asyncio.run(create(arguments.block, finished=arguments.finished))
    print(f"automation {created.name!r} created (id {created.id})")


if __name__ == "__main__":
    main()
