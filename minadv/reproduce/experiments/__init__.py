"""One module per paper, each holding that paper's synthetic and digits reproductions and
their specification (claim, the paper's statement with its table / figure / section, data,
checks with thresholds and derivations, repeats).

The registry (:data:`minadv.reproduce.EXPERIMENTS`) lists the protocols of these modules in
the order of :data:`MODULES`.
"""

from __future__ import annotations

from . import goodfellow, gowal, kanai, madry, miyato, pearlmutter, shaham, yamada

__all__ = ["MODULES", "ORDER"]

MODULES = (pearlmutter, yamada, kanai, goodfellow, shaham, madry, miyato, gowal)

#: the report's order: the synthetic reproductions, then the digits
ORDER = ("gradcheck", "sharpness", "sharpness-mlp", "smoothness", "goodfellow", "shaham",
         "madry", "vat", "goodfellow-digits", "shaham-digits", "madry-digits", "vat-digits",
         "yamada-digits", "kanai-digits", "certified-digits")
