"""Writes of the compliance tool: loading clusters, points and versions from their data files,
and publishing. A published version never changes: a change is a new version."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments import selectors
from assessments.models import FLAGS, Cluster, CompliancePoint, Question, ToolStatus, ToolVersion
from betterwork import audit, permissions, tenancy
from betterwork.models import Programme
from betterwork.permissions import Principal

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


@transaction.atomic
def tool_translation_load(*, data: dict[str, Any]) -> int:
    """Put one language's text into a tool version: its title, the names of the clusters and
    compliance points, its questions and their guidance. A published version takes translations
    too: they change no question, key, answer or English text, so neither its content hash nor
    any assessment. Returns how many texts were set."""
    language = str(data.get("language", "")).strip()
    if language not in dict(settings.LANGUAGES) or language == "en":
        raise ValidationError(
            f"A translation names one of the platform's languages other than English, not {language!r}."
        )
    version = ToolVersion.objects.filter(tool=data.get("tool"), version=str(data.get("version"))).first()
    if version is None:
        raise ValidationError(f"No tool version {data.get('tool')} {data.get('version')} to translate.")
    questions = {q.key: q for q in version.questions.all()}
    unknown = sorted(set(data.get("questions") or {}) - set(questions))
    if unknown:
        raise ValidationError(f"{version} has no questions {', '.join(unknown[:10])}.")
    count = 0

    def put(texts: dict[str, str], text: Any) -> bool:
        if not isinstance(text, str) or not text.strip():
            return False
        texts[language] = text.strip()
        return True

    if put(version.title, data.get("title")):
        version.save(update_fields=["title"])
        count += 1
    for model, names in ((Cluster, data.get("clusters") or {}), (CompliancePoint, data.get("points") or {})):
        for item in model.objects.filter(code__in=list(names)):
            if put(item.name, names[item.code]):
                item.save(update_fields=["name"])
                count += 1
    changed = []
    for key, texts in (data.get("questions") or {}).items():
        question = questions[key]
        done = put(question.text, texts.get("text"))
        done = put(question.guidance, texts.get("guidance")) or done
        if done:
            changed.append(question)
            count += 1
    Question.objects.bulk_update(changed, ["text", "guidance"], batch_size=500)
    return count


def _normalise(data: dict[str, Any], points: dict[str, CompliancePoint]) -> tuple[dict[str, Any], list[str]]:
    """Check a version file and return it in canonical form, with every problem found."""
    errors: list[str] = []
    tool = str(data.get("tool", "")).strip()
    version = str(data.get("version", "")).strip()
    if not tool or not version:
        errors.append("A tool file names its tool and version.")
    effective_from = data.get("effective_from")
    if isinstance(effective_from, str):  # JSON files carry dates as text
        with contextlib.suppress(ValueError):
            effective_from = dt.date.fromisoformat(effective_from)
    if not isinstance(effective_from, dt.date):
        errors.append("effective_from must be a date (YYYY-MM-DD).")
    questions: list[dict[str, Any]] = []
    seen: set[str] = set()
    raw_questions = data.get("questions") or []
    if not isinstance(raw_questions, list):
        errors.append("questions must be a list.")
        raw_questions = []
    for n, q in enumerate(raw_questions, start=1):
        if not isinstance(q, dict):
            errors.append(f"question {n}: not a question (key, point, text, ...).")
            continue
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
        if not isinstance(flags, list):
            errors.append(f"{where}: flags must be a list.")
            flags = []
        elif set(map(str, flags)) - set(FLAGS):
            errors.append(f"{where}: unknown flags {sorted(set(flags) - set(FLAGS))}.")
        text = q.get("text") or {}
        if not isinstance(text, dict) or not text.get("en"):
            errors.append(f"{where}: the question needs its English text.")
            text = text if isinstance(text, dict) else {}
        guidance = q.get("guidance") or {}
        if not isinstance(guidance, dict):
            errors.append(f"{where}: guidance is given per language (en: ..., ar: ...).")
            guidance = {}
        questions.append(
            {
                "key": key,
                "global_key": str(q.get("global_key") or ""),
                "point": q.get("point"),
                "noncompliant_answer": q.get("noncompliant_answer"),
                "flags": sorted(flags),
                "text": text,
                "guidance": guidance,
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
        version = tool_publish(version=version)
    return version, outcome


@transaction.atomic
def tool_publish(*, version: ToolVersion, actor: Principal | None = None) -> ToolVersion:
    """Publish a version; the tool's previous published version ends the day before it starts.

    From the pages (``actor`` given) only a version in review, and not by whoever sent it to
    review; ``load_tool --publish`` publishes the repository's reviewed files directly."""
    version = ToolVersion.objects.select_for_update().get(pk=version.pk)
    if actor is not None:
        _require_tool_manager(actor)
        if version.status != ToolStatus.REVIEW:
            raise ValidationError(_("Only a version in review can be published."))
        if version.submitted_by_id == getattr(actor.user, "pk", None):
            raise ValidationError(_("Another member of the global team publishes what you sent to review."))
    if version.status == ToolStatus.PUBLISHED:
        return version
    later = ToolVersion.objects.filter(
        tool=version.tool, status=ToolStatus.PUBLISHED, effective_from__gte=version.effective_from
    ).first()
    if later is not None:
        raise ValidationError(
            _("%(later)s is already published from %(date)s: this version must start after it.")
            % {"later": later, "date": later.effective_from.isoformat()}
        )
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
    version.published_by = actor.user if actor is not None else None
    version.save(update_fields=["status", "published_at", "published_by"])
    if actor is not None:
        audit.record(actor=actor.user, action="tool.publish", obj=version, programme=None)
    return version


# --- The global team's drafts and reviews ------------------------------------------------------


def _require_tool_manager(actor: Principal) -> None:
    if not permissions.can_manage_tool(actor):
        raise PermissionDenied


def _require_draft(version: ToolVersion) -> None:
    if version.status != ToolStatus.DRAFT:
        raise ValidationError(_("Only a draft can change; return it to draft first."))


@transaction.atomic
def tool_upload(*, actor: Principal, data: dict[str, Any]) -> tuple[ToolVersion, str]:
    """A draft from a version file (the repository's format): new, or replacing an unpublished one.
    New content for a version in review sends it back to draft: the review was of other content."""
    _require_tool_manager(actor)
    version, outcome = tool_load(data=data)
    if outcome == "replaced" and version.status == ToolStatus.REVIEW:
        version.status, version.submitted_by, version.submitted_at = ToolStatus.DRAFT, None, None
        version.save(update_fields=["status", "submitted_by", "submitted_at"])
    if outcome != "unchanged":
        audit.record(
            actor=actor.user,
            action=f"tool.{outcome}",
            obj=version,
            programme=None,
            after={"questions": version.questions.count(), "sha256": version.content_sha256},
        )
    return version, outcome


@transaction.atomic
def tool_draft_copy(
    *, actor: Principal, source: ToolVersion, version: str, effective_from: dt.date
) -> ToolVersion:
    """Start the next version of a tool as a draft holding the content of ``source``."""
    _require_tool_manager(actor)
    if ToolVersion.objects.filter(tool=source.tool, version=version).exists():
        raise ValidationError({"version": _("This tool already has a version %(v)s.") % {"v": version}})
    data = {**selectors.tool_export(version=source), "version": version, "effective_from": effective_from}
    created, _outcome = tool_load(data=data)
    audit.record(
        actor=actor.user, action="tool.copy", obj=created, programme=None, after={"from": str(source)}
    )
    return created


@transaction.atomic
def tool_question_update(*, actor: Principal, question: Question, changes: dict[str, Any]) -> Question:
    """Edit one question of a draft: its texts per language, guidance, legal reference and flags."""
    _require_tool_manager(actor)
    version = ToolVersion.objects.select_for_update().get(pk=question.version_id)
    _require_draft(version)
    if not (changes.get("text") or {}).get("en", "").strip():
        raise ValidationError({"text_en": _("The question needs its English text.")})
    before = {field: getattr(question, field) for field in changes}
    for field, value in changes.items():
        setattr(question, field, value)
    question.save(update_fields=list(changes))
    version.content_sha256 = content_hash(_canonical(version))
    version.save(update_fields=["content_sha256"])
    audit.record(
        actor=actor.user,
        action="tool.question",
        obj=question,
        programme=None,
        before=before,
        after={field: getattr(question, field) for field in changes},
    )
    return question


def _canonical(version: ToolVersion) -> dict[str, Any]:
    points = {p.code: p for p in CompliancePoint.objects.all()}
    canonical, _errors = _normalise(selectors.tool_export(version=version), points)
    return canonical


@transaction.atomic
def tool_submit(*, actor: Principal, version: ToolVersion) -> ToolVersion:
    """A draft goes to review by another member of the global team."""
    _require_tool_manager(actor)
    version = ToolVersion.objects.select_for_update().get(pk=version.pk)
    _require_draft(version)
    version.status, version.submitted_by, version.submitted_at = ToolStatus.REVIEW, actor.user, timezone.now()
    version.review_note = ""
    version.save(update_fields=["status", "submitted_by", "submitted_at", "review_note"])
    audit.record(actor=actor.user, action="tool.submit", obj=version, programme=None)
    return version


@transaction.atomic
def tool_return(*, actor: Principal, version: ToolVersion, note: str) -> ToolVersion:
    """The reviewer sends a version back to draft, saying what to change."""
    _require_tool_manager(actor)
    version = ToolVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != ToolStatus.REVIEW:
        raise ValidationError(_("Only a version in review can be returned."))
    if not note.strip():
        raise ValidationError({"note": _("Say what should change.")})
    version.status, version.review_note = ToolStatus.DRAFT, note.strip()
    version.save(update_fields=["status", "review_note"])
    audit.record(actor=actor.user, action="tool.return", obj=version, programme=None, reason=note.strip())
    return version
