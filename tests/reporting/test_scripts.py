"""Every programme's script prints: the PDF embeds the Noto family of that script and no other
font, that font has a glyph for every character (no empty boxes), and the text read back from
the PDF is the text that went in.

Reading text back out of a PDF is exact for Latin, Vietnamese, Arabic and Ethiopic. For Khmer and
Bengali, whose vowel signs are drawn before or around their consonant, extractors give back the
glyphs in visual order and may drop a reordered sign; there every letter must come back, and the
pages were checked by eye (pdftoppm) as well."""

from __future__ import annotations

import io
import re
import subprocess
import unicodedata
from collections import Counter

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from reporting import rendering

SAMPLES = {
    "km": ("Noto-Sans-Khmer", "របាយការណ៍វាយតម្លៃរោងចក្រ ប្រាក់ឈ្នួល និងម៉ោងបន្ថែម"),
    "vi": ("Noto-Sans", "Báo cáo đánh giá nhà máy: tiền lương, giờ làm thêm, an toàn lao động"),
    "ar": ("Noto-Naskh-Arabic", "تقرير تقييم المصنع: الأجور وساعات العمل الإضافية"),
    "bn": ("Noto-Sans-Bengali", "কারখানা মূল্যায়ন প্রতিবেদন: মজুরি ও অতিরিক্ত কাজের সময়"),
    "am": ("Noto-Sans-Ethiopic", "የፋብሪካ ግምገማ ሪፖርት፤ ደመወዝ እና የትርፍ ሰዓት ሥራ"),
    "id": ("Noto-Sans", "Laporan penilaian pabrik: upah dan lembur"),
    "fr": ("Noto-Sans", "Rapport d'évaluation de l'usine : salaires et heures supplémentaires"),
    "es": ("Noto-Sans", "Informe de evaluación de la fábrica: salarios y horas extraordinarias"),
}


REORDERING_SCRIPTS = {"km", "bn"}


def letters(text: str) -> Counter[str]:
    return Counter(ch for ch in text if unicodedata.category(ch).startswith("L"))


def drawn_by(family: str) -> set[int]:
    """The characters the installed font of ``family`` has glyphs for (its cmap)."""
    command = ["fc-match", "-f", "%{file}", family.replace("-", " ")]  # fontconfig's own tool
    path = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    return set(TTFont(path).getBestCmap())


def words(text: str) -> str:
    # Extraction may put a space where two glyph runs meet (Khmer writes none): compare the letters.
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("language", sorted(SAMPLES))
def test_each_script_prints_in_its_noto_family_and_reads_back(language, tmp_path):
    family, text = SAMPLES[language]
    direction = "rtl" if language == "ar" else "ltr"
    pdf, pages = rendering.render_pdf(
        f'<html lang="{language}" dir="{direction}"><body><h1>{text}</h1><p>{text}</p></body></html>'
    )
    path = tmp_path / f"{language}.pdf"
    path.write_bytes(pdf)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout  # noqa: S603,S607
    embedded = {line.split()[0].split("+", 1)[-1] for line in fonts.splitlines()[2:] if line.strip()}
    assert family in embedded, fonts
    assert all(name.startswith("Noto") for name in embedded), f"a fallback font crept in: {embedded}"
    # No empty boxes: the family that drew the text has a glyph for every character of it.
    covered = drawn_by(family) | drawn_by("Noto-Sans")
    assert not [ch for ch in text if ord(ch) not in covered and not ch.isspace()]
    extracted = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    if language in REORDERING_SCRIPTS:
        assert set(letters(text)) <= set(letters(extracted)), extracted
    else:
        assert words(text) in map(words, extracted.splitlines()), extracted
