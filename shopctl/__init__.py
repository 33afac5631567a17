"""shopctl: starts the shop's processes (`shop up`) and reports on them (`shop status`)."""


class ShopError(Exception):
    """The shop cannot start or run; the message says why and what to do about it."""
