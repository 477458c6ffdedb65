"""Improvement plans, their items and progress reports over the API: the same selectors and
services as the pages. A refused object answers 404; an item saved meanwhile answers 409 with
the saved item."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from advisory import selectors, services
from advisory.models import (
    CommitteeMember,
    ImprovementPlan,
    ItemPriority,
    ItemStatus,
    PlanItem,
    PlanItemComment,
    ProgressReport,
)
from betterwork import permissions
from betterwork.middleware import principal_of, programme_of

NO_MEMBERS: QuerySet[CommitteeMember] = QuerySet(model=CommitteeMember).none()


class ItemOutput(serializers.ModelSerializer):
    evidence_count = serializers.IntegerField(read_only=True)
    comment_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = PlanItem
        fields = [
            "id",
            "plan",
            "source",
            "question_key",
            "finding",
            "publicly_reported",
            "root_cause",
            "action",
            "responsible",
            "committee_owner",
            "due_on",
            "priority",
            "status",
            "done_on",
            "verified_at",
            "carried_from",
            "version",
            "evidence_count",
            "comment_count",
            "updated_at",
        ]
        read_only_fields = fields


class ItemInput(serializers.Serializer):
    root_cause = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    action = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    responsible = serializers.CharField(required=False, allow_blank=True, max_length=200)
    committee_owner = serializers.PrimaryKeyRelatedField(queryset=NO_MEMBERS, required=False, allow_null=True)
    due_on = serializers.DateField(required=False, allow_null=True)
    priority = serializers.ChoiceField(choices=ItemPriority.choices, required=False)
    status = serializers.ChoiceField(
        choices=ItemStatus.choices, required=False, help_text="Verified is the programme's: POST .../verify/."
    )

    def __init__(self, *args: Any, plan: ImprovementPlan | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if plan is not None:  # the schema generator builds it without one
            owner = self.fields["committee_owner"]
            owner.queryset = selectors.committee_members_for_choice(factory=plan.factory)  # type: ignore[attr-defined]


class ItemUpdateInput(ItemInput):
    version = serializers.IntegerField(help_text="The item's version you read: a newer one answers 409.")


class NewItemInput(ItemInput):
    finding = serializers.CharField(max_length=4000, help_text="What needs improving.")


class FindingsInput(serializers.Serializer):
    questions = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="Question ids; none means every finding."
    )


class ReasonInput(serializers.Serializer):
    text = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class CommentOutput(serializers.ModelSerializer):
    author = serializers.CharField(source="author.full_name", default="", read_only=True)

    class Meta:
        model = PlanItemComment
        fields = ["id", "author", "text", "created_at"]
        read_only_fields = fields


class ProgressOutput(serializers.ModelSerializer):
    class Meta:
        model = ProgressReport
        fields = ["id", "plan", "factory", "number", "due_on", "status", "factory_statement", "submitted_at"]
        read_only_fields = fields


class PlanOutput(serializers.ModelSerializer):
    summary = serializers.SerializerMethodField()
    progress_reports = serializers.SerializerMethodField()

    class Meta:
        model = ImprovementPlan
        fields = ["id", "factory", "cycle", "assessment", "created_at", "summary", "progress_reports"]
        read_only_fields = fields

    def get_summary(self, plan: ImprovementPlan) -> dict[str, int]:
        summary = getattr(plan, "summary", None)  # a list's plans come counted together
        if summary is not None:
            return summary
        return selectors.plan_summary(plan=plan, today=plan.factory.programme.today())

    @extend_schema(responses=ProgressOutput(many=True))
    def get_progress_reports(self, plan: ImprovementPlan) -> list[dict[str, Any]]:
        reports = getattr(plan, "reports", None)  # prefetched for a list's plans
        if reports is None:
            reports = selectors.plan_progress_reports(plan=plan)
        return list(ProgressOutput(reports, many=True).data)


def _plan(request: Request, pk: int) -> ImprovementPlan:
    return selectors.access_plan(principal=principal_of(request), programme=programme_of(request), plan_id=pk)


def _item(request: Request, pk: int) -> PlanItem:
    return selectors.access_item(principal=principal_of(request), programme=programme_of(request), item_id=pk)


def _annotated(item: PlanItem) -> PlanItem:
    return selectors.plan_items(plan=item.plan, today=item.plan.factory.programme.today()).get(pk=item.pk)


class FactoryPlans(APIView):
    """A factory's plans, newest cycle first; advisors start the plan of its latest final assessment."""

    @extend_schema(responses=PlanOutput(many=True))
    def get(self, request: Request, programme_code: str, factory_id: int) -> Response:
        principal = principal_of(request)
        factory = selectors.access_advisory_factory(
            principal=principal,
            programme=programme_of(request),
            factory_id=factory_id,
            may=permissions.can_view_plan,
        )
        plans = selectors.factory_plans_summarised(factory=factory, today=factory.programme.today())
        return Response(PlanOutput(plans, many=True).data)

    @extend_schema(request=None, responses={201: PlanOutput})
    def post(self, request: Request, programme_code: str, factory_id: int) -> Response:
        principal = principal_of(request)
        factory = selectors.access_advisory_factory(
            principal=principal,
            programme=programme_of(request),
            factory_id=factory_id,
            may=permissions.can_view_plan,
        )
        plan = services.plan_start(
            actor=principal, factory=factory, assessment=selectors.plannable_assessment(factory=factory)
        )
        return Response(PlanOutput(plan).data, status=status.HTTP_201_CREATED)


class PlanDetail(APIView):
    @extend_schema(responses=PlanOutput)
    def get(self, request: Request, programme_code: str, pk: int) -> Response:
        return Response(PlanOutput(_plan(request, pk)).data)


class PlanItems(generics.ListAPIView):
    """A plan's items (filters: status, overdue=true, public=true); the factory adds its own."""

    serializer_class = ItemOutput
    pagination_class = None

    def get_queryset(self) -> QuerySet[PlanItem]:
        if getattr(self, "swagger_fake_view", False):
            return QuerySet(model=PlanItem).none()
        plan = _plan(self.request, self.kwargs["pk"])
        params = self.request.query_params
        filters = selectors.ItemFilters(
            status=params.get("status", "") if params.get("status") in ItemStatus.values else "",
            overdue=params.get("overdue") == "true",
            publicly_reported=params.get("public") == "true",
        )
        return selectors.plan_items(plan=plan, today=plan.factory.programme.today(), filters=filters)

    @extend_schema(request=NewItemInput, responses={201: ItemOutput})
    def post(self, request: Request, programme_code: str, pk: int) -> Response:
        plan = _plan(request, pk)
        data = NewItemInput(data=request.data, plan=plan)
        data.is_valid(raise_exception=True)
        item = services.item_add(actor=principal_of(request), plan=plan, data=data.validated_data)
        return Response(ItemOutput(_annotated(item)).data, status=status.HTTP_201_CREATED)


class PlanFindings(APIView):
    @extend_schema(request=FindingsInput, responses={201: ItemOutput(many=True)})
    def post(self, request: Request, programme_code: str, pk: int) -> Response:
        plan = _plan(request, pk)
        data = FindingsInput(data=request.data)
        data.is_valid(raise_exception=True)
        created = services.items_from_findings(
            actor=principal_of(request), plan=plan, question_ids=data.validated_data.get("questions")
        )
        return Response(ItemOutput(created, many=True).data, status=status.HTTP_201_CREATED)


class ItemDetail(APIView):
    @extend_schema(responses=ItemOutput)
    def get(self, request: Request, programme_code: str, pk: int) -> Response:
        return Response(ItemOutput(_annotated(_item(request, pk))).data)

    @extend_schema(request=ItemUpdateInput, responses={200: ItemOutput, 409: ItemOutput})
    def patch(self, request: Request, programme_code: str, pk: int) -> Response:
        item = _item(request, pk)
        principal = principal_of(request)
        if not permissions.can_edit_plan(principal, item.plan.factory):
            raise Http404
        data = ItemUpdateInput(data=request.data, plan=item.plan, partial=True)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        version = changes.pop("version", None)
        try:
            saved = services.item_update(actor=principal, item=item, data=changes, version=version)
        except services.ItemChanged as changed:
            return Response(ItemOutput(_annotated(changed.current)).data, status=status.HTTP_409_CONFLICT)
        return Response(ItemOutput(_annotated(saved)).data)


class ItemVerify(APIView):
    @extend_schema(request=ReasonInput, responses=ItemOutput)
    def post(self, request: Request, programme_code: str, pk: int) -> Response:
        item = _item(request, pk)
        data = ReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        if not permissions.can_verify_items(principal_of(request), item.plan.factory):
            raise Http404
        saved = services.item_verify(actor=principal_of(request), item=item, note=data.validated_data["text"])
        return Response(ItemOutput(_annotated(saved)).data)


class ItemReopen(APIView):
    @extend_schema(request=ReasonInput, responses=ItemOutput)
    def post(self, request: Request, programme_code: str, pk: int) -> Response:
        item = _item(request, pk)
        data = ReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        if not permissions.can_verify_items(principal_of(request), item.plan.factory):
            raise Http404
        saved = services.item_reopen(
            actor=principal_of(request), item=item, reason=data.validated_data["text"]
        )
        return Response(ItemOutput(_annotated(saved)).data)


class ItemComments(APIView):
    @extend_schema(responses=CommentOutput(many=True))
    def get(self, request: Request, programme_code: str, pk: int) -> Response:
        return Response(CommentOutput(selectors.item_comments(item=_item(request, pk)), many=True).data)

    @extend_schema(request=ReasonInput, responses={201: CommentOutput})
    def post(self, request: Request, programme_code: str, pk: int) -> Response:
        item = _item(request, pk)
        if not permissions.can_edit_plan(principal_of(request), item.plan.factory):
            raise Http404
        data = ReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        comment = services.item_comment(
            actor=principal_of(request), item=item, text=data.validated_data["text"]
        )
        return Response(CommentOutput(comment).data, status=status.HTTP_201_CREATED)


class ProgressDetail(APIView):
    """A progress report: what it says now (a draft) or what was submitted."""

    @extend_schema(responses=ProgressOutput)
    def get(self, request: Request, programme_code: str, pk: int) -> Response:
        report = selectors.access_progress_report(
            principal=principal_of(request), programme=programme_of(request), report_id=pk
        )
        content = (
            report.snapshot
            if report.status == "submitted"
            else selectors.progress_snapshot(report=report, today=report.factory.programme.today())
        )
        return Response({**ProgressOutput(report).data, "content": content})


class ProgressSubmit(APIView):
    @extend_schema(request=ReasonInput, responses=ProgressOutput)
    def post(self, request: Request, programme_code: str, pk: int) -> Response:
        principal = principal_of(request)
        report = selectors.access_progress_report(
            principal=principal, programme=programme_of(request), report_id=pk
        )
        data = ReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        snapshot = selectors.progress_snapshot(report=report, today=report.factory.programme.today())
        submitted = services.progress_report_submit(
            actor=principal, report=report, statement=data.validated_data["text"], snapshot=snapshot
        )
        return Response(ProgressOutput(submitted).data)
