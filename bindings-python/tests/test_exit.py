"""A program that ends while an awaited engine call is still inside a port
exits cleanly: reservo cancels the calls still running at exit and waits
for them, so no engine thread takes the GIL while the interpreter shuts
down (which killed the process with SIGSEGV or SIGABRT)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# The charge sleeps on an engine thread (with the GIL released) while the
# program ends: asyncio.run cancels the call and the interpreter finalizes,
# slowly (`SlowToFlush`), so the charge returns while it does.
ENDS_DURING_A_CHARGE = """
import asyncio, sys, time
sys.path.insert(0, sys.argv[1])
from tests.conftest import ANA, START, set_up_catalog, villa_july
from tests.gateway import TestGateway
from reservo import AsyncEngine, Engine, ManualClock, MemoryStore

class SlowGateway(TestGateway):
    def charge(self, request):
        print("charging", flush=True)
        time.sleep(0.5)
        return super().charge(request)

async def main():
    store, clock = MemoryStore(), ManualClock(START)
    set_up_catalog(Engine(store, clock=clock))
    engine = AsyncEngine(store, clock=clock, payment_gateway=SlowGateway())
    hold = await engine.hold([villa_july()], idempotency_key="h", ttl_seconds=900)
    paying = asyncio.ensure_future(engine.pay_and_confirm(
        hold.id, customer=ANA, payment_method="tok_visa", idempotency_key="p"))
    await asyncio.sleep(0.2)
    assert not paying.done()

class SlowToFlush:
    # sys.stdout, whose last flush (the interpreter's own, once it has
    # begun to shut down) takes a second.
    def __init__(self, out):
        self.out, self.last = out, False
    def write(self, text):
        return self.out.write(text)
    def flush(self, sleep=time.sleep):
        self.out.flush()
        if self.last:
            sleep(1)

sys.stdout = SlowToFlush(sys.stdout)
asyncio.run(main())
print("ended", flush=True)
sys.stdout.last = True
"""


def test_ending_during_an_awaited_call_exits_cleanly() -> None:
    root = Path(__file__).resolve().parent.parent
    run = subprocess.run(
        [sys.executable, "-c", ENDS_DURING_A_CHARGE, str(root)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Without the wait at exit: -6 (SIGABRT, the charge's thread could not
    # take the GIL back) or -11.
    assert (run.returncode, run.stdout) == (0, "charging\nended\n"), run.stderr
