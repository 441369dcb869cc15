"""Serve Fengqiao or the bare baseline app the same way: one uvicorn worker on loopback, no access log.

    python bench/serve.py fengqiao PORT     (settings from FENGQIAO_* variables)
    python bench/serve.py bare PORT URL
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    import uvicorn

    kind, port = sys.argv[1], int(sys.argv[2])
    if kind == "fengqiao":
        from core.settings import load_settings
        from web.app import create_app

        app = create_app(load_settings(), run_migrations=False)
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from bare_app import create

        app = create(sys.argv[3])
    uvicorn.run(app, host="127.0.0.1", port=port, workers=1, access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
