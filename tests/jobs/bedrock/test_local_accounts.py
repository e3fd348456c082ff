"""The local Bedrock as several accounts and regions at once: a request reaches the account of
its access key and the region of its SigV4 credential scope, as at AWS; each account × region
has its own jobs, ARNs, quotas, injected errors and call counts."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.config import Config
from django.core.management import CommandError, call_command
from moto.iam.utils import generate_access_key_id_from_account_id

from jobs.bedrock.local.server import LocalBedrock, key_account, parse_accounts
from tests.jobs.bedrock.support import automated_request

DEV, PROD = "123456789012", "210987654321"
DEV_KEY, PROD_KEY = "dev-key", "prod-key"
EAST, WEST = "us-east-1", "us-west-2"
FLEET = [(DEV_KEY, DEV, EAST), (DEV_KEY, DEV, WEST), (PROD_KEY, PROD, EAST), (PROD_KEY, PROD, WEST)]


@pytest.fixture
def fleet():
    with LocalBedrock(
        control=True, regions=[WEST], accounts={DEV_KEY: DEV, PROD_KEY: PROD}
    ).start() as server:
        yield server


def client(url: str, key: str, region: str, token: str | None = None):
    return boto3.client(
        "bedrock",
        region_name=region,
        endpoint_url=url,
        aws_access_key_id=key,
        aws_secret_access_key="secret",  # noqa: S106 - not checked
        aws_session_token=token,
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


def arns(bedrock) -> set[str]:
    return {j["jobArn"] for j in bedrock.list_evaluation_jobs(maxResults=1000)["jobSummaries"]}


def control(lb: LocalBedrock, method: str, path: str, body: dict | None = None):
    request = urllib.request.Request(  # noqa: S310 - our own loopback server
        lb.url + path,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def test_two_keys_and_two_regions_see_four_disjoint_sets_of_jobs(fleet):
    seen: dict[tuple[str, str], set[str]] = {}
    for key, account, region in FLEET:
        bedrock = client(fleet.url, key, region)
        # One name in each: names are unique per account and region.
        made = bedrock.create_evaluation_job(**automated_request("nightly"))["jobArn"]
        # The ARN names the account of the key and the region of the signature.
        assert made.startswith(f"arn:aws:bedrock:{region}:{account}:evaluation-job/")
        fleet.seed(3, account=account, region=region)
        seen[account, region] = arns(bedrock)
        assert len(seen[account, region]) == 4
        assert all(
            a.startswith(f"arn:aws:bedrock:{region}:{account}:") for a in seen[account, region]
        )
        assert bedrock.get_evaluation_job(jobIdentifier=made)["jobName"] == "nightly"

    everything = set().union(*seen.values())
    assert len(everything) == 16  # disjoint
    # A job is found only where it lives.
    dev_east_job = next(iter(seen[DEV, EAST]))
    with pytest.raises(client(fleet.url, PROD_KEY, EAST).exceptions.ResourceNotFoundException):
        client(fleet.url, PROD_KEY, EAST).get_evaluation_job(jobIdentifier=dev_east_job)
    summary = {(s["account"], s["region"]): s for s in control(fleet, "GET", "/_local/stores")[1]}
    assert {k: v["evaluation_jobs"] for k, v in summary.items()} == {
        (account, region): 4 for _, account, region in FLEET
    }
    assert all(v["calls"]["CreateEvaluationJob"] == 1 for v in summary.values())


def test_unknown_keys_unsigned_requests_and_other_regions_reach_the_defaults(fleet):
    fleet.seed(2)  # the default account × region
    default = arns(client(fleet.url, DEV_KEY, EAST))
    assert len(default) == 2
    assert arns(client(fleet.url, "AKIAIOSFODNN7EXAMPLE", EAST)) == default  # unknown key
    assert arns(client(fleet.url, PROD_KEY, "eu-west-3")) == set()  # prod, default region
    assert arns(client(fleet.url, DEV_KEY, "eu-west-3")) == default  # region not served
    with urllib.request.urlopen(fleet.url + "/evaluation-jobs", timeout=5) as r:  # noqa: S310
        assert {j["jobArn"] for j in json.load(r)["jobSummaries"]} == default  # no signature


def test_a_role_assumed_through_the_local_sts_lands_in_the_roles_account(local_s3):
    sts = boto3.client(
        "sts",
        region_name=WEST,
        endpoint_url=local_s3.url,
        aws_access_key_id="dev-key",
        aws_secret_access_key="secret",  # noqa: S106 - moto checks no signature
    )

    def assume(account: str) -> dict:
        role = f"arn:aws:iam::{account}:role/BedrockDashboard"
        return sts.assume_role(RoleArn=role, RoleSessionName="dash")["Credentials"]

    # PROD is served because a key maps to it; the role's temporary key is in no table.
    accounts = {DEV_KEY: DEV, PROD_KEY: PROD}
    with LocalBedrock(control=True, regions=[WEST], accounts=accounts).start() as lb:
        creds = assume(PROD)
        assert creds["AccessKeyId"].startswith("ASIA") and key_account(creds["AccessKeyId"]) == PROD
        bedrock = client(lb.url, creds["AccessKeyId"], WEST, creds["SessionToken"])
        made = bedrock.create_evaluation_job(**automated_request("assumed"))["jobArn"]
        assert made.startswith(f"arn:aws:bedrock:{WEST}:{PROD}:evaluation-job/")
        assert lb.call_counts(account=PROD, region=WEST) == {"CreateEvaluationJob": 1}

        # A role in an account not served here reaches the default account, as any unknown key.
        other = assume("333333333333")
        stray = client(lb.url, other["AccessKeyId"], WEST, other["SessionToken"])
        assert stray.create_evaluation_job(**automated_request("stray"))["jobArn"].startswith(
            f"arn:aws:bedrock:{WEST}:{DEV}:"
        )


def test_constructor_serves_what_the_keys_name():
    lb = LocalBedrock(regions=[WEST, EAST], accounts={DEV_KEY: DEV, PROD_KEY: PROD})
    assert lb.regions == (EAST, WEST) and lb.accounts == (DEV, PROD)
    assert {(t.account_id, t.region) for t in lb.tenancies()} == {(a, r) for _, a, r in FLEET}
    assert lb.store is lb.tenancy().store  # the default one, as before
    for bad in ({"regions": ["US East"]}, {"accounts": {"k": "12"}}):
        with pytest.raises(ValueError):
            LocalBedrock(**bad)


def test_outputs_of_each_account_and_region_reach_s3(local_s3):
    with LocalBedrock(
        control=True,
        regions=[WEST],
        accounts={PROD_KEY: PROD},
        s3_endpoint_url=local_s3.url,
        output_prompts=5,
    ).start() as lb:
        bedrock = client(lb.url, PROD_KEY, WEST)
        arn = bedrock.create_evaluation_job(**automated_request("west-out"))["jobArn"]
        lb.force_status(arn, "Completed")  # the ARN names its store
        assert bedrock.get_evaluation_job(jobIdentifier=arn)["status"] == "Completed"
        assert lb.flush_outputs(30)
        assert lb.outputs_status()["jobs_written"] == 1
    s3 = boto3.client(
        "s3",
        region_name=WEST,
        endpoint_url=local_s3.url,
        aws_access_key_id=PROD_KEY,
        aws_secret_access_key="secret",  # noqa: S106 - moto checks no signature
    )
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="my-bucket")["Contents"]]
    assert any(k.endswith("_output.jsonl") and arn.rsplit("/", 1)[1] in k for k in keys), keys


def test_the_control_api_acts_on_the_account_and_region_selected(fleet):
    west = f"?account={PROD}&region={WEST}"
    assert control(fleet, "POST", "/_local/seed" + west, {"count": 5})[1]["evaluation_jobs"] == 5
    assert len(arns(client(fleet.url, PROD_KEY, WEST))) == 5
    assert arns(client(fleet.url, DEV_KEY, EAST)) == set()  # the default: untouched

    status, quotas = control(fleet, "POST", "/_local/quotas" + west, {"evaluation_jobs": 5})
    assert (
        status == 200 and quotas["evaluation_jobs"] == 5 and quotas["usage"]["evaluation_jobs"] == 5
    )
    assert control(fleet, "GET", "/_local/quotas")[1]["evaluation_jobs"] == 5000
    refused = client(fleet.url, PROD_KEY, WEST)
    with pytest.raises(refused.exceptions.ServiceQuotaExceededException, match=PROD):
        refused.create_evaluation_job(**automated_request("one-too-many"))

    injected = {"operation": "ListEvaluationJobs", "code": "AccessDeniedException", "count": 1}
    assert control(fleet, "POST", f"/_local/errors?account={PROD}", injected)[0] == 200
    assert control(fleet, "GET", "/_local/errors")[1] == []
    (pending,) = control(fleet, "GET", f"/_local/errors?account={PROD}")[1]
    assert f"arn:aws:bedrock:{EAST}:{PROD}:*" in pending["message"]
    arns(client(fleet.url, PROD_KEY, WEST))  # another region of PROD: not injected there
    prod_east = client(fleet.url, PROD_KEY, EAST)
    with pytest.raises(prod_east.exceptions.AccessDeniedException):
        arns(prod_east)
    assert control(fleet, "GET", f"/_local/calls?account={PROD}")[1] == {"ListEvaluationJobs": 1}
    assert control(fleet, "GET", "/_local/calls")[1] == {"ListEvaluationJobs": 1}  # DEV_KEY east

    arn = next(iter(arns(client(fleet.url, PROD_KEY, WEST))))
    assert control(fleet, "POST", "/_local/jobs/status", {"arn": arn, "status": "Failed"})[0] == 200
    job = client(fleet.url, PROD_KEY, WEST).get_evaluation_job(jobIdentifier=arn)
    assert job["status"] == "Failed"

    assert control(fleet, "POST", "/_local/reset" + west)[1] == {}
    assert control(fleet, "GET", "/_local/calls" + west)[1] == {}
    assert fleet.call_counts(account=PROD) == {"ListEvaluationJobs": 1}  # another store: kept
    assert arns(client(fleet.url, PROD_KEY, WEST)) == set()


@pytest.mark.parametrize(
    "query",
    [
        "?account=abc",
        "?account=1234567890123",
        "?region=US%20East",
        f"?account={DEV}&account={PROD}",
        "?region=" + "a" * 5000,
        "?account=999999999999",  # well-formed, not served
        "?region=eu-central-1",
    ],
)
def test_a_bad_selector_is_a_validation_error(fleet, query):
    for method, path in (("GET", "/_local/calls"), ("POST", "/_local/seed")):
        status, body = control(fleet, method, path + query, {} if method == "POST" else None)
        assert status == 400, body
        assert len(body["message"]) < 300
    assert fleet.stores_summary()[0]["evaluation_jobs"] == 0


def test_quotas_named_account_or_region_in_the_body_are_refused(fleet):
    status, body = control(fleet, "POST", "/_local/quotas", {"account": PROD})
    assert status == 400 and "query parameters" in body["message"]


def test_key_ids_decode_to_their_account_and_other_strings_to_none():
    for account in (DEV, PROD, "000000000001", "999999999999"):
        for prefix in ("AKIA", "ASIA"):  # keys as moto's IAM and STS issue them
            assert key_account(generate_access_key_id_from_account_id(account, prefix)) == account
    for other in ("testing", "AKIA", "AKIA0000000000000000", "XKIAIOSFODNN7EXAMPLE", ""):
        assert key_account(other) is None
    assert parse_accounts(f" a={DEV}, b={PROD} ,") == {"a": DEV, "b": PROD}
    for bad in ("a", f"={DEV}", "a=12", f"a={DEV}=x"):
        with pytest.raises(ValueError):
            parse_accounts(bad)


def test_bedrock_local_refuses_a_bad_accounts_flag():
    with pytest.raises(CommandError, match="--accounts"):
        call_command("bedrock_local", accounts="no-account-here", port=0)


def test_a_server_of_one_account_and_region_ignores_the_scope():
    with LocalBedrock(region="eu-west-1", account_id=PROD).start() as lb:
        lb.seed(2)
        for key, region in ((DEV_KEY, EAST), (PROD_KEY, WEST), ("AKIAIOSFODNN7EXAMPLE", EAST)):
            assert len(arns(client(lb.url, key, region))) == 2
