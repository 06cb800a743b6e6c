"""What the tasks of one flow run share: the GitHub client, the warehouse path, the options.

Tasks take plain, stable values as parameters (so Prefect can name, cache and show them) and
find the live objects here. Tokens live only inside the client's pool: never in a parameter,
a result, a log line or an artifact.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import (
    AbstractAsyncContextManager,
    AbstractContextManager,
    asynccontextmanager,
    nullcontext,
)
from contextvars import ContextVar
from dataclasses import dataclass

from prefect import get_run_logger
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate
from prefect.settings import get_current_settings

from flows.prefect_server import is_temporary
from flows.slots import Slots, ensure_limit
from ghsync import (
    GitHubClient,
    Lake,
    Location,
    SyncOptions,
    TokenPool,
    WarehouseWriter,
    presence,
    runs_path,
    scoped,
)


@dataclass(frozen=True)
class Runtime:
    client: GitHubClient
    warehouse: WarehouseWriter
    """Every read and write of the warehouse file goes through it."""
    slots: Slots
    options: SyncOptions
    """How the run syncs (its flow parameters, checked)."""


LEASE_SECONDS = 60.0
"""Slot leases are renewed while held; a killed holder's slot frees after this long on a server
running Prefect's lease service (Prefect's minimum; its default, 300 s, would stall the next
run on that token for 5 minutes)."""

_RUNTIME: ContextVar[Runtime] = ContextVar("ghsync_runtime")


def current() -> Runtime:
    """The runtime of the flow run this task belongs to."""
    return _RUNTIME.get()


def installed(runtime: Runtime) -> AbstractContextManager[None]:
    """Make `runtime` the current one for the tasks started inside."""
    return scoped(_RUNTIME, runtime)


@asynccontextmanager
async def running(
    pool: TokenPool, graphql_url: str, location: Location, options: SyncOptions
) -> AsyncIterator[Runtime]:
    """The run's client (the tokens' accounts known), warehouse writer and token slots,
    installed for its tasks, for the block; the run is present meanwhile (`ghsync status`
    tells a live run of a warehouse file from an interrupted one)."""
    client = GitHubClient(pool, graphql_url, slot=token_slot)
    writer = WarehouseWriter.of(location)
    credential_ids = [credential.id for credential in pool.tokens()]
    limits = token_limits(credential_ids, options.concurrency_per_token)
    present = (
        nullcontext() if isinstance(location, Lake) else presence(runs_path(location), _nothing)
    )
    async with present, client, limits as slots, writer:
        runtime = Runtime(client, writer, slots, options)
        with installed(runtime):
            if len(pool.tokens()) > 1:  # tokens of one account share one budget: learn whose
                await client.identify()
            yield runtime


async def _nothing() -> None:
    """No clean-up for the first run of a warehouse: `ghsync status` only asks who is alive."""


def token_limit_name(credential_id: str) -> str:
    """The global concurrency limit of one credential (named by its id: a personal token's
    fingerprint, never the token)."""
    return f"ghsync-token-{credential_id}"


def token_slot(credential_id: str) -> AbstractAsyncContextManager[None]:
    """One slot of the credential's limit, held around each GitHub request (strict: the limit
    must exist, or Prefect would run unthrottled)."""
    return current().slots.hold(token_limit_name(credential_id))


@asynccontextmanager
async def token_limits(credential_ids: list[str], per_token: int) -> AsyncIterator[Slots]:
    """The slots of the tokens' limits for the block (created or updated first, and read
    back), released at its end. On the temporary Prefect server, slots a killed run left taken
    are freed first."""
    names = [token_limit_name(credential_id) for credential_id in credential_ids]
    slots = Slots(LEASE_SECONDS)
    for name in names:
        await ensure_limit(name, per_token)
        slots.add(name, per_token)
    async with _leaked_slots_freed(names), slots:
        yield slots


@asynccontextmanager
async def _leaked_slots_freed(names: list[str]) -> AsyncIterator[None]:
    """Free the slots of the limits `names` that runs killed earlier left taken, when this is
    the only live run of this PREFECT_HOME and runs on a temporary server (`ghsync sync`'s, or
    Prefect's; a configured server frees them itself, when their leases expire).

    A SIGKILLed run cannot release its slots, and the temporary server keeps slot leases in
    memory and runs no lease repossessor, so without this the next run would wait forever.
    Every run holds a shared lock on a file in PREFECT_HOME while it may hold slots (a run on a
    configured server too: `prefect server start` may keep its database in the same home), so
    the run that can lock it exclusively knows no other run holds any.
    """
    settings = get_current_settings()

    async def free() -> None:
        if not is_temporary(settings.api.url):
            return
        async with get_client() as client:
            for name in names:
                limit = await client.read_global_concurrency_limit_by_name(name)
                if limit.active_slots:
                    update = GlobalConcurrencyLimitUpdate(active_slots=0)
                    await client.update_global_concurrency_limit(name, update)
                    get_run_logger().warning(
                        "%s: freed %d slot(s) left taken by a run that was killed",
                        name,
                        limit.active_slots,
                    )

    settings.home.mkdir(parents=True, exist_ok=True)
    async with presence(settings.home / "ghsync-runs.lock", free):
        yield
