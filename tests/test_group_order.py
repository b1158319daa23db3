"""Groups come out in the order people read them: numbers by value, months by the calendar, the rest by name."""

from __future__ import annotations

import hitrate
from hitrate.ingest import import_files


def test_numbers_months_and_names_sort_as_people_read_them(store, tmp_path):
    traffic = ["10", "2", "1", "11", "Other", ""]
    months = ["Dec", "Feb", "June", "Mar", "Nov", "Aug"]
    rows = [f"{i},{t},{m},{'won' if i % 2 else 'lost'}" for i, (t, m) in enumerate(zip(traffic, months, strict=True))]
    path = tmp_path / "sessions.csv"
    path.write_text("id,traffic_type,month,stage\n" + "\n".join(rows) + "\n", encoding="utf-8")
    import_files(store, [path], won=["won"], lost=["lost"])
    by_traffic = [None if v != v else v for v in hitrate.rates(store, by=["traffic_type"]).to_frame()["traffic_type"]]
    assert by_traffic == ["1", "2", "10", "11", "Other", None]
    by_month = list(hitrate.rates(store, by=["month"]).to_frame()["month"])
    assert by_month == ["Feb", "Mar", "June", "Aug", "Nov", "Dec"]
    frame = hitrate.rates(store, by=["month", "traffic_type"]).to_frame()
    both = list(zip(frame["month"], frame["traffic_type"], strict=True))
    assert both[0] == ("Feb", "2") and both[-1] == ("Dec", "10")
