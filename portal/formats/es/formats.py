"""Spanish number formats: thousands grouped with a period ("12.345"), which screen readers
read as one number; Django's default, a no-break space, makes some read "12 345" as two.
The rest of Spanish formatting is Django's own."""

DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "."
NUMBER_GROUPING = 3
