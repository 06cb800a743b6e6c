"""A clock for tests: time moves only when someone sleeps (the token pool) or a test advances it
(the emulator's rate-limit windows read it too), so nothing waits for real time."""

from __future__ import annotations

T0 = 1_700_000_000.0


class FakeClock:
    """Epoch seconds that move only on `sleep` and `advance`."""

    def __init__(self, now: float = T0) -> None:
        self.current = now
        self.slept: list[float] = []

    def now(self) -> float:
        return self.current

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.current += seconds

    def advance(self, seconds: float) -> None:
        self.current += seconds
