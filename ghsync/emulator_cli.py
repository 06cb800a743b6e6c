"""`ghsync emulator ...` and the offline demo: start the emulator and show what it serves."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Annotated

import typer

from ghsync.emulator import Emulator, EmulatorConfig, FaultConfig, serve
from ghsync.emulator.apps import AppConfig, InstallationConfig

emulator_app = typer.Typer(
    help="A local GitHub API emulator for tests, demos and benchmarks.", no_args_is_help=True
)

DEMO_TOKENS = tuple(f"ghp_{letter * 36}" for letter in "abc")


def token_entries(value: str) -> tuple[str, ...]:
    """`a,b=alice,c` -> entries for EmulatorConfig.tokens (whitespace and empties dropped)."""
    return tuple(entry.strip() for entry in value.split(",") if entry.strip())


@emulator_app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0: a free one).")] = 8765,
    seed: Annotated[int, typer.Option(help="Dataset and fault seed.")] = 1,
    org: Annotated[str, typer.Option(help="Organization login.")] = "acme",
    repos: Annotated[int, typer.Option(help="Regular repositories (+ empty + archived).")] = 3,
    prs: Annotated[int, typer.Option(help="Pull requests per regular repository.")] = 50,
    tokens: Annotated[
        str, typer.Option(help="Accepted tokens, comma-separated; TOKEN=LOGIN groups accounts.")
    ] = ",".join(DEMO_TOKENS),
    points_per_hour: Annotated[int, typer.Option(help="Primary budget per account.")] = 5000,
    points_per_minute: Annotated[
        int, typer.Option(help="Secondary limit: points per minute per account.")
    ] = 2000,
    latency_ms: Annotated[float, typer.Option(help="Latency added to every answer.")] = 0.0,
    latency_per_node_ms: Annotated[float, typer.Option(help="Latency per node returned.")] = 0.0,
    faults: Annotated[
        str, typer.Option(help="More faults as JSON, e.g. '{\"error_rate\": 0.05}' (see README).")
    ] = "{}",
    app_id: Annotated[int | None, typer.Option(help="Serve a GitHub App with this id.")] = None,
    app_public_key: Annotated[
        Path | None, typer.Option(help="The app's public key (PEM file): it verifies its JWTs.")
    ] = None,
    app_installations: Annotated[
        str, typer.Option(help="The app's installations: ID=ORG, comma-separated.")
    ] = "",
    installation_token_seconds: Annotated[
        float, typer.Option(help="How long an installation token works.")
    ] = 3600.0,
    webhook_url: Annotated[
        str | None,
        typer.Option(help="POST GitHub's webhook deliveries of each activity to this URL."),
    ] = None,
    webhook_secret: Annotated[
        str | None,
        typer.Option(
            help="The webhook's secret: deliveries are signed (X-Hub-Signature-256) with it.",
            envvar="GITHUB_WEBHOOK_SECRET",
            show_envvar=True,
        ),
    ] = None,
    webhook_fork_heads: Annotated[
        bool,
        typer.Option(help="PR heads are in forks: check runs and suites list no pull_requests."),
    ] = False,
) -> None:
    """Serve a seeded GitHub (GraphQL + REST) on HOST:PORT until interrupted."""
    try:
        fault_config = FaultConfig(
            latency_ms=latency_ms, latency_per_node_ms=latency_per_node_ms
        ).merged(json.loads(faults))
    except (ValueError, TypeError) as error:
        raise typer.BadParameter(str(error), param_hint="--faults") from error
    config = EmulatorConfig(
        seed=seed,
        org=org,
        repos=repos,
        prs=prs,
        tokens=token_entries(tokens),
        points_per_hour=points_per_hour,
        points_per_minute_per_account=points_per_minute,
        faults=fault_config,
        apps=_apps(app_id, app_public_key, app_installations, repos + 2),
        installation_token_seconds=installation_token_seconds,
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        webhook_fork_heads=webhook_fork_heads,
    )

    def ready(emulator: Emulator) -> None:
        totals = emulator.summary()["repositories"]
        typer.echo(
            f"ghsync emulator on {emulator.url} (GraphQL {emulator.graphql_url}): "
            f"{len(totals)} repositories, {sum(r['pullRequests'] for r in totals)} pull requests, "
            f"{len(config.accounts())} tokens accepted"
            + (f", webhook deliveries to {webhook_url}" if webhook_url else "")
            + ". Ctrl-C stops it.",
        )

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(config, host, port, ready))


def _apps(
    app_id: int | None, public_key: Path | None, installations: str, repositories: int
) -> tuple[AppConfig, ...]:
    """The app of `--app-id`, `--app-public-key` and `--app-installations`, if any."""
    if app_id is None:
        return ()
    if public_key is None:
        raise typer.BadParameter("an app needs its public key", param_hint="--app-public-key")
    entries = []
    for entry in token_entries(installations):
        number, _, account = entry.partition("=")
        if not number.isdigit() or not account:
            raise typer.BadParameter(f"{entry!r} is not ID=ORG", param_hint="--app-installations")
        entries.append(InstallationConfig(int(number), account, repositories=repositories))
    return (AppConfig(app_id, public_key.read_text(), tuple(entries)),)
