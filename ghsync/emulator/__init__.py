"""A local GitHub API emulator: GraphQL on GitHub's real schema, REST bits, limits and faults.

It imports no client code, so it stays an independent check of ghsync. Start it with
`ghsync emulator serve ...`, or in-process with `running_emulator(EmulatorConfig(...))`
(background thread) or `started_emulator(...)` (current event loop).
"""

from ghsync.emulator.activity import ACTIONS
from ghsync.emulator.config import EmulatorConfig, FaultConfig
from ghsync.emulator.runner import Emulator, running_emulator, serve, started_emulator

__all__ = [
    "ACTIONS",
    "Emulator",
    "EmulatorConfig",
    "FaultConfig",
    "running_emulator",
    "serve",
    "started_emulator",
]
