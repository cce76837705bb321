"""Call records in: parsing one record, CSV files (command line), and batches over the API."""
import io
import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.api.tokens import issue_token
from panel.calls import loading
from panel.calls.importer import (
    BATCH,
    FIELDS,
    CsvError,
    import_csv,
    parse_row,
)
from panel.calls.parsing import fast_row, plain_row
from panel.calls.models import CallRecord
from panel.customers.accounts import create_customer
from panel.extensions import db

HEADER = "customer_id,call_id,start_time,destination,answered,duration,billed_duration,rate,cost,charge\n"


def good(**changes) -> dict:
    row = {"customer_id": "1", "call_id": "c-1", "start_time": "2026-03-01T10:05:00Z", "destination": "4420",
           "answered": "true", "duration": "60", "billed_duration": "60", "rate": "0.010000",
           "cost": "0.0100", "charge": "0.0150"}
    row.update(changes)
    return row


def sample_csv(customer: int) -> str:
    """Lines 2-10: four good records, a duplicate of line 2, and four bad rows."""
    return HEADER + "".join([
        f"{customer},a1,2026-03-01T10:05:00Z,4420,true,60,60,0.010000,0.0100,0.0150\n",        # 2 good
        f"{customer},a2,2026-03-01 10:20:00,4420,1,125,126,0.010000,0.0210,0.0315\n",           # 3 good (naive: UTC)
        f"{customer},a1,2026-03-01T10:05:00Z,4420,true,60,60,0.010000,0.0100,0.0150\n",        # 4 duplicate of a1
        f"{customer},b1,2026-02-30T10:00:00,4420,true,60,60,0.01,0.0100,0.0150\n",             # 5 bad date
        f"{customer},b2,2026-03-01T10:00:00,4420,true,-5,0,0.01,0.0100,0.0150\n",              # 6 negative duration
        "999999,b3,2026-03-01T10:00:00,4420,true,60,60,0.01,0.0100,0.0150\n",                  # 7 unknown customer
        f"{customer},b4,2026-03-01T10:00:00,4420,true,60,60,0.01,12.5x,0.0150\n",              # 8 bad money
        f"{customer},a3,2026-03-01T13:59:59+02:00,,false,0,0,0,0,0\n",                         # 9 good (11:59:59 UTC)
        f'{customer},"a,4",2026-03-01T12:00:00.250Z,"44 20",yes,3600,3600,0.0003,1.0800,2.1600\n',  # 10 good
    ])


def stored(app):
    with app.app_context():
        return {r.call_id: r for r in db.session.scalars(sa.select(CallRecord))}


# --- one record ---------------------------------------------------------------------------------

def test_parse_row_takes_csv_text_and_gives_typed_utc_values():
    row = parse_row(good(start_time="2026-03-01T12:05:00+02:00", answered="No", rate="0.5", cost="3", charge="4.5"))
    assert row == {"customer_id": 1, "call_id": "c-1", "start_time": datetime(2026, 3, 1, 10, 5, tzinfo=UTC),
                   "destination": "4420", "answered": False, "duration_seconds": 60, "billed_seconds": 60,
                   "rate": Decimal("0.500000"), "cost": Decimal("3.0000"), "charge": Decimal("4.5000")}
    assert parse_row(good(start_time="2026-03-01 10:05:00"))["start_time"] == datetime(2026, 3, 1, 10, 5, tzinfo=UTC)


def test_parse_row_takes_json_values():
    row = parse_row({**good(), "customer_id": 7, "call_id": 123, "answered": True, "duration": 5,
                     "billed_duration": Decimal(6), "rate": Decimal("0.012345"), "cost": 0.25, "charge": 1})
    assert (row["customer_id"], row["call_id"], row["answered"], row["billed_seconds"]) == (7, "123", True, 6)
    assert (row["rate"], row["cost"], row["charge"]) == (Decimal("0.012345"), Decimal("0.2500"), Decimal("1.0000"))


@pytest.mark.parametrize("field, value, message", [
    ("start_time", "2026-02-30T10:00:00", "start_time: '2026-02-30T10:00:00' is not an ISO 8601 date-time"),
    ("start_time", "yesterday", "is not an ISO 8601 date-time"),
    ("duration", "-5", "duration: must not be negative (got -5)"),
    ("billed_duration", "1.5", "billed_duration: must be a whole number, not '1.5'"),
    ("customer_id", "0", "customer_id: must be a positive whole number"),
    ("customer_id", "abc", "customer_id: must be a whole number"),
    ("answered", "maybe", "answered: must be true or false"),
    ("cost", "12.5x", "cost: '12.5x' is not a number"),
    ("cost", "0.00001", "cost: has more than 4 decimal places"),
    ("charge", "-1", "charge: must not be negative"),
    ("charge", "NaN", "charge: 'NaN' is not a number"),
    ("charge", "1_000", "charge: '1_000' is not a number"),
    ("charge", "١٢", "charge: '١٢' is not a number"),
    ("charge", "1,5", "charge: '1,5' is not a number"),
    ("charge", "1e20", "charge: is too large"),
    ("rate", "0.0000001", "rate: has more than 6 decimal places"),
    ("call_id", "", "call_id: missing"),
    ("call_id", "x" * 129, "call_id: is longer than 128 characters"),
    ("destination", "4" * 65, "destination: is longer than 64 characters"),
    ("duration", True, "duration: must be a whole number"),
])
def test_parse_row_names_the_bad_field(field, value, message):
    with pytest.raises(ValueError) as error:
        parse_row(good(**{field: value}))
    assert message in str(error.value)


def test_parse_row_lists_every_bad_field_and_missing_ones():
    raw = good(duration="-1", cost="x")
    del raw["charge"]
    with pytest.raises(ValueError) as error:
        parse_row(raw)
    assert str(error.value) == "duration: must not be negative (got -1); cost: 'x' is not a number; charge: missing"
    with pytest.raises(ValueError, match="must be an object"):
        parse_row(["not", "a", "record"])


# --- CSV files ----------------------------------------------------------------------------------

def test_a_csv_goes_in_except_its_bad_rows_and_its_duplicate(app, customer):
    with app.app_context():
        report = import_csv(io.StringIO(sample_csv(customer)), "switch-1")
    assert (report.inserted, report.duplicates, report.read) == (4, 1, 9)
    assert [line for line, _ in report.bad] == [5, 6, 7, 8]
    messages = dict(report.bad)
    assert "start_time: '2026-02-30T10:00:00' is not an ISO 8601 date-time" in messages[5]
    assert messages[6] == "duration: must not be negative (got -5)"
    assert messages[7] == "customer_id: there is no customer 999999"
    assert messages[8] == "cost: '12.5x' is not a number"
    assert report.seconds > 0

    records = stored(app)
    assert set(records) == {"a1", "a2", "a3", "a,4"}
    a2, a3, a4 = records["a2"], records["a3"], records["a,4"]
    assert a2.start_time == datetime(2026, 3, 1, 10, 20, tzinfo=UTC)
    assert (a2.duration_seconds, a2.billed_seconds, a2.cost, a2.charge) == (125, 126, Decimal("0.0210"), Decimal("0.0315"))
    assert a3.start_time == datetime(2026, 3, 1, 11, 59, 59, tzinfo=UTC) and a3.answered is False and a3.destination == ""
    assert a4.start_time == datetime(2026, 3, 1, 12, 0, 0, 250000, tzinfo=UTC)
    assert (a4.destination, a4.rate, a4.charge) == ("44 20", Decimal("0.000300"), Decimal("2.1600"))
    assert all(r.source == "switch-1" and r.customer_id == customer for r in records.values())
    assert all(r.received_at is not None for r in records.values())


def test_importing_the_same_file_again_adds_nothing(app, customer):
    with app.app_context():
        import_csv(io.StringIO(sample_csv(customer)), "switch-1")
        again = import_csv(io.StringIO(sample_csv(customer)), "switch-1")
        assert (again.inserted, again.duplicates, len(again.bad)) == (0, 5, 4)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CallRecord)) == 4
        # The same call ids from another switch are other calls.
        other = import_csv(io.StringIO(sample_csv(customer)), "switch-2")
        assert (other.inserted, other.duplicates) == (4, 1)


def test_batches_keep_line_numbers_and_report_progress(app, customer, tmp_path):
    rows = [f"{customer},n{i},2026-03-01T10:{i % 60:02d}:00,1,true,{i},{i},0,0,0\n" for i in range(11)]
    rows[4] = f"{customer},n4,2026-03-01T10:04:00,1,true,x,4,0,0,0\n"  # line 6
    rows[9] = f"{customer},n9,2026-03-01T10:09:00,1,true,9\n"          # line 11: too few fields
    rows.append(f"{customer},n11,2026-03-01T10:11:00,1,true,1,1,0,0,0,extra\n")  # line 13: too many
    path = tmp_path / "cdrs.csv"
    path.write_bytes(("\ufeff" + HEADER + "".join(rows)).encode())  # a BOM, as spreadsheets write
    seen = []
    with app.app_context():
        report = import_csv(path, "sw", progress=seen.append, batch_size=3)
    assert report.inserted == 9
    assert [line for line, _ in report.bad] == [6, 11, 13]
    assert "billed_duration: missing" in dict(report.bad)[11] and "11 fields, the header has 10" in dict(report.bad)[13]
    assert len(seen) >= 4 and seen[-1].read == 12 and seen[-1].bytes_read == path.stat().st_size
    assert [p.read for p in seen] == sorted(p.read for p in seen)


def test_a_file_that_is_not_a_csv_of_call_records_is_refused(app):
    with app.app_context():
        with pytest.raises(CsvError, match="empty"):
            import_csv(io.StringIO(""), "sw")
        with pytest.raises(CsvError, match="header lacks charge"):
            import_csv(io.StringIO(HEADER.replace(",charge", "")), "sw")
        with pytest.raises(ValueError, match="source"):
            import_csv(io.StringIO(HEADER), " ")
        assert import_csv(io.StringIO(HEADER), "sw").read == 0


def test_a_file_that_stops_being_text_keeps_what_went_in(app, customer):
    rows = "".join(f"{customer},ok{i},2026-03-01T10:00:00,1,true,1,1,0,0,0\n" for i in range(1000))  # ~45 kB
    data = (HEADER + rows).encode() + b"\xff\xfe\x00broken\n"
    with app.app_context():
        with pytest.raises(CsvError, match="cannot read the file after line") as error:
            import_csv(io.BytesIO(data), "sw", batch_size=100)
        kept = db.session.scalar(sa.select(sa.func.count()).select_from(CallRecord))
        assert kept >= 100 and error.value.report.inserted == kept  # the batches before the break are in


# --- the command --------------------------------------------------------------------------------

def test_the_import_command_lists_bad_rows_and_sums_up(app, customer, tmp_path):
    path = tmp_path / "switch.csv"
    path.write_text(sample_csv(customer))
    result = app.test_cli_runner().invoke(args=["import-cdrs", str(path), "--source", "switch-1"])
    assert result.exit_code == 0, result.output
    assert "Importing switch.csv" in result.output
    assert "  line 5: start_time: '2026-02-30T10:00:00' is not an ISO 8601 date-time" in result.output
    assert "  line 7: customer_id: there is no customer 999999" in result.output
    assert "9 records read in" in result.output
    assert "4 inserted, 1 duplicates, 4 bad." in result.output
    again = app.test_cli_runner().invoke(args=["import-cdrs", str(path), "--source", "switch-1"])
    assert again.exit_code == 0 and "0 inserted, 5 duplicates, 4 bad." in again.output


def test_the_import_command_shows_at_most_twenty_bad_rows(app, customer, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "".join(f"{customer},b{i},not a time,1,true,1,1,0,0,0\n" for i in range(25)))
    result = app.test_cli_runner().invoke(args=["import-cdrs", str(path)])
    assert result.exit_code == 0, result.output  # bad rows are reported, not a failure
    assert result.output.count("  line ") == 20 and "  line 21:" in result.output and "  line 22:" not in result.output
    assert "... and 5 more bad rows" in result.output
    assert "0 inserted, 0 duplicates, 25 bad." in result.output


def test_the_import_command_exits_1_when_the_file_cannot_be_read(app, tmp_path):
    runner = app.test_cli_runner()
    missing = runner.invoke(args=["import-cdrs", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 1 and "Cannot read" in missing.output
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b,c\n1,2,3\n")
    result = runner.invoke(args=["import-cdrs", str(wrong)])
    assert result.exit_code == 1 and "header lacks customer_id" in result.output


def test_large_files_go_in_batches(app, customer, tmp_path):
    n = BATCH + 7
    path = tmp_path / "big.csv"
    path.write_text(HEADER + "".join(f"{customer},big{i},2026-03-01T10:00:00,1,true,1,1,0,0,0.0001\n" for i in range(n)))
    result = app.test_cli_runner().invoke(args=["import-cdrs", str(path), "--source", "big"])
    assert result.exit_code == 0, result.output
    assert f"{n:,} inserted, 0 duplicates, 0 bad." in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.sum(CallRecord.charge))) == Decimal(n) / 10000


# --- the API ------------------------------------------------------------------------------------

@pytest.fixture
def cdr_token(app):
    with app.app_context():
        made = issue_token("switch-1", ["cdrs"])
        unit_of_work.commit()
        return made


def post(client, body, token, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if isinstance(body, (bytes, str)):
        return client.client.post("/api/v1/cdrs", data=body, headers=headers, content_type="application/json")
    return client.client.post("/api/v1/cdrs", json=body, headers=headers)


def api_record(customer, call_id, **changes):
    record = {"customer_id": customer, "call_id": call_id, "start_time": "2026-03-01T10:05:00Z",
              "destination": "4420", "answered": True, "duration": 60, "billed_duration": 60,
              "rate": "0.010000", "cost": "0.0100", "charge": "0.0150"}
    record.update(changes)
    return record


def test_the_api_stores_good_records_and_lists_bad_ones(app, client, customer, cdr_token):
    body = {"source": "switch-1", "records": [
        api_record(customer, "r1"),
        api_record(customer, "r2", duration=-1),
        api_record(999999, "r3"),
        "not a record",
        api_record(customer, "r4", start_time="2026-03-01T11:00:00+01:00"),
        api_record(customer, "r1"),
    ]}
    response = post(client, body, cdr_token)
    assert response.status_code == 200, response.get_data(as_text=True)
    answer = response.get_json()
    assert (answer["inserted"], answer["duplicates"]) == (2, 1)
    assert [e["index"] for e in answer["errors"]] == [1, 2, 3]
    assert answer["errors"][0]["message"] == "duration: must not be negative (got -1)"
    assert answer["errors"][1]["message"] == "customer_id: there is no customer 999999"
    assert "must be an object" in answer["errors"][2]["message"]
    again = post(client, body, cdr_token).get_json()
    assert (again["inserted"], again["duplicates"], len(again["errors"])) == (0, 3, 3)
    records = stored(app)
    assert set(records) == {"r1", "r4"} and records["r4"].start_time == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def test_json_numbers_for_money_are_kept_exactly(app, client, customer, cdr_token):
    body = ('{"source": "sw", "records": [{"customer_id": ' + str(customer) + ', "call_id": "f1", '
            '"start_time": "2026-03-01T10:00:00", "answered": 1, "duration": 60, "billed_duration": 60, '
            '"rate": 0.000123, "cost": 0.1, "charge": 0.3}]}')
    response = post(client, body, cdr_token)
    assert response.get_json() == {"inserted": 1, "duplicates": 0, "errors": []}
    record = stored(app)["f1"]
    assert (record.rate, record.cost, record.charge, record.destination) == (
        Decimal("0.000123"), Decimal("0.1000"), Decimal("0.3000"), "")


def test_the_api_needs_a_token_with_the_cdrs_scope(app, client, customer, as_role):
    with app.app_context():
        channels = issue_token("switch-channels", ["channels"])
        unit_of_work.commit()
    body = {"source": "sw", "records": [api_record(customer, "x")]}
    for token in (None, "pnl_wrong", channels):
        response = post(client, body, token)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert as_role("admin").client.post("/api/v1/cdrs", json=body).status_code == 401  # a session is not enough
    assert stored(app) == {}


@pytest.mark.parametrize("body", [
    b"not json", b"", [], {"source": "sw"}, {"source": "sw", "records": {"customer_id": 1}},
    {"source": "sw", "records": "x"}, {"records": []}, {"source": "", "records": []}, {"source": "s" * 65, "records": []},
])
def test_a_malformed_body_is_422(client, cdr_token, body):
    response = post(client, body, cdr_token)
    assert response.status_code == 422
    assert response.get_json()["message"]


def test_at_most_ten_thousand_records_per_request(app, client, customer, cdr_token):
    records = [api_record(customer, f"m{i}") for i in range(10_001)]
    response = post(client, {"source": "sw", "records": records}, cdr_token)
    assert response.status_code == 422 and "10,000" in response.get_json()["message"]
    response = post(client, {"source": "sw", "records": records[:10_000]}, cdr_token)
    assert response.status_code == 200 and response.get_json()["inserted"] == 10_000


def test_cdrs_is_a_scope_the_command_can_issue(app):
    result = app.test_cli_runner().invoke(args=["create-api-token", "switch", "--scope", "cdrs"])
    assert result.exit_code == 0 and result.output.startswith("pnl_")


# Texts of one field: plain ones, ones only parse_row takes, and bad ones.
VARIANTS = [
    {}, {"destination": ""}, {"destination": "  44 20 "}, {"call_id": " x "}, {"answered": "0"}, {"answered": "yes"},
    {"start_time": "2026-03-01 10:05:00"}, {"start_time": "2026-03-01T12:05:00.5+02:00"}, {"start_time": "2026-03-01"},
    {"rate": "1"}, {"rate": "1."}, {"rate": "000123.5"}, {"cost": "99999999999999.9999"}, {"charge": "0.5"},
    {"customer_id": "2147483647"}, {"duration": "0"},
    # Not plain: these take parse_row's path, which accepts or refuses them.
    {"answered": " True "}, {"customer_id": " 7"}, {"duration": "+5"}, {"rate": ".5"}, {"cost": "1e2"},
    {"cost": "100000000000000"}, {"cost": "0.00001"}, {"rate": "-0"}, {"customer_id": "2147483648"},
    {"customer_id": "0"}, {"call_id": "  "}, {"call_id": "x" * 129}, {"destination": "4" * 65},
    {"start_time": " 2026-03-01T10:00:00Z"}, {"start_time": "2026-02-30T10:00:00"}, {"answered": "maybe"},
    {"duration": "1_000"}, {"charge": "NaN"}, {"charge": ""},
    # Edges of what goes to COPY as it is: PostgreSQL refuses offsets past ±15:59 and rounds a 7th decimal.
    {"start_time": "2026-03-01T10:05:00+16:00"}, {"start_time": "2026-03-01T10:05:00.1234567"},
    {"start_time": "2026-03-01T10:05:00-15:59"}, {"start_time": "0001-01-01T00:30:00+01:00"},
    {"start_time": "2026-03-01T10:05"}, {"duration": "\u0663"}, {"answered": "Y"}, {"destination": "44\u00a0"},
    {"call_id": "a\\b"}, {"cost": "007"}, {"charge": "\u0661\u0662"}, {"rate": "1.\u0665"}, {"cost": "1_0"},
]


@pytest.mark.parametrize("changes", VARIANTS)
def test_the_csv_fast_path_gives_what_parse_row_gives(changes):
    raw = good(**changes)
    fast = fast_row(*(raw[name] for name in FIELDS))
    try:
        slow = parse_row(raw)
    except ValueError:
        assert fast is None  # parse_row then says what is wrong
        return
    if fast is not None:
        assert fast == slow
        assert [str(fast[c]) for c in ("rate", "cost", "charge")] == [str(slow[c]) for c in ("rate", "cost", "charge")]
        assert fast["start_time"].tzinfo is UTC and fast["start_time"].utcoffset() == slow["start_time"].utcoffset()


def test_a_csv_with_blank_lines_short_rows_and_a_repeated_column(app, customer):
    text = (HEADER.rstrip("\n") + ",note\n\n"
            f"{customer},k1,2026-03-01T10:00:00Z,1,true,1,1,0,0,0,x\n"
            "\n"
            f"{customer},k2,2026-03-01T10:00:00Z,1,TRUE,1,1,0,0,0\n"   # one short: note is missing (not needed)
            f"{customer},k3,2026-03-01T10:00:00Z,1,true,1\n")
    with app.app_context():
        report = import_csv(io.StringIO(text), "sw")
    assert (report.inserted, [line for line, _ in report.bad]) == (2, [6])
    assert "billed_duration: missing" in report.bad[0][1]


@pytest.mark.parametrize("changes", VARIANTS)
def test_a_row_sent_to_copy_as_it_is_is_one_parse_row_takes(changes):
    raw = good(**changes)
    if plain_row(",".join(raw[name] for name in FIELDS)):
        parse_row(raw)  # does not raise


def _customer_of(raw: dict) -> int | None:
    try:
        return parse_row(raw)["customer_id"]
    except ValueError:
        return None


@pytest.mark.postgres
@pytest.mark.parametrize("through", ["COPY into call_record", "a temporary table"])
def test_postgresql_reads_plain_rows_as_parse_row_does(pg_app, through):
    """Both ways a batch goes in: straight, or (holding a record of an unknown customer) staged."""
    with pg_app.app_context():
        c = create_customer(SYSTEM, {"name": "Plain"}, "USD").id
        unit_of_work.commit()
    raws = [good(**{"customer_id": str(c), "call_id": f"v{i}", **changes}) for i, changes in enumerate(VARIANTS)]
    unknown = [raw for raw in raws if _customer_of(raw) not in (c, None)]
    assert unknown  # VARIANTS names another customer
    if through == "COPY into call_record":
        raws = [raw for raw in raws if raw not in unknown]
    text = HEADER + "".join(",".join(raw[name] for name in FIELDS) + "\n" for raw in raws)
    with pg_app.app_context():
        report = import_csv(io.StringIO(text), "sw")
    records = stored(pg_app)
    expected = {}
    for raw in raws:
        try:
            row = parse_row(raw)
        except ValueError:
            continue
        if row["customer_id"] == c:
            expected[row["call_id"]] = row
    assert report.inserted == len(expected) and set(records) == set(expected)
    for call_id, row in expected.items():
        record = records[call_id]
        assert {column: getattr(record, column) for column in row} == row, call_id
        places = [getattr(record, c).as_tuple().exponent for c in ("rate", "cost", "charge")]
        assert places == [row[c].as_tuple().exponent for c in ("rate", "cost", "charge")], call_id


@pytest.mark.postgres
def test_a_batch_of_new_records_of_known_customers_goes_straight_into_call_record(pg_app, monkeypatch):
    """The usual batch needs no temporary table; one holding records already stored goes through it. Either way
    each record is stored once, with the source as given (CSV quoting included) and its start time in UTC."""
    staged = []
    stage = loading._stage
    monkeypatch.setattr(loading, "_stage", lambda *args, **kwargs: staged.append(1) or stage(*args, **kwargs))
    with pg_app.app_context():
        a, b = (create_customer(SYSTEM, {"name": name}, "USD").id for name in ("Straight A", "Straight B"))
        unit_of_work.commit()
    rows = [f"{(a, b)[i % 2]},s{i},2026-03-01T10:{i:02d}:00Z,44,true,60,60,0.01,0.01,0.02\n" for i in range(10)]
    rows.append(f"{b},offset,2026-03-01T12:30:00+02:00,,false,0,0,0,0,0\n")  # parsed, not plain: its time in UTC
    source = 'switch "east", 1'
    with pg_app.app_context():
        first = import_csv(io.StringIO(HEADER + "".join(rows)), source, batch_size=4)
        assert (first.inserted, first.duplicates, first.bad, staged) == (11, 0, [], [])
        again = import_csv(io.StringIO(HEADER + "".join(rows)), source, batch_size=4)
        assert (again.inserted, again.duplicates, again.bad, len(staged)) == (0, 11, [], 3)
    records = stored(pg_app)
    assert {r.source for r in records.values()} == {source} and len(records) == 11
    assert [records[f"s{i}"].customer_id for i in range(4)] == [a, b, a, b]
    assert records["offset"].start_time == datetime(2026, 3, 1, 10, 30, tzinfo=UTC)
    assert records["offset"].destination == "" and records["s3"].received_at is not None


# --- batches loaded side by side --------------------------------------------------------------------

def repeated_csv(customer: int) -> str:
    """Lines 2-41: calls p0-p24, then p0-p14 again; line 12 (p10) is bad, line 22 (p20) names no customer."""
    rows = [f"{customer},p{i % 25},2026-03-01T10:{i % 25:02d}:00Z,1,true,1,1,0,0,0\n" for i in range(40)]
    rows[10] = f"{customer},p10,2026-03-01T10:10:00Z,1,true,x,1,0,0,0\n"
    rows[20] = "999999,p20,2026-03-01T10:20:00Z,1,true,1,1,0,0,0\n"
    return HEADER + "".join(rows)


@pytest.mark.parametrize("workers, per_batch", [(1, True), (3, True), (3, False)])
def test_batches_loaded_side_by_side_store_a_record_sent_twice_once(app, customer, workers, per_batch, monkeypatch):
    if not per_batch:  # PostgreSQL: the foreign key's trigger checks every row
        monkeypatch.setattr(loading, "checks_customers_per_batch", lambda connection: False)
    with app.app_context():
        report = import_csv(io.StringIO(repeated_csv(customer)), "sw", batch_size=4, workers=workers)
        again = import_csv(io.StringIO(repeated_csv(customer)), "sw", batch_size=7, workers=workers)
    assert (report.inserted, report.duplicates) == (24, 14)  # p10 from its second line, never p20
    assert report.bad == [(12, "duration: must be a whole number, not 'x'"), (22, "customer_id: there is no customer 999999")]
    assert (again.inserted, again.duplicates, again.bad) == (0, 38, report.bad)
    assert set(stored(app)) == {f"p{i}" for i in range(25)} - {"p20"}


@pytest.mark.postgres
def test_two_imports_of_one_file_at_once_store_each_record_once(pg_app):
    with pg_app.app_context():
        c = create_customer(SYSTEM, {"name": "Twice"}, "USD").id
        unit_of_work.commit()
    text = HEADER + "".join(f"{c},t{i},2026-03-01T10:{i % 60:02d}:{i // 60 % 60:02d}Z,1,true,1,1,0,0,0\n" for i in range(3000))
    reports, errors = [], []

    def run():
        try:
            with pg_app.app_context():
                reports.append(import_csv(io.StringIO(text), "sw", batch_size=250, workers=2))
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(r.inserted for r in reports) == 3000 and sum(r.duplicates for r in reports) == 3000
    assert len(stored(pg_app)) == 3000


@pytest.mark.postgres
def test_customers_are_checked_per_batch_only_where_the_foreign_key_is_all_the_triggers(pg_app):
    """Batches switch call_record's triggers off for their insert: only while those triggers are
    the foreign key's, whose check the batch then makes itself."""
    with pg_app.app_context(), db.engine.begin() as connection:
        assert loading.checks_customers_per_batch(connection)
        connection.execute(sa.text("CREATE FUNCTION keep_row() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'"))
        connection.execute(sa.text("CREATE TRIGGER keep BEFORE INSERT ON call_record FOR EACH ROW EXECUTE FUNCTION keep_row()"))
        assert not loading.checks_customers_per_batch(connection)
        connection.execute(sa.text("DROP TRIGGER keep ON call_record"))
        connection.execute(sa.text("DROP FUNCTION keep_row()"))
        assert loading.checks_customers_per_batch(connection)


@pytest.mark.postgres
def test_an_ordinary_role_checks_customers_per_batch_once_granted_the_trigger_switch(pg_app):
    """Not a superuser: the per-row trigger stays on, until the role is granted SET on
    session_replication_role (PostgreSQL 15), which is all the per-batch path needs."""
    import uuid

    role = f"panel_loader_{uuid.uuid4().hex[:8]}"
    with pg_app.app_context():
        url = db.engine.url
        admin = db.engine.execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER'))
        connection.execute(sa.text(f'GRANT CONNECT ON DATABASE "{url.database}" TO "{role}"'))
    engine = sa.create_engine(url.set(username=role, password=None))
    try:
        with engine.connect() as connection:
            assert connection.scalar(sa.text("SELECT current_setting('is_superuser')")) == "off"
            assert not loading.checks_customers_per_batch(connection)
        with admin.connect() as connection:
            connection.execute(sa.text(f'GRANT SET ON PARAMETER session_replication_role TO "{role}"'))
        with engine.connect() as connection:
            assert loading.checks_customers_per_batch(connection)
            connection.execute(sa.text("SET LOCAL session_replication_role = replica"))  # what a batch does
            assert connection.scalar(sa.text("SHOW session_replication_role")) == "replica"
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(sa.text(f'REVOKE SET ON PARAMETER session_replication_role FROM "{role}"'))
            connection.execute(sa.text(f'REVOKE CONNECT ON DATABASE "{url.database}" FROM "{role}"'))
            connection.execute(sa.text(f'DROP ROLE "{role}"'))


@pytest.mark.postgres
def test_a_customer_deleted_while_a_batch_checks_its_customers_gets_no_records(pg_app):
    """The batch's lock on its customers waits for the delete, then finds the customer gone."""
    with pg_app.app_context():
        c = create_customer(SYSTEM, {"name": "Leaving"}, "USD").id
        unit_of_work.commit()
        db.session.remove()
    text = HEADER + f"{c},gone1,2026-03-01T10:00:00Z,1,true,1,1,0,0,0\n"
    reports, errors = [], []

    def run():
        try:
            with pg_app.app_context():
                reports.append(import_csv(io.StringIO(text), "sw"))
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    with pg_app.app_context(), db.engine.connect() as deleting:
        deleting.execute(sa.text("DELETE FROM customer WHERE id = :id"), {"id": c})
        thread = threading.Thread(target=run)
        thread.start()
        thread.join(0.5)
        assert thread.is_alive()  # waiting for the delete to end
        deleting.commit()
    thread.join()
    assert errors == [] and reports[0].bad == [(2, f"customer_id: there is no customer {c}")]
    assert stored(pg_app) == {}


@pytest.mark.postgres
def test_a_batch_looks_up_each_of_its_customers_by_key_without_reading_the_whole_table(pg_app):
    """With many customers, checking a batch's customers must not scan (and hash) the customer table: at a
    million customers that cost a second a batch. Each distinct customer of the batch is one key lookup."""
    with pg_app.app_context():
        c = create_customer(SYSTEM, {"name": "Many"}, "USD").id
        unit_of_work.commit()
        with db.engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO customer SELECT (jsonb_populate_record(NULL::customer, to_jsonb(c) "
                "|| jsonb_build_object('id', g, 'name', 'Many ' || g))).* "
                "FROM customer c, generate_series(:c + 1, :c + 30000) g WHERE c.id = :c"), {"c": c})
            connection.execute(sa.text("ANALYZE customer"))
            ids = [c + k for k in range(500)] + [c + 40000, c + 40001]
            explain = sa.text("EXPLAIN " + loading._UNKNOWN_CUSTOMERS.text).bindparams(
                sa.bindparam("ids", type_=postgresql.ARRAY(sa.Integer())))
            plan = "\n".join(connection.scalars(explain, {"ids": ids}))
            unknown = sorted(connection.scalars(loading._UNKNOWN_CUSTOMERS, {"ids": ids}))
    assert "Seq Scan on customer" not in plan and "Index Scan using pk_customer on customer" in plan, plan
    assert unknown == [c + 40000, c + 40001]
