"""``sklambda.cost``: the estimate, its break-evens against hand-computed crossings, its JSON.

Prices are read from the shipped price file; the crossings below are solved by hand from its
rows: ``lambda.requests`` 0.20 USD/M, ``lambda.duration.x86_64`` 0.0000166667 USD/GB-s,
``sagemaker.realtime.ml.t2.medium`` 0.056 USD/h × 730 h = 40.88 USD/month,
``sagemaker.serverless.duration`` 0.00002 USD/GB-s, ``lambda.provisioned.*`` 0.0000041667 /
0.0000097222 USD/GB-s.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import sklambda
from sklambda.costing import CostError, PricesError, load_prices
from sklambda.costing.break_even import break_even, short_count

T2_MONTH = 0.056 * 730  # 40.88
PER_REQUEST_1S_1GB = 0.20 / 1e6 + 1 * 1 * 0.0000166667  # 1.68667e-5


def _option(estimate: sklambda.CostEstimate, key: str) -> dict:
    (found,) = [o for o in estimate.to_json()["alternatives"] if o["key"] == key]
    return found


def test_break_even_with_an_always_on_t2_medium_without_free_tier() -> None:
    estimate = sklambda.cost(
        requests_per_month=1e6, duration_ms=1000, memory_mb=1024, free_tier=False, cold_share=0
    )
    t2 = _option(estimate, "sagemaker-realtime:ml.t2.medium")
    assert t2["monthly_usd"] == pytest.approx(T2_MONTH)
    # N × 1.68667e-5 = 40.88  →  N = 2,423,711
    assert t2["break_even_requests_per_month"] == pytest.approx(T2_MONTH / PER_REQUEST_1S_1GB)
    assert t2["lambda_cheaper"] == "below"


def test_the_seed_articles_2m_a_month_holds_for_1_s_predictions_with_the_free_tier() -> None:
    estimate = sklambda.cost(requests_per_month=2e6, duration_ms=1000, memory_mb=1024, cold_share=0)
    # (N − 1M) × 0.2e-6 + (N × 1 GB-s − 400,000) × 0.0000166667 = 40.88
    #   →  N = (40.88 + 0.20 + 400,000 × 0.0000166667) / 1.68667e-5 = 2,830,842
    expected = (T2_MONTH + 0.20 + 400_000 * 0.0000166667) / PER_REQUEST_1S_1GB
    t2 = _option(estimate, "sagemaker-realtime:ml.t2.medium")
    assert t2["break_even_requests_per_month"] == pytest.approx(expected, rel=1e-6)
    assert t2["break_even"] == (
        "Lambda is cheaper than SageMaker ml.t2.medium below 2.83M requests/month at 1000 ms "
        "and 1,024 MB"
    )
    # At 2M requests, Lambda costs (1M × 0.2e-6) + (1.6M GB-s × 0.0000166667) = 26.867 USD.
    assert estimate.lambda_monthly_usd == pytest.approx(0.20 + 1_600_000 * 0.0000166667)


def test_serverless_inference_at_the_same_duration_never_wins() -> None:
    estimate = sklambda.cost(requests_per_month=1e6, duration_ms=1000, memory_mb=1024)
    serverless = _option(estimate, "sagemaker-serverless:1024")
    # 1 s × 1 GB × 0.00002 + 1 KiB of data per request, against Lambda's 1.68667e-5.
    per_request = 0.00002 + 1024 / 1024**3 * 0.016
    assert serverless["monthly_usd"] == pytest.approx(1e6 * per_request)
    assert serverless["break_even_requests_per_month"] is None
    assert serverless["lambda_cheaper"] == "always"


def test_provisioned_concurrency_makes_lambda_cheaper_only_above_a_volume() -> None:
    # 10 provisioned × 1 GB all month: 10 × 2,628,000 × 0.0000041667 = 109.5 USD fixed; then
    # 0.2e-6 + 0.0000097222 per 1-s request, against Serverless' 0.00002 (+ data).
    estimate = sklambda.cost(
        requests_per_month=1e6,
        duration_ms=1000,
        memory_mb=1024,
        provisioned=10,
        free_tier=False,
        payload_bytes=0,
        sagemaker_instances=[],
    )
    fixed = 10 * 730 * 3600 * 0.0000041667
    crossing = fixed / (0.00002 - (0.20 / 1e6 + 0.0000097222))
    serverless = _option(estimate, "sagemaker-serverless:1024")
    assert serverless["lambda_cheaper"] == "above"
    assert serverless["break_even_requests_per_month"] == pytest.approx(crossing, rel=1e-6)
    assert estimate.to_json()["lambda_parts_usd"]["provisioned"] == pytest.approx(
        fixed + 1e6 * 0.0000097222
    )


def test_break_even_search_finds_both_directions_and_none() -> None:
    assert break_even(lambda n: n, lambda n: 100.0).requests_per_month == pytest.approx(100)
    above = break_even(lambda n: 50.0 + n, lambda n: 2 * n)
    assert (above.lambda_cheaper, above.requests_per_month) == ("above", pytest.approx(50))
    assert break_even(lambda n: 0.0, lambda n: 1.0).lambda_cheaper == "always"
    assert break_even(lambda n: 2.0, lambda n: 1.0).lambda_cheaper == "never"


def test_short_counts() -> None:
    assert [short_count(n) for n in (120, 8_500, 38_240_000, 1.5e9, 2e12)] == [
        "120",
        "8.5k",
        "38.2M",
        "1.5B",
        "2T",
    ]


RESULTS = {
    "format": "sklambda-bench-results",
    "format_version": 1,
    "packages": [
        {
            "name": "seed",
            "arch": "arm64",
            "sizes": [
                {
                    "memory_mb": 512,
                    "billed_warm_ms": 2.4,
                    "init_ms": 180.0,
                    "request_bytes": 300,
                    "response_bytes": 100,
                    "errors": [],
                }
            ],
        }
    ],
    "notes": [],
}


def test_inputs_come_from_a_results_file_and_the_cold_share_from_the_traffic() -> None:
    estimate = sklambda.cost(results=RESULTS, requests_per_month=8_760, free_tier=False)
    doc = estimate.to_json()
    inputs = doc["inputs"]
    assert (inputs["billed_duration_ms"], inputs["memory_mb"], inputs["arch"]) == (
        2.4,
        512,
        "arm64",
    )
    assert inputs["init_ms"] == 180.0
    # One request every 5 minutes, environments recycled after 5 idle minutes: exp(-1) cold.
    assert inputs["cold_share"] == pytest.approx(0.36787944, rel=1e-6)
    arm = 0.0000133334
    duration = 8_760 * 0.0024 * 0.5 * arm
    init = 8_760 * 0.36787944 * 0.18 * 0.5 * arm
    assert doc["lambda_parts_usd"]["duration"] == pytest.approx(duration, rel=1e-6)
    assert doc["lambda_parts_usd"]["init"] == pytest.approx(init, rel=1e-6)
    serverless = _option(estimate, "sagemaker-serverless:1024")
    assert serverless["monthly_usd"] == pytest.approx(
        8_760 * (0.0024 * 1 * 0.00002 + 400 / 1024**3 * 0.016)
    )


def test_the_json_has_the_documented_keys_and_cites_every_price_it_used() -> None:
    estimate = sklambda.cost(
        requests_per_second=2, duration_ms=18.2, memory_mb=512, init_ms=700,
        keep_warm_every_min=10, api_gateway_kind="http",
    )  # fmt: skip
    doc = json.loads(json.dumps(estimate.to_json()))
    assert doc["inputs"]["requests_per_month"] == pytest.approx(2 * 730 * 3600)
    assert doc["inputs"]["billed_duration_ms"] == 19  # rounded up, as Lambda bills
    assert set(doc["lambda_parts_usd"]) == {
        "requests",
        "duration",
        "init",
        "provisioned",
        "keep_warm",
    }
    assert doc["lambda_monthly_usd"] == pytest.approx(sum(doc["lambda_parts_usd"].values()))
    assert all(
        "monthly_usd" in o and "break_even_requests_per_month" in o for o in doc["alternatives"]
    )
    assert set(doc["break_even_requests_per_month"]) == {o["key"] for o in doc["alternatives"]}
    shipped = json.loads(Path(load_prices().path).read_text())["rows"]
    keys = {(r["region"], r["item"], r.get("tier_above", 0)) for r in shipped}
    for row in doc["prices"]["rows"]:
        assert (row["region"], row["item"], row.get("tier_above", 0)) in keys
        assert row["source"] and row["date_read"]
    cited = {r["item"] for r in doc["prices"]["rows"]}
    assert {"lambda.requests", "api_gateway.http", "sagemaker.realtime.ml.t2.medium"} <= cited
    gateway = _option(estimate, "lambda+api-gateway:http")
    assert gateway["monthly_usd"] == pytest.approx(doc["lambda_monthly_usd"] + 5.256)


def test_a_region_without_sagemaker_prices_says_so_and_needs_its_lambda_prices() -> None:
    estimate = sklambda.cost(
        region="eu-west-1", requests_per_month=1e6, duration_ms=20, memory_mb=1024
    )
    assert estimate.options == []
    assert any("no SageMaker real-time prices for eu-west-1" in n for n in estimate.notes)
    with pytest.raises(PricesError, match=r"lambda.provisioned.concurrency.x86_64.*eu-west-1"):
        sklambda.cost(
            region="eu-west-1",
            requests_per_month=1e6,
            duration_ms=20,
            memory_mb=1024,
            provisioned=1,
        )
    with pytest.raises(PricesError, match="no prices for region 'mars-1'"):
        sklambda.cost(region="mars-1", requests_per_month=1, duration_ms=1, memory_mb=128)


def test_missing_or_contradictory_inputs_are_clear_errors() -> None:
    with pytest.raises(CostError, match="results file .* or both duration_ms and memory_mb"):
        sklambda.cost(requests_per_month=1e6, duration_ms=10)
    with pytest.raises(CostError, match="one"):
        sklambda.cost(requests_per_month=1, requests_per_second=1, duration_ms=1, memory_mb=128)
    with pytest.raises(CostError, match="ml.x9.huge"):
        sklambda.cost(
            requests_per_month=1, duration_ms=1, memory_mb=128, sagemaker_instances=["ml.x9.huge"]
        )
    two = dict(RESULTS, packages=[RESULTS["packages"][0], dict(RESULTS["packages"][0], name="b")])
    with pytest.raises(sklambda.SklambdaError, match="pick one"):
        sklambda.cost(results=two, requests_per_month=1)


def test_a_price_file_given_replaces_the_shipped_one(tmp_path: Path) -> None:
    document = json.loads(load_prices().path.read_text())
    for row in document["rows"]:
        if row["item"] == "lambda.requests" and row["region"] == "us-east-1":
            row["price"] = 0.40
    custom = tmp_path / "prices.json"
    custom.write_text(json.dumps(document))
    estimate = sklambda.cost(
        requests_per_month=2e6, duration_ms=1, memory_mb=128, prices=custom, free_tier=False
    )
    assert estimate.bill.requests_usd == pytest.approx(0.80)
    requests = next(r for r in document["rows"] if r["item"] == "lambda.requests")
    bad = dict(document, rows=[dict(requests, unit="USD per 1K requests")])
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    with pytest.raises(PricesError, match="must be in 'USD per 1M requests'"):
        load_prices(tmp_path / "bad.json")
    (tmp_path / "v2.json").write_text(json.dumps(dict(document, format_version=2)))
    with pytest.raises(PricesError, match="format_version 2"):
        load_prices(tmp_path / "v2.json")


def test_every_shipped_row_is_sourced_and_dated() -> None:
    rows = json.loads(load_prices().path.read_text())["rows"]
    regions = {r["region"] for r in rows} - {"global"}
    assert {"us-east-1", "us-east-2", "eu-west-1"} <= regions
    for row in rows:
        assert row["source"] and row["date_read"] and row["quality"] in (
            "primary", "secondary", "unconfirmed"
        )  # fmt: skip
    for region in regions:
        load_prices(region=region)  # every region loads
