"""Writes of the compliance tool: loading clusters, points and versions from their data files,
and publishing. A published version never changes: a change is a new version."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from assessments.models import Cluster, CompliancePoint, Question, ToolStatus, ToolVersion
from betterwork import tenancy
from betterwork.models import Programme

FLAGS = ("publicly_reported", "gender_sensitive", "zero_tolerance")
GLOBAL_TOOL = "global"


@transaction.atomic
def points_load(*, data: dict[str, Any]) -> tuple[int, int]:
    """Create or update the global clusters and compliance points (idempotent)."""
    clusters = points = 0
    for c_order, cluster_data in enumerate(data["clusters"], start=1):
        cluster, _ = Cluster.objects.update_or_create(
            code=cluster_data["code"],
            defaults={"core": bool(cluster_data.get("core")), "name": cluster_data["name"], "order": c_order},
        )
        clusters += 1
        for p_order, point_data in enumerate(cluster_data["points"], start=1):
            if not point_data["code"].startswith(cluster.code + "."):
                raise ValidationError(
                    f"Point {point_data['code']} does not belong to cluster {cluster.code}."
                )
            CompliancePoint.objects.update_or_create(
                code=point_data["code"],
                defaults={"cluster": cluster, "name": point_data["name"], "order": p_order},
            )
            points += 1
    return clusters, points


def _normalise(data: dict[str, Any], points: dict[str, CompliancePoint]) -> tuple[dict[str, Any], list[str]]:
    """Check a version file and return it in canonical form, with every problem found."""
    errors: list[str] = []
    tool = str(data.get("tool", "")).strip()
    version = str(data.get("version", "")).strip()
    if not tool or not version:
        errors.append("A tool file names its tool and version.")
    effective_from = data.get("effective_from")
    if not isinstance(effective_from, dt.date):
        errors.append("effective_from must be a date (YYYY-MM-DD).")
    questions: list[dict[str, Any]] = []
    seen: set[str] = set()
    for n, q in enumerate(data.get("questions") or [], start=1):
        where = f"question {n} ({q.get('key', '?')})"
        key = str(q.get("key", "")).strip()
        if not key:
            errors.append(f"{where}: no key.")
        elif key in seen:
            errors.append(f"{where}: the key {key} is used twice.")
        seen.add(key)
        if q.get("point") not in points:
            errors.append(f"{where}: unknown compliance point {q.get('point')!r}.")
        if q.get("noncompliant_answer") not in ("yes", "no"):
            errors.append(f'{where}: noncompliant_answer must be "yes" or "no".')
        flags = q.get("flags") or []
        if set(flags) - set(FLAGS):
            errors.append(f"{where}: unknown flags {sorted(set(flags) - set(FLAGS))}.")
        text = q.get("text") or {}
        if not isinstance(text, dict) or not text.get("en"):
            errors.append(f"{where}: the question needs its English text.")
        questions.append(
            {
                "key": key,
                "global_key": str(q.get("global_key") or ""),
                "point": q.get("point"),
                "noncompliant_answer": q.get("noncompliant_answer"),
                "flags": sorted(flags),
                "text": text,
                "guidance": q.get("guidance") or {},
                "legal_reference": str(q.get("legal_reference") or ""),
            }
        )
    if not questions:
        errors.append("A tool version has at least one question.")
    canonical = {
        "tool": tool,
        "version": version,
        "title": data.get("title") or {},
        "effective_from": effective_from.isoformat() if isinstance(effective_from, dt.date) else None,
        "questions": questions,
    }
    return canonical, errors


def content_hash(canonical: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@transaction.atomic
def tool_load(*, data: dict[str, Any], publish: bool = False) -> tuple[ToolVersion, str]:
    """Load one version file. Returns the version and what happened: created, replaced, unchanged."""
    points = {p.code: p for p in CompliancePoint.objects.all()}
    canonical, errors = _normalise(data, points)
    tool = canonical["tool"]
    if tool and tool != GLOBAL_TOOL and not Programme.objects.filter(code=tool).exists():
        errors.append(f"No country programme has the code {tool!r}.")
    global_keys = [q["global_key"] for q in canonical["questions"] if q["global_key"]]
    if tool != GLOBAL_TOOL and global_keys:
        known = set(Question.objects.filter(version__tool=GLOBAL_TOOL).values_list("key", flat=True))
        unknown = sorted(set(global_keys) - known)
        if unknown:
            errors.append(f"Unknown global questions: {', '.join(unknown[:10])}.")
    if errors:
        raise ValidationError(errors)
    digest = content_hash(canonical)
    version = ToolVersion.objects.select_for_update().filter(tool=tool, version=canonical["version"]).first()
    if version is not None and version.content_sha256 == digest:
        outcome = "unchanged"
    elif version is not None and version.status == ToolStatus.PUBLISHED:
        raise ValidationError(
            f"{tool} {version.version} is published and cannot change; give the new content a new version."
        )
    else:
        outcome = "replaced" if version is not None else "created"
        if version is None:
            version = ToolVersion(tool=tool, version=canonical["version"])
        version.title = canonical["title"]
        version.effective_from = dt.date.fromisoformat(canonical["effective_from"])
        version.content_sha256 = digest
        version.save()
        # Only unpublished versions are replaced, and no assessment uses an unpublished tool, so
        # no answer can refer to these questions (the foreign key would refuse it anyway): the
        # delete needs to look into no programme's answers.
        with tenancy.scope(()):
            version.questions.all().delete()
        Question.objects.bulk_create(
            Question(
                version=version,
                key=q["key"],
                global_key=q["global_key"],
                point=points[q["point"]],
                noncompliant_when_yes=q["noncompliant_answer"] == "yes",
                text=q["text"],
                guidance=q["guidance"],
                legal_reference=q["legal_reference"],
                order=n,
                **{flag: flag in q["flags"] for flag in FLAGS},
            )
            for n, q in enumerate(canonical["questions"], start=1)
        )
    if publish and version.status != ToolStatus.PUBLISHED:
        tool_publish(version=version)
    return version, outcome


@transaction.atomic
def tool_publish(*, version: ToolVersion) -> ToolVersion:
    """Publish a version; the tool's previous published version ends the day before it starts."""
    previous = (
        ToolVersion.objects.select_for_update()
        .filter(tool=version.tool, status=ToolStatus.PUBLISHED, effective_from__lt=version.effective_from)
        .order_by("-effective_from")
        .first()
    )
    if previous is not None and previous.effective_to is None:
        previous.effective_to = version.effective_from - dt.timedelta(days=1)
        previous.save(update_fields=["effective_to"])
    version.status = ToolStatus.PUBLISHED
    version.published_at = timezone.now()
    version.save(update_fields=["status", "published_at"])
    return version
