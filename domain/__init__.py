"""Pure rules of the business. No I/O, no clock (callers pass `as_of`), money is Decimal."""
