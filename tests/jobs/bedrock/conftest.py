import pytest

from jobs.bedrock.local.server import LocalBedrock
from tests.jobs.bedrock.support import client_for


@pytest.fixture
def lb():
    """A fresh local Bedrock with the control API; time_scale=1 keeps intermediate states put
    until a test speeds the clock up."""
    with LocalBedrock(control=True).start() as server:
        yield server


@pytest.fixture
def bedrock(lb):
    return client_for(lb.url)


@pytest.fixture
def unchecked(lb):
    """A client that sends what botocore's own checks (minimums, unions) would stop."""
    return client_for(lb.url, client_side_validation=False)
