"""The options every service command takes (--url, --api-key, --timeout, --retries, -v) and the
one place that turns them into a `Client` or `AsyncClient`.

The key and the URL fall back to $IPCAI_API_KEY and $IPCAI_URL inside the client itself.
"""

from __future__ import annotations

import argparse

from ipcai.cli.arguments import positive_float
from ipcai.client import DEFAULT_TIMEOUT, ENV_API_KEY, ENV_URL, AsyncClient, Client
from ipcai.retry import RetryPolicy

DEFAULT_RETRIES = 3


def connection_options(*, inherited: bool = False) -> argparse.ArgumentParser:
    """A parent parser with the connection options.

    `inherited`: for the actions of a command (`ipcai cameras create`), which accept the same
    options after the action as the command does before it; with no defaults of their own,
    they leave what was given before the action as it was."""

    def default(value: object) -> object:
        return argparse.SUPPRESS if inherited else value

    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("connection")
    group.add_argument(
        "--url",
        default=default(None),
        help=f"service base URL (default: ${ENV_URL} or local portal)",
    )
    group.add_argument(
        "--api-key",
        default=default(None),
        help=f"API key (default: ${ENV_API_KEY}; prefer the variable: arguments are visible "
        "to other users of the machine)",
    )
    group.add_argument(
        "--timeout",
        type=positive_float,
        default=default(DEFAULT_TIMEOUT),
        help="seconds per request",
    )
    group.add_argument(
        "--retries",
        type=int,
        default=default(DEFAULT_RETRIES),
        help="retries on 429 / 503 / network errors",
    )
    group.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default(False),
        help="log retries and reconnects",
    )
    return common


def retry_policy(args: argparse.Namespace) -> RetryPolicy:
    """--retries as the client's policy (a negative count means none)."""
    return RetryPolicy(max_retries=max(0, args.retries))


def client_from(args: argparse.Namespace, *, retry: RetryPolicy | None = None) -> Client:
    """The service client the connection options ask for; `retry` replaces --retries' policy
    for a command that does its own waiting between failures (watch)."""
    return Client(
        args.api_key,
        args.url,
        timeout=args.timeout,
        retry=retry if retry is not None else retry_policy(args),
    )


def async_client_from(args: argparse.Namespace, *, max_connections: int) -> AsyncClient:
    """The asyncio client the connection options ask for, with up to `max_connections` open."""
    return AsyncClient(
        args.api_key,
        args.url,
        timeout=args.timeout,
        retry=retry_policy(args),
        max_connections=max_connections,
    )
