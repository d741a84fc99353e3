"""An example skill module for %%codeact --skills: the shop's prices, which no model can know.

    %%codeact --skills shop_prices
    What do three wands and a cloak cost, in euros?

(Run from this folder, or put it on the kernel's path.)
"""

_PRICES_GBP = {"wand": 12.5, "cloak": 40.0, "cauldron": 27.25, "broom": 95.0}
_EUR_PER_GBP = 1.17


def price_of(item: str) -> float:
    """The price of one item, in pounds. Raises KeyError for an item the shop does not sell."""
    return _PRICES_GBP[item.lower()]


def in_euros(pounds: float) -> float:
    """An amount in pounds converted to euros at the shop's rate, rounded to the cent."""
    return round(pounds * _EUR_PER_GBP, 2)
