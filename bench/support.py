"""What the benchmark scripts share: a database of their own, created afresh and dropped, and free ports."""

import socket
from urllib.parse import urlsplit

# The API's rate limits (core/throttling.py) raised far past anything a benchmark sends: every request is still
# counted, so its cost stays in the figures, and none is refused. Each bench that calls the API adds these.
UNTHROTTLED = {"API_THROTTLE_RATE": "100000000/second", "API_THROTTLE_BULK_RATE": "100000000/second"}


def _admin_connection(url: str):
    import psycopg2

    parts = urlsplit(url)
    conn = psycopg2.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username,
                            password=parts.password, dbname="postgres")
    conn.autocommit = True
    return conn, parts.path.lstrip("/")


def drop_database(url: str) -> None:
    conn, name = _admin_connection(url)
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
    conn.close()


def recreate_database(url: str) -> None:
    """Drop and create the benchmark's own database (never one the app or the tests use)."""
    drop_database(url)
    conn, name = _admin_connection(url)
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
