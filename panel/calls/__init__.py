"""Call records (CDRs) sent by the switches, and their hourly roll-up per customer.

`models` holds the raw records and the derived hourly figures; `importer` turns CSV files and API
batches into records (a record sent twice is stored once): `parsing` holds the one rule set a record
must pass and reads CSV files, `loading` stores the records (COPY and a threaded loader on
PostgreSQL). `rollup` recomputes the hours that new or late records touched. The Summary pages read
the hourly figures.
"""
