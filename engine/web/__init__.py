"""The web questionnaire and report viewer (`mladvisor serve`): Starlette, server-rendered."""

from __future__ import annotations

from engine.web.app import Settings, create_app

__all__ = ["Settings", "create_app"]
