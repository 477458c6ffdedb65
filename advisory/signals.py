"""Signals the advisory app owns, for higher apps (reporting, buyers) to act on.

Sent inside the transaction of the change, so a handler's writes commit or roll back with it.
"""

from django.dispatch import Signal

# Sent with ``report`` when a factory submits a progress report (its PDF is then made).
progress_report_submitted = Signal()
