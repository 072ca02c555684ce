"""Quarters in Asia/Shanghai: on time within the first month of the following quarter, late after; a quarter can only
be uploaded once it has ended."""
import datetime

import pytest

from reports.quarters import SHANGHAI, Quarter, recent_quarters
from reports.uploads import UploadRefused, check_quarter

UTC = datetime.UTC


@pytest.mark.parametrize("quarter, last_on_time, first_late", [
    (Quarter(2023, 4), datetime.datetime(2024, 1, 31, 23, 59, 59, tzinfo=SHANGHAI),
     datetime.datetime(2024, 2, 1, tzinfo=SHANGHAI)),
    (Quarter(2024, 1), datetime.datetime(2024, 4, 30, 23, 59, 59, tzinfo=SHANGHAI),
     datetime.datetime(2024, 5, 1, tzinfo=SHANGHAI)),
    (Quarter(2024, 3), datetime.datetime(2024, 10, 31, 23, 59, 59, tzinfo=SHANGHAI),
     datetime.datetime(2024, 11, 1, tzinfo=SHANGHAI)),
])
def test_uploads_are_on_time_until_the_end_of_the_following_quarters_first_month(quarter, last_on_time, first_late):
    assert not quarter.is_late_at(last_on_time)
    assert quarter.is_late_at(first_late)


def test_the_month_boundary_is_midnight_in_shanghai_not_utc():
    q4 = Quarter(2023, 4)
    # 2024-01-31 16:00 UTC is already 1 February in Shanghai.
    assert q4.is_late_at(datetime.datetime(2024, 1, 31, 16, 0, tzinfo=UTC))
    assert not q4.is_late_at(datetime.datetime(2024, 1, 31, 15, 59, 59, tzinfo=UTC))


def test_the_current_and_future_quarters_are_refused_and_the_previous_one_accepted():
    now = datetime.datetime(2024, 4, 10, 9, 0, tzinfo=SHANGHAI)
    check_quarter(Quarter(2024, 1), now)
    for quarter in (Quarter(2024, 2), Quarter(2024, 3), Quarter(2025, 1)):
        with pytest.raises(UploadRefused, match="尚未结束"):
            check_quarter(quarter, now)


def test_a_quarter_ends_at_midnight_shanghai_time():
    q1 = Quarter(2024, 1)
    assert not q1.has_ended(datetime.datetime(2024, 3, 31, 15, 59, 59, tzinfo=UTC))
    assert q1.has_ended(datetime.datetime(2024, 3, 31, 16, 0, tzinfo=UTC))


def test_the_form_proposes_the_previous_quarter_first_in_january():
    quarters = recent_quarters(3, datetime.datetime(2024, 1, 5, tzinfo=SHANGHAI))
    assert [q.code for q in quarters] == ["2023Q4", "2023Q3", "2023Q2"]


@pytest.mark.parametrize("code, expected", [("2024Q1", Quarter(2024, 1)), (" 2023q4 ", Quarter(2023, 4))])
def test_quarter_codes_parse(code, expected):
    assert Quarter.parse(code) == expected


@pytest.mark.parametrize("code", ["2024Q5", "2024", "Q1", "", "二〇二四Q1"])
def test_bad_quarter_codes_are_refused_with_a_message(code):
    with pytest.raises(ValueError, match="季度格式"):
        Quarter.parse(code)


def test_the_upload_month_ends_on_its_last_calendar_day():
    assert Quarter(2023, 4).last_due_day == datetime.date(2024, 1, 31)
    assert Quarter(2024, 1).last_due_day == datetime.date(2024, 4, 30)
