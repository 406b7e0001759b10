"""mladvisor: decision support for ML projects, from business goal to monitoring."""

from __future__ import annotations

__version__ = "0.2.0"
