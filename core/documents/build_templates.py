"""Regenerate the built-in DOCX templates from their layouts: ``python -m core.documents.build_templates``.

Why committed files rather than only building at run time: a room opens ``templates/<key>.docx`` in
Word to derive its local format (the ``{{ … }}`` placeholders stay), and reviewers see template
changes in the diff. A test checks the committed files match their layouts.
"""

from __future__ import annotations

import sys
from pathlib import Path

from core.documents.catalogue import CORE_DOCUMENTS
from core.documents.docx import TEMPLATES_DIR, build_template

__all__ = ["build_all"]


def build_all(target: Path = TEMPLATES_DIR) -> list[Path]:
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for doc in CORE_DOCUMENTS:
        assert doc.layout is not None
        path = target / f"{doc.key}.docx"
        path.write_bytes(build_template(doc.layout))
        written.append(path)
    return written


if __name__ == "__main__":
    for path in build_all(Path(sys.argv[1]) if len(sys.argv) > 1 else TEMPLATES_DIR):
        print(path)
