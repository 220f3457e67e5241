"""OpenTelemetry spans and metrics for every request, in the GenAI semantic conventions.

This module is imported only when ``opentelemetry-api`` is installed (the ``otel``
extra); :class:`~botticelli_interface.request_log.RequestLog` calls :func:`start` when a
request begins and :meth:`Trace.end` when it ends, so every backend is traced through
the one event it already logs. It emits nothing until the application configures a
tracer provider or a meter provider: with only the API installed, :func:`start`
returns ``None`` after two global look-ups.

What is recorded (docs/tracing.md has the table): one ``CLIENT`` span per call
(``INTERNAL`` for the in-process engine) named ``"{operation} {model}"``, with
``gen_ai.operation.name``, ``gen_ai.provider.name``, ``gen_ai.request.*`` sampling
parameters, ``gen_ai.response.model``, ``gen_ai.response.finish_reasons``,
``gen_ai.usage.input_tokens``/``output_tokens``, ``error.type`` and, for streams,
``gen_ai.response.time_to_first_chunk``; and the histograms
``gen_ai.client.operation.duration``, ``gen_ai.client.token.usage`` and
``gen_ai.client.operation.time_to_first_chunk``. The prompt and the answer are added
(as ``gen_ai.input.messages`` / ``gen_ai.output.messages``) only when the backend was
configured with ``log_content``.
"""

from __future__ import annotations

import functools
import json
import os
import time
from typing import TYPE_CHECKING, Any

from opentelemetry import context, metrics, trace
from opentelemetry.metrics import _internal as _metrics_internal
from opentelemetry.trace import ProxyTracerProvider, SpanKind, Status, StatusCode

if TYPE_CHECKING:
    from botticelli_interface.request_log import RequestLog

__all__ = ["INSTRUMENTATION_NAME", "Trace", "operation_name", "provider_name", "start"]

INSTRUMENTATION_NAME = "botticelli"
"""The tracer's and meter's name, which is how a collector tells botticelli's telemetry apart."""

# The semantic conventions' advised bucket boundaries, so dashboards built for them fit.
_DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
_TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864)
_TTFC_BUCKETS = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)

_STREAMS = frozenset({"generate_stream", "chat_completion_stream"})
_CHAT = frozenset({"generate", "generate_stream", "chat_completion", "chat_completion_stream"})

# Request attributes read off the request object, when it has them and they are set.
_PARAMS = (
    ("max_tokens", "gen_ai.request.max_tokens"),
    ("temperature", "gen_ai.request.temperature"),
    ("top_p", "gen_ai.request.top_p"),
    ("top_k", "gen_ai.request.top_k"),
    ("seed", "gen_ai.request.seed"),
    ("frequency_penalty", "gen_ai.request.frequency_penalty"),
    ("presence_penalty", "gen_ai.request.presence_penalty"),
    ("n", "gen_ai.request.choice.count"),
)


def provider_name(provider: str) -> str:
    """The ``gen_ai.provider.name`` of a botticelli backend.

    Gemini is the conventions' well-known ``gcp.gemini``; the others have no
    well-known value and keep botticelli's name.

    Examples:
        >>> provider_name("gemini"), provider_name("local")
        ('gcp.gemini', 'local')
    """
    return "gcp.gemini" if provider == "gemini" else provider


def operation_name(provider: str, operation: str) -> str:
    """The ``gen_ai.operation.name`` of a botticelli operation.

    Text generation is ``chat`` (``generate_content`` on Gemini, as the conventions ask),
    ``embed`` is ``embeddings``; ``count_tokens`` and ``list_models`` have no
    conventional name and keep theirs.

    Examples:
        >>> operation_name("local", "generate_stream"), operation_name("gemini", "generate")
        ('chat', 'generate_content')
        >>> operation_name("local", "embed"), operation_name("local", "count_tokens")
        ('embeddings', 'count_tokens')
    """
    if operation in _CHAT:
        return "generate_content" if provider == "gemini" else "chat"
    if operation == "embed":
        return "embeddings"
    return operation


class _Instruments:
    """The three histograms, made once per meter provider."""

    __slots__ = ("duration", "provider", "ttfc", "usage")

    def __init__(self, provider: metrics.MeterProvider) -> None:
        meter = provider.get_meter(INSTRUMENTATION_NAME)
        self.provider = provider
        self.duration = meter.create_histogram(
            "gen_ai.client.operation.duration",
            unit="s",
            description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=_DURATION_BUCKETS,
        )
        self.usage = meter.create_histogram(
            "gen_ai.client.token.usage",
            unit="{token}",
            description="Number of input and output tokens used.",
            explicit_bucket_boundaries_advisory=_TOKEN_BUCKETS,
        )
        self.ttfc = meter.create_histogram(
            "gen_ai.client.operation.time_to_first_chunk",
            unit="s",
            description="Time to receive the first chunk of a streamed response.",
            explicit_bucket_boundaries_advisory=_TTFC_BUCKETS,
        )


class _Cache:
    """The tracer and instruments of the providers last seen; rebuilt when the application swaps one."""

    tracer_provider: trace.TracerProvider | None = None
    tracer: trace.Tracer | None = None
    instruments: _Instruments | None = None


# The API's getters cost a few microseconds each (an environment look-up among them); with
# nothing configured, the globals they read are still None, which is one attribute read.
# A provider named by OTEL_PYTHON_*_PROVIDER is loaded by the getters themselves, so then
# they are always asked.
_GLOBALS_READABLE = (
    hasattr(trace, "_TRACER_PROVIDER")
    and hasattr(_metrics_internal, "_METER_PROVIDER")
    and not {"OTEL_PYTHON_TRACER_PROVIDER", "OTEL_PYTHON_METER_PROVIDER"} & os.environ.keys()
)


def _unset(provider: object) -> bool:
    # The API hands out proxies until the application sets a provider: nothing would be exported.
    return isinstance(provider, ProxyTracerProvider) or type(provider).__name__ == "_ProxyMeterProvider"


def start(entry: RequestLog) -> Trace | None:
    """Open the span of the request ``entry`` logs; ``None`` when no provider is configured."""
    if _GLOBALS_READABLE and trace._TRACER_PROVIDER is None and _metrics_internal._METER_PROVIDER is None:
        return None
    tracer_provider = trace.get_tracer_provider()
    meter_provider = metrics.get_meter_provider()
    traced = not _unset(tracer_provider)
    measured = not _unset(meter_provider)
    if not (traced or measured):
        return None
    tracer = None
    if traced:
        if _Cache.tracer_provider is not tracer_provider:
            _Cache.tracer = tracer_provider.get_tracer(INSTRUMENTATION_NAME)
            _Cache.tracer_provider = tracer_provider
        tracer = _Cache.tracer
    instruments = None
    if measured:
        instruments = _Cache.instruments
        if instruments is None or instruments.provider is not meter_provider:
            instruments = _Cache.instruments = _Instruments(meter_provider)
    return Trace(entry, tracer, instruments)


class Trace:
    """The span and measurements of one request, from :func:`start` to :meth:`end`.

    Args:
        entry: The request's log entry, read now for the request's facts and at the end for the rest.
        tracer: Where the span comes from; ``None`` when only metrics are configured.
        instruments: The histograms; ``None`` when only spans are configured.
    """

    __slots__ = ("_attributes", "_instruments", "_span", "_token")

    def __init__(self, entry: RequestLog, tracer: trace.Tracer | None, instruments: _Instruments | None) -> None:
        operation = operation_name(entry.provider, entry.operation)
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": operation,
            "gen_ai.provider.name": provider_name(entry.provider),
        }
        if entry.model:
            attributes["gen_ai.request.model"] = entry.model
        # Kept for the metrics, which carry these and only these low-cardinality facts.
        self._attributes = dict(attributes)
        self._instruments = instruments
        self._span: trace.Span | None = None
        self._token: object | None = None
        if tracer is None:
            return
        attributes.update(_request_params(entry.request))
        name = f"{operation} {entry.model}" if entry.model else operation
        kind = SpanKind.INTERNAL if entry.provider == "embedded" else SpanKind.CLIENT
        span = tracer.start_span(name, kind=kind, attributes=attributes)
        self._span = span
        if entry.operation not in _STREAMS:
            # A stream's generator may be closed from another context than it started in,
            # where detaching fails; a whole call begins and ends in one, so its span can be
            # the parent of what happens inside (the HTTP request, say).
            self._token = context.attach(trace.set_span_in_context(span))

    def end(self, entry: RequestLog) -> None:
        """Finish the span with what ``entry`` learnt, and record the measurements."""
        ended = time.monotonic()
        error = entry.error
        error_type = type(error).__qualname__ if error is not None else None
        first = entry.first_chunk_at if entry.operation in _STREAMS else None
        span = self._span
        if span is not None:
            if self._token is not None:
                context.detach(self._token)  # type: ignore[arg-type]  # the token attach() returned
            if span.is_recording():
                span.set_attributes(_outcome(entry, first))
                if error_type is not None:
                    span.set_attribute("error.type", error_type)
                    span.set_status(Status(StatusCode.ERROR, error_type))
            span.end()
        instruments = self._instruments
        if instruments is None:
            return
        attributes = self._attributes
        if entry.response_model:
            attributes["gen_ai.response.model"] = entry.response_model
        if error_type is not None:
            attributes["error.type"] = error_type
        instruments.duration.record(ended - entry.started, attributes)
        if first is not None:
            instruments.ttfc.record(first - entry.started, attributes)
        usage = entry.usage
        if usage is not None and error_type is None:
            instruments.usage.record(usage.input_tokens, {**attributes, "gen_ai.token.type": "input"})
            instruments.usage.record(usage.output_tokens, {**attributes, "gen_ai.token.type": "output"})


def _outcome(entry: RequestLog, first_chunk_at: float | None) -> dict[str, Any]:
    """The span attributes only known once the request ended."""
    facts: dict[str, Any] = {}
    if entry.response_model:
        facts["gen_ai.response.model"] = entry.response_model
    if entry.finish_reason is not None:
        facts["gen_ai.response.finish_reasons"] = (entry.finish_reason,)
    usage = entry.usage
    if usage is not None:
        facts["gen_ai.usage.input_tokens"] = usage.input_tokens
        facts["gen_ai.usage.output_tokens"] = usage.output_tokens
    if first_chunk_at is not None:
        facts["gen_ai.response.time_to_first_chunk"] = first_chunk_at - entry.started
    if entry.cancelled:
        facts["botticelli.cancelled"] = True
    if entry.retries:
        facts["botticelli.retries"] = entry.retries
    if entry.content:
        facts.update(_content(entry.content))
    return facts


def _request_params(request: object) -> dict[str, Any]:
    if request is None:
        return {}
    # The in-process engine passes its keyword arguments, the others a request object.
    read = request.get if isinstance(request, dict) else functools.partial(getattr, request)
    params: dict[str, Any] = {}
    for field, attribute in _PARAMS:
        value = read(field, None)
        if isinstance(value, int | float) and not isinstance(value, bool):
            params[attribute] = value
    stop = read("stop", None)
    if isinstance(stop, str):
        params["gen_ai.request.stop_sequences"] = (stop,)
    elif isinstance(stop, list | tuple) and stop:
        params["gen_ai.request.stop_sequences"] = tuple(str(s) for s in stop)
    return params


def _content(content: dict[str, Any]) -> dict[str, str]:
    # Only set when the user turned on log_content; JSON strings, as the conventions carry them.
    facts: dict[str, str] = {}
    if "messages" in content:
        facts["gen_ai.input.messages"] = json.dumps(content["messages"], ensure_ascii=False, default=str)
    if "input" in content:
        facts["gen_ai.input.messages"] = json.dumps(content["input"], ensure_ascii=False, default=str)
    if "output" in content:
        output = [{"role": "assistant", "parts": [{"type": "text", "content": content["output"]}]}]
        facts["gen_ai.output.messages"] = json.dumps(output, ensure_ascii=False)
    return facts
