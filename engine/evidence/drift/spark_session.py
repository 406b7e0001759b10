"""The Spark session of `mladvisor drift --engine spark`, and what it needs to start.

PySpark is the optional `mladvisor[spark]` extra and needs a Java runtime; without either the
command stops with one line saying how to install it. The master comes from --spark-master,
else from the environment spark-submit (or EMR, Glue, a SageMaker Processing job) sets up, else
Spark's own default (local, every core).
"""

from __future__ import annotations

import os
import shutil
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

INSTALL_HINT = "pip install 'mladvisor[spark]'"
JAVA_HINT = "a Java runtime (Debian: apt-get install default-jre-headless)"
LOCAL_SHUFFLE_PARTITIONS = 4


def missing_requirement() -> str | None:
    """Why the Spark engine cannot start here, or None when it can."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return f"needs PySpark, not installed: {INSTALL_HINT}"
    java_home = os.environ.get("JAVA_HOME")
    if shutil.which("java") is None and not (java_home and os.path.isdir(java_home)):
        return f"needs {JAVA_HINT}: no java on PATH and no JAVA_HOME"
    return None


def spark_session(master: str | None) -> SparkSession:
    """The active session (spark-submit's) or a new one; quiet, without a web UI."""
    import warnings

    # PySpark warns on import about pandas versions; the engine does not use its pandas API.
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas",
                            category=FutureWarning)
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    builder = SparkSession.builder.appName("mladvisor-drift")
    if master is not None:
        builder = builder.master(master)
    if (master or "").startswith("local"):
        # The summaries' shuffles are small: a few partitions, not a cluster's default 200.
        builder = builder.config("spark.sql.shuffle.partitions", str(LOCAL_SHUFFLE_PARTITIONS))
    builder = (builder.config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.log.level", "ERROR"))
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
