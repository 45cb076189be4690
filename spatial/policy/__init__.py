"""Stage 5, policy and plans: eligibility, needs, ranking, annual plans, siting, workbook.

- :mod:`spatial.policy.profiles` policy profiles (data), eligibility, needs, ranking
- :mod:`spatial.policy.annual` annual plans within budget and targets, roll-ups
- :mod:`spatial.policy.siting` facility siting: an exact maximal covering model
- :mod:`spatial.policy.inventory` the inventory per subdistrict
- :mod:`spatial.policy.workbook` the plan workbook's sheets and Chinese headers
"""

import lazy_loader

# the names of __init__.pyi, each imported when first used: importing the package does
# no work (``spatial --help`` loads no geopandas)
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
