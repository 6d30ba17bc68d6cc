"""Local services for the scaled-out tests: Redis and PostgreSQL on localhost."""

import os
import socket

import pytest

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
POSTGRES_HOST, POSTGRES_PORT = "127.0.0.1", 5432


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    if _listening(host, port):
        return
    message = f"{name} is not listening on {host}:{port}"
    if os.environ.get("CI") == "true":
        pytest.fail(message + "; .ci/run starts it")
    pytest.skip(message)


def redis_url(db: int) -> str:
    require_service("Redis", REDIS_HOST, REDIS_PORT)
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/{db}"
