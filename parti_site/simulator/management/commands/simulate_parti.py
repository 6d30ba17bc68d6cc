"""`python manage.py simulate_parti --port N [--host 127.0.0.1] [--schedule-from-now]`: serve
the simulated parti on ports N..N+7 until Ctrl-C or SIGTERM."""

import asyncio
import signal

from django.core.management.base import BaseCommand

from parti_site.simulator.server import HOSTS, SimulatedParti


class Command(BaseCommand):
    help = "Serve a simulated parti (API, WebSocket, video and image hosts) on ports N..N+7."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8100, help="base port N (default 8100)")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--schedule-from-now",
            action="store_true",
            help="move the recorded schedule so it starts now (else it is all in the past)",
        )

    def handle(self, *args, port, host, schedule_from_now, **options):
        sim = SimulatedParti(port, host, schedule_from_now=schedule_from_now)
        asyncio.run(self.serve(sim))

    async def serve(self, sim: SimulatedParti) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await sim.start()
        self.stdout.write("Simulated parti listening:")
        for offset, (name, _) in enumerate(HOSTS):
            self.stdout.write(f"  {name:<9} {sim.host}:{sim.base_port + offset}")
        self.stdout.write("Point the site at it with:")
        for key, value in sim.env().items():
            self.stdout.write(f"export {key}={value}")
        self.stdout.write(f"Control plane: {sim.control_url}/_sim/state  (Ctrl-C to stop)")
        self.stdout.flush()
        try:
            await stop.wait()
        finally:
            await sim.stop()
            self.stdout.write("simulated parti stopped")
