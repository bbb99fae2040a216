"""Field inspection of designated medical-insurance institutions (医保定点医药机构现场检查)."""

import os

__version__ = "0.1.0"

# Piccolo finds its engine through this module; set it before any table is touched so that the
# server, the CLI, migrations and the tests all share one configuration.
os.environ.setdefault("PICCOLO_CONF", "backend.piccolo_conf")
