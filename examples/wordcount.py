"""Word count: the classic first stream-processing program.

Run it with:

    python3 examples/wordcount.py

It reads a few lines of text, splits them into words, and keeps a running count per word. A
PyFlink program looks the same: only the ``ferroflow`` imports differ.
"""

from __future__ import annotations

from ferroflow.datastream import StreamExecutionEnvironment

LINES = [
    "to be or not to be",
    "that is the question",
    "whether tis nobler in the mind to suffer",
]


def word_count(lines: list[str]) -> dict[str, int]:
    """The final count of each word in ``lines``, as a dict."""
    env = StreamExecutionEnvironment.get_execution_environment()
    counts = (
        env.from_collection(lines)
        .flat_map(lambda line: line.split())
        .map(lambda word: (word, 1))
        .key_by(lambda pair: pair[0])
        .reduce(lambda a, b: (a[0], a[1] + b[1]))
    )
    # reduce() is a rolling reduce: it emits the count so far after every word, so the last
    # value seen for a word is its final count.
    final: dict[str, int] = {}
    with counts.execute_and_collect() as results:
        for word, count in results:
            final[word] = count
    return final


def main() -> None:
    for word, count in sorted(word_count(LINES).items()):
        print(f"{word}: {count}")


if __name__ == "__main__":
    main()
