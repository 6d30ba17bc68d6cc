"""deploy/nginx/parti-site.conf run for real in front of a test site's Daphne processes:
the same file, with only ports, paths and the log directory swapped for the test's."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.live_site import ROOT, free_port_block, stop, wait_for_port

CONF = ROOT / "deploy" / "nginx" / "parti-site.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

MAIN = """\
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
user root;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {tmp}/client-body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/parti-site.conf;
}}
"""


@dataclass
class Nginx:
    url: str
    log_dir: Path

    @property
    def access_log(self) -> str:
        return (self.log_dir / "parti-site.access.log").read_text()


def require_nginx() -> None:
    if not Path(NGINX).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("nginx is not installed; .ci/run installs it")
        pytest.skip("nginx is not installed (apt-get install nginx)")


def site_conf(daphne_ports: list[int], port: int, tmp: Path) -> str:
    text = CONF.read_text()
    servers = "\n".join(
        f"    server 127.0.0.1:{p} max_fails=3 fail_timeout=5s;" for p in daphne_ports
    )
    text, count = re.subn(r"(    server 127\.0\.0\.1:800\d [^\n]*\n)+", servers + "\n", text)
    assert count == 1
    # Both servers on the test port, as both are on port 80 in the real file; the site's
    # name is the address the tests use.
    text = text.replace("    listen 80;\n", f"    listen 127.0.0.1:{port};\n")
    text = text.replace(
        "    listen 80 default_server;\n", f"    listen 127.0.0.1:{port} default_server;\n"
    )
    text = re.sub(r"    listen \[::\]:80[^;]*;\n", "", text)
    text = re.sub(r"    listen (\[::\]:)?443[^;]*;\n", "", text)  # TLS is certbot's (README)
    text = text.replace("server_name parti.example.org;", "server_name 127.0.0.1;")
    text = text.replace("/srv/parti-site/app/staticfiles/", f"{ROOT}/staticfiles/")
    return text.replace("/var/log/nginx/", f"{tmp}/")


def start_nginx(tmp: Path, daphne_ports: list[int]):
    """nginx on a free port in front of `daphne_ports`; returns (Nginx, process)."""
    require_nginx()
    port = free_port_block(1)
    (tmp / "parti-site.conf").write_text(site_conf(daphne_ports, port, tmp))
    (tmp / "nginx.conf").write_text(MAIN.format(tmp=tmp))
    log = open(tmp / "nginx.out", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [NGINX, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-g", "daemon off;"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, process)
    except RuntimeError:
        stop([process])
        raise RuntimeError("nginx did not start:\n" + (tmp / "nginx.out").read_text()) from None
    return Nginx(f"http://127.0.0.1:{port}", tmp), process


def daphne_ports(site) -> list[int]:
    return [int(url.rsplit(":", 1)[1]) for url in site.urls]
