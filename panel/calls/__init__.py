"""Call records (CDRs) sent by the switches, and their hourly roll-up per customer.

`models` holds the raw records and the derived hourly figures, `importer` (reading by `parsing`,
storing by `loading`) turns CSV files and
API batches into records (a record sent twice is stored once), and `rollup` recomputes the
hours that new or late records touched. The Summary pages read the hourly figures.
"""
