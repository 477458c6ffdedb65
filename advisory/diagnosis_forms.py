"""The self-diagnosis page of one cluster: an answer and a note per question."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from advisory.diagnosis import NOTE_MAX, AnswerInput
from advisory.diagnosis_selectors import DiagnosisCluster, DiagnosisQuestion

VALUE_CHOICES = [
    ("C", gettext_lazy("Compliant")),
    ("NC", gettext_lazy("Non-compliant")),
    ("NA", gettext_lazy("Not applicable")),
]


class ClusterAnswersForm(forms.Form):
    """Two fields per question of the cluster: ``q<id>-value`` and ``q<id>-note``."""

    def __init__(self, *args: Any, cluster: DiagnosisCluster, editable: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cluster = cluster
        for point in cluster.points:
            for item in point.questions:
                pk = item.question.pk
                answer = item.answer
                self.fields[f"q{pk}-value"] = forms.ChoiceField(
                    label=item.question.display_text,
                    choices=VALUE_CHOICES,
                    widget=forms.RadioSelect,
                    required=False,
                    initial=answer.value if answer else None,
                    disabled=not editable,
                )
                self.fields[f"q{pk}-note"] = forms.CharField(
                    label=gettext_lazy("What the factory found"),
                    widget=forms.Textarea(attrs={"rows": 2}),
                    required=False,
                    max_length=NOTE_MAX,
                    initial=answer.note if answer else "",
                    disabled=not editable,
                )

    def rows(self) -> list[dict[str, Any]]:
        """Per point, its questions with their bound fields, for the template."""
        return [
            {"point": point.point, "questions": [self._row(item) for item in point.questions]}
            for point in self.cluster.points
        ]

    def _row(self, item: DiagnosisQuestion) -> dict[str, Any]:
        pk = item.question.pk
        return {
            "question": item.question,
            "answer": item.answer,
            "value": self[f"q{pk}-value"],
            "note": self[f"q{pk}-note"],
        }

    def answers(self) -> dict[int, AnswerInput]:
        """What was given on the page, by question id (questions left blank stay unanswered)."""
        given: dict[int, AnswerInput] = {}
        for point in self.cluster.points:
            for item in point.questions:
                pk = item.question.pk
                value = self.cleaned_data.get(f"q{pk}-value") or ""
                note = self.cleaned_data.get(f"q{pk}-note") or ""
                if value or note.strip() or item.answer is not None:
                    given[pk] = AnswerInput(value=value, note=note)
        return given

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        """The service names a question as ``q<id>``; show it on that question's answer."""
        for key, messages in errors.items():
            name = f"{key}-value" if f"{key}-value" in self.fields else None
            self.add_error(name, messages)
