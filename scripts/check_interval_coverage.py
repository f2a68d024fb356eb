"""Coverage of the project's intervals on simulated data with known parameters.

    python scripts/check_interval_coverage.py [--replications 200] [--customers 2000]

Prints the share of 95% parameter intervals (BG/NBD, log scale) that hold the true values and
the mean share of customers whose 90% interval of expected purchases over 4 weeks holds their
true expected purchases (see crm_analytics.btyd.coverage). The pytest version
(tests/python/btyd/test_interval_coverage.py) runs a small one.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from crm_analytics.btyd.coverage import replicate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=200)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--first-seed", type=int, default=1000)
    args = parser.parse_args()
    started = time.perf_counter()
    results = [
        replicate(args.customers, seed)
        for seed in range(args.first_seed, args.first_seed + args.replications)
    ]
    by_parameter = {
        name: float(np.mean([rep.covered[name] for rep in results])) for name in results[0].covered
    }
    overall = float(np.mean([c for rep in results for c in rep.covered.values()]))
    customers = np.array([rep.customer_coverage for rep in results])
    print(
        f"{args.replications} replications x {args.customers} customers "
        f"({time.perf_counter() - started:.0f} s)"
    )
    print(f"95% parameter intervals holding the truth: {overall:.3f} ({by_parameter})")
    print(
        f"90% customer intervals of expected purchases holding the truth: mean "
        f"{customers.mean():.3f} (replication quartiles "
        f"{np.quantile(customers, [0.25, 0.5, 0.75]).round(3).tolist()})"
    )


if __name__ == "__main__":
    main()
