"""Evidence files: only photos (JPEG, PNG, WebP) and PDFs, checked by their content, at most
10 MB; photos are re-encoded without their EXIF data, so no location or device leaves with them."""

from __future__ import annotations

import io
import os

from django.core.exceptions import PermissionDenied, SuspiciousFileOperation, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from assessments.lifecycle import assessor_ids
from assessments.models import Assessment, AssessmentStatus, Attachment, Question
from betterwork import audit, permissions
from betterwork.permissions import Principal

MAX_BYTES = 10 * 1024 * 1024
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
# The extension a stored file gets from its checked type, whatever the uploader named it.
SUFFIXES = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}
NAME_MAX = 200


def evidence_name(upload: UploadedFile) -> str:
    """The uploader's file name as shown beside the evidence: no folders, markup or control
    characters, at most 200 characters with the extension kept ("evidence" when nothing is left)."""
    try:
        name = get_valid_filename(os.path.basename(str(upload.name or "").replace("\\", "/")))
    except SuspiciousFileOperation:  # nothing but characters a file name may not keep
        return "evidence"
    if len(name) > NAME_MAX:
        root, extension = os.path.splitext(name)
        extension = extension[:16]
        name = root[: NAME_MAX - len(extension)] + extension
    return name


def clean_evidence_file(upload: UploadedFile) -> tuple[bytes, str]:
    """The bytes to store and their type; refuses anything that is not really a photo or a PDF."""
    if upload.size is None or upload.size > MAX_BYTES:
        raise ValidationError({"file": _("Files may be at most 10 MB.")})
    data = upload.read()
    if data.startswith(b"%PDF-"):
        return data, "application/pdf"
    try:
        with Image.open(io.BytesIO(data)) as probe:  # refuses a few bytes that unpack to gigabytes
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format or ""
            if kind not in IMAGE_TYPES:
                raise ValidationError(
                    {"file": _("Only photos (JPEG, PNG, WebP) and PDF files are accepted.")}
                )
            # Turn the photo upright, then save it without any metadata (EXIF, GPS).
            upright = ImageOps.exif_transpose(image)
            clean = upright.copy()
            clean.info = {}  # Pillow writes only what it is given: no EXIF, GPS, XMP or comments
            out = io.BytesIO()
            clean.save(out, format=kind, **({"quality": 90} if kind == "JPEG" else {}))
            return out.getvalue(), IMAGE_TYPES[kind]
    except Image.DecompressionBombError as error:
        raise ValidationError(
            {"file": _("This photo has too many pixels; save it at a smaller size and try again.")}
        ) from error
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise ValidationError(
            {"file": _("Only photos (JPEG, PNG, WebP) and PDF files are accepted.")}
        ) from error


@transaction.atomic
def attachment_add(
    *, actor: Principal, assessment: Assessment, upload: UploadedFile, question: Question | None = None
) -> Attachment:
    if not permissions.can_answer(actor, assessment, assessor_ids(assessment)):
        raise PermissionDenied
    if assessment.status != AssessmentStatus.IN_PROGRESS:
        raise ValidationError(_("Evidence can be added only while the assessment is in progress."))
    if question is not None and question.version_id != assessment.tool_version_id:
        raise ValidationError({"question": _("That question is not part of this assessment's tool.")})
    content, content_type = clean_evidence_file(upload)
    name = evidence_name(upload)
    attachment = Attachment(
        programme_id=assessment.programme_id,
        assessment=assessment,
        question=question,
        original_name=name,
        content_type=content_type,
        size=len(content),
        uploaded_by=actor.user,
    )
    attachment.file.save(name, ContentFile(content), save=False)
    attachment.save()
    audit.record(
        actor=actor.user,
        action="attachment.add",
        obj=attachment,
        programme=assessment.programme_id,
        after={
            "name": name,
            "type": content_type,
            "size": len(content),
            "question": question.key if question else None,
        },
    )
    return attachment


def attachment_downloaded(*, actor: Principal, attachment: Attachment) -> None:
    """Evidence may show workers and their workplace: each download is on the audit trail."""
    audit.record(
        actor=actor.user,
        action="attachment.download",
        obj=attachment,
        programme=attachment.programme_id,
        after={"assessment": attachment.assessment_id, "question": attachment.question_id},
    )
