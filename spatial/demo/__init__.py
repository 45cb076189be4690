"""The deterministic synthetic demo city (see :func:`generate_demo`)."""

from spatial.demo._attributes import DEMO_COVERAGE
from spatial.demo.city import NODES_PER_SUPERBLOCK, DemoCity, generate_demo, size_for_nodes

__all__ = ["DEMO_COVERAGE", "NODES_PER_SUPERBLOCK", "DemoCity", "generate_demo", "size_for_nodes"]
