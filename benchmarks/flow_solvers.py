"""Cross-area funding's min-cost flow: OR-tools against scipy's HiGHS, at city scale.

The network is the one ``spatial.bundling.funding`` builds (source → surplus projects →
deficit compounds → sink, and a free source → sink arc): money capacities in whole units,
costs as distance steps minus a households-per-yuan level. The same network is solved by
OR-tools' ``SimpleMinCostFlow`` and as a linear program by ``scipy.optimize.linprog``
(HiGHS); the table prints the times and checks that both reach the same cost.

    python benchmarks/flow_solvers.py [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from scipy import sparse
from scipy.optimize import linprog
from scipy.spatial import cKDTree


def network(n_projects: int, n_compounds: int, *, seed: int) -> dict[str, np.ndarray]:
    """A city: projects with surplus and compounds in deficit scattered over
    ~(n/100) km², each compound linked to its 8 nearest projects."""
    rng = np.random.default_rng(seed)
    side = 10.0 * np.sqrt(n_compounds)  # metres
    s_xy = rng.uniform(0, side, (n_projects, 2))
    d_xy = rng.uniform(0, side, (n_compounds, 2))
    money = rng.integers(1, 400, n_projects)  # units of 10⁴ yuan
    need = rng.integers(1, 60, n_compounds)
    dist, near = cKDTree(s_xy).query(d_xy, k=8)
    d_arc = np.repeat(np.arange(n_compounds), 8)
    s_arc = near.ravel()
    step = np.rint(100 * dist.ravel() / dist.max()).astype(np.int64)
    level = rng.integers(1, 100, n_compounds)
    n_s, n_d = n_projects, n_compounds
    d_node = 2 + n_s + np.arange(n_d)
    total = int(money.sum())
    return {
        "tail": np.concatenate([np.zeros(n_s, np.int64), 2 + s_arc, d_node, [0]]),
        "head": np.concatenate([2 + np.arange(n_s), d_node[d_arc], np.ones(n_d, np.int64), [1]]),
        "cap": np.concatenate([money, need[d_arc], need, [total]]).astype(np.int64),
        "cost": np.concatenate([np.zeros(n_s, np.int64), step, -level * 101, [0]]),
        "n_nodes": np.array(2 + n_s + n_d),
        "total": np.array(total),
    }


def by_ortools(net: dict[str, np.ndarray]) -> tuple[float, float]:
    from ortools.graph.python import min_cost_flow

    start = time.perf_counter()
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(net["tail"], net["head"], net["cap"], net["cost"])
    total = int(net["total"])
    flow.set_nodes_supplies(np.array([0, 1]), np.array([total, -total]))
    assert flow.solve() == flow.OPTIMAL
    return time.perf_counter() - start, float(flow.optimal_cost())


def by_highs(net: dict[str, np.ndarray]) -> tuple[float, float]:
    start = time.perf_counter()
    n_arcs, n_nodes = len(net["tail"]), int(net["n_nodes"])
    cols = np.arange(n_arcs)
    incidence = sparse.csr_array(
        (
            np.concatenate([np.ones(n_arcs), -np.ones(n_arcs)]),
            (np.concatenate([net["tail"], net["head"]]), np.concatenate([cols, cols])),
        ),
        shape=(n_nodes, n_arcs),
    )
    supply = np.zeros(n_nodes)
    supply[0], supply[1] = net["total"], -net["total"]
    res = linprog(
        net["cost"].astype(float),
        A_eq=incidence,
        b_eq=supply,
        bounds=np.column_stack([np.zeros(n_arcs), net["cap"].astype(float)]),
        method="highs",
    )
    assert res.status == 0, res.message
    return time.perf_counter() - start, float(res.fun)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"{'projects':>9} {'compounds':>10} {'arcs':>9} {'OR-tools s':>11} {'HiGHS s':>8} "
          f"{'ratio':>6} {'same cost':>9}")  # fmt: skip
    for n_s, n_d in ((200, 2_000), (2_000, 20_000), (10_000, 100_000)):
        net = network(n_s, n_d, seed=args.seed)
        t_or, c_or = by_ortools(net)
        t_hi, c_hi = by_highs(net)
        same = abs(c_or - c_hi) <= 1e-6 * max(abs(c_or), 1.0)
        print(f"{n_s:>9,} {n_d:>10,} {len(net['tail']):>9,} {t_or:>11.2f} {t_hi:>8.2f} "
              f"{t_hi / t_or:>5.1f}× {same!s:>9}")  # fmt: skip


if __name__ == "__main__":
    from _machine import machine_line

    main()
    if "--worker" not in sys.argv:  # a worker prints its JSON last
        print(machine_line())
