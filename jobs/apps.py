from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Bedrock jobs"

    def ready(self) -> None:
        from jobs import page_cache, staticcheck  # noqa: F401 - registers the deploy check
        from jobs.connections import configured_connections

        # A bad connections file stops every process at start (web, worker, beat, manage.py)
        # with the file, the line and the problem, rather than failing later mid-sweep.
        configured_connections()
        # Cached users, permissions and sync headers are dropped when what they hold changes.
        page_cache.connect()
