"""Batch loops: the stateless Python functions of one chain (map, filter, flat_map, a sink) run
as one generated Python loop over a whole batch.

The engine hands a batch to the loop as a list and gets a list back: one call across the
Rust/Python boundary per batch instead of one per record and function, and the user's functions
are called from Python code, which CPython does faster than calls from native code. An exception
leaves the loop with two attributes that tell the engine which function raised and at which
record of the batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Callable, Optional

# (style, function, operator name, function name); style is map, filter, flat_map, sink, or
# key (a key selector, last: the loop then also returns the key of each output).
Stage = tuple[str, Callable[..., Any], str, str]

# Set on an exception that leaves a batch loop: (operator name, index of the record in the batch).
FAILED_AT = "__ferroflow_failed_at__"
# ... and what the loop returned for the records before the failing one (a LoopResult), which
# the engine still hands on (the engine removes it).
PARTIAL = "__ferroflow_partial__"


def _not_iterable(function_name: str, result: Any) -> TypeError:
    return TypeError(
        f"{function_name} must return an iterable (a list, a generator, ...) of output values, "
        f"but it returned a value of type '{type(result).__name__}'"
    )


LoopResult = tuple[list[Any], Optional[list[int]], Optional[list[Any]]]


def compile_batch_loop(stages: Sequence[Stage]) -> tuple[Callable[[list[Any]], LoopResult], Callable[[list[Any]], LoopResult]]:
    """Two loops over ``stages``, each returning ``(outputs, indexes, keys)``: ``run(values)``
    with ``indexes`` None, and ``run_indexed(values)`` where ``outputs[j]`` came from
    ``values[indexes[j]]`` (used when records carry different timestamps, which outputs
    inherit). ``keys[j]`` is the key of ``outputs[j]`` when the last stage is a key selector,
    else ``keys`` is None."""
    return _compile(stages, indexed=False), _compile(stages, indexed=True)


def _compile(stages: Sequence[Stage], indexed: bool) -> Any:
    lines: list[str] = []
    stage_of_line: dict[int, int] = {}

    def emit(depth: int, text: str, stage: int = -1) -> None:
        lines.append("    " * depth + text)
        if stage >= 0:
            # +1: line numbers start at 1.
            stage_of_line[len(lines)] = stage

    keyed = stages[-1][0] == "key"
    params = ", ".join(f"f{i}=f{i}" for i in range(len(stages)))
    emit(0, f"def run(values, {params}):")
    emit(1, "out = []")
    emit(1, "append = out.append")
    if indexed:
        emit(1, "indexes = []")
        emit(1, "add_index = indexes.append")
    if keyed:
        emit(1, "keys = []")
        emit(1, "add_key = keys.append")
    emit(1, "i = 0")
    emit(1, "try:")
    if indexed:
        emit(2, "for i, x in enumerate(values):")
    else:
        # No per-record counter: on an error the list iterator tells the position.
        emit(2, "it = iter(values)")
        emit(2, "for x in it:")
    depth = 3
    for n, (style, _f, _op, _fname) in enumerate(stages):
        if style == "map":
            emit(depth, f"x = f{n}(x)", n)
        elif style == "filter":
            emit(depth, f"if not f{n}(x):", n)
            emit(depth + 1, "continue")
        elif style == "flat_map":
            emit(depth, f"r{n} = f{n}(x)", n)
            emit(depth, f"for x in r{n}:", n)
            depth += 1
        elif style == "sink":
            emit(depth, f"f{n}(x)", n)
        elif style == "key" and n == len(stages) - 1:
            emit(depth, f"add_key(f{n}(x))", n)
        else:
            raise ValueError(f"a batch loop cannot run a {style!r} function there")
    if stages[-1][0] != "sink":
        emit(depth, "append(x)")
        if indexed:
            emit(depth, "add_index(i)")
    else:
        emit(depth, "pass")
    emit(1, "except BaseException as e:")
    partial = f"(out, {'indexes' if indexed else 'None'}, {'keys' if keyed else 'None'})"
    emit(2, f"raise _failed(e, i, {partial})" if indexed else f"raise _failed(e, it.__reduce__()[2] - 1, {partial})")
    emit(1, f"return (out, {'indexes' if indexed else 'None'}, {'keys' if keyed else 'None'})")

    source = "\n".join(lines) + "\n"
    names = {f"f{n}": f for n, (_s, f, _op, _fn) in enumerate(stages)}

    def failed(error: BaseException, index: int, partial: LoopResult) -> BaseException:
        tb = error.__traceback__
        line = tb.tb_lineno if tb is not None else -1
        stage = stage_of_line.get(line, 0)
        style, _function, operator_name, function_name = stages[stage]
        if style == "flat_map" and isinstance(error, TypeError) and tb is not None and tb.tb_next is None:
            result = tb.tb_frame.f_locals.get(f"r{stage}", None)
            if not hasattr(result, "__iter__") and not hasattr(result, "__getitem__"):
                # Iterating over the function's result failed, not the function: it returned a
                # non-iterable. Say so in the user's terms.
                error = _not_iterable(function_name, result)
        # The index counts the loop's input. Past a filter or flat_map that is not what the
        # failing function received, so no position is given then.
        counts_match = all(s[0] in ("map", "sink") for s in stages[:stage])
        try:
            setattr(error, FAILED_AT, (operator_name, index if counts_match else None))
            setattr(error, PARTIAL, partial)
        except (AttributeError, TypeError):
            pass
        return error

    namespace: dict[str, Any] = dict(names)
    namespace["_failed"] = failed
    # The code is generated from the template above; user functions enter it as values only.
    code = compile(source, f"<ferroflow batch loop: {' -> '.join(s[2] for s in stages)}>", "exec")
    exec(code, namespace)  # noqa: S102
    return namespace["run"]
