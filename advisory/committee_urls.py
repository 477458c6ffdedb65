"""Committee pages, under /p/<code>/advisory/."""

from django.urls import path

from advisory import committee_views as views

app_name = "committees"

MEMBER = "committees/<int:pk>/members/<int:member_id>/"
ELECTION = "committees/<int:pk>/elections/<int:election_id>/"
MEETING = "committees/<int:pk>/meetings/<int:meeting_id>/"

urlpatterns = [
    path("committee-kinds/", views.kinds, name="kinds"),
    path("committee-kinds/new/", views.kind_edit, name="kind_create"),
    path("committee-kinds/suggested/", views.kind_add_suggested, name="kind_suggested"),
    path("committee-kinds/<int:pk>/edit/", views.kind_edit, name="kind_edit"),
    path("factories/<int:factory_id>/committees/", views.factory_committees, name="factory"),
    path("factories/<int:factory_id>/committees/new/", views.committee_create, name="create"),
    path("committees/export/", views.committees_export, name="export"),
    path("committees/<int:pk>/", views.committee_detail, name="detail"),
    path("committees/<int:pk>/dissolve/", views.committee_dissolve, name="dissolve"),
    path("committees/<int:pk>/members/new/", views.member_add, name="member_add"),
    path("committees/<int:pk>/members/change/", views.members_change, name="members_change"),
    path(MEMBER + "edit/", views.member_edit, name="member_edit"),
    path(MEMBER + "end/", views.member_end, name="member_end"),
    path(MEMBER + "sign-in/", views.member_sign_in, name="member_sign_in"),
    path(MEMBER + "sign-in/remove/", views.member_sign_in_remove, name="member_sign_in_remove"),
    path("committees/<int:pk>/elections/new/", views.election_create, name="election_create"),
    path(ELECTION, views.election_detail, name="election"),
    path(ELECTION + "candidates/", views.candidate_add, name="candidate_add"),
    path(ELECTION + "candidates/<int:candidate_id>/remove/", views.candidate_remove, name="candidate_remove"),
    path(ELECTION + "votes/", views.election_votes, name="election_votes"),
    path(ELECTION + "results/", views.election_results, name="election_results"),
    path("committees/<int:pk>/meetings/", views.meetings, name="meetings"),
    path("committees/<int:pk>/meetings/new/", views.meeting_create, name="meeting_create"),
    path(MEETING, views.meeting_detail, name="meeting"),
    path(MEETING + "edit/", views.meeting_edit, name="meeting_edit"),
]
