"""Static Tortoise config for the aerich CLI (aerich.ini points here).

The app itself resolves its database at start-up (core/db.py); the aerich CLI needs a module
attribute, so this needs DATABASE_URL, or a local PostgreSQL at 127.0.0.1:5432.
"""

import os

from core.db import tortoise_config

TORTOISE_ORM = tortoise_config(
    os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pytake_dev")
)
