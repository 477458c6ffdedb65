from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Each test stores its report files in a folder of its own."""
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def report_files(root):
    return sorted(p for p in root.rglob("*.pdf"))
