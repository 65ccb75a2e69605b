"""Lambda's bill against hand-computed cases; every price is a row of the shipped price file.

Each expected figure is written out as the arithmetic a person would do, with the price rows it
uses named (``P_X86`` is ``lambda.duration.x86_64`` first tier in us-east-1, …), and the rows
themselves are checked to hold the figures written here, so a change of the price file shows up
as a failing, readable test rather than as silently different numbers.
"""

from __future__ import annotations

import pytest

from sklambda.costing import LambdaUsage, lambda_bill, load_prices
from sklambda.costing.errors import CostError
from sklambda.costing.traffic import cold_share

BOOK = load_prices(region="us-east-1")
REQ = BOOK.value("lambda.requests") / 1e6  # USD per request
P_X86 = [row.value for row in BOOK.tiers("lambda.duration.x86_64")]
P_ARM = [row.value for row in BOOK.tiers("lambda.duration.arm64")]
PC_IDLE = BOOK.value("lambda.provisioned.concurrency.x86_64")
PC_DURATION = BOOK.value("lambda.provisioned.duration.x86_64")
FREE_REQ = BOOK.value("lambda.free_tier.requests")
FREE_GBS = BOOK.value("lambda.free_tier.gb_seconds")
MONTH_S = BOOK.value("convention.hours_per_month") * 3600


def test_the_price_rows_are_the_figures_these_cases_were_computed_with() -> None:
    assert REQ * 1e6 == 0.20
    assert P_X86 == [0.0000166667, 0.000015, 0.0000133334]
    assert [r.tier_above for r in BOOK.tiers("lambda.duration.x86_64")] == [0, 6e9, 15e9]
    assert P_ARM == [0.0000133334, 0.0000120001, 0.0000106667]
    assert [r.tier_above for r in BOOK.tiers("lambda.duration.arm64")] == [0, 7.5e9, 18.75e9]
    assert (PC_IDLE, PC_DURATION) == (0.0000041667, 0.0000097222)
    assert (FREE_REQ, FREE_GBS, MONTH_S) == (1_000_000, 400_000, 730 * 3600)


def test_awss_own_example_512_mb_3m_requests_of_1_s_with_the_free_tier() -> None:
    # AWS's pricing page, example 1: 1,500,000 GB-s − 400,000 free = 1,100,000 GB-s;
    # 3M − 1M free = 2M requests.
    bill = lambda_bill(LambdaUsage(3_000_000, billed_ms=1000, memory_mb=512), BOOK)
    assert bill.duration_usd == pytest.approx(1_100_000 * 0.0000166667)  # 18.33337
    assert bill.requests_usd == pytest.approx(2_000_000 * 0.20 / 1e6)  # 0.40
    assert bill.total_usd == pytest.approx(18.73337)


def test_the_free_tier_covers_a_small_function_entirely() -> None:
    # 1M requests × 0.1 s × 0.125 GB = 12,500 GB-s < 400,000 free; 1M requests = the free 1M.
    bill = lambda_bill(LambdaUsage(1_000_000, billed_ms=100, memory_mb=128), BOOK)
    assert bill.total_usd == 0.0
    assert bill.on_demand_gb_s == pytest.approx(12_500)


def test_without_the_free_tier_every_request_and_gb_second_is_paid() -> None:
    usage = LambdaUsage(1_000_000, billed_ms=100, memory_mb=1024, free_tier=False)
    bill = lambda_bill(usage, BOOK)
    # 1M × 0.1 s × 1 GB = 100,000 GB-s; 1M requests.
    assert bill.duration_usd == pytest.approx(100_000 * 0.0000166667)  # 1.66667
    assert bill.requests_usd == pytest.approx(0.20)
    assert bill.total_usd == pytest.approx(1.86667)


def test_x86_tiers_apply_above_6_and_15_billion_gb_seconds() -> None:
    # 10B requests × 1 s × 1 GB = 1e10 GB-s: 6e9 at tier 1, 4e9 at tier 2.
    ten = lambda_bill(LambdaUsage(1e10, billed_ms=1000, memory_mb=1024, free_tier=False), BOOK)
    assert ten.duration_usd == pytest.approx(6e9 * 0.0000166667 + 4e9 * 0.000015)  # 160,000.2
    assert ten.requests_usd == pytest.approx(2000.0)
    # 2e10 GB-s: 6e9 + 9e9 + 5e9 over 15 billion.
    twenty = lambda_bill(LambdaUsage(2e10, billed_ms=1000, memory_mb=1024, free_tier=False), BOOK)
    expected = 6e9 * 0.0000166667 + 9e9 * 0.000015 + 5e9 * 0.0000133334
    assert twenty.duration_usd == pytest.approx(expected)  # 301,667.2


def test_arm64_is_cheaper_and_its_tiers_start_at_7_5_billion() -> None:
    usage = LambdaUsage(1e10, billed_ms=1000, memory_mb=1024, arch="arm64", free_tier=False)
    bill = lambda_bill(usage, BOOK)
    assert bill.duration_usd == pytest.approx(7.5e9 * 0.0000133334 + 2.5e9 * 0.0000120001)


def test_init_of_cold_requests_is_billed_as_duration() -> None:
    # Since 2025-08-01 on-demand zip functions pay for INIT. 1M requests at 10 ms, 512 MB, 1 %
    # cold with an 800 ms INIT: duration 1M × 0.01 s × 0.5 GB = 5,000 GB-s; INIT
    # 10,000 × 0.8 s × 0.5 GB = 4,000 GB-s.
    usage = LambdaUsage(
        1_000_000, billed_ms=10, memory_mb=512, init_ms=800, cold_share=0.01, free_tier=False
    )
    bill = lambda_bill(usage, BOOK)
    assert bill.cold_requests == pytest.approx(10_000)
    assert bill.init_usd == pytest.approx(4_000 * 0.0000166667)  # 0.0666668
    assert bill.duration_usd == pytest.approx(5_000 * 0.0000166667)  # 0.0833335
    warm_only = lambda_bill(LambdaUsage(1e6, billed_ms=10, memory_mb=512, free_tier=False), BOOK)
    assert bill.total_usd - warm_only.total_usd == pytest.approx(bill.init_usd)


def test_provisioned_concurrency_pays_idle_capacity_and_cheaper_duration() -> None:
    # 2 environments × 1 GB × 2,628,000 s = 5,256,000 GB-s of concurrency; the traffic
    # (1M × 0.1 s = 100,000 s, 0.04 of one environment on average) all runs on them.
    usage = LambdaUsage(1_000_000, billed_ms=100, memory_mb=1024, provisioned=2, free_tier=False)
    bill = lambda_bill(usage, BOOK)
    idle = 2 * 1 * 730 * 3600 * 0.0000041667  # 21.9001752
    duration = 1_000_000 * 0.1 * 1 * 0.0000097222  # 0.97222
    assert bill.provisioned_share == 1.0
    assert bill.provisioned_usd == pytest.approx(idle + duration)
    assert bill.duration_usd == 0.0  # nothing on-demand
    assert bill.requests_usd == pytest.approx(0.20)
    assert bill.total_usd == pytest.approx(23.0723952)


def test_traffic_beyond_provisioned_capacity_spills_to_on_demand() -> None:
    # 105.12M requests × 0.1 s = 10,512,000 s = 4 environments busy on average; 1 provisioned
    # serves a quarter of the requests, the other three quarters run (and are priced) on-demand.
    n = 4 * MONTH_S / 0.1
    usage = LambdaUsage(n, billed_ms=100, memory_mb=1024, provisioned=1, free_tier=False)
    bill = lambda_bill(usage, BOOK)
    assert bill.provisioned_share == pytest.approx(0.25)
    idle = 1 * 1 * MONTH_S * 0.0000041667
    assert bill.provisioned_usd == pytest.approx(idle + n / 4 * 0.1 * 0.0000097222)
    assert bill.duration_usd == pytest.approx(n * 3 / 4 * 0.1 * 0.0000166667)


def test_keep_warm_pings_are_invocations_of_their_own() -> None:
    # Every 5 minutes: 730 h × 60 / 5 = 8,760 pings of 1 ms at 1 GB = 8.76 GB-s.
    usage = LambdaUsage(
        0, billed_ms=50, memory_mb=1024, keep_warm_every_min=5, keep_warm_ms=1, free_tier=False
    )
    bill = lambda_bill(usage, BOOK)
    assert bill.keep_warm_usd == pytest.approx(8_760 * 0.20 / 1e6 + 8.76 * 0.0000166667)
    assert bill.total_usd == pytest.approx(bill.keep_warm_usd)
    # With the free tier, a few thousand pings cost nothing.
    free = lambda_bill(LambdaUsage(0, 50, 1024, keep_warm_every_min=5), BOOK)
    assert free.total_usd == 0.0


def test_parallel_keep_warm_pings_are_each_billed() -> None:
    # 3 pings every 5 minutes, held 150 ms (deploy --keep-warm-concurrency 3): 26,280 pings of
    # 150 ms at 1 GB = 3,942 GB-s.
    usage = LambdaUsage(
        0,
        billed_ms=50,
        memory_mb=1024,
        keep_warm_every_min=5,
        keep_warm_ms=150,
        keep_warm_concurrency=3,
        free_tier=False,
    )
    bill = lambda_bill(usage, BOOK)
    assert bill.keep_warm_usd == pytest.approx(26_280 * 0.20 / 1e6 + 3_942 * 0.0000166667)


@pytest.mark.parametrize(
    "usage",
    [
        LambdaUsage(5e6, 23, 512, init_ms=900, cold_share=0.02, keep_warm_every_min=4),
        LambdaUsage(2e9, 120, 3008, arch="arm64", provisioned=3, init_ms=400, cold_share=0.001),
        LambdaUsage(1.5e6, 3, 128, init_ms=300, cold_share=0.3, free_tier=True),
    ],
)
def test_the_parts_always_add_up_to_the_bill(usage: LambdaUsage) -> None:
    bill = lambda_bill(usage, BOOK)
    assert sum(bill.parts().values()) == pytest.approx(bill.total_usd)
    assert all(value >= 0 for value in bill.parts().values())


def test_inputs_outside_their_range_are_refused() -> None:
    with pytest.raises(CostError, match="arch"):
        LambdaUsage(1, 1, 128, arch="riscv")
    with pytest.raises(CostError, match="cold share"):
        LambdaUsage(1, 1, 128, cold_share=1.5)
    with pytest.raises(CostError, match="positive"):
        LambdaUsage(1, 0, 128)


def test_cold_share_from_the_traffic_and_the_idle_recycle_time() -> None:
    # One request every 5 minutes on average (8,760 a month) with environments recycled after
    # 5 idle minutes: a gap is longer than the mean with probability exp(-1).
    share = cold_share(8_760, hours_per_month=730, idle_recycle_min=5)
    assert share == pytest.approx(0.36787944, rel=1e-6)
    # Ten times the traffic: exp(-10).
    assert cold_share(87_600, hours_per_month=730) == pytest.approx(4.539993e-5, rel=1e-5)
    # All of it in one hour of the day: that hour runs 24 × hotter, exp(-24).
    profile = [0.0] * 23 + [1.0]
    assert cold_share(8_760, hours_per_month=730, daily_profile=profile) == pytest.approx(
        3.775135e-11, rel=1e-5
    )
    # Pings more often than the idle time leave no idle gap.
    assert cold_share(8_760, hours_per_month=730, keep_warm_every_min=4) == 0.0
    assert cold_share(0, hours_per_month=730) == 0.0
    with pytest.raises(CostError, match="24"):
        cold_share(100, hours_per_month=730, daily_profile=[1.0] * 12)
