"""Run the chain from files to output folders; the CLI is a thin face over these functions.

Each ``run_*`` loads and validates every input at once (one :class:`~spatial.InputError`
with all problems, before any expensive work), runs one stage through the library face
(:mod:`spatial.api`) or the stage's own function, and writes the stage's output folder
through :mod:`spatial.io.outputs.results`. Each stage's settings travel as the stage's own
parameter object (:class:`~spatial.lifecircle.params.GapParams`,
:class:`~spatial.bundling.params.BundleParams`, :class:`~spatial.policy.params.PlanParams`),
passed on unchanged; the defaults are declared there only.
"""

import lazy_loader

# the names of __init__.pyi, each imported when first used: `spatial gaps` loads the
# gap stage, not the demo's, the finance's and the maps' modules
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
