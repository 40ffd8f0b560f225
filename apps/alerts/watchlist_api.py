"""REST: /api/v1/plate-watchlists and their entries (`manage` scope).

Thin views over watchlists.py: the tenant comes from the API key; another tenant's list or
entry answers 404, like one that never existed. A PATCH body is a JSON object of the fields it
changes and nothing else: an empty body, or a field that cannot be changed there, is a 400 that
says which fields can (a typo'd field is not silently dropped).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.alerts import watchlists
from apps.alerts.models import PlateWatchlist, PlateWatchlistEntry
from apps.core.errors import ApiError
from apps.core.serializers import ErrorSerializer
from apps.core.views import TenantKeyView

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Bad input."),
    401: OpenApiResponse(ErrorSerializer, description="No API key, or a bad one."),
    403: OpenApiResponse(ErrorSerializer, description="Inactive tenant, or no `manage` scope."),
    404: OpenApiResponse(ErrorSerializer, description="No such watchlist for your tenant."),
}


class EntrySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    plate = serializers.CharField(
        max_length=40,
        help_text=(
            "Letters A-Z and digits; case, spaces, dashes and dots are ignored, other "
            "characters refused (400 invalid_plate). A list holds at most 500 plates "
            "(400 too_many_entries)."
        ),
    )
    fuzzy = serializers.BooleanField(
        default=False, help_text="A read one character off matches too."
    )
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class EntryUpdateSerializer(serializers.Serializer):
    fuzzy = serializers.BooleanField(
        required=False, help_text="true: a read one character off matches too; false: exact."
    )
    note = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text='"" clears it.'
    )


class WatchlistRenameSerializer(serializers.Serializer):
    name = serializers.CharField(
        max_length=64,
        help_text="The list's new name; another list's name is refused (400 watchlist_exists).",
    )


class WatchlistSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=64, help_text='e.g. "residents", "banned".')
    entries = EntrySerializer(many=True, read_only=True)


def _invalid(serializer: serializers.Serializer) -> ApiError:
    field, problems = next(iter(serializer.errors.items()))
    text = problems if isinstance(problems, list) else [problems]
    return ApiError(400, "invalid_request", f"{field}: {' '.join(map(str, text))}")


def _changes(
    request: Request, serializer_class: type[serializers.Serializer], not_here: dict[str, str]
) -> dict:
    """A PATCH body's checked fields: at least one, each one the serializer takes.
    ``not_here``: fields that are not changed by this route, and what to do instead."""
    body = request.data
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_body", "The body must be a JSON object.")
    editable = list(serializer_class().fields)
    allowed = " and/or ".join(editable)
    for field in body:
        if field in not_here:
            raise ApiError(400, f"{field}_not_editable", f"{field}: {not_here[field]}")
        if field not in editable:
            raise ApiError(
                400, "invalid_request", f"{field[:40]}: not changed here; send {allowed}."
            )
    if not body:
        raise ApiError(400, "invalid_request", f"Nothing to change: send {allowed}.")
    checked = serializer_class(data=body, partial=True)
    if not checked.is_valid():
        raise _invalid(checked)
    return dict(checked.validated_data)


@contextmanager
def _refused_as_400() -> Iterator[None]:
    """A write function's refusal (bad or conflicting input, nothing saved) as a 400 naming
    its code."""
    try:
        yield
    except watchlists.WatchlistInvalid as exc:
        raise ApiError(400, exc.code, str(exc)) from None


def _item(watchlist: PlateWatchlist) -> dict:
    return {
        "id": watchlist.pk,
        "name": watchlist.name,
        "entries": [_entry(entry) for entry in watchlist.entries.all()],
    }


def _entry(entry: PlateWatchlistEntry) -> dict:
    return {"id": entry.pk, "plate": entry.plate, "fuzzy": entry.fuzzy, "note": entry.note}


def _watchlist_or_404(tenant_id: int, watchlist_id: str) -> PlateWatchlist:
    watchlist = watchlists.tenant_watchlist(tenant_id, watchlist_id)
    if watchlist is None:
        raise ApiError(404, "watchlist_not_found", "No plate watchlist with that id.")
    return watchlist


def _entry_or_404(watchlist: PlateWatchlist, entry_id: str) -> PlateWatchlistEntry:
    entry = watchlists.watchlist_entry(watchlist, entry_id)
    if entry is None:
        raise ApiError(404, "entry_not_found", "No such entry on that watchlist.")
    return entry


ENTRIES_NOT_EDITABLE = (
    "entries are changed one by one: POST the list's /entries, PATCH or DELETE /entries/ID."
)
PLATE_NOT_EDITABLE = (
    "a plate is not changed in place: DELETE this entry and POST the new plate to the "
    "list's /entries."
)


class WatchlistListView(TenantKeyView):
    @extend_schema(
        summary="List plate watchlists with their entries",
        responses={200: WatchlistSerializer(many=True), **ERRORS},
        tags=["plate watchlists"],
    )
    def get(self, request: Request) -> Response:
        return Response(
            {"results": [_item(w) for w in watchlists.tenant_watchlists(self.tenant_id)]}
        )

    @extend_schema(
        summary="Create a plate watchlist",
        request=WatchlistSerializer,
        responses={201: WatchlistSerializer, **ERRORS},
        tags=["plate watchlists"],
    )
    def post(self, request: Request) -> Response:
        body = WatchlistSerializer(data=request.data)
        if not body.is_valid():
            raise _invalid(body)
        with _refused_as_400():
            watchlist = watchlists.create_watchlist(self.tenant_id, body.validated_data["name"])
        return Response(_item(watchlist), status=201)


class WatchlistDetailView(TenantKeyView):
    @extend_schema(
        summary="One plate watchlist",
        responses={200: WatchlistSerializer, **ERRORS},
        tags=["plate watchlists"],
    )
    def get(self, request: Request, watchlist_id: str) -> Response:
        return Response(_item(_watchlist_or_404(self.tenant_id, watchlist_id)))

    @extend_schema(
        summary="Rename a plate watchlist",
        description=(
            'The body is `{"name": ...}`. Entries are changed one by one through '
            "`/entries` (add) and `/entries/{entry_id}` (change, remove): a body with "
            "`entries` is a 400 (`entries_not_editable`)."
        ),
        request=WatchlistRenameSerializer,
        responses={200: WatchlistSerializer, **ERRORS},
        tags=["plate watchlists"],
    )
    def patch(self, request: Request, watchlist_id: str) -> Response:
        watchlist = _watchlist_or_404(self.tenant_id, watchlist_id)
        changes = _changes(request, WatchlistRenameSerializer, {"entries": ENTRIES_NOT_EDITABLE})
        with _refused_as_400():
            watchlists.rename_watchlist(watchlist, changes["name"])
        return Response(_item(watchlist))

    @extend_schema(
        summary="Delete a plate watchlist and its entries",
        responses={204: None, **ERRORS},
        tags=["plate watchlists"],
    )
    def delete(self, request: Request, watchlist_id: str) -> Response:
        watchlists.delete_watchlist(_watchlist_or_404(self.tenant_id, watchlist_id))
        return Response(status=204)


class WatchlistEntriesView(TenantKeyView):
    @extend_schema(
        summary="Add a plate to a watchlist",
        request=EntrySerializer,
        responses={201: EntrySerializer, **ERRORS},
        tags=["plate watchlists"],
    )
    def post(self, request: Request, watchlist_id: str) -> Response:
        watchlist = _watchlist_or_404(self.tenant_id, watchlist_id)
        body = EntrySerializer(data=request.data)
        if not body.is_valid():
            raise _invalid(body)
        data = body.validated_data
        with _refused_as_400():
            entry = watchlists.add_entry(watchlist, data["plate"], data["fuzzy"], data["note"])
        return Response(_entry(entry), status=201)


class WatchlistEntryView(TenantKeyView):
    @extend_schema(
        summary="Change a plate's match and/or note",
        description=(
            "Send `fuzzy`, `note` or both; fields not sent stay as they are. The plate itself "
            "is not changed in place: a body with `plate` is a 400 (`plate_not_editable`); "
            "remove the entry and add the new plate instead."
        ),
        request=EntryUpdateSerializer,
        responses={200: EntrySerializer, **ERRORS},
        tags=["plate watchlists"],
    )
    def patch(self, request: Request, watchlist_id: str, entry_id: str) -> Response:
        entry = _entry_or_404(_watchlist_or_404(self.tenant_id, watchlist_id), entry_id)
        changes = _changes(request, EntryUpdateSerializer, {"plate": PLATE_NOT_EDITABLE})
        with _refused_as_400():
            watchlists.update_entry(entry, fuzzy=changes.get("fuzzy"), note=changes.get("note"))
        return Response(_entry(entry))

    @extend_schema(
        summary="Remove a plate from a watchlist",
        responses={204: None, **ERRORS},
        tags=["plate watchlists"],
    )
    def delete(self, request: Request, watchlist_id: str, entry_id: str) -> Response:
        watchlist = _watchlist_or_404(self.tenant_id, watchlist_id)
        if not watchlists.delete_entry(watchlist, entry_id):
            raise ApiError(404, "entry_not_found", "No such entry on that watchlist.")
        return Response(status=204)
