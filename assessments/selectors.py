"""Read queries of the compliance tool."""

from __future__ import annotations

from typing import Any

from django.http import Http404

from assessments.models import Question, ToolVersion
from assessments.services import FLAGS


def tool_version(*, tool: str, version: str) -> ToolVersion:
    found = ToolVersion.objects.filter(tool=tool, version=version).first()
    if found is None:
        raise Http404
    return found


def tool_export(*, version: ToolVersion) -> dict[str, Any]:
    """A version as its data file says it: loading the export gives the same version back."""
    questions = Question.objects.filter(version=version).select_related("point").order_by("order")
    return {
        "tool": version.tool,
        "version": version.version,
        "effective_from": version.effective_from,
        "title": version.title,
        "questions": [
            {
                "key": q.key,
                **({"global_key": q.global_key} if q.global_key else {}),
                "point": q.point.code,
                "noncompliant_answer": "yes" if q.noncompliant_when_yes else "no",
                "flags": [flag for flag in FLAGS if getattr(q, flag)],
                "text": q.text,
                "guidance": q.guidance,
                "legal_reference": q.legal_reference,
            }
            for q in questions
        ],
    }
