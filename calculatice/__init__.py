"""calcul@TICE: mental-arithmetic practice from CP to 6e, as free software."""

__version__ = "0.1.0"
