"""Signals the assessments app owns, for higher apps (reporting, advisory) to act on.

Sent inside the transaction of the change, so a handler's writes commit or roll back with it.
"""

from django.dispatch import Signal

# Sent with ``assessment`` when an assessment becomes final (its figures start to count).
assessment_finalised = Signal()

# Sent with ``assessment`` when its report is published to the factory's subscribed buyers.
assessment_published = Signal()

# Sent with ``programme`` and ``assessments`` when historical assessments were imported as final,
# or imported answers revised final ones: the figures count them, as when final (no report is made).
assessments_imported = Signal()
