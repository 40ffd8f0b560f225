"""`ipcai webhooks [ACTION]`: list the tenant's webhook endpoints, add one (its signing secret
printed once), send a signed test event and show how it went, or show the delivery log. A key
with the `manage` scope; the connection options and --json count before or after the action."""

from __future__ import annotations

import argparse
import threading
from typing import IO

from ipcai.cli.arguments import positive_float
from ipcai.cli.command import (
    EXIT_FAILED,
    EXIT_OK,
    Commands,
    json_option,
    stop_on_signals,
    write_line,
    write_result,
)
from ipcai.cli.connection import client_from, connection_options
from ipcai.webhooks import (
    add_webhook,
    attempt_summary,
    deliveries,
    finished,
    format_deliveries,
    format_webhooks,
    list_webhooks,
    send_test,
    wait_for_first_attempt,
)

JSON_HELP = "JSON instead of a table"
EVENT_TYPES = ("event.started", "event.ended", "plate.matched")


def add_parser(commands: Commands, connection: argparse.ArgumentParser) -> None:
    webhooks = commands.add_parser(
        "webhooks",
        parents=[connection, json_option(JSON_HELP)],
        help="list, add and test the tenant's webhook endpoints; their delivery log",
        description="ipcai webhooks [list] | ipcai webhooks add URL [--event TYPE ...] | "
        "ipcai webhooks test ID | ipcai webhooks deliveries ID",
    )
    webhooks.set_defaults(handler=run_list)  # `ipcai webhooks` alone lists them
    actions = webhooks.add_subparsers(dest="action", help="default: list")
    shared = [connection_options(inherited=True), json_option(JSON_HELP, inherited=True)]

    listing = actions.add_parser(
        "list", parents=shared, help="list the endpoints", description="list the endpoints"
    )
    listing.set_defaults(handler=run_list)

    add = actions.add_parser(
        "add",
        parents=shared,
        help="add an endpoint; its signing secret is shown this once",
        description="Add a webhook endpoint: camera events are POSTed to URL, signed the "
        "Standard Webhooks way; the signing secret is printed on stdout, only this once.",
    )
    add.add_argument("endpoint_url", metavar="URL")  # not `url`: --url is the service's
    add.add_argument("--description", default="", help="what it is for")
    add.add_argument(
        "--event", action="append", dest="event_types", choices=EVENT_TYPES,
        help="repeatable: which changes it receives (default: all)",
    )  # fmt: skip
    add.add_argument("--camera", action="append", dest="cameras", help="repeatable: camera id")
    add.add_argument("--label", action="append", dest="labels", help="repeatable: e.g. person")
    add.add_argument("--zone", action="append", dest="zones", help="repeatable: zone name")
    add.set_defaults(handler=run_add)

    test = actions.add_parser(
        "test",
        parents=shared,
        help="send a signed test event and show the receiver's answer",
        description="Send a signed test event to the endpoint and wait for its first attempt: "
        "exit 0 when the receiver answered 2xx, 1 otherwise.",
    )
    test.add_argument("endpoint_id", metavar="ID")
    test.add_argument(
        "--wait", type=positive_float, default=30.0, help="seconds to wait for the attempt"
    )
    test.set_defaults(handler=run_test)

    log = actions.add_parser(
        "deliveries",
        parents=shared,
        help="the endpoint's latest deliveries and attempts",
        description="the endpoint's latest deliveries, newest first",
    )
    log.add_argument("endpoint_id", metavar="ID")
    log.set_defaults(handler=run_deliveries)


def run_list(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    with client_from(args) as client:
        endpoints = list_webhooks(client)
    write_result(stdout, args.json, {"webhooks": endpoints}, lambda: format_webhooks(endpoints))
    return EXIT_OK


def run_add(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    with client_from(args) as client:
        created = add_webhook(
            client,
            args.endpoint_url,
            description=args.description,
            event_types=args.event_types,
            cameras=args.cameras,
            labels=args.labels,
            zones=args.zones,
        )
    if args.json:
        write_line(stdout, created)
        return EXIT_OK
    print(
        f"Added webhook {created['id']} -> {created['url']}. Its signing secret is shown only "
        "this once; your receiver verifies each request with it. Try it: "
        f"ipcai webhooks test {created['id']}",
        file=stderr,
    )
    print(created["secret"], file=stdout)
    return EXIT_OK


def run_test(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    stop = threading.Event()
    stop_on_signals(stop)
    with client_from(args) as client:
        queued = send_test(client, args.endpoint_id)
        delivery = wait_for_first_attempt(client, args.endpoint_id, queued["id"], args.wait, stop)
    if args.json:
        write_line(stdout, delivery or queued)
    if delivery is None:
        print(
            f"ipcai: test delivery {queued['id']} was not attempted within {args.wait:g} s "
            "(is the portal's Celery webhook worker running?)",
            file=stderr,
        )
        return EXIT_FAILED
    done = [attempt for attempt in delivery["attempt_log"] if finished(attempt)]
    first = done[0] if done else {}
    if first.get("ok"):
        print(f"delivered: {attempt_summary(first)} (delivery {delivery['id']})", file=stderr)
        return EXIT_OK
    print(
        f"ipcai: the receiver did not accept the test event: {attempt_summary(first)}; "
        f"status {delivery['status']} (see: ipcai webhooks deliveries {args.endpoint_id})",
        file=stderr,
    )
    return EXIT_FAILED


def run_deliveries(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    with client_from(args) as client:
        rows = deliveries(client, args.endpoint_id)
    write_result(stdout, args.json, {"deliveries": rows}, lambda: format_deliveries(rows))
    return EXIT_OK
