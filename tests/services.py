"""Local services for the scaled-out tests: Redis and PostgreSQL on localhost."""

import os
import socket
import uuid
from contextlib import contextmanager

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


@contextmanager
def postgres_database(prefix: str):
    """A throwaway PostgreSQL database (trust auth as postgres); yields its URL, then drops it."""
    import psycopg

    require_service("PostgreSQL", POSTGRES_HOST, POSTGRES_PORT)
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    server = f"postgresql://postgres@{POSTGRES_HOST}:{POSTGRES_PORT}"
    with psycopg.connect(server + "/postgres", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(server + "/postgres", autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
