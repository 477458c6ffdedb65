"""Assessment pages: the list, planning, the overview with its transitions, and the advisor's
form, one cluster a page, where every question saves itself."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from assessments import attachments, cases, comments, figures, interviews, lifecycle, selectors
from assessments.forms import (
    AnswerForm,
    CaseNoteForm,
    CaseStatusForm,
    CommentResponseForm,
    FindingCommentForm,
    InterviewNoteForm,
    PlanForm,
    RoundForm,
    TransitionForm,
    VisitForm,
)
from assessments.imports import COLUMNS as HISTORY_COLUMNS
from assessments.imports import HistoryImporter, history_rows
from assessments.models import (
    Answer,
    AnswerValue,
    Assessment,
    AssessmentStatus,
    CommentOutcome,
    EvidenceSource,
    Question,
)
from betterwork import offline, permissions
from betterwork import selectors as people_selectors
from betterwork.files import stored_download
from betterwork.forms import add_service_error
from betterwork.import_views import import_page, import_step
from betterwork.middleware import principal_of, programme_of
from betterwork.replica import reads_from_replica
from betterwork.spreadsheets import Format, export_response, stream_csv
from factories import selectors as factory_selectors

# Buttons offered on the overview, in the order a user meets them.
TRANSITION_LABELS: dict[str, Any] = {
    AssessmentStatus.IN_PROGRESS: _("Start the assessment"),
    AssessmentStatus.SUBMITTED: _("Submit for review"),
    AssessmentStatus.IN_REVIEW: _("Start the review"),
    AssessmentStatus.FACTORY_REVIEW: _("Approve: share the draft with the factory"),
    AssessmentStatus.FINAL: _("Make final"),
    AssessmentStatus.PUBLISHED: _("Publish"),
    AssessmentStatus.CANCELLED: _("Cancel the assessment"),
}


def _assessment(request: HttpRequest, pk: int) -> Assessment:
    return selectors.access_assessment(
        principal=principal_of(request), assessment_id=pk, programme=programme_of(request)
    )


@login_required
def assessment_list(request: HttpRequest, programme_code: str) -> HttpResponse:
    programme, principal = programme_of(request), principal_of(request)
    if not permissions.can_see_visit_plans(principal, programme.pk):
        raise Http404
    assessments = selectors.assessment_list(principal=principal, programme=programme).prefetch_related(
        "assessors"
    )
    status = request.GET.get("status", "")
    if status in AssessmentStatus.values:
        assessments = assessments.filter(status=status)
    rounds = list(selectors.round_list(programme=programme, today=lifecycle.programme_today(programme)))
    round_id = request.GET.get("round", "")
    if round_id.isdigit():
        assessments = assessments.filter(round_id=int(round_id))
    page = Paginator(assessments, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "assessments/list.html",
        {
            "programme": programme,
            "page": page,
            "status": status,
            "statuses": AssessmentStatus.choices,
            "query": urlencode({k: v for k, v in {"status": status, "round": round_id}.items() if v}),
            "rounds": rounds,
            "round_id": round_id,
            "can_plan": permissions.can_plan_assessment(principal, programme.pk),
            "can_import": permissions.can_import_assessments(principal, programme.pk),
            "can_handle_cases": permissions.can_handle_cases(principal, programme.pk),
        },
    )


@login_required
def assessment_plan(request: HttpRequest, programme_code: str) -> HttpResponse:
    programme, principal = programme_of(request), principal_of(request)
    if not permissions.can_plan_assessment(principal, programme.pk):
        raise Http404
    form = PlanForm(
        request.POST or None,
        initial={"factory": request.GET.get("factory"), "round": request.GET.get("round")},
        factories=factory_selectors.factory_list(principal=principal, programme=programme).order_by("name"),
        staff=people_selectors.programme_staff(programme=programme),
        rounds=selectors.round_list(programme=programme, today=lifecycle.programme_today(programme)),
    )
    if request.method == "POST" and form.is_valid():
        try:
            assessment = lifecycle.assessment_plan(
                actor=principal,
                factory=form.cleaned_data["factory"],
                planned_date=form.cleaned_data["planned_date"],
                due_date=form.cleaned_data["due_date"],
                assessors=list(form.cleaned_data["assessors"]),
                round=form.cleaned_data.get("round"),
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Assessment planned: %(name)s.") % {"name": assessment})
            return redirect("assessments:detail", programme_code=programme.code, pk=assessment.pk)
    return render(request, "assessments/plan.html", {"programme": programme, "form": form})


@login_required
def assessment_detail(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    principal = principal_of(request)
    assessment = _assessment(request, pk)
    staff_view = permissions.can_see_visit_plans(principal, assessment.programme_id)
    if not staff_view:
        raise Http404  # factories read their draft report (reports issue), not the working file
    assessors = selectors.assessors_of(assessment=assessment)
    assessor_ids = {a.user_id for a in assessors}
    transitions = [
        {
            "to": to,
            "label": TRANSITION_LABELS[to],
            "form": TransitionForm(initial={"to": to, "expected_version": assessment.lock_version}),
        }
        for (state, to), who in lifecycle.TRANSITIONS.items()
        if state == assessment.status and lifecycle.allowed(principal, who, assessment, assessor_ids)
    ]
    return render(
        request,
        "assessments/detail.html",
        {
            "programme": assessment.programme,
            "assessment": assessment,
            "assessors": assessors,
            "clusters": selectors.assessment_form(assessment=assessment),
            "figures": figures.assessment_figures(assessment=assessment),
            "finding_comments": selectors.finding_comments(assessment=assessment),
            "outcomes": CommentOutcome.choices,
            "visit_form": VisitForm(
                initial={
                    **{f: getattr(assessment, f) for f in lifecycle.VISIT_FIELDS if f != "interviews"},
                    **(assessment.interviews or {}),
                }
            )
            if assessment.status in (AssessmentStatus.PLANNED, AssessmentStatus.IN_PROGRESS)
            and permissions.can_answer(principal, assessment, assessor_ids)
            else None,
            "transitions": transitions,
            "can_read_interview_notes": permissions.can_read_interview_notes(
                principal, assessment, assessor_ids
            ),
            "can_answer": permissions.can_answer(principal, assessment, assessor_ids)
            and assessment.status == AssessmentStatus.IN_PROGRESS,
            "missing": lifecycle.missing_answers(assessment)[:20]
            if assessment.status == AssessmentStatus.IN_PROGRESS
            else [],
        },
    )


@login_required
@require_POST
def assessment_transition(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    assessment = _assessment(request, pk)
    form = TransitionForm(request.POST)
    if form.is_valid():
        try:
            lifecycle.assessment_transition(
                actor=principal_of(request),
                assessment=assessment,
                to=form.cleaned_data["to"],
                expected_version=form.cleaned_data["expected_version"],
                comments=form.cleaned_data["comments"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        except PermissionDenied as error:
            raise Http404 from error
        else:
            messages.success(
                request,
                _("Done: the assessment is now %(status)s.")
                % {"status": AssessmentStatus(form.cleaned_data["to"]).label},
            )
    return redirect("assessments:detail", programme_code=assessment.programme.code, pk=assessment.pk)


def _answer_context(
    assessment: Assessment, question: Question, answer: Answer | None, **extra: Any
) -> dict[str, Any]:
    """What one question's form shows: the submitted values after a refused save, else the saved answer.

    The inputs are written out in the template rather than rendered by form widgets: a cluster
    page shows dozens of questions, and widget rendering would dominate its time.
    """
    form = extra.pop("form", None)
    if form is not None and form.is_bound:
        prefix = f"q{question.pk}-"
        state = {
            "version": form.data.get(prefix + "version", 0),
            "value": form.data.get(prefix + "value", ""),
            "finding": form.data.get(prefix + "finding", ""),
            "evidence": form.data.getlist(prefix + "evidence"),
        }
    else:
        state = {
            "version": answer.version if answer else 0,
            "value": answer.value if answer else "",
            "finding": answer.finding if answer else "",
            "evidence": answer.evidence if answer else [],
        }
    return {
        "assessment": assessment,
        "question": question,
        "answer": answer,
        "form": form,
        "state": state,
        "value_choices": AnswerValue.choices,
        "evidence_choices": EvidenceSource.choices,
        "editable": True,
        **extra,
    }


@login_required
def assessment_cluster(request: HttpRequest, programme_code: str, pk: int, cluster_code: str) -> HttpResponse:
    principal = principal_of(request)
    assessment = _assessment(request, pk)
    if not permissions.can_see_visit_plans(principal, assessment.programme_id):
        raise Http404
    clusters = selectors.assessment_form(assessment=assessment)
    current = next((c for c in clusters if c.cluster.code == cluster_code), None)
    if current is None:
        raise Http404
    editable = assessment.status == AssessmentStatus.IN_PROGRESS and permissions.can_answer(
        principal, assessment, selectors.acting_assessor_ids(assessment=assessment, principal=principal)
    )
    files: dict[int | None, list[Any]] = {}
    for attachment in selectors.attachments_of(assessment=assessment):
        files.setdefault(attachment.question_id, []).append(attachment)
    rows = [
        {
            "point": p.point,
            "questions": [
                {
                    **_answer_context(assessment, q.question, q.answer, editable=editable),
                    "attachments": files.get(q.question.pk, []),
                }
                for q in p.questions
            ],
        }
        for p in current.points
    ]
    index = clusters.index(current)
    return render(
        request,
        "assessments/cluster.html",
        {
            "programme": assessment.programme,
            "assessment": assessment,
            "clusters": clusters,
            "current": current,
            "rows": rows,
            "editable": editable,
            "file_max_bytes": attachments.MAX_BYTES,
            "queue_max_bytes": offline.QUEUE_MAX_BYTES,
            "previous": clusters[index - 1] if index > 0 else None,
            "next": clusters[index + 1] if index + 1 < len(clusters) else None,
        },
    )


@login_required
def offline_changes(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    """The changes this device keeps for an assessment: waiting, refused, or answered meanwhile by
    a colleague (shown side by side). They live in the browser, so the page is filled in there."""
    assessment = _assessment(request, pk)
    if not permissions.can_see_visit_plans(principal_of(request), assessment.programme_id):
        raise Http404
    return render(
        request,
        "assessments/offline.html",
        {
            "programme": assessment.programme,
            "assessment": assessment,
            "labels": json.dumps(
                {"values": dict(AnswerValue.choices), "evidence": dict(EvidenceSource.choices)},
                cls=DjangoJSONEncoder,
            ),
        },
    )


@login_required
@require_POST
def answer_save(request: HttpRequest, programme_code: str, pk: int, question_id: int) -> HttpResponse:
    """Save one answer. HTMX gets back only the new version and the saved state (what the user
    is typing is never replaced), or the whole question when a colleague saved it meanwhile;
    a plain form post goes back to the cluster page."""
    htmx = request.headers.get("HX-Request") == "true"
    # An autosave answers with the question's state only: the joined rows of a page are not needed.
    assessment = selectors.access_assessment(
        principal=principal_of(request), assessment_id=pk, programme=programme_of(request), bare=htmx
    )
    question = selectors.question_of(assessment=assessment, question_id=question_id)
    form = AnswerForm(request.POST, prefix=f"q{question.pk}")
    if form.is_valid():
        change = {**form.cleaned_data, "question": question.pk}
        try:
            [answer] = lifecycle.answers_save(
                actor=principal_of(request), assessment=assessment, changes=[change]
            )
        except lifecycle.AnswerConflict:
            theirs = selectors.answer_of(assessment=assessment, question=question)
            context = _answer_context(
                assessment, question, theirs, conflict=True, mine=form.cleaned_data, oob_form=True
            )
            return render(request, "assessments/_answer.html", context, status=409)
        except ValidationError as error:
            form.add_error(None, error)
        except PermissionDenied as error:
            raise Http404 from error
        else:
            if htmx:
                return render(
                    request,
                    "assessments/_answer_saved.html",
                    _answer_context(assessment, question, answer, saved=True),
                )
            messages.success(request, _("Answer saved."))
            cluster_url = reverse(
                "assessments:cluster",
                kwargs={
                    "programme_code": assessment.programme.code,
                    "pk": assessment.pk,
                    "cluster_code": question.point.cluster.code,
                },
            )
            return redirect(f"{cluster_url}#question-{question.pk}")
    current = selectors.answer_of(assessment=assessment, question=question)
    context = _answer_context(assessment, question, current, form=form)
    template = "assessments/_answer_saved.html" if htmx else "assessments/answer_page.html"
    return render(request, template, context, status=422)


@login_required
def case_list(request: HttpRequest, programme_code: str) -> HttpResponse:
    programme, principal = programme_of(request), principal_of(request)
    if not permissions.can_handle_cases(principal, programme.pk):
        raise Http404
    cases = selectors.case_list(principal=principal, programme=programme)
    return render(request, "assessments/case_list.html", {"programme": programme, "cases": cases})


@login_required
def case_detail(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    programme, principal = programme_of(request), principal_of(request)
    case = selectors.access_case(principal=principal, case_id=pk, programme=programme)
    note_form = CaseNoteForm(request.POST if request.POST.get("action") == "note" else None)
    status_form = CaseStatusForm(request.POST if request.POST.get("action") == "status" else None, case=case)
    form = note_form if request.POST.get("action") == "note" else status_form
    if request.method == "POST" and form.is_valid():
        try:
            if form is note_form:
                cases.case_note_add(actor=principal, case=case, text=form.cleaned_data["text"])
            else:
                cases.case_set_status(
                    actor=principal,
                    case=case,
                    status=form.cleaned_data["status"],
                    remediation=form.cleaned_data["remediation"],
                )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Case updated."))
            return redirect("assessments:case", programme_code=programme.code, pk=case.pk)
    return render(
        request,
        "assessments/case_detail.html",
        {
            "programme": programme,
            "case": case,
            "notes": selectors.case_notes(case=case),
            "note_form": note_form,
            "status_form": status_form,
        },
    )


@login_required
def draft_report(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    """The report as the factory reads it, where it comments on or disputes each finding."""
    principal = principal_of(request)
    assessment = _assessment(request, pk)
    if not permissions.can_read_draft_report(principal, assessment):
        raise Http404
    can_comment = permissions.can_comment_on_draft(principal, assessment)
    form = FindingCommentForm(request.POST or None)
    if request.method == "POST" and can_comment and form.is_valid():
        question = selectors.question_of(assessment=assessment, question_id=form.cleaned_data["question"])
        try:
            comments.comment_add(
                actor=principal,
                assessment=assessment,
                question=question,
                kind=form.cleaned_data["kind"],
                text=form.cleaned_data["text"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Your comment was sent to the assessors."))
            return redirect("assessments:draft", programme_code=assessment.programme.code, pk=assessment.pk)
    by_question: dict[str, list[Any]] = {}
    for comment in selectors.finding_comments(assessment=assessment):
        by_question.setdefault(comment.question.key, []).append(comment)
    return render(
        request,
        "assessments/draft.html",
        {
            "programme": assessment.programme,
            "assessment": assessment,
            "figures": figures.assessment_figures(assessment=assessment),
            "comments": by_question,
            "can_comment": can_comment,
            "questions": selectors.question_ids_by_key(assessment=assessment),
        },
    )


@login_required
@require_POST
def comment_respond(request: HttpRequest, programme_code: str, pk: int, comment_id: int) -> HttpResponse:
    principal = principal_of(request)
    assessment = _assessment(request, pk)
    comment = selectors.finding_comments(assessment=assessment).filter(pk=comment_id).first()
    if comment is None or not permissions.can_see_visit_plans(principal, assessment.programme_id):
        raise Http404
    form = CommentResponseForm(request.POST)
    if form.is_valid():
        try:
            comments.comment_respond(
                actor=principal,
                comment=comment,
                response=form.cleaned_data["response"],
                outcome=form.cleaned_data["outcome"],
            )
        except PermissionDenied as error:
            raise Http404 from error
        messages.success(request, _("Response recorded."))
    else:
        messages.error(request, _("Answer the comment and record its outcome."))
    return redirect("assessments:detail", programme_code=assessment.programme.code, pk=assessment.pk)


@login_required
def attachment_upload(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    assessment = _assessment(request, pk)
    if request.method != "POST":
        raise Http404
    question_id = request.POST.get("question") or None
    question = (
        selectors.question_of(assessment=assessment, question_id=int(question_id))
        if question_id and question_id.isdigit()
        else None
    )
    upload = request.FILES.get("file")
    back = reverse(
        "assessments:cluster",
        kwargs={
            "programme_code": assessment.programme.code,
            "pk": assessment.pk,
            "cluster_code": question.point.cluster.code if question else request.POST.get("cluster", "CL"),
        },
    )
    if upload is None:
        messages.error(request, _("Choose a file first."))
    else:
        try:
            attachments.attachment_add(
                actor=principal_of(request), assessment=assessment, upload=upload, question=question
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        except PermissionDenied as error:
            raise Http404 from error
        else:
            messages.success(request, _("Evidence added."))
    return redirect(back + (f"#question-{question.pk}" if question else ""))


@login_required
def attachment_download(
    request: HttpRequest, programme_code: str, pk: int, attachment_id: int
) -> HttpResponseBase:
    """Evidence only for programme staff: it may show workers and their workplace."""
    assessment = _assessment(request, pk)
    if not permissions.can_see_visit_plans(principal_of(request), assessment.programme_id):
        raise Http404
    attachment = selectors.access_attachment(assessment=assessment, attachment_id=attachment_id)
    attachments.attachment_downloaded(actor=principal_of(request), attachment=attachment)
    return stored_download(
        attachment.file,
        filename=attachment.original_name,
        content_type=attachment.content_type,
        as_attachment=attachment.content_type == "application/pdf",
    )


@login_required
@require_POST
def visit_update(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    assessment = _assessment(request, pk)
    form = VisitForm(request.POST)
    if form.is_valid():
        try:
            lifecycle.visit_update(actor=principal_of(request), assessment=assessment, data=form.visit_data())
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        except PermissionDenied as error:
            raise Http404 from error
        else:
            messages.success(request, _("The visit's facts are saved."))
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("assessments:detail", programme_code=assessment.programme.code, pk=assessment.pk)


@login_required
def round_list(request: HttpRequest, programme_code: str) -> HttpResponse:
    """A programme's rounds with their progress; team leaders and managers add and change them."""
    programme, principal = programme_of(request), principal_of(request)
    if not permissions.can_see_visit_plans(principal, programme.pk):
        raise Http404
    can_manage = permissions.can_manage_rounds(principal, programme.pk)
    form = RoundForm(request.POST or None)
    if request.method == "POST":
        if not can_manage:
            raise Http404
        if form.is_valid():
            try:
                saved = lifecycle.round_save(actor=principal, programme_id=programme.pk, **form.cleaned_data)
            except ValidationError as error:
                add_service_error(form, error)
            else:
                messages.success(request, _("Round %(name)s saved.") % {"name": saved})
                return redirect("assessments:rounds", programme_code=programme.code)
    today = lifecycle.programme_today(programme)
    return render(
        request,
        "assessments/rounds.html",
        {
            "programme": programme,
            "rounds": selectors.round_list(programme=programme, today=today),
            "form": form,
            "can_manage": can_manage,
            "today": today,
        },
        status=422 if form.errors else 200,
    )


@login_required
def round_edit(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    programme, principal = programme_of(request), principal_of(request)
    if not permissions.can_manage_rounds(principal, programme.pk):
        raise Http404
    current = selectors.access_round(programme=programme, round_id=pk)
    form = RoundForm(
        request.POST or None,
        initial={"name": current.name, "starts_on": current.starts_on, "ends_on": current.ends_on},
    )
    if request.method == "POST" and form.is_valid():
        try:
            lifecycle.round_save(
                actor=principal, programme_id=programme.pk, round=current, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Round %(name)s saved.") % {"name": form.cleaned_data["name"]})
            return redirect("assessments:rounds", programme_code=programme.code)
    return render(
        request,
        "assessments/round_form.html",
        {"programme": programme, "round": current, "form": form},
        status=422 if form.errors else 200,
    )


@login_required
def history_import(request: HttpRequest, programme_code: str) -> HttpResponse:
    """Upload historical assessments (one row per answer), see which final assessments the file
    makes or revises, then confirm: they count in the figures at once."""
    programme, principal = programme_of(request), principal_of(request)
    if not permissions.can_import_assessments(principal, programme.pk):
        raise Http404
    importer = HistoryImporter(programme)
    step = import_step(request, actor=principal, programme=programme, importer=importer, target=programme)
    if step.applied and step.run:
        summary = step.run.summary
        messages.success(
            request,
            _(
                "Historical assessments imported: %(created)s new, %(updated)s revised, %(unchanged)s "
                "unchanged (%(answers)s answers written)."
            )
            % {key: summary.get(key, 0) for key in ("created", "updated", "unchanged", "answers")},
        )
        return redirect("assessments:list", programme_code=programme.code)
    return import_page(
        request,
        "assessments/import.html",
        programme=programme,
        step=step,
        importer=importer,
        here=reverse("assessments:import", kwargs={"programme_code": programme.code}),
        template_url=reverse("assessments:import_template", kwargs={"programme_code": programme.code})
        + "?format=xlsx",
    )


@login_required
def history_template(request: HttpRequest, programme_code: str) -> HttpResponse:
    programme, principal = programme_of(request), principal_of(request)
    if not permissions.can_import_assessments(principal, programme.pk):
        raise Http404
    fmt: Format = "csv" if request.GET.get("format") == "csv" else "xlsx"
    return export_response(f"historical-assessments-{programme.code}-template", HISTORY_COLUMNS, [], fmt)


@login_required
@reads_from_replica
def history_export(request: HttpRequest, programme_code: str) -> HttpResponseBase:
    """Every answer of the programme's final assessments, one row each, in the historical
    import's columns (CSV, written while it is sent: a programme has millions of answers)."""
    programme, principal = programme_of(request), principal_of(request)
    if not permissions.can_import_assessments(principal, programme.pk):
        raise Http404
    return stream_csv(
        f"assessments-{programme.code}-{programme.today().isoformat()}",
        HISTORY_COLUMNS,
        history_rows(programme),
    )


# --- Interview notes: personal data, for the assessors, team leaders and managers only ---------


def _interview_notes_url(assessment: Assessment) -> str:
    return reverse(
        "assessments:interviews", kwargs={"programme_code": assessment.programme.code, "pk": assessment.pk}
    )


@login_required
def interview_notes(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    """The visit's interview notes and, for its assessors until the report is final, the form
    to add one. Anyone else gets a 404; each reading is audited."""
    principal = principal_of(request)
    assessment = _assessment(request, pk)
    acting = selectors.acting_assessor_ids(assessment=assessment, principal=principal)
    if not permissions.can_read_interview_notes(principal, assessment, acting):
        raise Http404
    can_write = permissions.can_write_interview_notes(principal, assessment, acting)
    form = InterviewNoteForm(
        request.POST or None,
        initial={"held_on": assessment.visit_started_on or lifecycle.programme_today(assessment.programme)},
    )
    if request.method == "POST":
        if not can_write:
            raise Http404
        if form.is_valid():
            try:
                interviews.interview_note_add(actor=principal, assessment=assessment, data=form.cleaned_data)
            except ValidationError as error:
                add_service_error(form, error)
            except PermissionDenied as error:
                raise Http404 from error
            else:
                messages.success(request, _("Interview note added."))
                return redirect(_interview_notes_url(assessment))
    return render(
        request,
        "assessments/interviews.html",
        {
            "programme": assessment.programme,
            "assessment": assessment,
            "notes": interviews.interview_notes_read(actor=principal, assessment=assessment),
            "form": form,
            "can_write": can_write,
            "kept_days": settings.INTERVIEW_NOTES_KEPT_DAYS,
        },
        status=422 if form.errors else 200,
    )


@login_required
def interview_note_edit(request: HttpRequest, programme_code: str, pk: int, note_id: int) -> HttpResponse:
    principal = principal_of(request)
    assessment = _assessment(request, pk)
    acting = selectors.acting_assessor_ids(assessment=assessment, principal=principal)
    if not permissions.can_write_interview_notes(principal, assessment, acting):
        raise Http404
    if request.method == "POST":
        note = selectors.access_interview_note(assessment=assessment, note_id=note_id)
        form = InterviewNoteForm(request.POST)
        if form.is_valid():
            try:
                interviews.interview_note_update(actor=principal, note=note, data=form.cleaned_data)
            except ValidationError as error:
                add_service_error(form, error)
            except PermissionDenied as error:
                raise Http404 from error
            else:
                messages.success(request, _("Interview note saved."))
                return redirect(_interview_notes_url(assessment))
    else:
        # Showing the saved note is a reading of it: audited.
        note = interviews.interview_note_read(actor=principal, assessment=assessment, note_id=note_id)
        form = InterviewNoteForm(
            initial={
                "kind": note.kind,
                "held_on": note.held_on,
                "interviewees": note.interviewees,
                "notes": note.notes,
            }
        )
    return render(
        request,
        "assessments/interview_form.html",
        {"programme": assessment.programme, "assessment": assessment, "note": note, "form": form},
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
def interview_note_delete(request: HttpRequest, programme_code: str, pk: int, note_id: int) -> HttpResponse:
    assessment = _assessment(request, pk)
    note = selectors.access_interview_note(assessment=assessment, note_id=note_id)
    try:
        interviews.interview_note_delete(actor=principal_of(request), note=note)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except PermissionDenied as error:
        raise Http404 from error
    else:
        messages.success(request, _("Interview note deleted."))
    return redirect(_interview_notes_url(assessment))
