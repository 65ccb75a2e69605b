"""What serving a model costs: Lambda's monthly bill against SageMaker, from measured numbers.

- :mod:`~sklambda.costing.prices`: the dated price file (``prices.json``), the only place
  prices live;
- :mod:`~sklambda.costing.lambda_pricing`: requests, tiered GB-seconds, INIT billing, provisioned
  concurrency, keep-warm pings, free tier;
- :mod:`~sklambda.costing.traffic`: the share of cold requests from traffic and idle recycling;
- :mod:`~sklambda.costing.alternatives`: SageMaker real-time and Serverless Inference, API
  Gateway in front of Lambda;
- :mod:`~sklambda.costing.break_even`: where two costs cross, in words;
- :func:`~sklambda.costing.estimate.cost` (``sklambda.cost``) puts them together;
- :mod:`~sklambda.costing.charts` draws cost against traffic (the ``charts`` extra).

The package is ``costing``, not ``cost``, so that it can never replace the function
``sklambda.cost``.
"""

from sklambda.costing.errors import CostError, PricesError
from sklambda.costing.estimate import CostEstimate, cost
from sklambda.costing.lambda_pricing import LambdaBill, LambdaUsage, lambda_bill
from sklambda.costing.prices import PriceBook, load_prices

__all__ = [
    "CostError",
    "CostEstimate",
    "LambdaBill",
    "LambdaUsage",
    "PriceBook",
    "PricesError",
    "cost",
    "lambda_bill",
    "load_prices",
]
