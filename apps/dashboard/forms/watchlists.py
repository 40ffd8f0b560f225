"""The plate watchlist form (create and edit): apps/alerts/watchlists.py checks the plates."""

from __future__ import annotations

from typing import cast

from django import forms

from apps.alerts.watchlists import MAX_ENTRIES, MAX_NAME

MODE_EXACT, MODE_FUZZY, MODE_MIXED = "exact", "fuzzy", "mixed"
MODES = [
    (MODE_EXACT, "Exact: the read equals the plate"),
    (MODE_FUZZY, "Fuzzy: a read one character off matches too"),
]
# Shown only for a list whose plates were set one by one through the API, some exact and
# some fuzzy: saving with it leaves each plate's own match as it is.
MIXED = (MODE_MIXED, "As set per plate (through the API); new plates exact")


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
