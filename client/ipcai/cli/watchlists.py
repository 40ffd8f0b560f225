"""`ipcai watchlists [ACTION]`: the tenant's plate watchlists: list them, create, rename or
delete one, add a plate (exact, or --fuzzy: one character off matches too), change a plate's
match or note, or remove one. A key with the `manage` scope; the connection options and --json
count before or after the action."""

from __future__ import annotations

import argparse
from typing import IO

from ipcai.cli.command import EXIT_OK, EXIT_USAGE, Commands, json_option, write_result
from ipcai.cli.connection import client_from, connection_options
from ipcai.watchlists import (
    add_plate,
    create_watchlist,
    delete_watchlist,
    edit_plate,
    format_watchlists,
    list_watchlists,
    remove_plate,
    rename_watchlist,
)

JSON_HELP = "JSON instead of a table"


def add_parser(commands: Commands, connection: argparse.ArgumentParser) -> None:
    watchlists = commands.add_parser(
        "watchlists",
        parents=[connection, json_option(JSON_HELP)],
        help="licence plate watchlists: list, create, rename, delete; add, edit or remove plates",
        description="ipcai watchlists [list] | create NAME | rename LIST_ID NAME | "
        "delete LIST_ID | add LIST_ID PLATE [--fuzzy] [--note TEXT] | "
        "edit-entry LIST_ID ENTRY_ID [--fuzzy | --exact] [--note TEXT] | "
        "remove LIST_ID ENTRY_ID",
    )
    watchlists.set_defaults(handler=run_list)
    actions = watchlists.add_subparsers(dest="action", help="default: list")
    shared = [connection_options(inherited=True), json_option(JSON_HELP, inherited=True)]

    listing = actions.add_parser("list", parents=shared, help="the lists and their plates")
    listing.set_defaults(handler=run_list)
    create = actions.add_parser("create", parents=shared, help="create a list")
    create.add_argument("name")
    create.set_defaults(handler=run_create)
    rename = actions.add_parser("rename", parents=shared, help="rename a list")
    rename.add_argument("watchlist_id", metavar="LIST_ID")
    rename.add_argument("name")
    rename.set_defaults(handler=run_rename)
    delete = actions.add_parser("delete", parents=shared, help="delete a list and its plates")
    delete.add_argument("watchlist_id", metavar="LIST_ID")
    delete.set_defaults(handler=run_delete)
    add = actions.add_parser("add", parents=shared, help="add a plate to a list")
    add.add_argument("watchlist_id", metavar="LIST_ID")
    add.add_argument("plate")
    add.add_argument("--fuzzy", action="store_true", help="a read one character off matches")
    add.add_argument("--note", default="", help="what it is for")
    add.set_defaults(handler=run_add)
    edit = actions.add_parser(
        "edit-entry",
        parents=shared,
        help="change a plate's match or note (the plate itself: remove it, add the new one)",
    )
    edit.add_argument("watchlist_id", metavar="LIST_ID")
    edit.add_argument("entry_id", metavar="ENTRY_ID")
    match = edit.add_mutually_exclusive_group()
    match.add_argument(
        "--fuzzy", dest="fuzzy", action="store_const", const=True, help="one character off matches"
    )
    match.add_argument(
        "--exact", dest="fuzzy", action="store_const", const=False, help="only the plate matches"
    )
    edit.add_argument("--note", default=None, help='what it is for ("" clears it)')
    edit.set_defaults(handler=run_edit_entry)
    remove = actions.add_parser("remove", parents=shared, help="remove a plate from a list")
    remove.add_argument("watchlist_id", metavar="LIST_ID")
    remove.add_argument("entry_id", metavar="ENTRY_ID")
    remove.set_defaults(handler=run_remove)


def run_list(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    with client_from(args) as client:
        found = list_watchlists(client)
    write_result(stdout, args.json, {"watchlists": found}, lambda: format_watchlists(found))
    return EXIT_OK


def run_create(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    with client_from(args) as client:
        created = create_watchlist(client, args.name)
    write_result(
        stdout, args.json, created, f"Created watchlist {created['id']} ({created['name']})."
    )
    return EXIT_OK


def run_rename(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    with client_from(args) as client:
        renamed = rename_watchlist(client, args.watchlist_id, args.name)
    write_result(
        stdout, args.json, renamed, f"Renamed watchlist {renamed['id']} to {renamed['name']}."
    )
    return EXIT_OK


def run_delete(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    with client_from(args) as client:
        delete_watchlist(client, args.watchlist_id)
    write_result(
        stdout, args.json, {"deleted": args.watchlist_id}, f"Deleted watchlist {args.watchlist_id}."
    )
    return EXIT_OK


def run_add(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    with client_from(args) as client:
        entry = add_plate(client, args.watchlist_id, args.plate, fuzzy=args.fuzzy, note=args.note)
    match = "fuzzy" if entry["fuzzy"] else "exact"
    write_result(
        stdout, args.json, entry, f"Added {entry['plate']} ({match}) as entry {entry['id']}."
    )
    return EXIT_OK


def run_remove(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    with client_from(args) as client:
        remove_plate(client, args.watchlist_id, args.entry_id)
    write_result(stdout, args.json, {"removed": args.entry_id}, f"Removed entry {args.entry_id}.")
    return EXIT_OK


def run_edit_entry(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    if args.fuzzy is None and args.note is None:
        print(
            "usage: ipcai watchlists edit-entry LIST_ID ENTRY_ID [--fuzzy | --exact] "
            "[--note TEXT]: give at least one of them",
            file=stderr,
        )
        return EXIT_USAGE
    with client_from(args) as client:
        entry = edit_plate(
            client, args.watchlist_id, args.entry_id, fuzzy=args.fuzzy, note=args.note
        )
    match = "fuzzy" if entry["fuzzy"] else "exact"
    note = f", note {entry['note']!r}" if entry["note"] else ", no note"
    write_result(
        stdout, args.json, entry, f"Entry {entry['id']}: {entry['plate']} ({match}{note})."
    )
    return EXIT_OK
