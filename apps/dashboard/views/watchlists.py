"""The plate watchlists pages: a tenant's named plate lists ("residents", "banned"); a vehicle
alert whose plate is on one is marked and sends a plate.matched webhook. Owners and admins
create, edit and delete them, and change a plate's match and note in its row; viewers look.
apps/alerts/watchlists.py checks and writes, the same functions the API
(/api/v1/plate-watchlists) calls."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods, require_POST

from apps.alerts import watchlists
from apps.alerts.models import PlateWatchlist, PlateWatchlistEntry
from apps.dashboard.access import TenantRequest, can_manage, not_found, tenant_page
from apps.dashboard.forms.watchlists import (
    MODE_EXACT,
    MODE_FUZZY,
    MODE_MIXED,
    EntryForm,
    WatchlistForm,
)
from apps.dashboard.pages import page

# Which form field a service error belongs to (watchlists.WatchlistInvalid.code).
_FIELD_OF = {
    "invalid_name": "name",
    "watchlist_exists": "name",
    "invalid_plate": "plates",
    "too_many_entries": "plates",
}


def _refused(form: WatchlistForm, exc: watchlists.WatchlistInvalid) -> None:
    form.add_error(_FIELD_OF.get(exc.code), str(exc))


def _mode(entries: list[PlateWatchlistEntry]) -> str:
    """The form's match choice for these plates: mixed when some are exact, some fuzzy."""
    modes = {entry.fuzzy for entry in entries}
    if len(modes) > 1:
        return MODE_MIXED
    return MODE_FUZZY if modes == {True} else MODE_EXACT


@tenant_page()
@require_http_methods(["GET", "POST"])
def watchlist_list(request: TenantRequest) -> HttpResponse:
    """The tenant's lists, and (owners, admins) a form creating one with its plates."""
    form = WatchlistForm(initial={"mode": MODE_EXACT})
    if request.method == "POST":
        if not can_manage(request.membership):
            return page(request, "dashboard/forbidden.html", status=403)
        form = WatchlistForm(request.POST)
        if form.is_valid():
            try:
                watchlist = watchlists.create_watchlist(
                    request.tenant.pk,
                    form.cleaned_data["name"],
                    form.plate_lines(),
                    fuzzy=bool(form.fuzzy()),
                )
            except watchlists.WatchlistInvalid as exc:
                _refused(form, exc)
            else:
                messages.success(request, f"Watchlist {watchlist.name} created.")
                return redirect("dashboard:watchlists", slug=request.tenant.slug)
    return page(
        request,
        "dashboard/watchlists.html",
        {"form": form, "watchlists": watchlists.tenant_watchlists(request.tenant.pk)},
    )


@tenant_page()
@require_http_methods(["GET", "POST"])
def watchlist_detail(request: TenantRequest, watchlist_id: str) -> HttpResponse:
    """One list: its plates, and (owners, admins) its name, match and plates edited."""
    watchlist = watchlists.tenant_watchlist(request.tenant.pk, watchlist_id)
    if watchlist is None:
        return not_found(request)
    if request.method != "POST":
        return _detail_page(request, watchlist)
    if not can_manage(request.membership):
        return page(request, "dashboard/forbidden.html", status=403)
    mixed = _mode(list(watchlist.entries.all())) == MODE_MIXED
    form = WatchlistForm(request.POST, mixed=mixed)
    if form.is_valid():
        try:
            watchlists.update_watchlist(
                watchlist, form.cleaned_data["name"], form.plate_lines(), form.fuzzy()
            )
        except watchlists.WatchlistInvalid as exc:
            _refused(form, exc)
        else:
            messages.success(request, f"Watchlist {watchlist.name} saved.")
            return redirect("dashboard:watchlists", slug=request.tenant.slug)
    return _detail_page(request, watchlist, form=form)


@tenant_page(manage=True)
@require_POST
def watchlist_entry(request: TenantRequest, watchlist_id: str, entry_id: str) -> HttpResponse:
    """One plate's match and note, from its row of the detail page."""
    watchlist = watchlists.tenant_watchlist(request.tenant.pk, watchlist_id)
    entry = watchlists.watchlist_entry(watchlist, entry_id) if watchlist else None
    if watchlist is None or entry is None:
        return not_found(request)
    form = EntryForm(request.POST, entry=entry)
    if form.is_valid():
        try:
            watchlists.update_entry(entry, fuzzy=form.fuzzy(), note=form.cleaned_data["note"])
        except watchlists.WatchlistInvalid as exc:
            form.add_error("note", str(exc))
        else:
            messages.success(request, f"{entry.plate} on {watchlist.name} saved.")
            return redirect(
                "dashboard:watchlist", slug=request.tenant.slug, watchlist_id=watchlist.pk
            )
    return _detail_page(request, watchlist, edited=form)


def _detail_page(
    request: TenantRequest,
    watchlist: PlateWatchlist,
    *,
    form: WatchlistForm | None = None,
    edited: EntryForm | None = None,
) -> HttpResponse:
    """The detail page; ``form``: the list's form as posted, ``edited``: one row's."""
    entries = list(watchlist.entries.all())
    mode = _mode(entries)
    if form is None:
        plates = "\n".join(entry.plate for entry in entries)
        initial = {"name": watchlist.name, "mode": mode, "plates": plates}
        form = WatchlistForm(initial=initial, mixed=mode == MODE_MIXED)
    rows = [
        (entry, edited if edited and edited.entry_id == entry.pk else EntryForm.of(entry))
        for entry in entries
    ]
    return page(
        request,
        "dashboard/watchlist_detail.html",
        {"watchlist": watchlist, "entries": entries, "rows": rows, "form": form},
    )


@tenant_page(manage=True)
@require_http_methods(["GET", "POST"])
def watchlist_delete(request: TenantRequest, watchlist_id: str) -> HttpResponse:
    """A confirmation page; the POST deletes the list and its plates."""
    watchlist = watchlists.tenant_watchlist(request.tenant.pk, watchlist_id)
    if watchlist is None:
        return not_found(request)
    if request.method == "POST":
        watchlists.delete_watchlist(watchlist)
        messages.success(request, f"Watchlist {watchlist.name} deleted.")
        return redirect("dashboard:watchlists", slug=request.tenant.slug)
    return page(
        request,
        "dashboard/watchlist_delete.html",
        {"watchlist": watchlist, "plates": watchlist.entries.count()},
    )
