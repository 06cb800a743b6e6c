"""The state of one running emulator: world, limits, faults, counters."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ghsync.emulator.apps import Apps
from ghsync.emulator.config import EmulatorConfig
from ghsync.emulator.dataset import build_world
from ghsync.emulator.limits import Limits
from ghsync.emulator.webhooks import Webhooks

if TYPE_CHECKING:
    from ghsync.emulator.gate import Gate


class EmulatorState:
    """The world, the limits, the faults and the counters of one running emulator."""

    def __init__(self, config: EmulatorConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.world = build_world(config)
        self.limits = Limits(config, clock)
        self.apps = Apps(config.apps, config.installation_token_seconds, self.limits.uninstalled)
        self.clock = clock
        self.faults = config.faults
        self.rng = random.Random(f"faults:{config.seed}")
        self.activity_rng = random.Random(f"activity:{config.seed}")
        self.stats: Counter[str] = Counter()
        self.points: Counter[str] = Counter()
        self.gate: Gate | None = None
        self.webhooks = Webhooks(config.webhook_url, config.webhook_secret, config.webhook_timeout)

    def stats_snapshot(self) -> dict[str, Any]:
        """Counters for tests and benchmarks; tokens named `token-N`, never by value."""
        return {
            "counters": dict(self.stats),
            "points": {self.limits.labels[t]: p for t, p in self.points.items()},
            "points_total": sum(self.points.values()),
            "remaining": {
                label: self.limits.budget(token).remaining
                for token, label in self.limits.labels.items()
            },
        }


STATE = web.AppKey("state", EmulatorState)
