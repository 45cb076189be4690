"""spatial — planning the renovation of China's old residential compounds (老旧小区改造).

Subpackages and modules, in the order data flows through them:

- :mod:`spatial.io` readers/writers (tables, GIS files, OSM, Chinese coordinate systems)
- :mod:`spatial.schema` column contracts with Chinese/English aliases
- :mod:`spatial.projection` CRS checks, local metric projection
- :mod:`spatial.demo` the deterministic synthetic demo city
- :mod:`spatial.pipeline` and :mod:`spatial.cli` run the chain

Importing the package does no work.
"""

from spatial._errors import InputError, InputWarning, Problem

__all__ = ["InputError", "InputWarning", "Problem", "__version__"]

__version__ = "0.1.0"
