"""The simulated parti as a session-wide real server (import the fixture in conftest.py)."""

import random
import socket

import pytest

from parti_site.simulator.server import HOSTS, SimulatedParti


def free_base_port(host: str = "127.0.0.1") -> int:
    """A base port N such that N..N+7 are free right now."""
    for _ in range(100):
        base = random.randrange(20000, 60000)
        sockets = []
        try:
            for offset in range(len(HOSTS)):
                s = socket.socket()
                sockets.append(s)
                s.bind((host, base + offset))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no run of free ports found")


@pytest.fixture(scope="session")
def simulated_parti():
    """A running SimulatedParti on 127.0.0.1; call .reset() for a fresh world."""
    for attempt in range(5):
        sim = SimulatedParti(free_base_port())
        try:
            sim.start_in_thread()
            break
        except OSError:  # a port was taken between the check and the bind
            if attempt == 4:
                raise
    yield sim
    sim.stop_thread()
