"""With REDIS_URL set, concurrent misses in several processes still make one upstream call."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from tests.services import redis_url

pytestmark = pytest.mark.scaled
ROOT = Path(__file__).resolve().parent.parent

WORKER = """
import json, os, sys, threading, time
import django
django.setup()
import redis
from parti_site.upstream.cache import cached

counter = redis.Redis.from_url(os.environ["REDIS_URL"])
start_at = float(sys.argv[1])

def fetch():
    counter.incr("test:upstream-calls")
    time.sleep(0.5)
    return ["fresh", os.getpid()]

results = []
def request():
    time.sleep(max(0, start_at - time.time()))
    results.append(cached("live", "shared-key", fetch).data)

threads = [threading.Thread(target=request) for _ in range(5)]
[t.start() for t in threads]
[t.join() for t in threads]
print(json.dumps(results))
"""


def test_concurrent_misses_across_processes_make_one_upstream_call():
    url = redis_url(db=5)
    client = redis.Redis.from_url(url)
    client.flushdb()
    env = dict(os.environ, REDIS_URL=url, SECRET_KEY="tests-only-not-a-secret", DEBUG="0")
    env["DJANGO_SETTINGS_MODULE"] = "parti_site.settings"
    start_at = str(time.time() + 3)
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, start_at],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    answers = [json.loads(worker.communicate(timeout=60)[0]) for worker in workers]
    assert int(client.get("test:upstream-calls")) == 1
    flat = [answer for batch in answers for answer in batch]
    assert len(flat) == 15
    assert all(answer == flat[0] for answer in flat)
    client.flushdb()
