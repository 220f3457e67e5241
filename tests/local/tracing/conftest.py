"""An in-memory OpenTelemetry SDK, installed as the global providers for one test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.metrics import _internal as metrics_internal
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


@dataclass
class Telemetry:
    """What the tests read: the finished spans and the histogram points."""

    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader

    def spans(self) -> tuple[ReadableSpan, ...]:
        return self.exporter.get_finished_spans()

    def points(self, name: str) -> list[HistogramDataPoint]:
        data = self.reader.get_metrics_data()
        found: list[HistogramDataPoint] = []
        if data is None:
            return found
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        found.extend(p for p in metric.data.data_points if isinstance(p, HistogramDataPoint))
        return found


def _install(monkeypatch: pytest.MonkeyPatch, tracer: Any, meter: Any) -> None:
    # The API lets a process set its global providers once; the tests set the globals it
    # keeps them in (which the getters return), and monkeypatch puts the old ones back.
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", tracer)
    monkeypatch.setattr(metrics_internal, "_METER_PROVIDER", meter)


@contextmanager
def installed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Telemetry]:
    """An in-memory SDK as the global tracer and meter providers, for as long as the block lasts."""
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    with monkeypatch.context() as patch:
        _install(patch, tracer_provider, meter_provider)
        yield Telemetry(exporter, reader)
    tracer_provider.shutdown()
    meter_provider.shutdown()


@pytest.fixture
def telemetry(monkeypatch: pytest.MonkeyPatch) -> Iterator[Telemetry]:
    with installed(monkeypatch) as found:
        yield found


@pytest.fixture
def metrics_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemoryMetricReader]:
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    _install(monkeypatch, None, meter_provider)
    yield reader
    meter_provider.shutdown()
