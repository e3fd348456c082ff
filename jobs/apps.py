from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Bedrock jobs"

    def ready(self) -> None:
        from jobs import staticcheck  # noqa: F401 - registers the deploy check
