"""Word count with a side output of the short words, written against ferroflow."""

from ferroflow.common import Types
from ferroflow.datastream import OutputTag, ProcessFunction, StreamExecutionEnvironment

SHORT = OutputTag("short", Types.STRING())

LINES = ["to be or not to be", "that is the question", "whether tis nobler in the mind to suffer"]


class Split(ProcessFunction):
    def process_element(self, line, ctx):
        for word in line.split():
            if len(word) <= 2:
                yield SHORT, f"short:{word}"
            yield word, 1


env = StreamExecutionEnvironment.get_execution_environment()
env.set_parallelism(1)
words = env.from_iterable(LINES).process(Split())
words.key_by(lambda t: t[0]).reduce(lambda a, b: (a[0], a[1] + b[1])).print()
words.get_side_output(SHORT).print()
env.execute("word count with side outputs")
