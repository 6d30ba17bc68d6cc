"""What every HTTP request passes on its way in and out: the security headers and the
Content-Security-Policy (headers.py), per-client rate limits (ratelimit.py) keyed by the
client address behind our own proxies (clients.py), the request log (request_log.py), and
robots.txt (views.py). Nothing here knows about parti."""
