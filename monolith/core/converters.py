"""URL converters for the public keys: a malformed key is a 404 from the resolver, never a query."""


class SkuConverter:
    regex = "[A-Za-z0-9-]{1,32}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


class OrderNumberConverter(SkuConverter):
    regex = "[A-Z0-9]{1,16}"


class ReservationIdConverter(SkuConverter):
    regex = "[A-Za-z0-9._:-]{1,64}"
