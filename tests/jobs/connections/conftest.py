from tests.jobs.connections.support import aws_env  # noqa: F401 - autouse for these tests
