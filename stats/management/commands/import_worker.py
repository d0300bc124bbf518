"""`manage.py import_worker`: django-tasks-db's db_worker that outlives its database.

db_worker exits on the first database error it does not expect, so a PostgreSQL restart
stops the imports until someone starts it again. This runs the same worker (same options),
and when the database goes away it waits, with a growing pause, and starts it again. Each
start releases the imports whose worker died meanwhile (tasks.release_stranded).
"""

import logging
import time

from django.db import connections
from django.db.utils import InterfaceError, OperationalError
from django_tasks_db.management.commands import db_worker

from stats.exchange.tasks import release_stranded

logger = logging.getLogger(__name__)
LONGEST_PAUSE = 30  # seconds between attempts to reach the database again


class Command(db_worker.Command):
    help = "Run the database task worker, reconnecting when the database restarts."

    def handle(self, *args, **options):
        pause = 1
        while True:
            try:
                release_stranded()
                return super().handle(*args, **options)
            except (OperationalError, InterfaceError) as e:
                logger.warning("Database unavailable (%s); retrying in %s s", e, pause)
                connections.close_all()
                time.sleep(pause)
                pause = min(pause * 2, LONGEST_PAUSE)
