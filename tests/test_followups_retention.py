"""Retention with moto: after the incident's retention period a campaign's file and reports go, nothing else."""

from __future__ import annotations

from datetime import timedelta

import pytest
from botocore.exceptions import ClientError
from followups_helpers import T0, hours, import_campaign, incident, sent, store, tick

from chalicelib.aws import client
from chalicelib.content.model import FollowUp
from chalicelib.followups.retention import evidence_key


def days(n: float) -> timedelta:
    return timedelta(days=n)


def objects(aws: dict, prefix: str) -> list[tuple[str, str]]:
    out = client("s3").list_object_versions(Bucket=aws["bucket"], Prefix=prefix)
    return sorted((v["Key"], v["VersionId"]) for v in out.get("Versions", []) + out.get("DeleteMarkers", []))


def test_retention_deletes_the_campaigns_file_and_reports_and_nothing_else(aws):
    inc = incident(retention_days=90)
    first = import_campaign(aws, inc)
    schools = import_campaign(aws, inc, audience="schools", name="skolor.csv", at=T0 + days(1),
                              body=b"Namn;E-post\r\nSkolan;skola@example.se\r\n")
    # a corrected list uploaded again under the same name: a new version, a new campaign
    again = import_campaign(aws, inc, at=T0 + days(10), body=b"Namn;E-post\r\nAnna;anna@example.se\r\n")
    assert again["key"] == first["key"] and again["version"] != first["version"]
    untouched = {c["campaign"]: objects(aws, f"reports/{c['campaign']}/") for c in (schools, again)}
    assert all(untouched.values())

    assert tick(aws, inc, T0 + days(90) - timedelta(minutes=1))["purged"] == 0, "not a minute early"
    summary = tick(aws, inc, T0 + days(90) + timedelta(minutes=1))
    assert summary["purged"] == 1 and summary["errors"] == 0

    s3 = client("s3")
    with pytest.raises(ClientError):
        s3.get_object(Bucket=aws["bucket"], Key=first["key"], VersionId=first["version"])
    assert objects(aws, f"reports/{first['campaign']}/") == []
    assert s3.get_object(Bucket=aws["bucket"], Key=again["key"])["VersionId"] == again["version"]
    assert s3.get_object(Bucket=aws["bucket"], Key=schools["key"])["Body"].read().startswith(b"Namn")
    assert {c: objects(aws, f"reports/{c}/") for c in untouched} == untouched
    records = {c["campaign"]: c for c in store(aws).list()}
    assert set(records) == {first["campaign"], schools["campaign"], again["campaign"]}, "records stay"
    assert records[first["campaign"]]["purged_at"] and not records[again["campaign"]].get("purged_at")

    evidence = client("dynamodb").get_item(TableName=aws["settings"].table, Key=evidence_key(first["campaign"]))
    item = evidence["Item"]
    assert (item["upload_versions"]["N"], item["report_objects"]["N"]) == ("1", "1")
    assert "@" not in str(item), "counts only"

    assert tick(aws, inc, T0 + days(90) + hours(1))["purged"] == 0, "once"
    assert tick(aws, inc, T0 + days(91) + hours(1))["purged"] == 1  # the schools list, a day younger
    assert tick(aws, inc, T0 + days(100) + hours(1))["purged"] == 1  # the corrected list
    assert objects(aws, first["key"]) == [], "every version of the upload gone, no delete marker left"


def test_the_incidents_retention_period_is_used(aws):
    inc = incident(retention_days=30)
    campaign = import_campaign(aws, inc)
    assert tick(aws, inc, T0 + days(29))["purged"] == 0
    assert tick(aws, inc, T0 + days(30) + hours(1))["purged"] == 1
    assert objects(aws, campaign["key"]) == []


def test_a_followup_due_after_the_purge_sends_nothing(aws):
    late = FollowUp(id="sent", audience="customers", template="reminder", after_first_send_hours=24 * 40,
                    not_after_hours=24 * 10)
    inc = incident((late,), retention_days=30)
    import_campaign(aws, inc)
    tick(aws, inc, T0 + days(31))
    summary = tick(aws, inc, T0 + days(40) + hours(1))
    assert summary["followups_started"] == 0 and summary["failed"] == 0
    assert sent(aws) == []
