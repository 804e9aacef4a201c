"""The tutors' web app: load a course, form teams, adjust them on a board, export.

``teamform app [--port 8000] [--workspace DIR]`` serves it on 127.0.0.1 only.
It needs the ``app`` extra (``pip install 'teamform[app]'``): FastAPI, uvicorn,
Jinja2 and python-multipart.
"""

from __future__ import annotations

import logging
from pathlib import Path

from teamform.app.web import create_app

__all__ = ["create_app", "serve"]

HOST = "127.0.0.1"


def serve(workspace: Path, *, port: int = 8000, log_level: str = "info") -> None:
    """Run the app on ``127.0.0.1:port`` until interrupted.

    The access log shows methods, paths and status codes only: paths carry
    session ids, never learner data.
    """
    import uvicorn

    logging.getLogger("teamform.app").setLevel(log_level.upper())
    uvicorn.run(create_app(workspace), host=HOST, port=port, log_level=log_level)
