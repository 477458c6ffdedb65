"""Forms of synthesis reports: composing one (words, scope, theme) and withdrawing one."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from factories.models import Sector
from reporting.dashboard_forms import UNION_CHOICES
from reporting.models import SizeBand, SynthesisKind, SynthesisReport, SynthesisScope
from reporting.synthesis import PickerCluster
from reporting.synthesis_services import (
    EARLIEST_YEAR,
    INTRODUCTION_MAX_LENGTH,
    LATEST_YEAR,
    REASON_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    SynthesisInput,
)


class SynthesisForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX_LENGTH)
    kind = forms.ChoiceField(
        label=_("Kind of report"),
        choices=SynthesisKind.choices,
        widget=forms.RadioSelect,
        help_text=_("A thematic report shows its theme's questions first."),
    )
    introduction = forms.CharField(
        label=_("Introduction"),
        required=False,
        max_length=INTRODUCTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Shown above the figures, in every language of the report as you write it."),
    )
    scope = forms.ChoiceField(
        label=_("Count the assessments of"),
        choices=[
            (SynthesisScope.YEARS, _("a period of years (by the year of the visit)")),
            (SynthesisScope.CYCLES, _("chosen assessment cycles")),
        ],
        widget=forms.RadioSelect,
    )
    year_from = forms.IntegerField(
        label=_("From the year"), required=False, min_value=EARLIEST_YEAR, max_value=LATEST_YEAR
    )
    year_to = forms.IntegerField(
        label=_("To the year"), required=False, min_value=EARLIEST_YEAR, max_value=LATEST_YEAR
    )
    cycles = forms.TypedMultipleChoiceField(
        label=_("Cycles"), required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    region = forms.ChoiceField(label=_("Region or zone"), required=False)
    sector = forms.ChoiceField(label=_("Sector"), required=False)
    size = forms.ChoiceField(label=_("Size"), required=False)
    union = forms.ChoiceField(label=_("Union"), required=False, choices=UNION_CHOICES)
    # Rendered by the page grouped by cluster and compliance point (``picker``).
    theme_questions = forms.MultipleChoiceField(label=_("Questions of the theme"), required=False)
    theme_points = forms.MultipleChoiceField(
        label=_("Every question of these compliance points"), required=False
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, required=False)

    def __init__(
        self,
        *args: Any,
        choices: dict[str, list[Any]],
        theme: list[PickerCluster],
        report: SynthesisReport | None = None,
        **kwargs: Any,
    ) -> None:
        if report is not None and "initial" not in kwargs:
            kwargs["initial"] = initial_of(report)
        super().__init__(*args, **kwargs)
        self.theme = theme
        every = _("All")
        sizes = dict(SizeBand.choices)
        kept_cycles = report.cycles if report is not None else []
        kept_region = {report.region} if report is not None and report.region else set()
        cycles = sorted(set(choices["cycle"]) | set(kept_cycles)) or [1, 2, 3]
        tool_keys = [q.key for cluster in theme for point in cluster.points for q in point.questions]
        # Keys of the report no longer in the tool stay choosable: earlier versions' answers match them.
        self.earlier_keys = [k for k in (report.theme_keys if report else []) if k not in set(tool_keys)]
        fields: dict[str, Any] = self.fields
        fields["cycles"].choices = [(c, _("Cycle %(n)s") % {"n": c}) for c in cycles]
        fields["region"].choices = [
            ("", every),
            *((r, r) for r in sorted(set(choices["region"]) | kept_region)),
        ]
        fields["sector"].choices = [("", every), *Sector.choices]
        fields["size"].choices = [("", every), *((s, sizes[s]) for s in SizeBand.values)]
        fields["theme_questions"].choices = [(k, k) for k in [*tool_keys, *self.earlier_keys]]
        fields["theme_points"].choices = [(p.code, p.name) for cluster in theme for p in cluster.points]
        if not self.is_bound and report is None:
            years = choices["year"]
            if years:
                self.initial.setdefault("year_from", years[-1])
                self.initial.setdefault("year_to", years[-1])
            self.initial.setdefault("kind", SynthesisKind.ANNUAL)
            self.initial.setdefault("scope", SynthesisScope.YEARS)

    def data_input(self) -> SynthesisInput:
        """The composed report; the services check the rules across fields."""
        data = self.cleaned_data
        keys = set(data["theme_questions"])
        points = set(data["theme_points"])
        ordered = [
            q.key
            for cluster in self.theme
            for point in cluster.points
            for q in point.questions
            if q.key in keys or point.code in points
        ]
        ordered += [key for key in self.earlier_keys if key in keys]
        return SynthesisInput(
            title=data["title"],
            kind=data["kind"],
            introduction=data["introduction"],
            scope=data["scope"],
            cycles=data["cycles"],
            year_from=data["year_from"],
            year_to=data["year_to"],
            region=data["region"],
            sector=data["sector"],
            size=data["size"],
            union_present={"yes": True, "no": False}.get(data["union"]),
            theme_keys=ordered,
        )

    def picker(self) -> list[dict[str, Any]]:
        """The tool's questions grouped by cluster and compliance point, with what is chosen."""
        chosen = set(self["theme_questions"].value() or [])
        points = set(self["theme_points"].value() or [])
        result = []
        n = 0
        for cluster in self.theme:
            entry: dict[str, Any] = {"name": cluster.name, "code": cluster.code, "points": [], "chosen": 0}
            for point in cluster.points:
                rows = []
                for question in point.questions:
                    n += 1
                    checked = question.key in chosen or point.code in points
                    entry["chosen"] += checked
                    rows.append(
                        {"id": f"theme-q-{n}", "key": question.key, "text": question.text, "checked": checked}
                    )
                entry["points"].append(
                    {
                        "id": f"theme-p-{n}",
                        "code": point.code,
                        "name": point.name,
                        # Only as submitted: ticked on its own it would bring back a question unticked below.
                        "checked": point.code in points,
                        "questions": rows,
                    }
                )
            result.append(entry)
        if self.earlier_keys:
            rows = []
            for key in self.earlier_keys:
                n += 1
                rows.append({"id": f"theme-q-{n}", "key": key, "text": "", "checked": key in chosen})
            result.append(
                {
                    "name": _("Questions of earlier versions of the tool"),
                    "code": "",
                    "chosen": sum(r["checked"] for r in rows),
                    "points": [{"id": "", "code": "", "name": "", "checked": False, "questions": rows}],
                }
            )
        return result


def initial_of(report: SynthesisReport) -> dict[str, Any]:
    return {
        "title": report.title,
        "kind": report.kind,
        "introduction": report.introduction,
        "scope": report.scope,
        "year_from": report.year_from,
        "year_to": report.year_to,
        "cycles": report.cycles,
        "region": report.region,
        "sector": report.sector,
        "size": report.size,
        "union": "" if report.union_present is None else ("yes" if report.union_present else "no"),
        "theme_questions": list(report.theme_keys),
        "version": report.version,
    }


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the report withdrawn?"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept on record in the audit trail; the public no longer sees the report."),
    )
