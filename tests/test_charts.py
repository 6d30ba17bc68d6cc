"""The profile's SVG charts and the ticker's sparklines: what they draw is the data."""

import xml.etree.ElementTree as ET
from datetime import timedelta
from decimal import Decimal

from parti_site.pages import charts
from parti_site.upstream import history
from tests.pages_records import NOW, fake_api, fetched, make_price, make_recording

SVG = "{http://www.w3.org/2000/svg}"


def recordings():
    return [
        make_recording(
            event_id=10 + i,
            title=f"Stream {i}",
            total_viewers=viewers,
            started_at=NOW - timedelta(days=10 - i),
            ended_at=NOW - timedelta(days=10 - i) + timedelta(minutes=minutes),
        )
        for i, (viewers, minutes) in enumerate([(120, 90), (3400, 45), (0, 200), (77, 30)])
    ]


def test_the_viewers_chart_draws_one_dot_per_stream_in_time_order():
    rows = recordings()
    chart = charts.viewers_chart(list(reversed(rows)))  # parti lists newest first
    assert chart.values == [120, 3400, 0, 77]
    svg = ET.fromstring(str(chart.svg))
    dots = svg.findall(f"{SVG}circle")
    assert [int(d.get("data-value")) for d in dots] == chart.values
    xs = [float(d.get("cx")) for d in dots]
    assert xs == sorted(xs)
    ys = [float(d.get("cy")) for d in dots]
    assert ys[1] == min(ys)  # the most viewers is the highest dot
    assert ys[2] == charts.HEIGHT - charts.BOTTOM  # zero sits on the axis
    assert "3,400" in str(chart.svg)  # the top of the axis


def test_the_lengths_chart_draws_bars_as_long_as_the_streams():
    chart = charts.lengths_chart(recordings())
    assert chart.values == [90 * 60, 45 * 60, 200 * 60, 30 * 60]
    bars = ET.fromstring(str(chart.svg)).findall(f"{SVG}rect")
    heights = [float(b.get("height")) for b in bars]
    assert [int(b.get("data-value")) for b in bars] == chart.values
    tallest = charts.HEIGHT - charts.TOP - charts.BOTTOM
    assert abs(heights[2] - tallest) < 0.1
    assert abs(heights[0] / heights[2] - 90 / 200) < 0.01


def test_titles_are_escaped_in_the_svg():
    rows = [make_recording(title="<script>x</script>&", event_id=i) for i in (1, 2)]
    svg = str(charts.viewers_chart(rows).svg)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    ET.fromstring(svg)  # still well-formed


def test_too_little_data_draws_nothing():
    assert charts.viewers_chart([]) is None
    assert charts.viewers_chart([make_recording()]) is None
    assert charts.lengths_chart([make_recording(started_at=None), make_recording()]) is None


def test_the_profile_shows_the_charts_and_their_numbers(client, monkeypatch):
    fake_api(monkeypatch, recent=fetched(recordings()))
    page = client.get("/profile/1001").content.decode()
    assert 'data-chart="viewers"' in page and 'data-chart="lengths"' in page
    assert page.count('data-value="3400"') == 1
    assert "<td>3400</td>" in page  # the table beside the chart


def test_the_price_history_is_bounded_and_drawn_as_a_sparkline():
    history.clear_prices()
    for i in range(history.PRICE_POINTS + 10):
        history.saw_prices([make_price(symbol="BTC", price=Decimal(100 + i))], at=1000 + i * 61)
    points = history.price_history("BTC")
    assert len(points) == history.PRICE_POINTS
    assert points[-1][1] == Decimal(100 + history.PRICE_POINTS + 9)
    line = charts.sparkline(points)
    assert "is-up" in line
    values = ET.fromstring(str(line)).find(f"{SVG}polyline").get("data-values").split()
    assert [Decimal(v) for v in values] == [p for _, p in points]
    history.clear_prices()


def test_the_same_price_again_is_not_a_new_point():
    history.clear_prices()
    history.saw_prices([make_price(price=Decimal("5"))], at=100)
    history.saw_prices([make_price(price=Decimal("5"))], at=110)
    assert len(history.price_history("BTC")) == 1
    assert charts.sparkline(history.price_history("BTC")) is None
    history.clear_prices()


def test_the_home_ticker_has_sparklines_from_prices_seen(client, parti):
    history.clear_prices()
    history.saw_prices([make_price(symbol="BTC", price=Decimal("1"))], at=1)
    client.get("/")  # fetches prices from the simulator: a second point
    page = client.get("/").content.decode()
    assert 'class="sparkline' in page
    assert 'class="sparkline' not in client.get("/live").content.decode()
    history.clear_prices()
