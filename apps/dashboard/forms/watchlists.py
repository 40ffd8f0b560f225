"""The plate watchlist forms: the list (create and edit) and one plate's match and note (the
detail page's table); apps/alerts/watchlists.py checks and writes."""

from __future__ import annotations

from typing import cast

from django import forms

from apps.alerts.models import PlateWatchlistEntry
from apps.alerts.watchlists import MAX_ENTRIES, MAX_NAME, MAX_NOTE

MODE_EXACT, MODE_FUZZY, MODE_MIXED = "exact", "fuzzy", "mixed"
MODES = [
    (MODE_EXACT, "Exact: the read equals the plate"),
    (MODE_FUZZY, "Fuzzy: a read one character off matches too"),
]
# Shown only for a list whose plates were set one by one (in their rows of the detail page,
# or through the API), some exact and some fuzzy: saving with it leaves each plate's own
# match as it is.
MIXED = (MODE_MIXED, "As set per plate; new plates exact")


class WatchlistForm(forms.Form):
    name = forms.CharField(max_length=MAX_NAME, help_text='e.g. "residents", "banned"')
    mode = forms.ChoiceField(choices=MODES, widget=forms.RadioSelect, label="Match")
    plates = forms.CharField(
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 8, "spellcheck": "false", "autocapitalize": "characters"}
        ),
        max_length=MAX_ENTRIES * 24,
        help_text=(
            f"One per line, at most {MAX_ENTRIES}; case, spaces, dashes and dots are ignored."
        ),
    )

    def __init__(self, *args, mixed: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if mixed:
            cast(forms.ChoiceField, self.fields["mode"]).choices = [*MODES, MIXED]

    def fuzzy(self) -> bool | None:
        """The mode as watchlists.update_watchlist takes it (None: each plate keeps its own)."""
        mode = self.cleaned_data["mode"]
        return None if mode == MODE_MIXED else mode == MODE_FUZZY

    def plate_lines(self) -> list[str]:
        return self.cleaned_data["plates"].splitlines()


# The words the viewer's table uses for a plate's match.
ENTRY_MODES = [(MODE_EXACT, "exact"), (MODE_FUZZY, "fuzzy (± 1 character)")]


class EntryForm(forms.Form):
    """One plate's match and note, in its row of the detail page's table. A <form> cannot wrap
    a table row, so each field names its row's form (the HTML ``form`` attribute) and carries
    the plate in its accessible name; ids are per row."""

    match = forms.ChoiceField(choices=ENTRY_MODES)
    note = forms.CharField(max_length=MAX_NOTE, required=False)

    def __init__(self, *args, entry: PlateWatchlistEntry, **kwargs) -> None:
        kwargs["auto_id"] = f"id_entry{entry.pk}_%s"
        super().__init__(*args, **kwargs)
        self.entry_id = entry.pk
        self.html_form = f"entry-{entry.pk}"
        for name, label in (("match", "Match of"), ("note", "Note for")):
            self.fields[name].widget.attrs.update(
                {"form": self.html_form, "aria-label": f"{label} {entry.plate}"}
            )

    @classmethod
    def of(cls, entry: PlateWatchlistEntry) -> EntryForm:
        mode = MODE_FUZZY if entry.fuzzy else MODE_EXACT
        return cls(initial={"match": mode, "note": entry.note}, entry=entry)

    def fuzzy(self) -> bool:
        return bool(self.cleaned_data["match"] == MODE_FUZZY)
