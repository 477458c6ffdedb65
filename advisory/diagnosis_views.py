"""Self-diagnosis pages: thin views over the diagnosis selectors and services.

The factory's own users and the programme's staff read and fill it; once submitted it is
read-only and its results show non-compliance by cluster.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from advisory import diagnosis as services
from advisory import diagnosis_selectors as selectors
from advisory.diagnosis_forms import ClusterAnswersForm
from advisory.models import DiagnosisStatus, SelfDiagnosis
from betterwork import permissions
from betterwork.middleware import principal_of, programme_of
from betterwork.permissions import Principal
from factories.models import Factory


def _factory(request: HttpRequest, factory_id: int) -> tuple[Factory, Principal]:
    programme, principal = programme_of(request), principal_of(request)
    factory = selectors.access_diagnosis_factory(
        principal=principal, programme=programme, factory_id=factory_id
    )
    return factory, principal


def _diagnosis(request: HttpRequest, factory_id: int, pk: int) -> tuple[SelfDiagnosis, Principal]:
    factory, principal = _factory(request, factory_id)
    return selectors.access_diagnosis(principal=principal, factory=factory, diagnosis_id=pk), principal


def _can_fill(principal: Principal, diagnosis: SelfDiagnosis) -> bool:
    return diagnosis.status == DiagnosisStatus.DRAFT and permissions.can_fill_self_diagnosis(
        principal, diagnosis.factory
    )


@login_required
def overview(request: HttpRequest, programme_code: str, factory_id: int) -> HttpResponse:
    """The factory's self-diagnoses: the draft's progress by cluster, and those submitted."""
    factory, principal = _factory(request, factory_id)
    diagnoses = list(selectors.factory_diagnoses(factory=factory))
    draft = next((d for d in diagnoses if d.status == DiagnosisStatus.DRAFT), None)
    clusters = selectors.diagnosis_form(diagnosis=draft) if draft else []
    return render(
        request,
        "advisory/diagnosis/overview.html",
        {
            "programme": factory.programme,
            "factory": factory,
            "draft": draft,
            "clusters": clusters,
            "resume": next((c for c in clusters if not c.complete), None),
            "submitted": [d for d in diagnoses if d.status == DiagnosisStatus.SUBMITTED],
            "can_fill": permissions.can_fill_self_diagnosis(principal, factory),
        },
    )


@login_required
@require_POST
def start(request: HttpRequest, programme_code: str, factory_id: int) -> HttpResponse:
    factory, principal = _factory(request, factory_id)
    try:
        diagnosis, created = services.diagnosis_start(actor=principal, factory=factory)
    except PermissionDenied as error:
        raise Http404 from error
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("visits:diagnosis", programme_code=factory.programme.code, factory_id=factory.pk)
    if created:
        messages.success(
            request,
            _("Self-diagnosis started. Answer each cluster's questions; your answers are kept as you save."),
        )
    clusters = selectors.diagnosis_form(diagnosis=diagnosis)
    return redirect(
        "visits:diagnosis_cluster",
        programme_code=factory.programme.code,
        factory_id=factory.pk,
        pk=diagnosis.pk,
        cluster_code=clusters[0].cluster.code,
    )


@login_required
def cluster(
    request: HttpRequest, programme_code: str, factory_id: int, pk: int, cluster_code: str
) -> HttpResponse:
    """One cluster's questions: answer them (a draft) or read them (submitted)."""
    diagnosis, principal = _diagnosis(request, factory_id, pk)
    clusters = selectors.diagnosis_form(diagnosis=diagnosis)
    index = next((n for n, c in enumerate(clusters) if c.cluster.code == cluster_code), None)
    if index is None:
        raise Http404
    current = clusters[index]
    following = clusters[index + 1] if index + 1 < len(clusters) else None
    editable = _can_fill(principal, diagnosis)
    if request.method == "POST" and not editable:
        if diagnosis.status == DiagnosisStatus.DRAFT or not permissions.can_fill_self_diagnosis(
            principal, diagnosis.factory
        ):
            raise Http404
        messages.error(request, _("This self-diagnosis was submitted: it can no longer be changed."))
        return redirect(request.path)
    form = ClusterAnswersForm(request.POST or None, cluster=current, editable=editable)
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.diagnosis_answer(actor=principal, diagnosis=diagnosis, answers=form.answers())
        except PermissionDenied as error:
            raise Http404 from error
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                form.add_service_errors(error.message_dict)
            else:
                form.add_error(None, error)
        else:
            messages.success(
                request,
                ngettext("%(n)s answer saved.", "%(n)s answers saved.", changed) % {"n": changed}
                if changed
                else _("Nothing changed."),
            )
            code = diagnosis.factory.programme.code
            if "next" in request.POST and following is not None:
                return redirect(
                    "visits:diagnosis_cluster",
                    programme_code=code,
                    factory_id=factory_id,
                    pk=diagnosis.pk,
                    cluster_code=following.cluster.code,
                )
            if "next" in request.POST:
                return redirect("visits:diagnosis", programme_code=code, factory_id=factory_id)
            return redirect(request.path)
    return render(
        request,
        "advisory/diagnosis/cluster.html",
        {
            "programme": diagnosis.factory.programme,
            "factory": diagnosis.factory,
            "diagnosis": diagnosis,
            "clusters": clusters,
            "current": current,
            "previous": clusters[index - 1] if index > 0 else None,
            "next": following,
            "form": form,
            "editable": editable,
        },
    )


@login_required
@require_POST
def submit(request: HttpRequest, programme_code: str, factory_id: int, pk: int) -> HttpResponse:
    diagnosis, principal = _diagnosis(request, factory_id, pk)
    if not permissions.can_fill_self_diagnosis(principal, diagnosis.factory):
        raise Http404
    try:
        services.diagnosis_submit(actor=principal, diagnosis=diagnosis)
    except PermissionDenied as error:
        raise Http404 from error
    except services.DiagnosisIncomplete as error:
        return render(
            request,
            "advisory/diagnosis/missing.html",
            {
                "programme": diagnosis.factory.programme,
                "factory": diagnosis.factory,
                "diagnosis": diagnosis,
                "missing": error.missing,
            },
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("visits:diagnosis", programme_code=programme_code, factory_id=factory_id)
    messages.success(
        request, _("Self-diagnosis submitted. Its non-compliance can now go into the improvement plan.")
    )
    return redirect("visits:diagnosis_results", programme_code=programme_code, factory_id=factory_id, pk=pk)


@login_required
def results(request: HttpRequest, programme_code: str, factory_id: int, pk: int) -> HttpResponse:
    """Non-compliance by cluster, and each non-compliant question with the factory's note."""
    diagnosis, principal = _diagnosis(request, factory_id, pk)
    return render(
        request,
        "advisory/diagnosis/results.html",
        {
            "programme": diagnosis.factory.programme,
            "factory": diagnosis.factory,
            "diagnosis": diagnosis,
            "clusters": selectors.diagnosis_form(diagnosis=diagnosis),
            "findings": selectors.diagnosis_findings(diagnosis),
            "can_fill": _can_fill(principal, diagnosis),
        },
    )
